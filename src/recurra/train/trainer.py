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

import os
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, InputValueError, NonFiniteLossError, NotBuiltError, ShapeError, TrainingInterrupted
from ..io import save_model
from ..layers.carry import carried_states, check_can_carry, keep_carried_state
from ..layers.initial import redraw_initial_weights
from ..layers.penalties import apply_constraints, clear_activity, total_penalty
from ..tree import flatten, map_structure
from . import distributed
from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from . import schedules as schedules_mod
from .callbacks import Callback, CallbackList, History
from .inputs import (
    LoaderBatches,
    TensorBatches,
    Weighted,
    check_pair,
    is_loader,
    is_several,
    n_samples,
    take,
    to_device,
    to_tensors,
    weigh_samples,
    with_class_weight,
)
from .progress import ProgressBar
from .resume import RunCheckpoints, RunState, fingerprint
from .signals import GracefulStop


def set_seed(seed: int) -> None:
    """Seed Python's, numpy's and torch's generators: the same seed repeats a CPU run exactly."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _is_unbuilt(module: nn.Module) -> bool:
    return any(getattr(m, "built", True) is False for m in module.modules()) or not any(True for _ in module.parameters())


def _metric_holder(m):
    """The metric object holding ``total`` and ``count`` (Keras's ``accuracy`` delegates to its resolved kind)."""
    inner = getattr(m, "inner", None)
    return inner if inner is not None else m


def _first(outputs: Any) -> torch.Tensor:
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


def _overrides(cb: Callback, hook: str) -> bool:
    return getattr(type(cb), hook, None) is not getattr(Callback, hook) or hook in vars(cb)


@dataclass
class Step:
    """What one training step needs: the network to call (wrapped for a distributed run), the optimiser
    and the parameters it updates, the truncation and NaN options, and where in the run the step is."""

    net: nn.Module
    optimizer: torch.optim.Optimizer
    params: list[torch.Tensor]
    tbptt: int | None
    stop_on_nan: bool
    epoch: int = 0
    index: int = 0  # the batch within the epoch


@dataclass
class _Loop:
    """The objects one ``fit`` run loops over, built once by ``fit`` and read by each epoch."""

    train: Any
    val: Any
    step: Step
    callbacks: CallbackList
    schedule: Any
    checkpoints: RunCheckpoints | None
    checkpoint_every: int | None
    epochs: int
    verbose: int
    ctx: Any
    stop: GracefulStop | None = None
    batch_hooks: list[Callback] = field(default_factory=list)
    steps_per_epoch: int | None = None
    validation_steps: int | None = None
    validation_freq: int = 1

    def __post_init__(self) -> None:
        hooks = ("on_train_batch_end", "on_train_batch_begin")
        self.batch_hooks = [cb for cb in self.callbacks.callbacks if any(_overrides(cb, h) for h in hooks)]


class _GradNorms:
    """The gradient norm before clipping, over an epoch's steps: its mean and its largest value."""

    def __init__(self, device: torch.device):
        self.sum = torch.zeros((), dtype=torch.float64, device=device)
        self.max = torch.zeros((), dtype=torch.float64, device=device)
        self.n = 0

    def add(self, norm: torch.Tensor) -> None:
        self.sum.add_(norm)
        self.max = torch.maximum(self.max, norm)
        self.n += 1

    def logs(self) -> dict[str, float]:
        return {"grad_norm": float(self.sum) / self.n, "grad_norm_max": float(self.max)} if self.n else {}


def _check_global_batch(ctx: Any, batch_size: int | None) -> None:
    """Under torchrun, ``batch_size`` is the global batch: it must split evenly over the processes."""
    if ctx.active and batch_size is not None and batch_size % ctx.world_size:
        raise ConfigError(f"expected batch_size (the global batch) divisible by the {ctx.world_size} processes, got {batch_size}")


def _check_steps(steps_per_epoch: int | None, validation_steps: int | None, validation_freq: int) -> None:
    for name, value in (("steps_per_epoch", steps_per_epoch), ("validation_steps", validation_steps)):
        _check_positive_or_none(name, value)
    if isinstance(validation_freq, bool) or not isinstance(validation_freq, int) or validation_freq <= 0:
        expected = "expected validation_freq to be a positive integer (validate every that many epochs)"
        raise ConfigError(f"{expected}, got {validation_freq!r}")


def _check_positive_or_none(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ConfigError(f"expected {name} to be a positive integer or None, got {value!r}")


def _output_keys(module: nn.Module) -> list[str] | None:
    """What a dict of targets is keyed by: the keys of a model's dict of outputs, else its ``output_names``
    (``None`` for a module without named outputs)."""
    names = getattr(module, "output_names", None)
    if names is None:
        return None
    structure = getattr(module, "output", None)
    return list(structure) if isinstance(structure, dict) else list(names)


def _in_output_order(y: Any, module: nn.Module) -> Any:
    """Targets given as a dict keyed by the outputs, in the outputs' order (Keras matches them by name)."""
    keys = _output_keys(module) if isinstance(y, dict) else None
    if keys is None or set(y) != set(keys):
        return y
    return {k: y[k] for k in keys}


def _check_fit_options(
    epochs, verbose, validation_split, validation_data, tbptt, checkpoint_every, resume, checkpoint_dir
) -> int:
    """Refuse ``fit`` arguments that cannot work, each by name; returns ``verbose`` as an int."""
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
        raise InputValueError(f"expected epochs to be a non-negative integer, got {epochs!r}")
    if not 0.0 <= validation_split < 1.0:
        raise InputValueError(f"expected validation_split in [0, 1), got {validation_split}")
    if validation_split and validation_data is not None:
        raise InputValueError("expected validation_split or validation_data, got both")
    if tbptt is not None and (isinstance(tbptt, bool) or not isinstance(tbptt, int) or tbptt < 1):
        raise ConfigError(f"expected tbptt to be a positive number of steps, got {tbptt!r}")
    if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
        raise ConfigError(f"expected checkpoint_every to be a positive number of steps, got {checkpoint_every!r}")
    if resume and checkpoint_dir is None:
        raise ConfigError("resume=True needs checkpoint_dir= (where the checkpoints are)")
    return 1 if verbose == "auto" else int(verbose)


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
        lr_schedule: schedules_mod.ScheduleLike = None,
        loss_weights: Sequence[float] | dict[str, float] | None = None,
    ) -> Trainer:
        """Choose the optimiser, the loss (one, or one per output of a model with several: a list, or a
        dict by output name), ``loss_weights`` (the weight of each output's loss in their sum), metrics
        (of the first output), gradient clipping and a learning-rate schedule."""
        if loss is None:
            raise ConfigError("compile expected a loss (a name such as 'mse' or a callable), got None")
        self.optimizer_spec = optimizers_mod.resolve(optimizer)
        self.loss = _resolve_losses(loss, self.module)
        self.loss_weights = _resolve_loss_weights(loss_weights, self.module)
        first = self.loss[0] if isinstance(self.loss, list) else self.loss
        loss_name = getattr(first, "name", None)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        self.metrics = [metrics_mod.get(m, loss_name) for m in (metrics or [])]
        for name, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue)):
            if v is not None and not (isinstance(v, (int, float)) and v > 0):
                raise ConfigError(f"expected {name} > 0, got {v!r}")
        self.clipnorm, self.clipvalue = clipnorm, clipvalue
        schedules_mod.check(lr_schedule)
        self.schedule_spec = lr_schedule
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
        if isinstance(self.loss, list):
            loss = [one.serialize() for one in self.loss]
            loss = None if any(one is None for one in loss) else loss
        else:
            loss = self.loss.serialize()
        metrics = [m.name for m in self.metrics]
        if opt is None or loss is None or any(not isinstance(m, str) for m in metrics):
            return None
        schedule = self.schedule_spec if isinstance(self.schedule_spec, (str, dict, type(None))) else None
        return {
            "optimizer": opt,
            "loss": loss,
            "metrics": metrics,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "lr_schedule": schedule,
        }

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
        xt = to_tensors(x, "x", dtype)
        yt = None if y is None else to_tensors(y, "y", dtype)
        if needs_y and yt is None:
            raise InputValueError("expected targets y, got None")
        check_pair(xt, yt)
        return TensorBatches(xt, yt, 32 if batch_size is None else batch_size, shuffle, generator)

    def _ensure_built(self, batches) -> None:
        """Build the module's layers on the first rows, without consuming any random generator (so a seed
        gives the same run whether the layers were built before ``fit`` or here)."""
        if not _is_unbuilt(self.module):
            return
        if isinstance(batches, TensorBatches):
            xb = batches.first_rows(1)
        else:
            with torch.random.fork_rng(devices=[]):  # a shuffling DataLoader draws its order here
                xb, _ = next(iter(batches))
        was_training = self.module.training
        self.module.eval()
        with torch.no_grad(), keep_carried_state(self.module):
            self.module(to_device(xb, self.device()))
        self.module.train(was_training)

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
        *,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_freq: int = 1,
        tbptt: int | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
        keep_checkpoints: int = 3,
        resume: bool = False,
        stop_on_nan: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> History:
        """Train for ``epochs`` epochs; returns a ``History`` (``history.history["loss"]`` ...).

        Keras's ``sample_weight`` (one weight per sample, or per step ``(B, T)``) and ``class_weight``
        (``{class id: weight}``, from integer or one-hot targets) weigh each sample's loss:
        ``Σ loss_i · w_i / n``; ``steps_per_epoch`` ends each epoch after that many batches,
        ``validation_steps`` validates on that many batches, ``validation_freq`` validates every that
        many epochs.

        ``seed``: seeds Python's, numpy's and torch's generators and the shuffle order, and draws again
        from it the weights of layers built before ``fit`` and not changed since (so a layer given
        ``input_shape`` starts from the same weights as one built at the first call).
        ``tbptt=k``: truncated backpropagation through time — each batch is cut into chunks of ``k``
        steps, the recurrent state carried (detached) from chunk to chunk; with targets aligned to the
        steps ``(B, T, ...)`` every chunk is an optimiser step, with one target per sequence only the
        last chunk is (gradients reach back ``k`` steps).
        ``checkpoint_dir``: write a checkpoint at every epoch end and every ``checkpoint_every`` steps,
        keeping the newest ``keep_checkpoints`` and the best (by ``val_loss``, else ``loss``);
        ``resume=True`` continues from the newest intact one (same weights as an uninterrupted run), and
        refuses one written by a different run: another network, batch size, ``tbptt`` or ``settings``
        (an estimator's options, recorded in every checkpoint). ``epochs`` may grow on resume.
        SIGINT/SIGTERM finish the current step, checkpoint, and raise ``TrainingInterrupted``.
        ``stop_on_nan``: raise ``NonFiniteLossError`` at the first NaN/inf loss, before its update.
        """
        self._require_compiled("fit()")
        verbose = _check_fit_options(epochs, verbose, validation_split, validation_data, tbptt, checkpoint_every, resume,
                                     checkpoint_dir)  # fmt: skip
        ctx = distributed.context()
        _check_global_batch(ctx, batch_size)
        generator = self._seed(seed)
        _check_steps(steps_per_epoch, validation_steps, validation_freq)
        train, val = self._fit_batches(x, y, batch_size, shuffle, generator, validation_split, validation_data,
                                       sample_weight, class_weight, tbptt)  # fmt: skip
        optimizer = self._make_optimizer()
        schedule_steps = len(train) if len(train) is not None else steps_per_epoch
        if steps_per_epoch is not None and schedule_steps is not None:
            schedule_steps = min(schedule_steps, steps_per_epoch)
        schedule = schedules_mod.build(self.schedule_spec, optimizer, epochs=epochs, steps_per_epoch=schedule_steps)
        history = History()
        run = RunState(epoch=initial_epoch)
        checkpoints = None
        if checkpoint_dir is not None:
            mark = fingerprint(self.module, train, tbptt=tbptt, settings=settings)
            checkpoints = RunCheckpoints(checkpoint_dir, keep_checkpoints, module=self.module, optimizer=optimizer,
                                         schedule=schedule, train=train, history=history,
                                         monitor="val_loss" if val is not None else "loss", run_fingerprint=mark,
                                         enabled=ctx.is_main)  # fmt: skip
            if resume:
                checkpoints.resume(run, epochs, verbose if ctx.is_main else 0)
        if not ctx.is_main:
            verbose = 0
            callbacks = [cb for cb in (callbacks or []) if not getattr(cb, "rank_zero_only", False)]
        cbs = CallbackList([history, *(callbacks or [])])
        cbs.set_model(self.host)
        params = [p for g in optimizer.param_groups for p in g["params"]]
        step = Step(distributed.wrap(self.module, ctx), optimizer, params, tbptt=tbptt, stop_on_nan=stop_on_nan)
        loop = _Loop(train=train, val=val, step=step, callbacks=cbs, schedule=schedule, checkpoints=checkpoints,
                     checkpoint_every=checkpoint_every, epochs=epochs, verbose=verbose, ctx=ctx,
                     steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                     validation_freq=validation_freq)  # fmt: skip
        self.host.stop_training = False
        logs: dict[str, float] = {}
        cbs.on_train_begin({})
        with GracefulStop() as loop.stop:
            while run.epoch < epochs:
                logs = self._run_epoch(loop, run)
                if self.host.stop_training:
                    break
        if checkpoints is not None:
            checkpoints.wait()
        cbs.on_train_end(logs)
        self.module.eval()
        return history

    def _fit_batches(self, x, y, batch_size, shuffle, generator, validation_split, validation_data, sample_weight,
                     class_weight, tbptt):  # fmt: skip
        """``fit``'s training and validation batches, checked against the module (which they build)."""
        if (sample_weight is not None or class_weight is not None) and is_loader(x):
            raise InputValueError("sample_weight and class_weight take arrays; with a DataLoader, put the weights in its batches")
        y = weigh_samples(_in_output_order(y, self.module), sample_weight, getattr(self.module, "output_names", None))
        train, val = self._fit_data(x, y, batch_size, shuffle, generator, validation_split, validation_data, class_weight)
        self._check_stateful(train, shuffle)
        if tbptt is not None:
            check_can_carry(self.module, "tbptt")
            if isinstance(train, TensorBatches) and is_several(train.x):
                raise ConfigError("tbptt cuts one input sequence into chunks: expected one input array, got several")
        self._ensure_built(train)
        if not any(p.requires_grad for p in self.module.parameters()):
            raise ConfigError(f"{type(self.module).__name__} has no trainable parameters: fit has nothing to train")
        return train, val

    def _seed(self, seed: int | None) -> torch.Generator | None:
        """Seed every generator and draw untouched initial weights again (``fit``'s ``seed``); the
        shuffle order's own generator, or ``None`` without a seed."""
        if seed is None:
            return None
        set_seed(seed)
        redraw_initial_weights(self.module)
        return torch.Generator().manual_seed(seed)

    def _fit_data(self, x, y, batch_size, shuffle, generator, validation_split, validation_data, class_weight=None):
        """The training batches and the validation batches (or ``None``), checked. ``y`` carries its sample
        weights (split with it); ``class_weight`` weighs the training part only, as in Keras."""
        if validation_split:
            if is_loader(x):
                raise InputValueError("validation_split needs arrays; with a DataLoader pass validation_data")
            dtype = self.float_dtype()
            if y is None:
                raise InputValueError("expected targets y, got None")
            xt, yt = to_tensors(x, "x", dtype), to_tensors(y, "y", dtype)
            check_pair(xt, yt)
            n = n_samples(xt)
            n_val = int(n * validation_split)
            if n_val == 0 or n_val == n:
                raise InputValueError(f"validation_split={validation_split} of {n} samples leaves an empty split")
            validation_data = (take(xt, slice(n - n_val, n)), take(yt, slice(n - n_val, n)))
            x, y = take(xt, slice(0, n - n_val)), take(yt, slice(0, n - n_val))
        train = self._batches(x, with_class_weight(y, class_weight), batch_size, shuffle, True, generator)
        if validation_data is None:
            return train, None
        return train, self._validation_batches(validation_data, batch_size)

    def _validation_batches(self, validation_data: Any, batch_size: int | None):
        """``validation_data``: a DataLoader, ``(x_val, y_val)`` or Keras's ``(x_val, y_val, sample_weight_val)``."""
        if is_loader(validation_data):
            return self._batches(validation_data, None, None, False, True)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            several = isinstance(validation_data, (tuple, list))
            found = f"a sequence of {len(validation_data)}" if several else type(validation_data).__name__
            raise InputValueError(
                f"expected validation_data as (x_val, y_val), (x_val, y_val, sample_weight_val) or a DataLoader, got {found}"
            )
        x_val, y_val = validation_data[0], validation_data[1]
        w_val = validation_data[2] if len(validation_data) == 3 else None
        y_val = weigh_samples(_in_output_order(y_val, self.module), w_val, getattr(self.module, "output_names", None))
        return self._batches(x_val, y_val, batch_size, False, True)

    def _run_epoch(self, loop: _Loop, run: RunState) -> dict[str, float]:
        """One epoch (or the rest of one, after a resume): the steps, then validation, logs, callbacks,
        the schedule and the epoch's checkpoint. Returns the epoch's logs."""
        epoch = run.epoch
        self.module.train()
        for m in self.metrics:
            m.reset()
        skip = run.batch
        device = self.device()
        if skip == 0:
            run.loss_sum = torch.zeros((), dtype=torch.float64, device=device)
            run.n_seen = 0
            run.epoch_start_state = loop.train.generator.get_state() if isinstance(loop.train, TensorBatches) else None
        loop.callbacks.on_epoch_begin(epoch, {})
        if loop.verbose:
            print(f"Epoch {epoch + 1}/{loop.epochs}")
        steps = len(loop.train)
        if loop.steps_per_epoch is not None:
            steps = loop.steps_per_epoch if steps is None else min(steps, loop.steps_per_epoch)
        bar = ProgressBar(steps, loop.verbose)
        norms = _GradNorms(device)
        index = skip - 1
        shard = (lambda t: distributed.shard(t, loop.ctx)) if loop.ctx.active else None
        for index, (xb, yb) in enumerate(loop.train.iterate(skip, shard), start=skip):
            xb, yb = to_device(xb, device), to_device(yb, device)
            loop.step.epoch, loop.step.index = epoch, index
            for cb in loop.batch_hooks:
                cb.on_train_batch_begin(index, {})
            loss, y_pred, grad_norm = self._train_batch(loop.step, xb, yb)
            norms.add(grad_norm)
            self._after_batch(loop, run, bar, index, n_samples(xb), loss, y_pred, flatten(yb)[0])
            if self.host.stop_training or (loop.steps_per_epoch is not None and index + 1 >= loop.steps_per_epoch):
                break
        run.batch = 0
        logs = self._epoch_logs(run, loop.ctx)
        if loop.val is not None and (epoch + 1) % loop.validation_freq == 0:
            logs.update({f"val_{k}": v for k, v in self._evaluate_batches(loop.val, loop.validation_steps).items()})
        logs.update(norms.logs())
        logs["learning_rate"] = float(loop.step.optimizer.param_groups[0]["lr"])
        bar.finish(index + 1, logs)
        loop.callbacks.on_epoch_end(epoch, logs)
        if loop.schedule is not None:
            loop.schedule.step_epoch(logs)
        run.epoch += 1
        if loop.checkpoints is not None:
            loop.checkpoints.save(run, 0, logs)
        return logs

    def _after_batch(self, loop: _Loop, run: RunState, bar: ProgressBar, index: int, n: int, loss, y_pred, yb) -> None:
        """Book-keeping after one optimiser step: the schedule, the running loss and metrics, callbacks,
        the progress bar, step checkpoints, and a stop asked for by a signal."""
        if loop.schedule is not None:
            loop.schedule.step_batch()
        run.global_step += 1
        run.loss_sum.add_(loss, alpha=n)  # float64 sum of float32 losses, one kernel
        run.n_seen += n
        for m in self.metrics:
            m.update(y_pred, yb)
        if loop.batch_hooks:
            batch_logs = {"loss": float(loss)}
            for cb in loop.batch_hooks:
                cb.on_train_batch_end(index, batch_logs)
        if bar.wants_update():
            bar.update(index + 1, self._logs(run.loss_sum, run.n_seen))
        if loop.checkpoints is not None and loop.checkpoint_every and run.global_step % loop.checkpoint_every == 0:
            run.batch = index + 1
            loop.checkpoints.save(run, index + 1)
        if loop.stop.received:
            run.batch = index + 1
            where = loop.checkpoints.save(run, index + 1, wait=True) if loop.checkpoints is not None else None
            saved = (
                f"checkpoint written to {where}; continue with fit(..., checkpoint_dir=..., resume=True)"
                if where is not None
                else "no checkpoint written (fit(..., checkpoint_dir=...) keeps one)"
            )
            loop.callbacks.on_train_end({})
            reason = f"training stopped by {loop.stop.received} after epoch {run.epoch + 1}, step {index + 1}"
            raise TrainingInterrupted(f"{reason}; {saved}", checkpoint=where, reason=reason)

    def _check_stateful(self, train, shuffle: bool) -> None:
        stateful = [m for m in self.module.modules() if getattr(m, "stateful", False) is True]
        if not stateful:
            return
        if shuffle:
            raise ConfigError(
                "stateful layers carry the state of batch i into batch i of the next step: fit(..., shuffle=False) "
                "keeps the order that makes this meaningful"
            )
        if isinstance(train, TensorBatches) and train.n_samples % train.batch_size:
            raise ConfigError(
                f"stateful layers need every batch the same size: expected the number of samples "
                f"({train.n_samples}) to be a multiple of batch_size ({train.batch_size})"
            )

    def _loss_value(self, outputs: Any, yb: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The loss of a batch, and the prediction and target the metrics see (the first output's).

        One target: the compiled loss on the (first) output. Several targets (a list, tuple or dict of
        arrays, one per output): each output's loss (the one loss for all, or compile's list), weighted
        by ``loss_weights`` and summed. ``Weighted`` targets weigh each sample's loss: one array every output's,
        or a list of arrays one output's each.
        """
        y, w = (yb.y, yb.w) if isinstance(yb, Weighted) else (yb, None)
        if not is_several(y):
            if isinstance(self.loss, list) and len(self.loss) != 1:
                n = len(self.loss)
                raise ShapeError(f"compile gave {n} losses, one per output; expected {n} targets in y, got one array")
            loss = self.loss[0] if isinstance(self.loss, list) else self.loss
            y_pred = _first(outputs)
            return (loss(y_pred, y) if w is None else loss.weighted(y_pred, y, w)), y_pred, y
        preds, targets = flatten(outputs), flatten(y)
        if len(preds) != len(targets):
            found = f"the model gives {len(preds)} outputs, y holds {len(targets)} arrays"
            raise ShapeError(f"expected one target per output: {found}")
        losses = self.loss if isinstance(self.loss, list) else [self.loss] * len(targets)
        if len(losses) != len(targets):
            raise ShapeError(f"compile gave {len(losses)} losses for {len(targets)} outputs")
        weights = self.loss_weights or [1.0] * len(targets)
        if w is None:
            total = sum(lw * fn(p, t) for lw, fn, p, t in zip(weights, losses, preds, targets))
        else:
            per_output = w if isinstance(w, list) else [w] * len(targets)  # one array weighs every output
            total = sum(lw * fn.weighted(p, t, wo) for lw, fn, p, t, wo in zip(weights, losses, preds, targets, per_output))
        return total, preds[0], targets[0]

    def _update(self, step: Step, xb: Any, yb: Any):
        """One optimiser step on a batch: returns (detached loss, detached predictions, grad norm)."""
        step.optimizer.zero_grad(set_to_none=True)
        clear_activity(self.module)
        loss, y_pred, _ = self._loss_value(step.net(xb), yb)
        penalty = total_penalty(self.module)  # the layers' regularizers, as Keras adds them
        if penalty is not None:
            loss = loss + penalty.to(loss.dtype)
        if step.stop_on_nan and not bool(torch.isfinite(loss.detach())):
            raise NonFiniteLossError(
                f"the loss became {float(loss.detach())} at epoch {step.epoch + 1}, step {step.index + 1}; the weights are "
                "those of the step before (try a lower learning rate, clipnorm=, or check the data)"
            )
        loss.backward()
        grad_norm = _total_norm(step.params)  # before clipping: what the logs report
        if self.clipvalue is not None:
            nn.utils.clip_grad_value_(step.params, self.clipvalue)
            if self.clipnorm is not None:
                nn.utils.clip_grad_norm_(step.params, self.clipnorm)  # the norm after clipping by value
        elif self.clipnorm is not None:
            nn.utils.clip_grads_with_norm_(step.params, self.clipnorm, grad_norm)
        step.optimizer.step()
        apply_constraints(self.module)
        return loss.detach(), y_pred.detach(), grad_norm.to(loss.device, torch.float64)

    def _train_batch(self, step: Step, xb: torch.Tensor, yb: torch.Tensor):
        """The optimiser step(s) of one batch: one, or with ``tbptt`` one per chunk of aligned targets."""
        k = step.tbptt
        if k is None:  # tbptt is refused for several inputs (fit), so xb is one tensor below
            return self._update(step, xb, yb)
        # sequences: (B, T, F) features, or (B, T) token ids (integers, before an Embedding)
        is_sequence = xb.dim() >= 3 or (xb.dim() == 2 and not xb.is_floating_point())
        if not is_sequence or xb.shape[1] <= k:
            return self._update(step, xb, yb)
        T = xb.shape[1]
        target = yb.y if isinstance(yb, Weighted) else yb
        aligned = torch.is_tensor(target) and target.dim() >= 2 and target.shape[1] == T  # one target per step
        losses, preds, norms, weights = [], [], [], []
        with carried_states(self.module):
            for s in range(0, T, k):
                xc = xb[:, s : s + k]  # (B, k, F)
                if aligned:
                    loss, pred, gn = self._update(step, xc, _chunk_targets(yb, s, k, T))
                    losses.append(loss)
                    preds.append(pred)
                    norms.append(gn)
                    weights.append(xc.shape[1])
                elif s + k >= T:
                    return self._update(step, xc, yb)
                else:
                    with torch.no_grad():
                        step.net(xc)
        w = torch.tensor(weights, dtype=torch.float64, device=xb.device) / T
        loss = (torch.stack([v.double() for v in losses]) * w).sum().to(losses[0].dtype)
        return loss, torch.cat(preds, 1), torch.stack(norms).mean()

    def _epoch_logs(self, run, ctx) -> dict[str, float]:
        loss_sum, n_seen = run.loss_sum, run.n_seen
        if ctx.active:
            parts = [loss_sum.double().reshape(1), torch.tensor([float(n_seen)], dtype=torch.float64, device=loss_sum.device)]
            for m in self.metrics:
                held = _metric_holder(m)
                parts.append(torch.tensor([float(held.total), float(held.count)], dtype=torch.float64, device=loss_sum.device))
            summed = distributed.all_sum(torch.cat(parts), ctx).cpu()
            loss_sum, n_seen = summed[0], int(summed[1])
            for i, m in enumerate(self.metrics):
                held = _metric_holder(m)
                held.total, held.count = float(summed[2 + 2 * i]), int(summed[3 + 2 * i])
        return self._logs(loss_sum, n_seen)

    def _logs(self, loss_sum: torch.Tensor, n: int) -> dict[str, float]:
        logs = {"loss": float(loss_sum) / max(n, 1)}
        for m in self.metrics:
            logs[m.name] = m.result()
        return logs

    # -- evaluate / predict -----------------------------------------------------------------------
    @torch.no_grad()
    def _evaluate_batches(self, batches, steps: int | None = None) -> dict[str, float]:
        self.module.eval()
        for m in self.metrics:
            m.reset()
        device = self.device()
        loss_sum, n_seen = torch.zeros((), dtype=torch.float64, device=device), 0
        for index, (xb, yb) in enumerate(batches):
            if steps is not None and index >= steps:
                break
            xb, yb = to_device(xb, device), to_device(yb, device)
            loss, y_pred, y_true = self._loss_value(self.module(xb), yb)
            n = n_samples(xb)
            loss_sum += loss.double() * n
            n_seen += n
            for m in self.metrics:
                m.update(y_pred, y_true)
        return self._logs(loss_sum, n_seen)

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        return_dict: bool = False,
        *,
        sample_weight: Any = None,
        steps: int | None = None,
    ):
        """Loss and metrics on ``(x, y)``: a float (no metrics), ``[loss, *metrics]``, or a dict.

        ``sample_weight`` weighs each sample's loss as ``fit`` does (one array, or one per output; see
        ``recurra.train.inputs.weigh_targets``); metrics are not weighted, as Keras's ``metrics``.
        ``steps``: evaluate on that many batches only."""
        self._require_compiled("evaluate()")
        _check_positive_or_none("steps", steps)
        if sample_weight is not None and is_loader(x):
            raise InputValueError("sample_weight takes arrays; with a DataLoader, put the weights in its batches")
        y = weigh_samples(_in_output_order(y, self.module), sample_weight, getattr(self.module, "output_names", None))
        batches = self._batches(x, y, batch_size, False, True)
        self._ensure_built(batches)
        logs = self._evaluate_batches(batches, steps)
        if verbose and verbose != "auto":
            done = len(batches) if steps is None or len(batches) is None else min(steps, len(batches))
            ProgressBar(done, int(verbose)).finish(done, logs)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    @torch.no_grad()
    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0):
        """Outputs for ``x`` as numpy arrays, in the structure the module returns (a list, tuple or dict of
        arrays when it returns several)."""
        batches = self._batches(x, None, batch_size, False, False)
        self._ensure_built(batches)
        self.module.eval()
        device = self.device()
        outs: list[Any] = []
        for xb, _ in batches:
            outs.append(self.module(to_device(xb, device)))
        return map_structure(lambda *parts: torch.cat(parts).cpu().numpy(), outs[0], *outs[1:])


def _resolve_losses(loss: Any, module: nn.Module) -> Any:
    """One loss, or a list of them (one per output; a dict is ordered by the module's ``output_names``; a
    dict with ``class_name`` is one loss, as ``serialize`` writes it)."""
    if isinstance(loss, dict) and "class_name" not in loss:
        names = getattr(module, "output_names", None)
        if names is None:
            raise ConfigError("a dict of losses names the outputs: this model has no named outputs; give a list")
        unknown = sorted(set(loss) - set(names))
        if unknown:
            raise ConfigError(f"compile named losses for {unknown}, which are not outputs of the model: {names}")
        return [losses_mod.get(loss[name]) if name in loss else None for name in names]
    if isinstance(loss, (list, tuple)):
        return [losses_mod.get(one) for one in loss]
    return losses_mod.get(loss)


def _resolve_loss_weights(weights: Any, module: nn.Module) -> list[float] | None:
    if weights is None:
        return None
    if isinstance(weights, dict):
        names = getattr(module, "output_names", None) or []
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ConfigError(f"loss_weights names {unknown}, which are not outputs of the model: {names}")
        return [float(weights.get(name, 1.0)) for name in names]
    return [float(w) for w in weights]


def _total_norm(params: list[torch.Tensor]) -> torch.Tensor:
    """The 2-norm of all gradients together, ``sqrt(Σ_p ||∂L/∂p||²)``, a scalar in the gradients' dtype.

    One ``_foreach_norm`` over the gradients of each device and dtype, then the norm of those norms
    (what ``torch.nn.utils.get_total_norm`` computes, with less Python per step).
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros((), dtype=torch.float64)
    groups: dict[tuple, list[torch.Tensor]] = {}
    for g in grads:
        groups.setdefault((g.device, g.dtype), []).append(g)
    norms = [torch.linalg.vector_norm(torch.stack(torch._foreach_norm(gs))) for gs in groups.values()]
    if len(norms) == 1:
        return norms[0]
    first = norms[0].device
    return torch.linalg.vector_norm(torch.stack([n.to(first, torch.float64) for n in norms]))


def _chunk_targets(yb: Any, s: int, k: int, T: int) -> Any:
    """Steps ``s .. s + k`` of aligned targets ``(B, T, ...)``; a weight per step is cut the same way, one per sample kept."""
    if not isinstance(yb, Weighted):
        return yb[:, s : s + k]
    w = yb.w
    if torch.is_tensor(w) and w.dim() >= 2 and w.shape[1] == T:
        w = w[:, s : s + k]
    return Weighted(yb.y[:, s : s + k], w)
