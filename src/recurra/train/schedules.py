"""Learning-rate schedules by name, or any torch scheduler.

========  ====================================================  ==============
name      schedule                                              stepped
========  ====================================================  ==============
step      lr × gamma every ``step_size`` epochs (0.1, epochs/3)  per epoch
cosine    lr × (1 + cos(π s / S)) / 2 over all S steps          per batch
onecycle  up from lr/25 to lr, then down to lr/10⁴ (OneCycle)   per batch
plateau   lr × factor after ``patience`` flat epochs            per epoch
========  ====================================================  ==============

A spec is a name, ``{"name": ..., **arguments}``, a torch ``LRScheduler`` / ``ReduceLROnPlateau``
instance (stepped per epoch), or a callable ``optimizer -> scheduler``.
"""

from __future__ import annotations

from typing import Any, Union

import torch

from ..errors import ConfigError, unknown_name

NAMES = ("step", "cosine", "onecycle", "plateau")

ScheduleLike = Union[str, dict, Any, None]


class Schedule:
    """A built scheduler and when to step it (``per_batch``); ``monitor`` for plateau."""

    def __init__(self, scheduler: Any, per_batch: bool, monitor: str | None = None):
        self.scheduler, self.per_batch, self.monitor = scheduler, per_batch, monitor

    @property
    def is_plateau(self) -> bool:
        return isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    def step_epoch(self, logs: dict[str, float]) -> None:
        if self.per_batch:
            return
        if self.is_plateau:
            key = self.monitor if self.monitor in logs else ("val_loss" if "val_loss" in logs else "loss")
            self.scheduler.step(logs[key])
        else:
            self.scheduler.step()

    def step_batch(self) -> None:
        if self.per_batch:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


def check(spec: ScheduleLike) -> None:
    """Fail early (at compile) on an unknown schedule name."""
    if spec is None or not isinstance(spec, (str, dict)):
        return
    if isinstance(spec, str) and spec not in NAMES:
        raise unknown_name("learning-rate schedule", spec, NAMES)
    if isinstance(spec, dict) and spec.get("name") not in NAMES:
        raise unknown_name("learning-rate schedule", spec.get("name"), NAMES)


def build(spec: ScheduleLike, optimizer: torch.optim.Optimizer, *, epochs: int, steps_per_epoch: int | None) -> Schedule | None:
    """The scheduler for ``spec`` over a run of ``epochs`` epochs of ``steps_per_epoch`` batches."""
    if spec is None:
        return None
    if isinstance(spec, (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)):
        return Schedule(spec, per_batch=False)
    if callable(spec) and not isinstance(spec, (str, dict)):
        return Schedule(spec(optimizer), per_batch=False)
    check(spec)
    args = dict(spec) if isinstance(spec, dict) else {"name": spec}
    name = args.pop("name")
    sched = torch.optim.lr_scheduler
    try:
        if name == "step":
            args.setdefault("step_size", max(1, epochs // 3))
            args.setdefault("gamma", 0.1)
            return Schedule(sched.StepLR(optimizer, **args), per_batch=False)
        if name == "plateau":
            monitor = args.pop("monitor", "val_loss")
            args.setdefault("factor", 0.1)
            args.setdefault("patience", 10)
            return Schedule(sched.ReduceLROnPlateau(optimizer, **args), per_batch=False, monitor=monitor)
        if steps_per_epoch is None:
            raise ConfigError(
                f"the {name!r} schedule steps per batch and needs the number of batches; give the DataLoader a length"
            )
        total = max(1, epochs * steps_per_epoch)
        if name == "cosine":
            args.setdefault("T_max", total)
            return Schedule(sched.CosineAnnealingLR(optimizer, **args), per_batch=True)
        args.setdefault("max_lr", [g["lr"] for g in optimizer.param_groups])
        args.setdefault("total_steps", total)
        return Schedule(sched.OneCycleLR(optimizer, **args), per_batch=True)
    except TypeError as e:
        raise ConfigError(f"learning-rate schedule {name!r}: {e}") from None
