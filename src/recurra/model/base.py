"""``Model``: Keras's workflow (``compile`` / ``fit`` / ``evaluate`` / ``predict`` / ``save``) on any
``nn.Module`` subclass; ``Model(inputs, outputs)`` makes a functional model (``recurra.model.functional``).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..dtypes import dtype_of
from ..errors import ConfigError, NotBuiltError, ShapeError
from ..io import load_weights, save_model, save_weights
from ..layers.base import Layer, _parameters_of
from ..layers.penalties import model_losses
from ..registry import MODELS as MODELS  # re-exported: the model registry lives in recurra.registry
from ..registry import register_model as register_model
from ..train.callbacks import Callback, History
from ..train.losses import LossLike
from ..train.metrics import MetricLike
from ..train.optimizers import OptimizerLike
from ..train.schedules import ScheduleLike
from ..train.trainer import Trainer
from ..tree import flatten, map_structure


def _spec_of(t: torch.Tensor) -> str:
    """``"float32:5,3"``: a tensor's dtype and shape after the batch axis, as a JSON leaf."""
    return f"{str(t.dtype).removeprefix('torch.')}:{','.join(str(d) for d in t.shape[1:])}"


def _zeros_of(spec: str) -> torch.Tensor:

    name, _, dims = str(spec).partition(":")
    shape = [int(d) for d in dims.split(",") if d]
    if any(d <= 0 or d > 1_000_000 for d in shape) or len(shape) > 8:
        raise ConfigError(f"expected an input shape of up to 8 sizes in 1..1,000,000, got {dims!r}")
    make = torch.zeros if dtype_of(name).is_floating_point else torch.ones  # ids: 1, a real token
    return make(1, *shape, dtype=dtype_of(name))


class Model(nn.Module):
    """An ``nn.Module`` with Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

    Subclass it instead of ``nn.Module``, write ``forward`` (or ``call``, Keras's name: ``training`` and
    ``mask`` are passed when it names them), and train with ``fit``. Everything runs through
    ``recurra.train.Trainer``, which also serves plain modules.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        # Keras's two ways in: Model(inputs, outputs) is a functional model; a subclass is written by hand
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(MODELS["Functional"])
        return super().__new__(cls)

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype: Any = None) -> None:
        """``name``, ``trainable`` and ``dtype``: what Keras subclasses pass to ``super().__init__(**kwargs)``."""
        super().__init__()
        self.stop_training = False
        self._trainer: Trainer | None = None
        if name is not None:
            self.name = name
        self._keras_trainable, self._keras_dtype = bool(trainable), dtype
        self._input_spec: Any = None  # the structure, shapes and dtypes of the first input: how to build again

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._input_spec is None and args:
            leaves = flatten(args[0])
            if leaves and all(isinstance(t, torch.Tensor) for t in leaves):
                self._input_spec = map_structure(_spec_of, args[0])
        return super().__call__(*args, **kwargs)

    def build_config(self) -> dict[str, Any] | None:
        """What ``build_from_config`` needs to create a subclass's weights before loading them: the shapes
        and dtypes of the first input it was called with (Keras writes the same in its files)."""
        return None if self._input_spec is None else {"input_spec": self._input_spec}

    def build_from_config(self, config: dict[str, Any]) -> None:
        """Create the weights by one call on zeros shaped like the recorded first input."""
        zeros = map_structure(_zeros_of, config["input_spec"])
        was = self.training
        self.eval()
        with torch.no_grad():
            self(zeros)
        self.train(was)

    def forward(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """A subclass written Keras's way defines ``call``; this runs it."""
        call = getattr(type(self), "call", None)
        if call is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither forward nor call (write call(self, inputs))")
        accepted = _parameters_of(call)
        if accepted is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in accepted or k not in ("mask", "training")}
            if "training" in accepted and kwargs.get("training") is None:
                kwargs["training"] = self.training
        return call(self, inputs, *args, **kwargs)

    def _get_trainer(self) -> Trainer:
        if self._trainer is None:
            raise NotBuiltError("this model is not compiled: call compile(optimizer=..., loss=...) first")
        return self._trainer

    def compile(
        self,
        optimizer: OptimizerLike = "rmsprop",
        loss: LossLike | None = None,
        metrics: Sequence[MetricLike] | None = None,
        *,
        loss_weights: Sequence[float] | dict[str, float] | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        lr_schedule: ScheduleLike = None,
        run_eagerly: bool | None = None,
        jit_compile: bool | str | None = None,
    ) -> None:
        """Choose the optimiser, the loss (one per output for a model with several: a list, or a dict
        by output name, weighted by ``loss_weights``), metrics, gradient clipping and an optional
        learning-rate schedule (``"step"``, ``"cosine"``, ``"onecycle"``, ``"plateau"`` or a torch
        scheduler). ``run_eagerly`` and ``jit_compile`` are accepted for Keras code: recurra always runs
        eagerly (its kernels are compiled ahead: the C++ loops, torch's fused RNNs)."""
        # stored outside nn.Module's registry: the trainer refers back to this model
        object.__setattr__(self, "_trainer", Trainer(self, host=self))
        self._trainer.compile(optimizer, loss, metrics, clipnorm=clipnorm, clipvalue=clipvalue, lr_schedule=lr_schedule,
                              loss_weights=loss_weights)  # fmt: skip

    @property
    def losses(self) -> list[torch.Tensor]:
        """The layers' penalties (regularizers), as Keras's ``model.losses``; ``fit`` adds their sum to the loss."""
        return model_losses(self)

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        return self._trainer.optimizer if self._trainer is not None else None

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
        """Train; returns a ``History``. Keras's arguments, plus truncated BPTT (``tbptt``), checkpoints
        and resume, and ``seed``; each is described in ``recurra.train.Trainer.fit``."""
        return self._get_trainer().fit(
            x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle, initial_epoch, seed,
            class_weight=class_weight, sample_weight=sample_weight, steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps, validation_freq=validation_freq, tbptt=tbptt, checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every, keep_checkpoints=keep_checkpoints, resume=resume, stop_on_nan=stop_on_nan,
            settings=settings,
        )  # fmt: skip

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        *,
        return_dict: bool = False,
    ) -> Any:
        """Loss and metrics, Keras's arguments in Keras's order: ``sample_weight`` weighs each sample's loss
        as ``fit`` does (one array, or one per output as a list or a dict), ``steps`` evaluates that many
        batches; see ``recurra.train.Trainer.evaluate``."""
        return self._get_trainer().evaluate(x, y, batch_size=batch_size, verbose=verbose, return_dict=return_dict,
                                            sample_weight=sample_weight, steps=steps)  # fmt: skip

    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0) -> np.ndarray:
        """Outputs as numpy arrays; works without ``compile``."""
        trainer = self._trainer if self._trainer is not None else Trainer(self, host=self)
        return trainer.predict(x, batch_size=batch_size, verbose=verbose)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as numpy arrays (Keras's ``predict_on_batch``)."""
        return self.predict(x, batch_size=_batch_length(x))

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: dict[int, float] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One optimiser step on one batch (Keras's ``train_on_batch``); returns the loss and metrics on that
        batch as ``evaluate`` does: a float, ``[loss, *metrics]``, or a dict."""
        history = self.fit(x, y, batch_size=_batch_length(x), epochs=1, verbose=0, shuffle=False,
                           sample_weight=sample_weight, class_weight=class_weight)  # fmt: skip
        logs = {k: v[-1] for k, v in history.history.items() if k not in _STEP_LOGS}
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics on one batch (Keras's ``test_on_batch``), as ``evaluate`` returns them."""
        return self.evaluate(x, y, batch_size=_batch_length(x), verbose=0, sample_weight=sample_weight, return_dict=return_dict)

    def compile_config(self) -> dict[str, Any] | None:
        """The JSON form of the ``compile`` arguments (``None`` before ``compile`` or when not serialisable)."""
        return self._trainer.compile_config() if self._trainer is not None else None

    def save(self, path: str | os.PathLike) -> None:
        """Write ``path/config.json``, ``path/weights.safetensors`` and ``path/manifest.json``
        (as one unit: a crash leaves the previous model or this one; no pickle)."""
        save_model(self, path)

    def save_weights(self, path: str | os.PathLike) -> None:
        """Write the weights alone to one ``.safetensors`` file (atomically; no pickle)."""
        save_weights(self, path)

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load weights written by ``save_weights`` into this model (every name and shape checked)."""
        load_weights(self, path)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define get_config(); it cannot be saved as a model")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Model:
        """Keras's default: the constructor called with the configuration's entries."""
        return cls(**config)

    def get_weights(self) -> list[np.ndarray]:
        """All weights in Keras layout, layer by layer (what ``keras_model.get_weights()`` gives for the
        same layers); plain torch modules contribute their parameters as they are."""
        out: list[np.ndarray] = []
        for m in _weight_owners(self):
            if isinstance(m, Layer):
                out.extend(m.get_weights())
            else:
                out.extend(p.detach().cpu().numpy().copy() for p in m.parameters())
        return out

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights in Keras layout (``get_weights()``'s order), layer by layer."""
        weights = list(weights)
        i = 0
        for m in _weight_owners(self):
            if isinstance(m, Layer):
                n = len(m.keras_weights()) if m.built else 0
                m.set_weights(weights[i : i + n])
            else:
                n = len(list(m.parameters()))
                with torch.no_grad():
                    for p, w in zip(m.parameters(), weights[i : i + n]):
                        p.copy_(torch.as_tensor(np.asarray(w)))
            i += n
        if i != len(weights):
            raise ShapeError(f"set_weights expected {i} arrays, got {len(weights)}")


def _weight_owners(module: nn.Module):
    """The layers (and plain modules) that hold ``module``'s weights, in order: containers such as
    ``nn.ModuleList`` are looked into, recurra layers answer for their own sub-modules."""
    for m in module.children():
        if isinstance(m, (nn.ModuleList, nn.ModuleDict, nn.Sequential)):
            yield from _weight_owners(m)
        else:
            yield m



_STEP_LOGS = ("grad_norm", "grad_norm_max", "learning_rate")  # fit's logs that are not the loss or a metric


def _batch_length(x: Any) -> int:
    """The number of samples in ``x`` (a tensor, an array, or a structure of them)."""
    leaves = flatten(x)
    if not leaves or not hasattr(leaves[0], "shape") or len(leaves[0].shape) == 0:
        raise ShapeError(f"expected a batch of samples (a tensor or an array with a batch axis), got {type(x).__name__}")
    return int(leaves[0].shape[0])

__all__ = ["Model", "register_model", "MODELS"]
