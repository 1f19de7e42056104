"""Keras-style callbacks: hooks called by the training loop.

A callback gets ``set_model(model)`` once; ``model`` is the object whose ``fit`` runs (it has
``stop_training``, ``optimizer``, ``state_dict()``/``load_state_dict()`` and ``save()``).
``logs`` is a dict of the latest values (``loss``, metrics, ``val_`` ones at epoch end, ``lr``).
"""

from __future__ import annotations

import copy
import csv
import math
import os
from typing import Any, Callable

import numpy as np

from ..errors import ConfigError, RecurraWarning
from ..io import save_weights


class Callback:
    """Base class; override the hooks you need."""

    model: Any = None

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


class CallbackList(Callback):
    def __init__(self, callbacks: list[Callback]):
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"expected recurra Callback objects, got {type(cb).__name__}")
        self.callbacks = list(callbacks)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def __getattribute__(self, name):
        if name.startswith("on_"):
            cbs = object.__getattribute__(self, "callbacks")
            return lambda *a, **k: [getattr(cb, name)(*a, **k) for cb in cbs] and None
        return object.__getattribute__(self, name)


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is a list over epochs."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)


class _Monitor:
    """Shared logic of callbacks that watch one logged value for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"expected mode 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(float(min_delta))
        self.best = math.inf if mode == "min" else -math.inf

    def improved(self, value: float, reference: float | None = None) -> bool:
        ref = self.best if reference is None else reference
        if self.mode == "min":
            return value < ref - self.min_delta
        return value > ref + self.min_delta

    def value(self, logs: dict | None, who: str) -> float | None:
        logs = logs or {}
        if self.monitor not in logs:
            import warnings

            warnings.warn(
                f"{who} watches {self.monitor!r}, which is not logged; logged: {', '.join(sorted(logs))}",
                RecurraWarning,
                stacklevel=3,
            )
            return None
        return float(logs[self.monitor])


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; optionally restore the best weights."""

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
        verbose: int = 0,
    ):
        self._m = _Monitor(monitor, mode, min_delta)
        self.patience, self.baseline = int(patience), baseline
        self.restore_best_weights, self.start_from_epoch, self.verbose = restore_best_weights, start_from_epoch, verbose
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, 0, 0, None
        self._m.best = math.inf if self._m.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None):
        value = self._m.value(logs, "EarlyStopping")
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = copy.deepcopy(self.model.state_dict())
        self.wait += 1
        if self._m.improved(value):
            self._m.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(self.model.state_dict())
            if self.baseline is None or self._m.improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best epoch {self.best_epoch + 1})")


class ModelCheckpoint(Callback):
    """Save the model at the end of each epoch (rank 0 only): a model directory, or one ``.keras`` file
    when ``filepath`` ends so; with ``save_weights_only``, the weights alone, in a ``.safetensors`` file.

    ``filepath`` may hold ``{epoch}`` and logged names (``"ckpt-{epoch:02d}-{val_loss:.3f}"``). Every
    write is atomic: a crash never leaves a half-written file. A suffix naming another format
    (``.h5``, ``.hdf5``) is refused at once: recurra never writes one format under another's name.
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
    ):
        self.rank_zero_only = True  # in a distributed run only the first process writes
        self.filepath = os.fspath(filepath)
        suffix = os.path.splitext(self.filepath)[1].lower()
        if suffix in (".h5", ".hdf5"):
            kept = "a .safetensors file (save_weights_only=True)" if save_weights_only else "a .keras file or a directory"
            raise ConfigError(f"ModelCheckpoint({self.filepath!r}): recurra does not write HDF5 ({suffix}); name {kept} instead")
        if save_weights_only and suffix not in ("", ".safetensors"):
            raise ConfigError(f"ModelCheckpoint({self.filepath!r}, save_weights_only=True) writes safetensors: expected a "
                              f".safetensors name, got {suffix}")  # fmt: skip
        self._m = _Monitor(monitor, mode, 0.0)
        self.verbose, self.save_best_only, self.save_weights_only = verbose, save_best_only, save_weights_only

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = self._m.value(logs, "ModelCheckpoint")
            if value is None or not self._m.improved(value):
                return
            self._m.best = value
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_weights_only:
            save_weights(self.model, path)
        else:
            self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved to {path}")


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        if not 0.0 < factor < 1.0:
            raise ConfigError(f"expected 0 < factor < 1 for ReduceLROnPlateau, got {factor}")
        self._m = _Monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        value = self._m.value(logs, "ReduceLROnPlateau")
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._m.improved(value):
            self._m.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            for group in self.model.optimizer.param_groups:
                old = float(group["lr"])
                new = max(old * self.factor, self.min_lr)
                group["lr"] = new
                if self.verbose and new < old:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau learning rate {old:.3g} -> {new:.3g}")
            self.cooldown_counter, self.wait = self.cooldown, 0


class CSVLogger(Callback):
    """Append one row per epoch (epoch and every logged value) to a CSV file."""

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        self.rank_zero_only = True
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None

    def on_train_begin(self, logs=None):
        self.keys = None
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self.keys = header[1:] if header else None
        elif not self.append and os.path.exists(self.filename):
            os.remove(self.filename)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        new = not os.path.exists(self.filename)
        if self.keys is None:
            self.keys = list(logs)
        with open(self.filename, "a", newline="") as f:
            w = csv.writer(f, delimiter=self.separator)
            if new:
                w.writerow(["epoch", *self.keys])
            w.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
            f.flush()


class LambdaCallback(Callback):
    """Callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
    ):
        for name, fn in list(locals().items()):
            if name != "self" and fn is not None:
                setattr(self, name, fn)


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


class TensorBoard(Callback):
    """Write every epoch's logs (and, with ``update_freq="batch"``, each step's loss) as TensorBoard events.

    Needs the ``tensorboard`` package (``pip install "recurra[tensorboard]"``); view with
    ``tensorboard --logdir DIR``.
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", update_freq: str = "epoch"):
        if update_freq not in ("epoch", "batch"):
            raise ConfigError(f"expected update_freq 'epoch' or 'batch', got {update_freq!r}")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise ConfigError(f"TensorBoard needs the tensorboard package: pip install tensorboard ({e})") from None
        self.rank_zero_only = True
        self._writer_class = SummaryWriter
        self.log_dir, self.update_freq = os.fspath(log_dir), update_freq
        self.writer = None
        self._step = 0
        if update_freq == "batch":
            self.on_train_batch_end = self._batch_end

    def on_train_begin(self, logs=None):
        self.writer = self._writer_class(self.log_dir)

    def _batch_end(self, batch, logs=None):
        self._step += 1
        if logs and "loss" in logs:
            self.writer.add_scalar("batch/loss", logs["loss"], self._step)

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            group = "validation" if k.startswith("val_") else "train"
            self.writer.add_scalar(f"{group}/{k.removeprefix('val_')}", v, epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
