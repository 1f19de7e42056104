"""Issue 12's bad inputs, each tried once through the command line or the API: what each one gives, and the
count of those refused with a named error (or, for a metric undefined on the data, a named note).

    python benchmarks/bad_inputs.py            # about 10 s on 2 CPU cores

The cases: 1e308, +inf and -inf in a CSV (``recurra forecast train``) and 1e308 in ``Sequential.fit``'s
``x``; ``--resume`` with another cell, more units, or fewer epochs than the checkpoint holds; 100 flipped
bytes in each file of a saved forecaster; NaN weights; a scaler whose scale is infinite, zero or
negative; ``units`` 1,000,000 or ``"4"`` and ``lookback`` ``"24"`` in a config; a config nested 5,000
levels deep; an all-zero constant series scored (MASE and sMAPE undefined). Edited files other than the
flipped ones are written with their manifest updated (``write_model_directory``), as a tool that writes a
consistent directory would, so what is refused is the content, not a checksum mismatch.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load as load_tensors
from typer.testing import CliRunner

from recurra import Dense, Forecaster, Sequential, SimpleRNN
from recurra.cli import app
from recurra.errors import RecurraError, RecurraWarning
from recurra.io import load_model, tensor_bytes, write_model_directory

SMALL = ["--time-col", "t", "--target", "y", "--horizon", "3", "--lookback", "6", "--units", "4", "--verbose", "0"]
FILES = ("config.json", "scaler.json", "weights.safetensors", "manifest.json")


class Cases:
    """Runs each case and keeps ``(case, outcome, message)``; ``named`` says whether the outcome is a
    recurra error (the command line: exit code 2 with ``error: ...``) or a recurra note."""

    def __init__(self, tmp: Path):
        self.tmp, self.rows, self.runner = tmp, [], CliRunner()

    def cli(self, case: str, args: list[str], *, expect_error: bool = True) -> None:
        result = self.runner.invoke(app, args)
        text = " ".join(result.output.split())
        message = text[text.find("error:") :] if "error:" in text else text[-200:]
        named = result.exit_code == 2 and message.startswith("error:")
        if expect_error:
            self.rows.append((case, f"exit {result.exit_code}", message, named))
        elif result.exit_code != 0:
            raise SystemExit(f"{case} failed:\n{result.output}")

    def api(self, case: str, call: Callable[[], object]) -> None:
        try:
            call()
        except Exception as e:  # noqa: BLE001 - every outcome is reported, recurra's or not
            self.rows.append((case, type(e).__name__, " ".join(str(e).split()), isinstance(e, RecurraError)))
        else:
            self.rows.append((case, "no error", "", False))

    def notes(self, case: str, call: Callable[[], list[str]]) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RecurraWarning)
            call()
        said = [str(w.message) for w in caught if issubclass(w.category, RecurraWarning)]
        self.rows.append((case, f"{len(said)} RecurraWarning note(s)", " | ".join(said), bool(said)))


def _series() -> pd.DataFrame:
    return pd.DataFrame({"t": range(60), "y": [10 + float(i % 7) for i in range(60)]})


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("checkpoints"))
    return target


def _rewrite(directory: Path, name: str, data: bytes) -> None:
    """Replace one file, the manifest recording it (the directory stays consistent)."""
    files = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file() and p.name != "manifest.json"}
    write_model_directory(directory, {**files, name: data})


def values_beyond_float32(cases: Cases) -> None:
    for label, value in [("1e308", 1e308), ("inf", math.inf), ("-inf", -math.inf)]:
        frame = _series()
        frame.loc[17, "y"] = value
        frame.to_csv(cases.tmp / f"{label}.csv", index=False)
        out = ["--out", str(cases.tmp / "m"), "--plot", str(cases.tmp / "p.png")]
        cases.cli(
            f"recurra forecast train, {label} in the CSV", ["forecast", "train", str(cases.tmp / f"{label}.csv"), *SMALL, *out]
        )
    x = np.random.default_rng(0).normal(size=(16, 5, 2))
    y = x.sum((1, 2))[:, None]
    x[2, 1, 0] = 1e308

    def fit() -> None:
        model = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
        model.compile("adam", "mse")
        model.fit(x, y, verbose=0)

    cases.api("Sequential.fit, 1e308 in x", fit)


def resumed_with_other_options(cases: Cases) -> Path:
    """A finished LSTM run of 3 epochs, then ``--resume`` with other options; returns the saved forecaster."""
    csv, run = cases.tmp / "ok.csv", cases.tmp / "run"
    _series().to_csv(csv, index=False)
    base = ["forecast", "train", str(csv), *SMALL, "--out", str(run), "--plot", str(cases.tmp / "p.png")]
    cases.cli("first run", [*base, "--epochs", "3"], expect_error=False)
    cases.cli("--resume --cell gru (an LSTM run)", [*base, "--epochs", "3", "--cell", "gru", "--resume"])
    cases.cli("--resume --units 8 (a run of 4 units)", [*base, "--epochs", "3", "--units", "8", "--resume"])
    cases.cli("--resume --epochs 2 (after 3 epochs)", [*base, "--epochs", "2", "--resume"])
    return run


def damaged_forecaster_files(cases: Cases, saved: Path) -> None:
    for name in FILES:
        copy = _copy(saved, cases.tmp / f"flipped-{name}")
        data = bytearray((copy / name).read_bytes())
        for i in random.Random(0).sample(range(len(data)), min(100, len(data))):
            data[i] ^= 0xFF
        (copy / name).write_bytes(bytes(data))
        cases.api(f"Forecaster.load, 100 flipped bytes in {name}", lambda copy=copy: Forecaster.load(copy))
    copy = _copy(saved, cases.tmp / "nan-weights")
    tensors = load_tensors((copy / "weights.safetensors").read_bytes())
    first = sorted(tensors)[0]
    tensors[first] = tensors[first].clone()
    tensors[first].view(-1)[0] = float("nan")
    _rewrite(copy, "weights.safetensors", tensor_bytes(tensors))
    cases.api(f"Forecaster.load, a NaN in {first}", lambda: Forecaster.load(copy))
    for label, scale in [("1e999 (inf)", "1e999"), ("0", "0.0"), ("-1", "-1.0")]:
        copy = _copy(saved, cases.tmp / f"scale-{scale}")
        doc = json.loads((copy / "scaler.json").read_text())
        for series in doc["series"].values():
            series["scale"] = ["SCALE" for _ in series["scale"]]
        _rewrite(copy, "scaler.json", json.dumps(doc).replace('"SCALE"', scale).encode())
        cases.api(f"Forecaster.load, scale {label} in scaler.json", lambda copy=copy: Forecaster.load(copy))


def bad_config_values(cases: Cases, saved: Path) -> None:
    model = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    model.save(cases.tmp / "sequential")
    for label, value in [("units 1000000", 1_000_000), ("units '4'", "4")]:
        copy = _copy(cases.tmp / "sequential", cases.tmp / f"units-{value}")
        doc = json.loads((copy / "config.json").read_text())
        doc["config"]["layers"][0]["config"]["units"] = value
        _rewrite(copy, "config.json", json.dumps(doc).encode())
        cases.api(f"load_model, config {label}", lambda copy=copy: load_model(copy))
    copy = _copy(saved, cases.tmp / "lookback")
    doc = json.loads((copy / "config.json").read_text())
    doc["params"]["lookback"] = "24"
    _rewrite(copy, "config.json", json.dumps(doc).encode())
    cases.api("Forecaster.load, config lookback '24'", lambda: Forecaster.load(copy))
    copy = _copy(cases.tmp / "sequential", cases.tmp / "nested")
    _rewrite(copy, "config.json", b"[" * 5000 + b"]" * 5000)
    cases.api("load_model, config.json nested 5000 levels", lambda: load_model(copy))


def constant_series(cases: Cases) -> None:
    const = pd.DataFrame({"t": np.arange(40), "y": np.zeros(40)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecurraWarning)  # the notes of the fit's own holdout: counted below
        fc = Forecaster("gru", 4, lookback=6, horizon=3, epochs=1).fit(const, time_col="t", holdout=6)
    cases.notes("evaluate, an all-zero constant series", lambda: fc.evaluate(const, holdout=6).notes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = Cases(Path(tempfile.mkdtemp(prefix="recurra-bad-inputs-")))
    values_beyond_float32(cases)
    saved = resumed_with_other_options(cases)
    damaged_forecaster_files(cases, saved)
    bad_config_values(cases, saved)
    constant_series(cases)
    for case, outcome, message, named in cases.rows:
        print(f"- {case}: {outcome}{'' if named else ' (NOT NAMED)'}: {message[:240]}")
    named = sum(row[3] for row in cases.rows)
    print(f"\n{named} of {len(cases.rows)} bad inputs give a named error or note")
    shutil.rmtree(cases.tmp, ignore_errors=True)
    return 0 if named == len(cases.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
