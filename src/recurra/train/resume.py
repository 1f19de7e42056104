"""Checkpoints of one ``fit`` run and resuming from them: what ``Trainer.fit(checkpoint_dir=...)`` hands
to this collaborator so that the loop itself only says *when* to save.

A checkpoint holds the model's weights, the optimiser's state, the schedule's, every random generator's,
the history and the position in the run (epoch, batch, step, the epoch's running loss), and the run's
**fingerprint**: the network's configuration (``get_config()``, when the module has one), the shape
and dtype of every weight, the batch size and truncation of ``fit``, the training data (its size and a
SHA-256 of its values, for in-memory data), and the ``settings`` an estimator passes (its options).
``resume`` refuses a checkpoint whose fingerprint differs from this run's, naming each difference, and
an ``epochs`` that would end before the checkpoint's position; more epochs than the checkpointed run
had continue its training.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..tree import flatten
from .checkpoint import CheckpointManager, _jsonable, join_optimizer_state, split_optimizer_state
from .inputs import TensorBatches

MAX_LISTED = 8  # differences named in a refusal


@dataclass
class RunState:
    """Where a run is: what a checkpoint records and a resume restores."""

    epoch: int = 0
    batch: int = 0  # batches of ``epoch`` already done
    global_step: int = 0
    loss_sum: torch.Tensor = field(default_factory=lambda: torch.zeros((), dtype=torch.float64))
    n_seen: int = 0
    epoch_start_state: torch.Tensor | None = None  # the shuffle generator's state when the epoch began


def data_fingerprint(train: Any) -> dict[str, Any] | None:
    """The number of samples, their shape and a SHA-256 of in-memory training data (``None`` for loaders)."""
    if not isinstance(train, TensorBatches):
        return None
    digest = hashlib.sha256()
    arrays = flatten(train.x) + (flatten(train.y) if train.y is not None else [])
    for t in arrays:
        digest.update(t.detach().cpu().contiguous().numpy().tobytes())
    shapes = [list(t.shape[1:]) for t in flatten(train.x)]
    return {"samples": train.n_samples, "shape": shapes[0] if len(shapes) == 1 else shapes, "sha256": digest.hexdigest()[:16]}


def fingerprint(module: nn.Module, train: Any, *, tbptt: int | None, settings: dict[str, Any] | None) -> dict:
    """What must be the same for a checkpoint to continue this run (see the module docstring)."""
    found: dict[str, Any] = {
        "weights": {k: [str(v.dtype).removeprefix("torch."), *v.shape] for k, v in module.state_dict().items()},
        "fit": {"batch_size": getattr(train, "batch_size", None), "tbptt": tbptt},
        "data": data_fingerprint(train),
    }
    get_config = getattr(module, "get_config", None)
    if callable(get_config):
        try:
            found["network"] = get_config()
        except (NotImplementedError, TypeError, ValueError):  # a Model subclass without a config
            pass
    if settings is not None:
        found["settings"] = settings
    return _jsonable(found)


def differences(old: Any, new: Any, where: str = "") -> list[str]:
    """``"key: old -> new"`` for every leaf where two JSON documents differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in list(old) + [k for k in new if k not in old]:
            key = f"{where}.{k}" if where else str(k)
            if k not in new:
                out.append(f"{key}: {old[k]!r} -> (absent)")
            elif k not in old:
                out.append(f"{key}: (absent) -> {new[k]!r}")
            else:
                out.extend(differences(old[k], new[k], key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and any(isinstance(v, (dict, list)) for v in old):
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in differences(a, b, f"{where}[{i}]")]
    return [] if old == new else [f"{where or '(the run)'}: {old!r} -> {new!r}"]


def check_same_run(saved: dict | None, current: dict, where: Path) -> None:
    """Refuse to resume from the checkpoint ``where`` when its run's fingerprint differs from this one's."""
    if saved is None:
        return  # written before fingerprints existed: nothing to compare
    # the first part that differs, in this order: the user's own options first, their consequences after
    # (a different cell also changes every weight's shape, which says nothing more)
    found: list[str] = []
    for part in ("settings", "network", "fit", "data", "weights"):
        found = differences(saved.get(part), current.get(part), part)
        if found:
            break
    if found:
        listed = "; ".join(found[:MAX_LISTED]) + (f"; and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else "")
        raise ConfigError(
            f"cannot resume from {where}: it was written by a different run ({listed}). Resume with the options the "
            "checkpoint was written with, or start a new run (another checkpoint directory, or without resume)"
        )


class RunCheckpoints:
    """The checkpoints of one run: write them (``save``) and continue from the newest intact one (``resume``)."""

    def __init__(self, directory: Any, keep: int, *, module: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any,
                 train: Any, history: Any, monitor: str, run_fingerprint: dict, enabled: bool = True):  # fmt: skip
        self.manager = CheckpointManager(directory, keep)
        self.module, self.optimizer, self.schedule = module, optimizer, schedule
        self.train, self.history, self.monitor = train, history, monitor
        self.fingerprint = run_fingerprint
        self.enabled = enabled  # False on every process but the first (distributed runs)

    @property
    def directory(self) -> Path:
        return self.manager.directory

    def save(self, run: RunState, batch_in_epoch: int, logs: dict | None = None, *, wait: bool = False) -> Path | None:
        """Write a checkpoint at this point of the run (in the background unless ``wait``); its directory."""
        if not self.enabled:
            return None
        epoch_start = run.epoch_start_state if batch_in_epoch else None
        tensors, meta = self._capture(epoch_start)
        meta.update(
            epoch=run.epoch,
            batch=batch_in_epoch,
            global_step=run.global_step,
            loss_sum=float(run.loss_sum),
            n_seen=run.n_seen,
            run=self.fingerprint,
        )
        if logs is not None and self.monitor in logs:
            meta.update(monitor=self.monitor, monitor_value=float(logs[self.monitor]), monitor_mode="min")
        path = self.manager.save(run.global_step, tensors, meta, background=not wait)
        if wait:
            self.manager.wait()
        return path

    def wait(self) -> None:
        self.manager.wait()

    def _capture(self, epoch_start_state: torch.Tensor | None) -> tuple[dict, dict]:
        tensors = {f"model/{k}": v for k, v in self.module.state_dict().items()}
        opt_tensors, opt_meta = split_optimizer_state(self.optimizer.state_dict())
        tensors.update(opt_tensors)
        tensors["rng/torch"] = torch.get_rng_state()
        if isinstance(self.train, TensorBatches):
            tensors["rng/shuffle"] = self.train.generator.get_state()
            if epoch_start_state is not None:
                tensors["rng/shuffle_epoch_start"] = epoch_start_state
        np_state = np.random.get_state()
        meta = {
            "optimizer": opt_meta,
            "scheduler": self.schedule.state_dict() if self.schedule is not None else None,
            "rng_python": list(random.getstate()),
            "rng_numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
            "history": self.history.history,
            "history_epochs": self.history.epoch,
        }
        return tensors, meta

    def resume(self, run: RunState, epochs: int, verbose: int) -> None:
        """Continue from the newest intact checkpoint (after checking it belongs to this run); without one,
        say so and start from the beginning."""
        found = self.manager.latest()
        if found is None:
            if verbose:
                print(f"no checkpoint in {self.directory}: starting from the beginning")
            return
        path, tensors, meta = found
        check_same_run(meta.get("run"), self.fingerprint, path)
        epoch, batch = int(meta["epoch"]), int(meta["batch"])
        if epochs < epoch or (epochs == epoch and batch > 0):
            at = f"epoch {epoch + 1}, step {batch}" if batch else f"the end of epoch {epoch}"
            raise ConfigError(
                f"cannot resume from {path} with epochs={epochs}: the checkpoint is at {at}, so the run would end before "
                f"it; give epochs >= {epoch + (1 if batch else 0)} (more continues training)"
            )
        self._restore(tensors, meta, run)
        if verbose:
            print(f"resumed from {path} (epoch {run.epoch + 1}, step {run.batch})")

    def _restore(self, tensors: dict, meta: dict, run: RunState) -> None:
        self.module.load_state_dict({k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")})
        self.optimizer.load_state_dict(join_optimizer_state(tensors, meta["optimizer"]))
        if self.schedule is not None and meta.get("scheduler") is not None:
            self.schedule.load_state_dict(meta["scheduler"])
        torch.set_rng_state(tensors["rng/torch"])
        py = meta["rng_python"]
        random.setstate((py[0], tuple(py[1]), py[2]))
        npst = meta["rng_numpy"]
        np.random.set_state((npst[0], np.asarray(npst[1], dtype=np.uint32), *npst[2:]))
        self.history.history = {k: list(v) for k, v in meta.get("history", {}).items()}
        self.history.epoch = list(meta.get("history_epochs", []))
        run.epoch, run.batch, run.global_step = int(meta["epoch"]), int(meta["batch"]), int(meta["global_step"])
        device = next((p.device for p in self.module.parameters()), torch.device("cpu"))
        run.loss_sum = torch.tensor(float(meta.get("loss_sum", 0.0)), dtype=torch.float64, device=device)
        run.n_seen = int(meta.get("n_seen", 0))
        if isinstance(self.train, TensorBatches):
            if run.batch > 0 and "rng/shuffle_epoch_start" in tensors:
                # rebuild this epoch's order, then skip the batches already done
                self.train.generator.set_state(tensors["rng/shuffle_epoch_start"])
                run.epoch_start_state = tensors["rng/shuffle_epoch_start"]
            else:
                self.train.generator.set_state(tensors["rng/shuffle"])


__all__ = ["RunState", "RunCheckpoints", "fingerprint", "differences", "check_same_run"]
