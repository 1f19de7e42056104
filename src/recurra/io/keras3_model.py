"""Keras 3 model configurations -> recurra ``Sequential`` and functional models (``recurra.model``).

A ``Sequential`` is its layers in order. A functional model lists each layer once with its calls
(``inbound_nodes``: the arguments of each call, a tensor written as ``{"class_name": "__keras_tensor__",
"config": {"keras_history": [layer, call, index]}}``) and names its inputs and outputs the same way
(``[layer, call, index]``, in lists and dicts). The calls are replayed on recurra's symbolic tensors, each
once the tensors it reads exist, which also builds the layers: shared layers (several calls),
``initial_state=`` and several inputs and outputs come out as Keras wrote them.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import ModelFileError, RecurraError
from ..registry import MODELS
from ..tree import flatten
from .keras3_layers import build_layer, describe, is_layer

Pairs = list[tuple[dict[str, Any], nn.Module]]  # each Keras layer entry with the recurra layer made from it
IGNORED_CALL_ARGUMENTS = ("training",)  # set by the model's own call (fit, predict), as in Keras


def build_model(document: dict[str, Any]) -> tuple[nn.Module, Pairs]:
    """The recurra model a Keras ``config.json`` describes (with its layers built), and its layers."""
    name = document.get("class_name")
    config = document.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"expected the model's config to be an object, got {type(config).__name__}")
    if name == "Sequential":
        return sequential(config)
    if name in ("Functional", "Model") and "input_layers" in config:
        return functional(config)
    raise ModelFileError(
        f"the model is a {name}: recurra reads Keras's Sequential and functional models (a subclassed model's "
        "code is not in the file); rebuild it in recurra and copy the weights with set_weights"
    )


def _entries(config: dict[str, Any]) -> list[dict[str, Any]]:
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ModelFileError(f"expected the model's layers as a list of objects, got {str(entries)[:80]}")
    return entries


def build_layers(entries: list[dict[str, Any]]) -> list[nn.Module]:
    """The recurra layer of every entry. A layer the model calls directly and also wraps (``TimeDistributed(dense)``
    over the ``dense`` it calls) is one layer in Keras, the same ``shared_object_id`` in both places: so here."""
    layers = [build_layer(entry) for entry in entries]
    shared = {e["shared_object_id"]: layer for e, layer in zip(entries, layers) if e.get("shared_object_id") is not None}
    for entry, layer in zip(entries, layers):
        inner = entry.get("config", {}).get("layer")
        key = inner.get("shared_object_id") if isinstance(inner, dict) else None
        if key in shared and is_layer(getattr(layer, "layer", None)):
            layer.layer = shared[key]
    return layers


def sequential(config: dict[str, Any]) -> tuple[nn.Module, Pairs]:
    entries = _entries(config)
    layers = build_layers(entries)
    model = MODELS["Sequential"](name=config.get("name"))
    for entry, layer in zip(entries, layers):
        try:
            model.add(layer)  # builds each layer once the input shape is known
        except (RecurraError, TypeError, ValueError) as e:
            raise ModelFileError(f"{describe(entry)}: recurra cannot build it: {e}") from None
    if not model.built:
        shape = config.get("build_input_shape")
        if not isinstance(shape, list) or len(shape) < 2:
            raise ModelFileError("the Sequential model was saved before it was built (no input shape): it holds no weights")
        try:
            model.build(tuple(shape[1:]))
        except (RecurraError, TypeError, ValueError) as e:
            raise ModelFileError(f"recurra cannot build the Sequential model for inputs of shape {shape}: {e}") from None
    return model, list(zip(entries, layers))


def functional(config: dict[str, Any]) -> tuple[nn.Module, Pairs]:
    entries = _entries(config)
    layers = build_layers(entries)
    by_name: dict[str, tuple[dict[str, Any], nn.Module]] = {}
    produced: dict[tuple[str, int], list[Any]] = {}  # (layer name, call) -> the call's outputs, flat
    for entry, layer in zip(entries, layers):
        name = entry.get("name", entry.get("config", {}).get("name"))
        by_name[name] = (entry, layer)
        if type(layer).__name__ == "InputLayer":
            produced[(name, 0)] = [layer.output]
    replay(by_name, produced)
    inputs = _unwrap(tensor_structure(config.get("input_layers"), produced))
    outputs = _unwrap(tensor_structure(config.get("output_layers"), produced))
    try:
        model = MODELS["Functional"](inputs, outputs, name=config.get("name"))
    except (RecurraError, TypeError, ValueError) as e:
        raise ModelFileError(f"recurra cannot make the functional model: {e}") from None
    return model, list(zip(entries, layers))


def _unwrap(structure: Any) -> Any:
    """One input (or output) written as a list of one is that tensor, as Keras's model treats it."""
    return structure[0] if isinstance(structure, list) and len(structure) == 1 else structure


def _calls(by_name: dict[str, tuple[dict[str, Any], nn.Module]]) -> list[tuple[str, int, dict[str, Any]]]:
    calls = []
    for name, (entry, _) in by_name.items():
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
            raise ModelFileError(f"{describe(entry)}: expected its calls as a list of {{'args', 'kwargs'}} objects")
        calls += [(name, i, node) for i, node in enumerate(nodes)]
    return calls


def replay(by_name: dict[str, tuple[dict[str, Any], nn.Module]], produced: dict[tuple[str, int], list[Any]]) -> None:
    """Call every layer as the file records, each call once the tensors it reads exist."""
    pending = _calls(by_name)
    while pending:
        ready = [c for c in pending if sources(c[2]) <= produced.keys()]
        if not ready:
            name, i, node = pending[0]
            missing = sorted(sources(node) - produced.keys())
            raise ModelFileError(f"{describe(by_name[name][0])}: call {i} reads the outputs of {missing}, which no call makes")
        for name, i, node in ready:
            entry, layer = by_name[name]
            args = decode(node.get("args", []), produced)
            kwargs = {k: decode(v, produced) for k, v in (node.get("kwargs") or {}).items() if keep_argument(k, v)}
            try:
                out = layer(*args, **kwargs)
            except (RecurraError, TypeError, ValueError) as e:
                raise ModelFileError(f"{describe(entry)}: recurra cannot make call {i}: {e}") from None
            produced[(name, i)] = flatten(out)
        pending = [c for c in pending if c not in ready]


def keep_argument(key: str, value: Any) -> bool:
    return key not in IGNORED_CALL_ARGUMENTS and not (key == "mask" and value is None)


def sources(value: Any) -> set[tuple[str, int]]:
    """The ``(layer, call)`` of every Keras tensor in a call's arguments."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            name, node, _ = history(value)
            return {(name, node)}
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(sources(v) for v in value)) if value else set()
    return set()


def history(value: dict[str, Any]) -> tuple[str, int, int]:
    found = (value.get("config") or {}).get("keras_history")
    well_formed = isinstance(found, list) and len(found) == 3 and isinstance(found[0], str)
    if not well_formed or not all(isinstance(k, int) for k in found[1:]):
        raise ModelFileError(f"expected a tensor's keras_history as [layer, call, index], got {found!r}")
    return found[0], found[1], found[2]


def decode(value: Any, produced: dict[tuple[str, int], list[Any]]) -> Any:
    """A call argument with recurra's symbolic tensors in place of Keras's."""
    if isinstance(value, dict):
        kind = value.get("class_name")
        if kind == "__keras_tensor__":
            name, node, index = history(value)
            return _output(produced, name, node, index)
        if kind == "__tuple__":
            return [decode(v, produced) for v in (value.get("config") or {}).get("value", [])]
        if isinstance(kind, str) and kind.startswith("__"):
            raise ModelFileError(f"a call argument of kind {kind} has no recurra equivalent (it reads tensors and plain values)")
        return {k: decode(v, produced) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, produced) for v in value]
    return value


def _output(produced: dict[tuple[str, int], list[Any]], name: str, node: int, index: int) -> Any:
    outputs = produced.get((name, node))
    if outputs is None or not 0 <= index < len(outputs):
        raise ModelFileError(f"the file refers to output {index} of call {node} of layer {name!r}, which recurra does not make")
    return outputs[index]


def tensor_structure(spec: Any, produced: dict[tuple[str, int], list[Any]]) -> Any:
    """The model's inputs or outputs: ``[layer, call, index]`` leaves in lists and dicts."""
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
        if not all(isinstance(k, int) for k in spec[1:]):
            raise ModelFileError(f"expected a model input or output as [layer, call, index], got {spec!r}")
        return _output(produced, *spec)
    if isinstance(spec, dict):
        return {k: tensor_structure(v, produced) for k, v in spec.items()}
    if isinstance(spec, list) and spec:
        return [tensor_structure(v, produced) for v in spec]
    raise ModelFileError(f"expected the model's inputs and outputs as [layer, call, index] lists, got {spec!r}")


__all__ = ["build_model", "sequential", "functional", "replay", "decode", "tensor_structure"]
