"""``recurra.utils``: the data helpers Keras code calls (``keras.utils``), with Keras's arguments.

>>> pad_sequences([[1, 2, 3], [4]], maxlen=3).tolist()
[[1, 2, 3], [0, 0, 4]]
>>> to_categorical([0, 2], num_classes=3).tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

import numpy as np
import torch

from .errors import ConfigError, InputValueError, ShapeError
from .train.trainer import set_seed


def set_random_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators (``keras.utils.set_random_seed``)."""
    set_seed(seed)


def pad_sequences(
    sequences: Sequence[Sequence[Any]],
    maxlen: int | None = None,
    dtype: str = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: float = 0.0,
) -> np.ndarray:
    """Sequences of different lengths as one ``(n, maxlen, ...)`` array, as Keras pads them: ``padding``
    and ``truncating`` ``"pre"`` (at the start, Keras's default) or ``"post"``; ``maxlen`` defaults to the
    longest sequence."""
    for name, where in (("padding", padding), ("truncating", truncating)):
        if where not in ("pre", "post"):
            raise ConfigError(f"expected {name} 'pre' or 'post', got {where!r}")
    arrays = [np.asarray(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(a) for a in arrays), default=0)
    tails = {a.shape[1:] for a in arrays if len(a)}
    if len(tails) > 1:
        raise ShapeError(f"expected sequences whose steps have one shape, got steps of shapes {sorted(tails)}")
    tail = tails.pop() if tails else ()
    out = np.full((len(arrays), maxlen, *tail), value, dtype=dtype)
    for i, a in enumerate(arrays):
        if not len(a) or not maxlen:
            continue
        a = a[-maxlen:] if truncating == "pre" else a[:maxlen]
        if padding == "post":
            out[i, : len(a)] = a
        else:
            out[i, -len(a) :] = a
    return out


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """Class ids as one-hot rows of ``num_classes`` (default: the largest id + 1), in float32."""
    ids = np.asarray(x)
    if ids.size and (not np.issubdtype(ids.dtype, np.integer) and not np.all(ids == np.round(ids))):
        raise InputValueError(f"expected integer class ids, got values such as {ids.ravel()[0]!r}")
    ids = ids.astype(np.int64)
    if ids.ndim > 1 and ids.shape[-1] == 1:
        ids = ids[..., 0]
    n = int(ids.max()) + 1 if num_classes is None else int(num_classes)
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise InputValueError(f"expected class ids in [0, {n - 1}], got values from {ids.min()} to {ids.max()}")
    return np.eye(n, dtype=np.float32)[ids]


class _Windows(torch.utils.data.Dataset):
    def __init__(self, data: np.ndarray, targets: np.ndarray | None, starts: np.ndarray, length: int, rate: int):
        self.data, self.targets, self.starts, self.length, self.rate = data, targets, starts, length, rate

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> Any:
        s = int(self.starts[i])
        # a copy: the batch never shares memory with the caller's array (which may be read-only: pandas' .values)
        window = torch.tensor(self.data[s : s + self.length * self.rate : self.rate])
        if self.targets is None:
            return window
        return window, torch.as_tensor(self.targets[i])


class WindowBatches(torch.utils.data.DataLoader):
    """The batches of windows ``timeseries_dataset_from_array`` returns: a ``DataLoader`` with ``take``,
    the ``tf.data`` method Keras code calls on them."""

    def take(self, count: int) -> list[Any]:
        """The first ``count`` batches (all of them when ``count`` is -1), as ``tf.data.Dataset.take``."""
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < -1:
            raise ConfigError(f"expected take(count) with count a non-negative integer or -1, got {count!r}")
        return list(self) if count == -1 else list(itertools.islice(self, int(count)))


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> WindowBatches:
    """Windows of ``sequence_length`` steps over ``data`` (one every ``sequence_stride`` steps, a step every
    ``sampling_rate``), with ``targets[i]`` for the window starting at ``i``, in batches: Keras's function,
    returning a ``DataLoader`` with ``take`` (``fit``, ``evaluate`` and ``predict`` take it as they take Keras's dataset)."""
    arr = np.asarray(data)
    for name, v in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride), ("sampling_rate", sampling_rate)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ConfigError(f"expected {name} to be a positive integer, got {v!r}")
    start = 0 if start_index is None else int(start_index)
    end = len(arr) if end_index is None else int(end_index)
    span = (sequence_length - 1) * sampling_rate + 1
    starts = np.arange(start, end - span + 1, sequence_stride)
    tgt = None
    if targets is not None:
        tgt = np.asarray(targets)
        if len(starts) and starts[-1] >= len(tgt):
            raise ShapeError(f"expected a target for every window start (up to {starts[-1]}), got {len(tgt)} targets")
        tgt = tgt[starts]
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return WindowBatches(
        _Windows(arr, tgt, starts, sequence_length, sampling_rate),
        batch_size=batch_size or len(starts),
        shuffle=shuffle,
        generator=generator,
    )


__all__ = ["set_random_seed", "pad_sequences", "to_categorical", "timeseries_dataset_from_array", "WindowBatches"]
