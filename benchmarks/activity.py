"""Activity and gesture recognition: recurra's SequenceClassifier and ESN next to aeon's MiniRocket and 1-NN DTW.

First run ``benchmarks/activity_baselines.py`` with aeon's Python (it writes the archive's train/test
splits as ``.npz`` and the baselines' scores to ``--data``), then, here::

    python benchmarks/activity.py --data /tmp/recurra_activity --threads 1 --json benchmarks/results/activity.json

On each data set's own train/test split:

- ``SequenceClassifier(cell, units, layers, pooling, standardize=True)``: one-way layers (so the same model
  labels a stream step by step), fixed epochs, no validation split (the training sets hold 40-270 series);
  its per-step accuracy over the test series' steps is reported too (the label of the sequence so far);
- ``EchoStateNetwork`` (500 units): a ridge readout fitted to the one-hot class at every step of the
  standardised series; a series' label is the class of its mean readout;
- the baselines' rows from ``baselines.json`` (same splits, same machine).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from recurra import EchoStateNetwork, SequenceClassifier
from recurra.signals import plot_step_labels

# chosen on a stratified quarter of each training set held out (the test split was not looked at)
SETTINGS = {
    "BasicMotions": dict(cell="gru", units=64, epochs=60, batch_size=8, pooling="mean"),
    "PickupGestureWiimoteZ": dict(cell="gru", units=128, epochs=60, batch_size=16, dropout=0.2, pooling="mean"),
    "JapaneseVowels": dict(cell="gru", units=64, layers=2, epochs=60, batch_size=16, pooling="last"),
}


def split(data: np.lib.npyio.NpzFile, name: str) -> tuple[list[np.ndarray], np.ndarray]:
    ends = np.cumsum(data[f"{name}_lengths"])
    return np.split(data[f"{name}_values"], ends[:-1]), data[f"{name}_labels"]


def esn_scores(train: list[np.ndarray], y: np.ndarray, test: list[np.ndarray], y_test: np.ndarray, seed: int) -> dict:
    steps = np.concatenate(train)
    mean, std = steps.mean(0), np.where(steps.std(0) > 0, steps.std(0), 1.0)
    classes = sorted(set(y))
    t = time.perf_counter()
    esn = EchoStateNetwork(500, spectral_radius=0.9, leak_rate=0.3, input_scaling=0.5, ridge=1e-4, washout=0, seed=seed)
    targets = [np.tile(np.eye(len(classes))[classes.index(label)], (len(s), 1)) for s, label in zip(train, y)]
    esn.fit([(s - mean) / std for s in train], targets)
    fit_s = time.perf_counter() - t
    outputs = esn.predict([(s - mean) / std for s in test], reset_state=True)
    pred = np.array([classes[int(np.asarray(o).mean(0).argmax())] for o in outputs])
    return {"accuracy": float(np.mean(pred == y_test)), "fit_seconds": round(fit_s, 2)}


def recurra_scores(train, y, test, y_test, settings: dict, seed: int, plot: Path | None = None) -> dict:
    t = time.perf_counter()
    clf = SequenceClassifier(**settings, standardize=True, validation=0.0, seed=seed).fit(train, list(y))
    fit_s = time.perf_counter() - t
    pred = clf.predict(test)
    per_step = np.concatenate([labels == truth for labels, truth in zip(clf.predict_steps(test), y_test)])
    if plot is not None:  # one test series of each class
        picks = [int(np.flatnonzero(y_test == c)[0]) for c in clf.classes_]
        chosen = [test[i] for i in picks]
        plot_step_labels(chosen, clf.predict_proba_steps(chosen), clf.classes_, plot,
                         channels=["acc x", "acc y", "acc z", "gyro x", "gyro y", "gyro z"][: test[0].shape[1]],
                         titles=[f"test series {i}: {y_test[i]}" for i in picks])  # fmt: skip
    return {"accuracy": float(np.mean(pred == y_test)), "per_step_accuracy": float(per_step.mean()),
            "fit_seconds": round(fit_s, 2), "settings": settings}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("/tmp/recurra_activity"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="*", default=None, help="Data set names to run (default: all).")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--plot", type=Path, default=None, help="BasicMotions: per-step labels of one test series per class (PNG).")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    baselines = json.loads((args.data / "baselines.json").read_text())
    results = {}
    for name, settings in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        data = np.load(args.data / f"{name}.npz")
        (train, y), (test, y_test) = split(data, "train"), split(data, "test")
        row = {k: baselines[name][k] for k in ("train", "test", "channels", "lengths")}
        plot = args.plot if name == "BasicMotions" else None
        row["recurra SequenceClassifier"] = recurra_scores(train, y, test, y_test, settings, args.seed, plot)
        row["recurra EchoStateNetwork"] = esn_scores(train, y, test, y_test, args.seed)
        row["aeon MiniRocket"] = baselines[name]["MiniRocket"]
        row["aeon 1-NN DTW"] = baselines[name]["1-NN DTW"]
        results[name] = row
        print(f"\n{name}: train {row['train']}, test {row['test']}, {row['channels']} channels, lengths {row['lengths']}")
        for model in ("recurra SequenceClassifier", "recurra EchoStateNetwork", "aeon MiniRocket", "aeon 1-NN DTW"):
            r = row[model]
            step = f"   per step {r['per_step_accuracy']:.3f}" if "per_step_accuracy" in r else ""
            print(f"  {model:28} accuracy {r['accuracy']:.3f}   fit {r['fit_seconds']:7.2f} s{step}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
