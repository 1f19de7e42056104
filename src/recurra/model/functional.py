"""Functional models: ``Model(inputs, outputs)`` over a graph of layer calls, as in Keras.

>>> from recurra import Input, LSTM, Dense, Model
>>> x = Input(shape=(None, 3))
>>> model = Model(x, Dense(1)(LSTM(8)(x)))
>>> tuple(model(torch.zeros(2, 5, 3)).shape)
(2, 1)

Layers called on symbolic tensors record their calls (``recurra.layers.symbolic``); the model keeps the
calls needed for its outputs, in an order where every call comes after the calls it reads from, and
replays them on real tensors: several inputs and outputs (lists or dicts), shared layers (one layer
called twice uses one set of weights), keyword tensors (``initial_state=[h, c]``), states returned by
``return_state=True``, and masks passed from layer to layer as in ``Sequential``. Layers of a trained
model can be called again on new inputs to make another model with the same weights (the encoder and
decoder of a seq2seq model at inference).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, ShapeError
from ..layers.base import Layer
from ..layers.core import InputLayer
from ..layers.symbolic import Node, SymbolicTensor, first_mask_argument, named_mask_arguments
from ..layers.wrappers import layer_from_config, layer_to_config
from ..registry import register_model
from ..tree import flatten, map_structure
from .base import Model
from .summary import layer_label, shape_text, summary_table


def _sort_nodes(outputs: list[SymbolicTensor], inputs: list[SymbolicTensor]) -> list[Node]:
    """The calls the outputs need, each after every call it reads from."""
    order: list[Node] = []
    seen: set[int] = set()
    given = {id(t) for t in inputs}

    def visit(t: SymbolicTensor) -> None:
        if t.node is None:
            if id(t) not in given:
                raise ConfigError(f"an output depends on {t!r}, which is not among the inputs given to Model(inputs=...)")
            return
        if id(t.node) in seen:
            return
        seen.add(id(t.node))
        for source in t.node.inputs():
            visit(source)
        order.append(t.node)

    for t in outputs:
        visit(t)
    return order


def _check_symbolic(structure: Any, what: str) -> list[SymbolicTensor]:
    flat = flatten(structure)
    for t in flat:
        if not isinstance(t, SymbolicTensor):
            raise ConfigError(f"Model(inputs, outputs) expected symbolic tensors as {what}, got {type(t).__name__}")
    return flat


def _tensor_refs(structure: Any) -> list[list[int]]:
    """The ``[call, index]`` of every ``{"tensor": ...}`` in an encoded structure, left to right."""
    if isinstance(structure, dict) and set(structure) == {"tensor"}:
        return [structure["tensor"]]
    items = structure.values() if isinstance(structure, dict) else structure if isinstance(structure, list) else []
    return [ref for item in items for ref in _tensor_refs(item)]


@register_model
class Functional(Model):
    """A model defined by its ``inputs`` and ``outputs`` (symbolic tensors, or lists or dicts of them).

    Call it with data shaped like ``inputs``: a tensor, a list or a dict. It returns data shaped like
    ``outputs``. ``layers`` lists its layers (the input layers first); ``get_layer(name)`` finds one.
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None):
        super().__init__()
        self.name = name
        flat_in = _check_symbolic(inputs, "inputs")
        for t in flat_in:
            if t.input_layer is None:
                raise ConfigError(f"Model(inputs, outputs) expected Input(...) tensors as inputs, got {t!r}")
        flat_out = _check_symbolic(outputs, "outputs")
        self._inputs, self._outputs = inputs, outputs
        self._nodes = _sort_nodes(flat_out, flat_in)
        layers: list[nn.Module] = [t.input_layer for t in flat_in]
        for node in self._nodes:
            if not any(node.layer is known for known in layers):
                layers.append(node.layer)
        self.layers = nn.ModuleList(layers)
        self._name_layers()

    def _name_layers(self) -> None:
        """Give every unnamed layer a name unique in the model (``lstm``, ``lstm_1`` ...), as Keras does."""
        taken = {layer.name for layer in self.layers if isinstance(layer, Layer) and layer.name}
        for layer in self.layers:
            if isinstance(layer, Layer) and not layer.name:
                base = "input_layer" if type(layer).__name__ == "InputLayer" else type(layer).__name__.lower()
                name, k = base, 0
                while name in taken:
                    k += 1
                    name = f"{base}_{k}"
                layer.name = name
                taken.add(name)

    # -- what Keras code reads ------------------------------------------------------------------------
    @property
    def inputs(self) -> list[SymbolicTensor]:
        return flatten(self._inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return flatten(self._outputs)

    @property
    def input(self) -> Any:
        """The inputs as the model was given them: one symbolic tensor, or their list or dict."""
        return self._inputs

    @property
    def output(self) -> Any:
        """The outputs as the model was given them: one symbolic tensor, or their list or dict."""
        return self._outputs

    @property
    def output_names(self) -> list[str]:
        """The name of the layer that makes each output (what a dict of losses is keyed by)."""
        return [t.node.layer.name if t.node is not None else t.input_layer.name for t in self.outputs]

    @property
    def built(self) -> bool:
        return True

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by its name, or by its index in ``layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        names = [getattr(layer, "name", None) for layer in self.layers]
        raise ConfigError(f"no layer named {name!r} in this model; its layers: {', '.join(map(str, names))}")

    # -- running --------------------------------------------------------------------------------------
    def _input_values(self, inputs: Any) -> list[torch.Tensor]:
        expected = self.inputs
        if isinstance(self._inputs, dict):
            if not isinstance(inputs, dict):
                raise ShapeError(f"expected a dict of inputs with keys {sorted(self._inputs)}, got {type(inputs).__name__}")
            missing = sorted(set(self._inputs) - set(inputs))
            if missing:
                raise ShapeError(f"expected inputs for {missing} too (the model's inputs: {sorted(self._inputs)})")
            return flatten({k: inputs[k] for k in self._inputs})
        given = flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
        if len(given) != len(expected):
            raise ShapeError(f"expected {len(expected)} input(s) (the model's Input tensors), got {len(given)}")
        return given

    def forward(self, inputs: Any, mask: Any = None) -> Any:
        values: dict[int, Any] = {}
        masks: dict[int, Any] = {}
        for t, value in zip(self.inputs, self._input_values(inputs)):
            values[id(t)] = t.input_layer(value)  # checks the shape
            masks[id(t)] = None
        for node in self._nodes:
            self._run(node, values, masks)
        return map_structure(lambda t: values[id(t)], self._outputs)

    @staticmethod
    def _run(node: Node, values: dict[int, Any], masks: dict[int, Any]) -> None:
        def resolve(leaf: Any) -> Any:
            return values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf

        args, kwargs = map_structure(resolve, node.args), map_structure(resolve, node.kwargs)
        layer = node.layer
        takes_masks = hasattr(layer, "compute_mask")
        if takes_masks and "mask" not in kwargs:
            mask_of = lambda leaf: masks.get(id(leaf)) if isinstance(leaf, SymbolicTensor) else None  # noqa: E731
            mask = first_mask_argument(node.args, mask_of)
            if mask is not None:
                kwargs["mask"] = mask
            kwargs.update(named_mask_arguments(layer, node.args, node.kwargs, mask_of))
        out = nn.Module.__call__(layer, *args, **kwargs)
        for t, value in zip(node.outputs, flatten(out)):
            values[id(t)] = value
            masks[id(t)] = None
        if takes_masks and args and node.outputs:
            masks[id(node.outputs[0])] = layer.compute_mask(args[0], kwargs.get("mask"))

    # -- summary --------------------------------------------------------------------------------------
    def summary(self, print_fn=print) -> str:
        """A table of the layers in call order, their output shapes, parameters and what each call reads."""
        where: dict[int, str] = {id(t): f"{t.input_layer.name}" for t in self.inputs}
        rows = [(layer_label(t.input_layer), shape_text([t.shape]), "0", "-") for t in self.inputs]
        for node in self._nodes:
            sources = ", ".join(where.get(id(t), "?") for t in node.inputs())
            for i, t in enumerate(node.outputs):
                where[id(t)] = node.layer.name if len(node.outputs) == 1 else f"{node.layer.name}[{i}]"
            params = sum(p.numel() for p in node.layer.parameters())
            rows.append((layer_label(node.layer), shape_text([t.shape for t in node.outputs]), f"{params:,}", sources))
        rows = [(a, b, d, c) for a, b, c, d in rows]  # the parameter count last, right-aligned
        headers = ("Layer (type)", "Output Shape", "Connected to", "Param #")
        return summary_table(self.name or "functional", rows, headers, self, print_fn)

    # -- configuration --------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The layers (``layer_to_config``), the inputs, every call (the layer's index and its arguments,
        a tensor written as ``{"tensor": [call, index]}``, call ``-1 - k`` for input ``k``) and the outputs."""
        layer_index = {id(layer): i for i, layer in enumerate(self.layers)}
        refs: dict[int, list[int]] = {id(t): [-1 - k, 0] for k, t in enumerate(self.inputs)}
        calls = []
        def encode(leaf: Any) -> Any:
            if isinstance(leaf, SymbolicTensor):
                return {"tensor": refs[id(leaf)]}
            if isinstance(leaf, torch.Tensor):
                raise ConfigError("a layer of this model was called with a concrete tensor, which a saved model cannot hold")
            return leaf

        for n, node in enumerate(self._nodes):
            if not isinstance(node.layer, Layer):
                raise ConfigError(f"a functional model can only save recurra layers, got {type(node.layer).__name__}")
            calls.append({"layer": layer_index[id(node.layer)], "args": map_structure(encode, list(node.args)),
                          "kwargs": map_structure(encode, node.kwargs)})  # fmt: skip
            for i, t in enumerate(node.outputs):
                refs[id(t)] = [n, i]
        return {
            "name": self.name,
            "layers": [layer_to_config(layer) for layer in self.layers],
            "inputs": map_structure(lambda t: {"tensor": refs[id(t)]}, self._inputs),
            "calls": calls,
            "outputs": map_structure(lambda t: {"tensor": refs[id(t)]}, self._outputs),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Functional:
        """Rebuild the layers, then replay every call on symbolic tensors (which builds the layers)."""
        layers = [layer_from_config(spec) for spec in config["layers"]]
        inputs: list[SymbolicTensor] = []
        for spec in _tensor_refs(config["inputs"]):
            layer = layers[-1 - spec[0]]
            if not isinstance(layer, InputLayer):
                raise ConfigError(f"expected the model's input {-1 - spec[0]} to be an InputLayer, got {type(layer).__name__}")
            inputs.append(layer.output)
        produced: list[list[SymbolicTensor]] = []

        def decode(structure: Any) -> Any:
            if isinstance(structure, dict) and set(structure) == {"tensor"}:
                call, index = structure["tensor"]
                return inputs[-1 - call] if call < 0 else produced[call][index]
            if isinstance(structure, list):
                return [decode(item) for item in structure]
            if isinstance(structure, dict):
                return {key: decode(value) for key, value in structure.items()}
            return structure

        for call in config["calls"]:
            out = layers[call["layer"]](*decode(call["args"]), **decode(call["kwargs"]))
            produced.append(flatten(out))
        return cls(decode(config["inputs"]), decode(config["outputs"]), name=config.get("name"))


__all__ = ["Functional"]
