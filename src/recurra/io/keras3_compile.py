"""Keras 3's ``compile_config`` -> the arguments of recurra's ``model.compile``.

The optimiser keeps its class and settings (``learning_rate``, ``beta_1`` ...), the loss and metrics their
names; settings recurra has no equivalent for (``use_ema``, ``global_clipnorm``, a learning-rate schedule
object, ``weighted_metrics``) make ``compile_arguments`` raise, and the model is then loaded uncompiled, with
a warning (as Keras does when it cannot compile a loaded model). The optimiser's state (its moments and step
count) is not carried over: training in recurra starts it afresh.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .keras3_layers import snake_case

ANY = object()
# optimiser settings recurra has no equivalent for -> the values that change nothing
OPTIMIZER_ONLY: dict[str, Any] = {
    "name": ANY,
    "weight_decay": (None, 0, 0.0),
    "global_clipnorm": (None,),
    "use_ema": (False,),
    "ema_momentum": ANY,
    "ema_overwrite_frequency": ANY,
    "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None, 1),
    "jit_compile": ANY,
}
COMPILE_ONLY: dict[str, Any] = {  # compile settings recurra has no equivalent for -> values that change nothing
    "weighted_metrics": (None, [], {}),
    "run_eagerly": ANY,
    "steps_per_execution": ANY,
    "jit_compile": ANY,
    "auto_scale_loss": ANY,
}
# Keras loss and metric settings that change nothing here
LOSS_NOISE = {"name": ANY, "reduction": ("sum_over_batch_size", "auto"), "dtype": (None,), "label_smoothing": (0, 0.0),
              "axis": (-1,), "ignore_class": (None,)}  # fmt: skip


def _droppable(table: dict[str, Any], key: str, value: Any) -> bool:
    rule = table.get(key)
    return rule is ANY or (isinstance(rule, tuple) and value in rule)


def optimizer_spec(value: Any) -> tuple[Any, dict[str, Any]]:
    """recurra's optimiser spec, and the ``clipnorm`` / ``clipvalue`` compile takes."""
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict) or not isinstance(value.get("config"), dict):
        raise ConfigError(f"the optimizer {str(value)[:80]} is not one recurra reads")
    config, clips = {}, {}
    for key, v in value["config"].items():
        if key in ("clipnorm", "clipvalue"):
            clips[key] = v
        elif not _droppable(OPTIMIZER_ONLY, key, v):
            if isinstance(v, dict) or key in OPTIMIZER_ONLY:
                raise ConfigError(f"the optimizer's {key}={str(v)[:80]} has no recurra equivalent")
            config[key] = v
    return {"class_name": str(value.get("class_name")).lower(), "config": config}, clips  # RMSprop -> rmsprop


def named(value: Any, what: str) -> Any:
    """A loss or metric: a name as it is, Keras's ``{"class_name": "MeanSquaredError", ...}`` by its snake-case
    name with the settings that change something."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, list):
        return [named(v, what) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: named(v, what) for k, v in value.items()}  # one per output, by output name
    if not isinstance(value, dict):
        raise ConfigError(f"the {what} {str(value)[:80]} is not one recurra reads")
    config = {k: v for k, v in (value.get("config") or {}).items() if not _droppable(LOSS_NOISE, k, v)}
    name = snake_case(str(value["class_name"]))
    return name if not config and what == "metric" else {"class_name": name, "config": config}


def compile_arguments(compile_config: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``model.compile`` for Keras's ``compile_config``; a ``ConfigError`` naming the
    first setting recurra cannot follow."""
    extra = set(compile_config) - {"optimizer", "loss", "metrics", "loss_weights"}
    for key in sorted(extra):
        if not _droppable(COMPILE_ONLY, key, compile_config[key]):
            raise ConfigError(f"compile's {key}={str(compile_config[key])[:80]} has no recurra equivalent")
    optimizer, clips = optimizer_spec(compile_config.get("optimizer", "rmsprop"))
    metrics = named(compile_config.get("metrics"), "metric")
    if isinstance(metrics, dict):
        raise ConfigError("metrics given per output (a dict) have no recurra equivalent: recurra measures the first output")
    return dict(
        optimizer=optimizer,
        loss=named(compile_config.get("loss"), "loss"),
        metrics=metrics,
        loss_weights=compile_config.get("loss_weights"),
        **{k: v for k, v in clips.items() if v is not None},
    )


__all__ = ["compile_arguments"]
