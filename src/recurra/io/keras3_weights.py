"""Keras 3's ``model.weights.h5`` into recurra layers, read with h5py (numbers only: no pickle, no code).

Keras stores a model's layers under ``layers/<name>``, where ``<name>`` is the layer's class in snake case
made unique in the order of ``model.layers`` (``lstm``, ``lstm_1`` ...; not the layer's own name, which is
kept as the ``name`` attribute of its ``vars`` group). A layer's own weights are ``vars/0``, ``vars/1`` ...;
the weights of what it holds follow in sub-groups: a recurrent layer's ``cell``, a ``Bidirectional``'s
``forward_layer`` and ``backward_layer``, a ``TimeDistributed``'s ``layer``. A layer held twice is stored
once. In that order the arrays are Keras's ``get_weights()``, which recurra layers take in
``set_weights``. Only hard links inside the file are followed; external and virtual datasets are refused.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from torch import nn

from ..errors import ModelFileError, ShapeError
from .keras3_layers import is_layer, snake_case

# sub-groups in Keras's get_weights() order (MultiHeadAttention: query, key, value, output; with a leading
# underscore in older Keras 3 files); any other sub-groups follow in name order
CHILD_ORDER = ("cell", "forward_layer", "backward_layer", "layer", "query_dense", "key_dense", "value_dense", "output_dense",
               "_query_dense", "_key_dense", "_value_dense", "_output_dense")  # fmt: skip
SKIPPED_CHILDREN = ("seed_generator",)  # random-number state, not weights
MAX_ARRAY_BYTES = 8 * 1024**3


def open_h5(data: bytes, where: str) -> Any:
    """The HDF5 file held in ``data`` (opened read-only, in memory)."""
    try:
        import h5py
    except ImportError:
        raise ModelFileError(f"{where}: reading Keras's own .keras files needs h5py (pip install h5py)") from None
    try:
        return h5py.File(io.BytesIO(data), "r")
    except (OSError, ValueError) as e:
        raise ModelFileError(f"{where} is damaged or not an HDF5 file ({e})") from None


def child(group: Any, name: str) -> Any:
    """The member ``name`` of ``group``, or ``None``; only a hard link inside the file is followed."""
    import h5py

    if group is None:
        return None
    link = group.get(name, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(f"{group.name}/{name} links to {type(link).__name__}: a Keras weights file holds its arrays itself")
    return group[name]


def read_array(dataset: Any) -> np.ndarray:
    """One stored array: numbers only, held in the file itself, finite."""
    import h5py

    where = dataset.name
    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(f"{where}: expected an array, found a group")
    if dataset.is_virtual or dataset.external:
        raise ModelFileError(f"{where}: the array is stored outside the file; a Keras weights file holds its arrays itself")
    if dataset.dtype.kind not in "fiub":
        raise ModelFileError(f"{where}: expected numbers, found arrays of {dataset.dtype}")
    if dataset.size * dataset.dtype.itemsize > MAX_ARRAY_BYTES:
        raise ModelFileError(f"{where}: {dataset.shape} arrays of {dataset.dtype} are larger than a model's weights")
    array = np.asarray(dataset[()])
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ModelFileError(f"{where} holds NaN or infinite values; a model file holds finite weights")
    return array


def own_arrays(group: Any) -> list[np.ndarray]:
    """``vars/0``, ``vars/1`` ... of a layer's group."""
    store = child(group, "vars")
    if store is None:
        return []
    keys = sorted(store.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if keys != [str(i) for i in range(len(keys))]:
        raise ModelFileError(f"{store.name}: expected arrays named 0, 1, 2 ..., found {', '.join(keys)}")
    return [read_array(child(store, k)) for k in keys]


def all_arrays(group: Any) -> list[np.ndarray]:
    """A layer's arrays in Keras's order: its own, then those of what it holds (``CHILD_ORDER`` first)."""
    names = [k for k in group.keys() if k != "vars" and not k.startswith(SKIPPED_CHILDREN)]
    names.sort(key=lambda k: (CHILD_ORDER.index(k) if k in CHILD_ORDER else len(CHILD_ORDER), k))
    arrays = own_arrays(group)
    for name in names:
        arrays += all_arrays(child(group, name))
    return arrays


def _wrapped(layer: nn.Module, group: Any, visited: set[int]) -> list[tuple[str, nn.Module]] | None:
    """The layers ``layer`` wraps, when each has its own group (or was loaded already): Keras's layout of a
    wrapper. ``None`` for a layer that takes all its arrays itself."""
    inner = [(name, m) for name, m in layer.named_children() if is_layer(m)]
    if not inner or any(child(group, name) is None and id(m) not in visited for name, m in inner):
        return None
    return inner


def load_layer(layer: nn.Module, group: Any, where: str, visited: set[int]) -> None:
    """Copy the arrays of ``group`` into ``layer`` (and the layers it wraps)."""
    if id(layer) in visited:
        return
    visited.add(id(layer))
    inner = _wrapped(layer, group, visited) if group is not None else None
    if inner is not None:
        if own_arrays(group):
            raise ModelFileError(f"{where}: expected the weights of {type(layer).__name__} in its wrapped layers' groups")
        for name, m in inner:
            load_layer(m, child(group, name), f"{where}/{name}", visited)
        return
    arrays = all_arrays(group) if group is not None else []
    expected = [tuple(w.shape) for w in layer.keras_weights()] if getattr(layer, "built", False) else []
    if not arrays and not expected:
        return
    if group is None:
        raise ModelFileError(f"{where}: the weights file has no weights for {type(layer).__name__} {layer.name!r}")
    try:
        layer.set_weights(arrays)
    except ShapeError as e:
        found = ", ".join(str(a.shape) for a in arrays)
        raise ModelFileError(f"{where}: the weights of {layer.name!r} do not fit: {e} (the file holds {found})") from None


def load_model_weights(h5: Any, layers: list[tuple[dict[str, Any], nn.Module]]) -> None:
    """Load every layer of a model: ``layers`` pairs each Keras layer entry, in the config's order, with its
    recurra layer."""
    used: dict[str, int] = {}
    visited: set[int] = set()
    root = child(h5, "layers")
    for entry, layer in layers:
        name = unique_name(snake_case(entry["class_name"]), used)
        group = child(root, name)
        stored = child(group, "vars")
        stored_name = stored.attrs.get("name") if stored is not None else None
        if isinstance(stored_name, bytes):
            stored_name = stored_name.decode()
        if stored_name is not None and layer.name is not None and stored_name != layer.name:
            raise ModelFileError(f"layers/{name}: expected the weights of layer {layer.name!r}, found those of {stored_name!r}")
        load_layer(layer, group, f"layers/{name}", visited)


def unique_name(name: str, used: dict[str, int]) -> str:
    """Keras's ``_get_unique_name``: ``name``, then ``name_1``, ``name_2`` ..."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


__all__ = ["open_h5", "load_model_weights", "load_layer", "all_arrays"]
