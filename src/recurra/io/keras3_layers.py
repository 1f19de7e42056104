"""Keras 3 layer configurations -> recurra layers: the one table of Keras arguments recurra's layers do not take.

A Keras 3 ``.keras`` file describes each layer as ``{"module", "class_name", "config", "registered_name",
"build_config"}``. The class is looked up in recurra's layer registry by name only (``recurra.registry``;
a layer of your own loads when registered with ``recurra.saving.register_keras_serializable``): nothing a
file names is ever imported or run, and ``Lambda`` (Python code) is refused.

The ``config`` is passed to the recurra class after one translation, ``KERAS_ONLY`` below: Keras arguments
whose value changes nothing here (a ``None`` regularizer, ``unroll``, ``use_cudnn``, a dropout ``seed``) are
dropped; any other value of them is refused, naming the layer, the argument and the value. Arguments the
recurra class takes pass through (initializers and one-element tuples rewritten in recurra's form), so a
layer added to recurra later loads as soon as its arguments carry Keras's names.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from ..errors import ModelFileError, RecurraError
from ..registry import LAYERS

ANY = object()  # any value: the argument changes nothing recurra computes
TRANSLATED = object()  # read by the loader itself (dtype, trainable)

# Keras arguments recurra's layers do not take -> the values that may be dropped (anything else is refused)
KERAS_ONLY: dict[str, Any] = {
    "trainable": TRANSLATED,  # False freezes the layer's weights once loaded
    "dtype": TRANSLATED,  # the policy's float32 / float64 is the model's dtype (dtype_policies)
    "autocast": ANY,  # casts inputs to the policy's dtype: one dtype runs through a recurra model
    "unroll": ANY,  # a speed setting of Keras's loop
    "use_cudnn": ANY,
    "seed": ANY,  # which random numbers dropout draws, not how many are dropped
    "zero_output_for_mask": ANY,  # taken by recurra's recurrent layers; the others have no masked sequence outputs
    "time_major": (False,),
    "data_format": ("channels_last",),
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "rms_scaling": (False,),
    "renorm": (False,),
    "renorm_clipping": ANY,  # read only with renorm=True, refused above
    "renorm_momentum": ANY,
    "synchronized": ANY,  # batch statistics across devices; recurra runs on one
    "quantization_config": (None,),
    "lora_rank": (None,),
    "lora_alpha": ANY,  # read only with a lora_rank, refused above
    "use_gate": (False,),  # MultiHeadAttention's gated output and local attention
    "sliding_window": (None,),
}
NO_EQUIVALENT_SUFFIXES = ("_regularizer", "_constraint")  # None only, until recurra has them
NESTED_LAYER_KEYS = ("layer", "backward_layer", "cell", "cells")  # values that are layer configurations (or lists of them)
INITIALIZER_NOISE = {"seed": ANY, "input_axes": (None,), "output_axes": (None,)}  # Keras initializer arguments
ONE_ELEMENT_TUPLES = ("kernel_size", "strides", "pool_size", "dilation_rate", "axis")  # (2,) -> 2 for the 1-D layers
REFUSED_CLASSES = {
    "Lambda": "it holds Python code, and recurra never runs code from a file; rebuild this part as a layer of "
    "your own registered with recurra.saving.register_keras_serializable",
    "Sequential": "recurra cannot nest a model inside a model yet",
    "Functional": "recurra cannot nest a model inside a model yet",
}


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: the name a layer's weights are stored under (``LSTM`` -> ``lstm``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def describe(entry: dict[str, Any]) -> str:
    """``layer 'lstm' of class LSTM``: how errors name a layer."""
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    return f"layer {config.get('name', entry.get('name'))!r} of class {entry.get('class_name')}"


def layer_class(entry: dict[str, Any]) -> type:
    """The registered recurra class for a Keras layer entry (by class name, or the name a custom class was
    registered under); refused clearly when recurra has none."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ModelFileError(f"expected a layer as {{'class_name': ..., 'config': {{...}}}}, got {str(entry)[:80]}")
    name = entry["class_name"]
    if name in REFUSED_CLASSES:
        raise ModelFileError(f"{describe(entry)}: {REFUSED_CLASSES[name]}")
    registered = entry.get("registered_name")
    candidates = [name] + ([registered.split(">")[-1]] if isinstance(registered, str) else [])
    for candidate in candidates:
        if candidate in LAYERS and candidate not in REFUSED_CLASSES:
            return LAYERS[candidate]
    raise ModelFileError(f"{describe(entry)}: recurra has no such layer (it has {', '.join(sorted(LAYERS))})")


def _policy_name(entry: dict[str, Any]) -> str | None:
    value = entry.get("config", {}).get("dtype")
    if isinstance(value, dict):
        if value.get("class_name") != "DTypePolicy":
            raise ModelFileError(f"{describe(entry)}: the dtype policy {value.get('class_name')} has no recurra equivalent")
        value = (value.get("config") or {}).get("name")
    if value is not None and value not in ("float32", "float64"):
        raise ModelFileError(f"{describe(entry)}: dtype {value!r}; recurra reads float32 and float64 models")
    return value


def dtype_policies(entry: dict[str, Any]) -> set[str]:
    """The float dtypes the Keras dtype policies of a layer and the layers it wraps name (``float32``,
    ``float64``); mixed precision and quantized policies are refused. An input layer's dtype is its data's."""
    if entry.get("class_name") == "InputLayer":
        return set()
    found = {_policy_name(entry)} - {None}
    for nested in _nested(entry):
        found |= dtype_policies(nested)
    return found


def _nested(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The layer configurations inside a layer's config (a wrapper's layer, an RNN's cell or cells)."""
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    found = []
    for key in NESTED_LAYER_KEYS:
        value = config.get(key)
        found += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]
    return found


def _accepted(cls: type) -> tuple[set[str], bool]:
    """The keyword arguments ``cls`` takes, and whether it takes any (``**kwargs``)."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name for p in params}, any(p.kind is p.VAR_KEYWORD for p in params)


def _keras_only(key: str) -> bool:
    return key in KERAS_ONLY or key.endswith(NO_EQUIVALENT_SUFFIXES)


def _allowed(key: str, value: Any) -> bool:
    """Whether a Keras argument recurra's class does not take may be dropped with this value."""
    if key.endswith(NO_EQUIVALENT_SUFFIXES):
        return value is None
    rule = KERAS_ONLY.get(key)
    return rule is ANY or rule is TRANSLATED or (isinstance(rule, tuple) and value in rule)


def translate_initializer(value: Any) -> Any:
    """A Keras initializer ``{"class_name": "GlorotUniform", "config": {"seed": None}}`` in recurra's form."""
    if not isinstance(value, dict):
        return value
    config = dict(value.get("config") or {})
    for key, rule in INITIALIZER_NOISE.items():
        if key in config and (rule is ANY or config[key] in rule):
            del config[key]
    return {"class_name": snake_case(str(value.get("class_name"))), "config": config}


def translate_value(key: str, value: Any) -> Any:
    """One argument recurra's class takes, in recurra's form."""
    if key in NESTED_LAYER_KEYS and isinstance(value, list):
        return [translate_value(key, v) for v in value]
    if key in NESTED_LAYER_KEYS and isinstance(value, dict):
        return {"class_name": layer_class(value).__name__, "config": translate_config(value)}
    if key.endswith("_initializer"):
        return translate_initializer(value)
    if key in ONE_ELEMENT_TUPLES and isinstance(value, (list, tuple)) and len(value) == 1:
        return value[0]
    return value


def translate_config(entry: dict[str, Any]) -> dict[str, Any]:
    """The recurra ``config`` for a Keras layer entry (the class from ``layer_class``)."""
    cls = layer_class(entry)
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"{describe(entry)}: expected its config to be an object, got {type(config).__name__}")
    if cls.__name__ == "InputLayer":
        return input_layer_config(entry)
    takes, takes_any = _accepted(cls)
    out = {}
    for key, value in config.items():
        if key == "dtype":
            continue  # the model takes the policies' dtype as a whole (dtype_policies)
        if key in takes or (takes_any and not _keras_only(key)):
            out[key] = translate_value(key, value)
        elif not _allowed(key, value):
            raise ModelFileError(f"{describe(entry)}: Keras's {key}={value!r} has no recurra equivalent")
    return out


def input_layer_config(entry: dict[str, Any]) -> dict[str, Any]:
    """Keras's ``InputLayer`` (``batch_shape``, ``dtype``) as recurra's (``shape``, ``batch_size``, ``dtype``)."""
    config = entry["config"]
    for key, value in config.items():
        if key not in ("batch_shape", "batch_input_shape", "dtype", "name") and not _allowed(key, value):
            raise ModelFileError(f"{describe(entry)}: Keras's {key}={value!r} has no recurra equivalent")
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if not isinstance(shape, list) or not shape:
        raise ModelFileError(f"{describe(entry)}: expected batch_shape as a list (batch, ...), got {shape!r}")
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    return {"shape": shape[1:], "batch_size": shape[0], "name": config.get("name"), "dtype": dtype}


def build_layer(entry: dict[str, Any]) -> Any:
    """The recurra layer for a Keras layer entry, built from its translated config (not yet built)."""
    cls = layer_class(entry)
    config = translate_config(entry)
    try:
        return cls.from_config(config)
    except (RecurraError, TypeError, ValueError, KeyError) as e:
        raise ModelFileError(f"{describe(entry)}: recurra cannot build it from Keras's config: {e}") from None


def frozen(entry: dict[str, Any]) -> bool:
    """Whether Keras saved the layer with ``trainable=False``. A wrapped layer frozen alone is frozen by its
    recurra class when that takes ``trainable``; otherwise it is refused (the loader freezes whole layers)."""
    config = entry.get("config", {})
    for nested in _nested(entry):
        alone = frozen(nested) and config.get("trainable", True) is not False
        if alone and "trainable" not in _accepted(layer_class(nested))[0]:
            raise ModelFileError(f"{describe(entry)}: the layer it wraps is frozen (trainable=False) and it is not; "
                                 "recurra freezes whole layers")  # fmt: skip
    return config.get("trainable", True) is False


__all__ = ["KERAS_ONLY", "build_layer", "translate_config", "layer_class", "dtype_policies", "snake_case", "describe", "frozen"]


def is_layer(module: object) -> bool:
    """Whether ``module`` is a layer (Keras-layout weights and a config), not a cell or a plain module: io
    sits below the layers and knows them only through the registry and this protocol."""
    return hasattr(module, "set_weights") and hasattr(module, "get_config")
