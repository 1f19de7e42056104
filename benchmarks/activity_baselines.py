"""Activity and gesture recognition baselines with aeon, on the UCR/UEA archive's own train/test splits.

Run with a Python that has aeon (it pins numpy and numba versions of its own, so keep it in its own
environment: ``python -m venv aeon-env && aeon-env/bin/pip install aeon``)::

    aeon-env/bin/python benchmarks/activity_baselines.py --out /tmp/recurra_activity

For BasicMotions (smartwatch accelerometer + gyroscope, 4 activities), PickupGestureWiimoteZ (Wii remote
gestures of 29-361 steps, 10 classes) and JapaneseVowels (12 LPC channels of 7-29 frames, 9 speakers), it
writes each split as ``<name>.npz`` (``train_values`` (all steps, channels) float64, ``train_lengths``,
``train_labels``, and the same for ``test``: no pickled objects) for ``benchmarks/activity.py``, then fits
and scores the baselines users of aeon run — MiniRocket (sequences padded to the longest by repeating their
last reading, as it needs one length) and 1-nearest-neighbour DTW — and writes ``baselines.json``
(accuracy, fit and predict seconds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from aeon.classification.convolution_based import MiniRocketClassifier
from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier
from aeon.datasets import load_basic_motions, load_japanese_vowels, load_pickup_gesture_wiimoteZ

LOADERS = {
    "BasicMotions": load_basic_motions,
    "PickupGestureWiimoteZ": load_pickup_gesture_wiimoteZ,
    "JapaneseVowels": load_japanese_vowels,
}


def as_list(X) -> list[np.ndarray]:
    """aeon's (N, C, T) array or list of (C, T_i) arrays -> a list of (T_i, C) float64 arrays."""
    return [np.asarray(x, dtype=np.float64).T for x in X]


def padded(seqs: list[np.ndarray], length: int) -> np.ndarray:
    """(N, C, length): each (T_i, C) sequence padded by repeating its last reading."""
    out = np.stack([np.concatenate([s, np.repeat(s[-1:], length - len(s), 0)]) for s in seqs])  # (N, length, C)
    return out.transpose(0, 2, 1)


def score(model, train_X, train_y, test_X, test_y) -> dict:
    t = time.perf_counter()
    model.fit(train_X, train_y)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    pred = model.predict(test_X)
    return {"accuracy": float(np.mean(pred == test_y)), "fit_seconds": round(fit_s, 2),
            "predict_seconds": round(time.perf_counter() - t, 2)}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/recurra_activity"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, load in LOADERS.items():
        splits = {}
        for split in ("train", "test"):
            X, y = load(split=split)
            splits[split] = (as_list(X), np.asarray(y).astype(str))
        np.savez_compressed(
            args.out / f"{name}.npz",
            **{f"{s}_{k}": v for s, (seqs, y) in splits.items()
               for k, v in (("values", np.concatenate(seqs)), ("lengths", np.array([len(q) for q in seqs])), ("labels", y))},
        )  # fmt: skip
        (tr, ytr), (te, yte) = splits["train"], splits["test"]
        longest = max(len(s) for s in tr + te)
        lengths = sorted({len(s) for s in tr + te})
        channels = tr[0].shape[1]
        print(f"{name}: train {len(tr)}, test {len(te)}, {channels} channels, lengths {lengths[0]}-{lengths[-1]}", flush=True)
        row = {"train": len(tr), "test": len(te), "channels": int(tr[0].shape[1]), "lengths": [lengths[0], lengths[-1]]}
        row["MiniRocket"] = score(MiniRocketClassifier(random_state=args.seed), padded(tr, longest), ytr,
                                  padded(te, longest), yte)  # fmt: skip
        same = len(lengths) == 1
        row["1-NN DTW"] = score(KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw"),
                                padded(tr, longest) if same else [s.T for s in tr], ytr,
                                padded(te, longest) if same else [s.T for s in te], yte)  # fmt: skip
        print(f"  MiniRocket {row['MiniRocket']}\n  1-NN DTW {row['1-NN DTW']}", flush=True)
        results[name] = row
    (args.out / "baselines.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
