"""Kill -9 at random moments while two different forecasters are saved into one directory in turn; count
what each kill left: the old forecaster, the new one, a directory refused at load, or a mix that loads.

    python benchmarks/kill_save.py --kills 20                  # recurra's writer (manifest, commit by rename)
    python benchmarks/kill_save.py --kills 20 --writer per-file   # each file replaced atomically, one after the other

``per-file`` is how forecaster directories were written before manifests: every file on its own was
atomic, the directory was not. Both runs load with ``Forecaster.load`` (a directory without a manifest
is read unchecked, as such directories always were).
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import random
import signal
import tempfile
import time
from pathlib import Path

import numpy as np

from recurra import Forecaster
from recurra.data import load_airline
from recurra.errors import ModelFileError
from recurra.forecast.files import FORMAT, FORMAT_VERSION, json_default, tail_to_json
from recurra.io import atomic_write_bytes, dump_json, tensor_bytes
from recurra.io.models import module_tensors


def save_per_file(fc: Forecaster, path: Path) -> None:
    """The earlier writer: weights, scaler and config each replaced atomically, in turn, no manifest."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "manifest.json").unlink(missing_ok=True)
    document = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "params": fc.get_params(), "schema": fc.schema_,
        "season": fc.season_, "calibration": fc.calibration_, "network": fc.network_.config,
        "tail": tail_to_json(fc.tail_), "history": fc.history_,
    }  # fmt: skip
    atomic_write_bytes(path / "weights.safetensors", tensor_bytes(module_tensors(fc.network_)))
    atomic_write_bytes(path / "scaler.json", dump_json(fc.scaler_.to_json(), "scaler"))
    atomic_write_bytes(path / "config.json", dump_json(document, "config", default=json_default))


def _save_in_turn(models, path, writer, ready) -> None:
    i = 0
    while True:
        fc = models[i % 2]
        fc.save(path) if writer == "manifest" else save_per_file(fc, path)
        if i == 1:
            ready.set()
        i += 1


def _outcome(models, path) -> str:
    try:
        upper = Forecaster.load(path).predict()["upper"].to_numpy()
    except ModelFileError:
        return "refused"
    for i, m in enumerate(models):
        if np.array_equal(upper, m.predict()["upper"].to_numpy()):
            return f"model {i}"
    return "mix"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--writer", choices=("manifest", "per-file"), default="manifest")
    args = p.parse_args()
    data = load_airline()
    # the same network, trained apart: a config (and calibration) of one and the weights of the other load
    common = dict(lookback=24, horizon=12, output="gaussian", batch_size=16, learning_rate=3e-3)
    models = [
        Forecaster("lstm", 32, seed=0, epochs=20, **common).fit(data, time_col="month", target="passengers"),
        Forecaster("lstm", 32, seed=1, epochs=30, **common).fit(data, time_col="month", target="passengers"),
    ]
    path = Path(tempfile.mkdtemp()) / "forecaster"
    ctx, rng = multiprocessing.get_context("fork"), random.Random(args.seed)
    outcomes = []
    start = time.perf_counter()
    for _ in range(args.kills):
        ready = ctx.Event()
        child = ctx.Process(target=_save_in_turn, args=(models, path, args.writer, ready))
        child.start()
        ready.wait(60)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        outcomes.append(_outcome(models, path))
    counts = collections.Counter(outcomes)
    print(f"writer {args.writer}: {args.kills} kills in {time.perf_counter() - start:.1f} s -> {dict(sorted(counts.items()))}")
    print(f"directories that load silently as a mix: {counts['mix']}")


if __name__ == "__main__":
    main()
