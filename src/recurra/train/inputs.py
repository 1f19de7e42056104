"""Turning user data (numpy arrays, tensors, lists, DataLoaders) into checked batches.

Checks at the boundary, once per array: NaN or inf, empty arrays, ``x`` and ``y`` of different
lengths. Floating arrays take the model's dtype; integer arrays stay integer (token ids, class ids).

A model with several inputs (or outputs) takes ``x`` (or ``y``) as a list or tuple of arrays, or a dict
of them, as in Keras: each array is checked on its own, all must hold the same number of samples, and
every batch has the same structure.
"""

from __future__ import annotations

from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np
import torch

from ..errors import InputValueError, ShapeError, format_shape
from ..tree import flatten, map_structure


def to_tensor(a: Any, name: str, float_dtype: torch.dtype) -> torch.Tensor:
    """An array-like as a tensor; floats in ``float_dtype``; refuses NaN/inf and empty arrays."""
    if isinstance(a, torch.Tensor):
        t = a.detach()
    else:
        try:
            arr = np.asarray(a)
        except Exception as e:  # ragged lists and the like
            raise InputValueError(f"expected {name} as an array of numbers, got {type(a).__name__}: {e}") from None
        if arr.dtype == object:
            raise InputValueError(f"expected {name} as a rectangular array of numbers, got ragged or non-numeric data")
        if arr.dtype.kind in "US":
            raise InputValueError(f"expected {name} as numbers, got strings (dtype {arr.dtype})")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.dtype == torch.bool:
        t = t.to(float_dtype)
    if t.is_floating_point():
        check_finite(t, name)  # NaN and inf as given, before any conversion
        converted = t.to(float_dtype)
        if converted.dtype != t.dtype:
            check_range(converted, t, name)
        t = converted
    if t.dim() == 0:
        raise ShapeError(f"expected {name} with a batch axis, got a scalar")
    if t.shape[0] == 0:
        raise InputValueError(f"expected at least one sample in {name}, got shape {format_shape(t.shape)}")
    return t


class Weighted(NamedTuple):
    """Targets with a weight per sample (or per step): ``fit(sample_weight=...)`` or ``class_weight``. Batches
    carry the two together, so every shuffle and split keeps each weight with its sample. ``w`` is one
    tensor for every target, or a list of them, one per target of a model with several outputs."""

    y: Any
    w: Any


def class_weights_for(y: Any, class_weight: dict) -> torch.Tensor:
    """Keras's ``class_weight``: each target's weight by its class — integer ids ``(B,)`` / ``(B, 1)``,
    one-hot rows ``(B, K)`` (by their argmax), or ids per step ``(B, T)`` (a weight per step)."""
    if not isinstance(class_weight, dict) or not class_weight:
        raise InputValueError(f"expected class_weight as a dict {{class id: weight}}, got {class_weight!r}")
    if is_several(y):
        raise InputValueError("class_weight weighs the classes of one target; this model has several (use sample_weight)")
    t = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if t.is_floating_point() and t.dim() >= 2 and t.shape[-1] > 1:
        ids = t.argmax(-1)  # one-hot rows
    else:
        if t.is_floating_point() and not bool((t == t.round()).all()):
            raise InputValueError("class_weight expected class ids (whole numbers) or one-hot targets, got other values")
        ids = t.long()
        if ids.dim() >= 2 and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)
    found = sorted(int(c) for c in ids.unique())
    missing = [c for c in found if c not in class_weight]
    if missing:
        given = sorted(class_weight)
        raise InputValueError(f"class_weight has no weight for the class(es) {missing} found in y; it gives {given}")
    table = torch.zeros(max(found) + 1, dtype=torch.float64)
    for c in found:
        table[c] = float(class_weight[c])
    return table[ids]


def weigh_targets(y: Any, sample_weight: Any, class_weight: dict | None, output_names: Sequence[str] | None = None) -> Any:
    """``y``, or ``Weighted(y, w)``: ``sample_weight`` times the class weights, checked.

    ``sample_weight`` is one array for every output (a weight per sample, or per step ``(B, T)``), or, for a
    model with several outputs, one array per output as Keras takes them: a list in the outputs' order, or a
    dict keyed as ``y`` is (or by ``output_names`` when ``y`` is a list); ``w`` is then a list, one per target.
    """
    return with_class_weight(weigh_samples(y, sample_weight, output_names), class_weight)


def weigh_samples(y: Any, sample_weight: Any, output_names: Sequence[str] | None = None) -> Any:
    """``y``, or ``Weighted(y, w)`` with ``sample_weight`` checked against ``y`` (see ``weigh_targets``)."""
    if sample_weight is None:
        return y
    if y is None:
        raise InputValueError("sample_weight needs targets y, got None")
    n = n_samples(y) if is_several(y) else len(y)
    if is_several(sample_weight):
        w: Any = _per_output_weights(y, sample_weight, output_names, n)
        if not is_several(y):
            w = w[0]  # [w] for a model with one output
    else:
        w = _sample_weights(sample_weight, "sample_weight", n)
    return Weighted(y, w)


def with_class_weight(y: Any, class_weight: dict | None) -> Any:
    """``y`` (plain or ``Weighted``) with its weights multiplied by Keras's ``class_weight``."""
    if class_weight is None:
        return y
    if y is None:
        raise InputValueError("class_weight needs targets y, got None")
    targets, w = (y.y, y.w) if isinstance(y, Weighted) else (y, None)
    cw = class_weights_for(targets, class_weight)
    if bool((cw < 0).any()):
        raise InputValueError(f"expected class weights >= 0, got {class_weight!r}")
    w = cw if w is None else (w.reshape(w.shape + (1,) * (cw.dim() - w.dim())) * cw)
    return Weighted(targets, w)


def _sample_weights(a: Any, name: str, n: int) -> torch.Tensor:
    """One array of weights (per sample, or per step), checked: ``n`` samples, none negative."""
    w = to_tensor(a, name, torch.float64)
    if w.shape[0] != n:
        raise ShapeError(f"expected {name} with one weight per sample ({n}), got shape {format_shape(w.shape)}")
    if bool((w < 0).any()):
        raise InputValueError(f"expected sample weights >= 0 in {name}, got negative ones")
    return w


def _per_output_weights(y: Any, sample_weight: Any, output_names: Sequence[str] | None, n: int) -> list[torch.Tensor]:
    """Keras's per-output ``sample_weight`` (a list, or a dict keyed as ``y`` or by the output names), as a
    list in the order of ``y``'s targets."""
    targets = flatten(y) if is_several(y) else [y]
    if isinstance(sample_weight, dict):
        keys = list(y) if isinstance(y, dict) else list(output_names or [])
        if not keys:
            raise InputValueError(
                "sample_weight given as a dict names the outputs: expected y as a dict, or a model with named outputs "
                f"(output_names); got keys {sorted(map(str, sample_weight))}"
            )
        unknown = sorted(set(sample_weight) - set(keys), key=str)
        missing = [k for k in keys if k not in sample_weight]
        if unknown or missing:
            raise InputValueError(
                f"expected sample_weight keyed by the outputs {keys} (one array each, or one array for all), "
                f"got keys {list(sample_weight)}"
            )
        parts, names = [sample_weight[k] for k in keys], [f"sample_weight[{k!r}]" for k in keys]
    else:
        parts, names = list(sample_weight), [f"sample_weight[{i}]" for i in range(len(sample_weight))]
    if len(parts) != len(targets):
        raise ShapeError(
            f"expected one sample_weight array per output ({len(targets)}), or one array for all, got {len(parts)} arrays"
        )
    return [_sample_weights(a, name, n) for a, name in zip(parts, names)]


def is_several(data: Any) -> bool:
    """Whether ``data`` holds several arrays (a model's several inputs or targets): a dict, or a list or
    tuple of arrays or tensors (a list of numbers is one array)."""
    if isinstance(data, dict):
        return True
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(
        isinstance(a, (np.ndarray, torch.Tensor, dict)) or is_several(a) for a in data
    )


def to_tensors(data: Any, name: str, float_dtype: torch.dtype) -> Any:
    """``to_tensor`` on every array of ``data``: one array, or several (``is_several``), named by place."""
    if not is_several(data):
        return to_tensor(data, name, float_dtype)
    if isinstance(data, dict):
        return {k: to_tensors(v, f"{name}[{k!r}]", float_dtype) for k, v in data.items()}
    if isinstance(data, Weighted):
        w = map_structure(lambda a: to_tensor(a, "sample_weight", float_dtype), data.w)
        return Weighted(to_tensors(data.y, name, float_dtype), w)
    return type(data)(to_tensors(v, f"{name}[{i}]", float_dtype) for i, v in enumerate(data))


def n_samples(data: Any) -> int:
    """The number of samples in ``data`` (the first axis of its first array)."""
    return int(flatten(data)[0].shape[0])


def take(data: Any, index: Any) -> Any:
    """The samples ``index`` of every array of ``data``."""
    return map_structure(lambda t: t[index], data)


def to_device(data: Any, device: torch.device) -> Any:
    return map_structure(lambda t: t.to(device, non_blocking=True), data)


def check_finite(t: torch.Tensor, name: str) -> None:
    # a finite sum proves every element finite (NaN and inf propagate); only then skip the full pass
    if t.is_floating_point() and not bool(torch.isfinite(t.sum(dtype=torch.float64))) and not bool(torch.isfinite(t).all()):
        bad = (~torch.isfinite(t)).nonzero()
        n_nan, n_inf = int(torch.isnan(t).sum()), int(torch.isinf(t).sum())
        first = tuple(int(i) for i in bad[0])
        raise InputValueError(
            f"{name} holds {n_nan} NaN and {n_inf} inf values (first at index {first}); expected finite numbers"
        )


def check_range(converted: torch.Tensor, original: torch.Tensor, name: str) -> None:
    """Refuse finite values that became infinite on conversion (1e308 in float32), naming the first."""
    if bool(torch.isfinite(converted.sum(dtype=torch.float64))) or bool(torch.isfinite(converted).all()):
        return
    bad = (~torch.isfinite(converted)).nonzero()
    first = tuple(int(i) for i in bad[0])
    limit = float(torch.finfo(converted.dtype).max)
    raise InputValueError(
        f"{name} holds {len(bad)} value(s) beyond the range of {converted.dtype} (|v| <= {limit:.4g}), the first "
        f"{float(original[first]):.4g} at index {first}; rescale the data (or train in float64: model.to(torch.float64))"
    )


def check_pair(x: Any, y: Any, what: str = "") -> None:
    """Refuse arrays of ``x`` and ``y`` (one or several each) that hold different numbers of samples."""
    arrays = [("x", t) for t in flatten(x)] + ([("y", t) for t in flatten(y)] if y is not None else [])
    n = arrays[0][1].shape[0]
    for which, t in arrays:
        if t.shape[0] != n:
            x0 = flatten(x)[0]
            raise ShapeError(
                f"expected x and y{what} with the same number of samples, got {n} (x {format_shape(x0.shape)}) "
                f"and {t.shape[0]} ({which} {format_shape(t.shape)})"
            )


class TensorBatches:
    """Mini-batches of in-memory tensors, shuffled each epoch by their own generator.

    ``iterate(skip, shard)`` yields one epoch: the permutation is drawn from ``generator`` when the
    epoch starts, so saving the generator's state then lets a resumed run rebuild the same order and
    skip the batches already done. ``shard`` picks one process's rows of each global batch. ``x`` and
    ``y`` are tensors, or structures of them (several inputs or targets); batches keep their structure.
    """

    def __init__(self, x: Any, y: Any, batch_size: int, shuffle: bool, generator: torch.Generator | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise InputValueError(f"expected batch_size to be a positive integer, got {batch_size!r}")
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.generator = (
            generator if generator is not None else torch.Generator().manual_seed(int(torch.randint(2**62, ()).item()))
        )

    @property
    def n_samples(self) -> int:
        return n_samples(self.x)

    def first_rows(self, k: int) -> Any:
        """The first ``k`` samples of ``x`` (what building a model needs; draws nothing)."""
        return take(self.x, slice(0, k))

    def __len__(self) -> int:
        return (self.n_samples + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return self.iterate()

    def iterate(self, skip: int = 0, shard=None) -> Iterator[tuple[Any, Any]]:
        n = self.n_samples
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for i in range(skip * self.batch_size, n, self.batch_size):
            idx = order[i : i + self.batch_size] if order is not None else slice(i, i + self.batch_size)
            if shard is not None:
                idx = shard(torch.arange(n)[idx] if order is None else idx)
            yield take(self.x, idx), (take(self.y, idx) if self.y is not None else None)


class LoaderBatches:
    """Batches from a ``DataLoader`` (or any iterable) of ``(x, y)`` pairs or bare ``x``; each is checked."""

    def __init__(self, loader: Any, float_dtype: torch.dtype, needs_y: bool):
        self.loader, self.float_dtype, self.needs_y = loader, float_dtype, needs_y

    def __len__(self) -> int | None:
        try:
            return len(self.loader)
        except TypeError:
            return None

    def __iter__(self):
        return self.iterate()

    def iterate(self, skip: int = 0, shard=None):
        for i, batch in enumerate(self.loader):
            if i < skip:
                continue
            if isinstance(batch, dict):
                xb, yb = batch.get("x"), batch.get("y")
            elif isinstance(batch, (tuple, list)):
                if len(batch) not in (1, 2):
                    raise ShapeError(f"expected DataLoader batches of (x, y) or (x,), got a sequence of {len(batch)} items")
                xb, yb = batch[0], (batch[1] if len(batch) == 2 else None)
            else:
                xb, yb = batch, None
            if self.needs_y and yb is None:
                raise InputValueError(f"expected DataLoader batch {i} to hold targets (x, y), got x only")
            xb = to_tensors(xb, f"x (batch {i})", self.float_dtype)
            yb = None if yb is None else to_tensors(yb, f"y (batch {i})", self.float_dtype)
            check_pair(xb, yb, f" (batch {i})")
            if shard is not None:
                xb, yb = map_structure(shard, xb), (map_structure(shard, yb) if yb is not None else None)
            yield xb, yb


def is_loader(x: Any) -> bool:
    return isinstance(x, torch.utils.data.DataLoader) or (
        hasattr(x, "__iter__") and not isinstance(x, (np.ndarray, torch.Tensor, list, tuple, str, bytes, dict))
    )
