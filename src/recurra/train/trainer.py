"""The training engine: compile / fit / evaluate / predict for any ``torch.nn.Module``.

``Trainer(module)`` gives a plain module Keras's workflow; ``recurra.Model`` and ``Sequential`` use
the same object. One training step is::

    y_pred = module(x);  L = loss(y_pred, y)        forward through the whole sequence
    ∂L/∂θ by autograd                                 backpropagation through time
    clip (clipnorm: ‖g‖ ≤ c, clipvalue: |g_i| ≤ c);  optimizer step

The loop keeps losses and metrics as tensors and reads them only to draw the progress bar or to
hand logs to callbacks, so it adds almost nothing to a hand-written PyTorch loop.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, InputValueError, NotBuiltError
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from .callbacks import Callback, CallbackList, History
from .inputs import LoaderBatches, TensorBatches, check_pair, is_loader, to_tensor
from .progress import ProgressBar


def set_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators: the same seed repeats a CPU run exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _is_unbuilt(module: nn.Module) -> bool:
    return any(getattr(m, "built", True) is False for m in module.modules()) or not any(True for _ in module.parameters())


@contextlib.contextmanager
def keep_carried_state(module: nn.Module) -> Iterator[None]:
    """Undo what a dummy forward pass (building, summaries) leaves in stateful layers' carried state."""
    saved = [(m, m._carried_state) for m in module.modules() if hasattr(m, "_carried_state")]
    try:
        yield
    finally:
        for m, state in saved:
            m._carried_state = state


def _first(outputs: Any) -> torch.Tensor:
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def _overrides(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook, None) is not getattr(Callback, hook) or hook in vars(cb)


class Trainer:
    """Keras's compile/fit/evaluate/predict over ``module``.

    ``host`` is the object callbacks see as ``model`` (a ``recurra.Model``, or this trainer).
    """

    def __init__(self, module: nn.Module, host: Any = None):
        if not isinstance(module, nn.Module):
            raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
        self.module = module
        self.host = host if host is not None else self
        self.compiled = False
        self.optimizer: torch.optim.Optimizer | None = None
        self.stop_training = False

    # -- what callbacks may call on a bare trainer ------------------------------------------------
    def state_dict(self):
        return self.module.state_dict()

    def load_state_dict(self, state):
        return self.module.load_state_dict(state)

    def save(self, path):
        from ..io import save_model

        save_model(self.module, path)

    # -- compile ----------------------------------------------------------------------------------
    def compile(
        self,
        optimizer: optimizers_mod.OptimizerLike = "rmsprop",
        loss: losses_mod.LossLike | None = None,
        metrics: Sequence[metrics_mod.MetricLike] | None = None,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
    ) -> Trainer:
        if loss is None:
            raise ConfigError("compile expected a loss (a name such as 'mse' or a callable), got None")
        self.optimizer_spec = optimizers_mod.resolve(optimizer)
        self.loss = losses_mod.get(loss)
        loss_name = getattr(self.loss, "name", None)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        self.metrics = [metrics_mod.get(m, loss_name) for m in (metrics or [])]
        for name, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue)):
            if v is not None and not (isinstance(v, (int, float)) and v > 0):
                raise ConfigError(f"expected {name} > 0, got {v!r}")
        self.clipnorm, self.clipvalue = clipnorm, clipvalue
        self.optimizer = self.optimizer_spec if isinstance(self.optimizer_spec, torch.optim.Optimizer) else None
        # a ready optimiser given before the weights exist cannot hold the ones built later (checked in fit)
        self._optimizer_before_build = self.optimizer is not None and _is_unbuilt(self.module)
        self.compiled = True
        return self

    def compile_config(self) -> dict | None:
        """The JSON form of the compile arguments, or None where one is not serialisable."""
        if not self.compiled:
            return None
        opt = optimizers_mod.serialize(self.optimizer_spec)
        loss = self.loss.serialize()
        metrics = [m.name for m in self.metrics]
        if opt is None or loss is None or any(not isinstance(m, str) for m in metrics):
            return None
        return {"optimizer": opt, "loss": loss, "metrics": metrics, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue}

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise NotBuiltError(f"{what} needs a compiled model: call compile(optimizer=..., loss=...) first")

    # -- data -------------------------------------------------------------------------------------
    def float_dtype(self) -> torch.dtype:
        for p in self.module.parameters():
            if p.is_floating_point():
                return p.dtype
        return torch.get_default_dtype()

    def device(self) -> torch.device:
        for p in self.module.parameters():
            return p.device
        return torch.device("cpu")

    def _batches(self, x, y, batch_size, shuffle, needs_y, generator=None):
        dtype = self.float_dtype()
        if is_loader(x):
            if y is not None:
                raise InputValueError("expected y=None when x is a DataLoader (it yields (x, y) batches)")
            if batch_size is not None:
                raise InputValueError("expected batch_size=None when x is a DataLoader (it sets its own batch size)")
            return LoaderBatches(x, dtype, needs_y)
        if x is None:
            raise InputValueError("expected x (an array, a tensor or a DataLoader), got None")
        xt = to_tensor(x, "x", dtype)
        yt = None if y is None else to_tensor(y, "y", dtype)
        if needs_y and yt is None:
            raise InputValueError("expected targets y, got None")
        check_pair(xt, yt)
        return TensorBatches(xt, yt, 32 if batch_size is None else batch_size, shuffle, generator)

    def _ensure_built(self, batches) -> None:
        if not _is_unbuilt(self.module):
            return
        xb, _ = next(iter(batches))
        was_training = self.module.training
        self.module.eval()
        with torch.no_grad(), keep_carried_state(self.module):
            self.module(xb.to(self.device()))
        self.module.train(was_training)
        if not any(True for _ in self.module.parameters()):
            raise ConfigError(f"{type(self.module).__name__} has no trainable parameters")

    def _make_optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is None:
            params = [p for p in self.module.parameters() if p.requires_grad]
            self.optimizer = optimizers_mod.build(self.optimizer_spec, params)
        elif getattr(self, "_optimizer_before_build", False):
            held = {id(p) for g in self.optimizer.param_groups for p in g["params"]}
            missing = [n for n, p in self.module.named_parameters() if p.requires_grad and id(p) not in held]
            if missing:
                raise ConfigError(
                    f"the optimizer was created before the model had all its weights, so it does not hold {len(missing)} "
                    f"of them ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); build the model first "
                    "(input_shape=, model.build(...) or a call on an input) or pass a name or a callable params -> optimizer"
                )
            self._optimizer_before_build = False
        return self.optimizer

    # -- fit --------------------------------------------------------------------------------------
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: Sequence[Callback] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        seed: int | None = None,
    ) -> History:
        """Train for ``epochs`` epochs; returns a ``History`` (``history.history["loss"]`` ...)."""
        self._require_compiled("fit()")
        verbose = 1 if verbose == "auto" else int(verbose)
        if not isinstance(epochs, int) or epochs < 0:
            raise InputValueError(f"expected epochs to be a non-negative integer, got {epochs!r}")
        if not 0.0 <= validation_split < 1.0:
            raise InputValueError(f"expected validation_split in [0, 1), got {validation_split}")
        if validation_split and validation_data is not None:
            raise InputValueError("expected validation_split or validation_data, got both")
        generator = None
        if seed is not None:
            set_seed(seed)
            generator = torch.Generator().manual_seed(seed)

        if validation_split:
            if is_loader(x):
                raise InputValueError("validation_split needs arrays; with a DataLoader pass validation_data")
            dtype = self.float_dtype()
            if y is None:
                raise InputValueError("expected targets y, got None")
            xt, yt = to_tensor(x, "x", dtype), to_tensor(y, "y", dtype)
            check_pair(xt, yt)
            n_val = int(xt.shape[0] * validation_split)
            if n_val == 0 or n_val == xt.shape[0]:
                raise InputValueError(f"validation_split={validation_split} of {xt.shape[0]} samples leaves an empty split")
            validation_data = (xt[-n_val:], yt[-n_val:])
            x, y = xt[:-n_val], yt[:-n_val]
        train = self._batches(x, y, batch_size, shuffle, True, generator)
        val = None
        if validation_data is not None:
            if is_loader(validation_data):
                val = self._batches(validation_data, None, None, False, True)
            else:
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                    raise InputValueError("expected validation_data as (x_val, y_val) or a DataLoader")
                val = self._batches(validation_data[0], validation_data[1], batch_size, False, True)

        self._ensure_built(train)
        optimizer = self._make_optimizer()
        history = History()
        cbs = CallbackList([history, *(callbacks or [])])
        cbs.set_model(self.host)
        batch_hooks = [
            cb for cb in cbs.callbacks if _overrides(cb, "on_train_batch_end") or _overrides(cb, "on_train_batch_begin")
        ]
        self.host.stop_training = False
        device = self.device()
        params = [p for g in optimizer.param_groups for p in g["params"]]
        cbs.on_train_begin({})
        logs: dict[str, float] = {}
        for epoch in range(initial_epoch, epochs):
            self.module.train()
            for m in self.metrics:
                m.reset()
            cbs.on_epoch_begin(epoch, {})
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            bar = ProgressBar(len(train), verbose)
            loss_sum, n_seen = torch.zeros((), dtype=torch.float64, device=device), 0
            step = -1
            for step, (xb, yb) in enumerate(train):
                xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
                if batch_hooks:
                    for cb in batch_hooks:
                        cb.on_train_batch_begin(step, {})
                optimizer.zero_grad(set_to_none=True)
                y_pred = _first(self.module(xb))
                loss = self.loss(y_pred, yb)
                loss.backward()
                if self.clipvalue is not None:
                    nn.utils.clip_grad_value_(params, self.clipvalue)
                if self.clipnorm is not None:
                    nn.utils.clip_grad_norm_(params, self.clipnorm)
                optimizer.step()
                n = xb.shape[0]
                loss_sum += loss.detach().double() * n
                n_seen += n
                if self.metrics:
                    y_det = y_pred.detach()
                    for m in self.metrics:
                        m.update(y_det, yb)
                if batch_hooks:
                    batch_logs = {"loss": float(loss.detach())}
                    for cb in batch_hooks:
                        cb.on_train_batch_end(step, batch_logs)
                if bar.wants_update():
                    bar.update(step + 1, self._logs(loss_sum, n_seen))
                if self.host.stop_training:
                    break
            logs = self._logs(loss_sum, n_seen)
            if val is not None:
                logs.update({f"val_{k}": v for k, v in self._evaluate_batches(val).items()})
            bar.finish(step + 1, logs)
            cbs.on_epoch_end(epoch, logs)
            if self.host.stop_training:
                break
        cbs.on_train_end(logs)
        self.module.eval()
        return history

    def _logs(self, loss_sum: torch.Tensor, n: int) -> dict[str, float]:
        logs = {"loss": float(loss_sum) / max(n, 1)}
        for m in self.metrics:
            logs[m.name] = m.result()
        return logs

    # -- evaluate / predict -----------------------------------------------------------------------
    @torch.no_grad()
    def _evaluate_batches(self, batches) -> dict[str, float]:
        self.module.eval()
        for m in self.metrics:
            m.reset()
        device = self.device()
        loss_sum, n_seen = torch.zeros((), dtype=torch.float64, device=device), 0
        for xb, yb in batches:
            xb, yb = xb.to(device), yb.to(device)
            y_pred = _first(self.module(xb))
            loss_sum += self.loss(y_pred, yb).double() * xb.shape[0]
            n_seen += xb.shape[0]
            for m in self.metrics:
                m.update(y_pred, yb)
        return self._logs(loss_sum, n_seen)

    def evaluate(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto", return_dict: bool = False
    ):
        """Loss and metrics on ``(x, y)``: a float (no metrics), ``[loss, *metrics]``, or a dict."""
        self._require_compiled("evaluate()")
        batches = self._batches(x, y, batch_size, False, True)
        self._ensure_built(batches)
        logs = self._evaluate_batches(batches)
        if verbose and verbose != "auto":
            ProgressBar(len(batches), int(verbose)).finish(len(batches), logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    @torch.no_grad()
    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0):
        """Outputs for ``x`` as numpy arrays (a tuple of them when the module returns several)."""
        batches = self._batches(x, None, batch_size, False, False)
        self._ensure_built(batches)
        self.module.eval()
        device = self.device()
        outs: list[Any] = []
        for xb, _ in batches:
            outs.append(self.module(xb.to(device)))
        if isinstance(outs[0], (tuple, list)):
            return tuple(torch.cat([o[i] for o in outs]).cpu().numpy() for i in range(len(outs[0])))
        return torch.cat(outs).cpu().numpy()
