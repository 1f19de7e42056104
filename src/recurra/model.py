"""``Model`` (Keras's workflow on any ``nn.Module`` subclass) and ``Sequential`` (a stack of layers).

>>> from recurra import Sequential, SimpleRNN, Dense
>>> model = Sequential([SimpleRNN(8, input_shape=(None, 3)), Dense(1, activation="sigmoid")])
>>> tuple(model(torch.zeros(2, 5, 3)).shape)
(2, 1)
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .errors import ConfigError, NotBuiltError, ShapeError, format_shape
from .io import save_model
from .layers.base import Layer
from .layers.carry import keep_carried_state
from .layers.core import Embedding, Input
from .layers.wrappers import layer_from_config, layer_to_config
from .registry import MODELS as MODELS  # re-exported: the model registry lives in recurra.registry
from .registry import register_model as register_model
from .train.callbacks import Callback, History
from .train.losses import LossLike
from .train.metrics import MetricLike
from .train.optimizers import OptimizerLike
from .train.schedules import ScheduleLike
from .train.trainer import Trainer


class Model(nn.Module):
    """An ``nn.Module`` with Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

    Subclass it instead of ``nn.Module``, write ``forward``, and train with ``fit``. Everything runs
    through ``recurra.train.Trainer``, which also serves plain modules.
    """

    def __init__(self) -> None:
        super().__init__()
        self.stop_training = False
        self._trainer: Trainer | None = None

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
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        lr_schedule: ScheduleLike = None,
    ) -> None:
        """Choose optimiser, loss and metrics (Keras names or torch objects), gradient clipping and an
        optional learning-rate schedule (``"step"``, ``"cosine"``, ``"onecycle"``, ``"plateau"`` or a torch scheduler)."""
        # stored outside nn.Module's registry: the trainer refers back to this model
        object.__setattr__(self, "_trainer", Trainer(self, host=self))
        self._trainer.compile(optimizer, loss, metrics, clipnorm=clipnorm, clipvalue=clipvalue, lr_schedule=lr_schedule)

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
            tbptt=tbptt, checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every, keep_checkpoints=keep_checkpoints,
            resume=resume, stop_on_nan=stop_on_nan, settings=settings,
        )  # fmt: skip

    def evaluate(
        self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto", return_dict: bool = False
    ) -> Any:
        """Loss and metrics; see ``recurra.train.Trainer.evaluate``."""
        return self._get_trainer().evaluate(x, y, batch_size=batch_size, verbose=verbose, return_dict=return_dict)

    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0) -> np.ndarray:
        """Outputs as numpy arrays; works without ``compile``."""
        trainer = self._trainer if self._trainer is not None else Trainer(self, host=self)
        return trainer.predict(x, batch_size=batch_size, verbose=verbose)

    def compile_config(self) -> dict[str, Any] | None:
        """The JSON form of the ``compile`` arguments (``None`` before ``compile`` or when not serialisable)."""
        return self._trainer.compile_config() if self._trainer is not None else None

    def save(self, path: str | os.PathLike) -> None:
        """Write ``path/config.json``, ``path/weights.safetensors`` and ``path/manifest.json``
        (as one unit: a crash leaves the previous model or this one; no pickle)."""
        save_model(self, path)

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not define get_config(); it cannot be saved as a model")

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


@register_model
class Sequential(Model):
    """A plain stack of layers, each feeding the next; masks flow from layer to layer.

    ``Sequential([layer, ...])`` or ``model.add(layer)``; any ``nn.Module`` may be a layer (it then
    receives no mask). ``model(x, mask=None)`` runs the stack.
    """

    def __init__(self, layers: Iterable[nn.Module] | None = None, *, name: str | None = None):
        super().__init__()
        self.name = name
        self.layers = nn.ModuleList()
        self.build_input_shape: tuple | None = None  # (time, features) or (time,) as first seen
        self.build_input_dtype: str | None = None  # "float" or "int"
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: nn.Module) -> None:
        if not isinstance(layer, nn.Module):
            raise TypeError(f"Sequential.add expected a layer (torch.nn.Module), got {type(layer).__name__}")
        if isinstance(layer, Input):
            if len(self.layers):
                raise ConfigError("Input(...) can only be the first layer of a Sequential")
        self.layers.append(layer)
        if self.build_input_shape is None and len(self.layers) == 1:
            shape = getattr(layer, "input_shape", None)
            if shape is not None:
                self.build_input_shape = tuple(shape)
                self.build_input_dtype = "int" if isinstance(layer, Embedding) else "float"
        if self.build_input_shape is not None and not getattr(layer, "built", True):
            self.build()  # as Keras does: with a known input shape every added layer gets its weights at once

    def pop(self) -> nn.Module:
        if not len(self.layers):
            raise ConfigError("Sequential.pop: the model has no layers")
        layer = self.layers[-1]
        del self.layers[-1]
        return layer

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if not len(self.layers):
            raise ConfigError("Sequential has no layers: add some with model.add(layer)")
        if self.build_input_shape is None or self.build_input_dtype is None:
            shape = list(x.shape[1:])
            kind = "float" if x.is_floating_point() else "int"
            if self.build_input_shape is None:
                if len(shape) >= 2 or (kind == "int" and len(shape) == 1):
                    shape[0] = None  # the time axis: any length
                self.build_input_shape = tuple(shape)
            self.build_input_dtype = kind
        for layer in self.layers:
            if isinstance(layer, Layer):
                out = layer(x, mask=mask)
                mask = layer.compute_mask(x, mask)
            else:
                out = layer(x)
                mask = None
            x = out
        return x

    @property
    def built(self) -> bool:
        return all(getattr(layer, "built", True) for layer in self.layers) and len(self.layers) > 0

    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create every layer's weights for inputs of shape ``(batch, *input_shape)``."""
        shape = tuple(input_shape) if input_shape is not None else self.build_input_shape
        if shape is None:
            raise NotBuiltError("Sequential.build needs an input shape: give the first layer input_shape=, or call build((T, F))")
        self.build_input_shape = shape
        dummy_shape = [1] + [2 if d is None else d for d in shape]
        if self.build_input_dtype == "int" or (self.layers and isinstance(self.layers[0], Embedding)):
            x = torch.zeros(dummy_shape, dtype=torch.long)
            self.build_input_dtype = "int"
        else:
            x = torch.zeros(dummy_shape, dtype=torch.get_default_dtype())
            self.build_input_dtype = "float"
        was = self.training
        self.eval()
        with torch.no_grad(), keep_carried_state(self):
            self(x)
        self.train(was)

    def reset_states(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_states"):
                m.reset_states()

    # -- summary ----------------------------------------------------------------------------------
    def summary(self, print_fn=print) -> str:
        """A table of layers, output shapes and parameter counts (printed, and returned)."""
        if not self.built:
            if self.build_input_shape is None:
                raise NotBuiltError("summary() needs the input shape: give the first layer input_shape= or call the model once")
            self.build()
        shape = self.build_input_shape
        dtype = torch.long if self.build_input_dtype == "int" else self._dtype()

        def shapes_of(out) -> list[tuple[int, ...]]:
            if isinstance(out, (tuple, list)):
                return [s for o in out for s in shapes_of(o)]
            return [tuple(out.shape[1:])]

        def trace(T: int) -> list[tuple[str, list[tuple[int, ...]], int]]:
            # one pass with every free (None) input axis set to T; records each layer's output shapes
            found: list[tuple[str, list[tuple[int, ...]], int]] = []

            def hook(mod, inp, out):
                name = f"{mod.name} ({type(mod).__name__})" if isinstance(mod, Layer) and mod.name else type(mod).__name__
                found.append((name, shapes_of(out), sum(p.numel() for p in mod.parameters())))

            hooks = [layer.register_forward_hook(hook) for layer in self.layers]
            x = torch.zeros([1, *(T if d is None else d for d in shape)], dtype=dtype)
            was = self.training
            self.eval()
            try:
                with torch.no_grad(), keep_carried_state(self):
                    self(x)
            finally:
                for h in hooks:
                    h.remove()
                self.train(was)
            return found

        # an axis is None in the table where it follows a free input axis: it differs between two runs
        first = trace(7)
        second = trace(11) if any(d is None for d in shape) else first
        rows: list[tuple[str, str, int]] = []
        for (name, shapes_a, params), (_, shapes_b, _) in zip(first, second):
            text = ", ".join(
                "(" + ", ".join(["None"] + ["None" if a != b else str(a) for a, b in zip(sa, sb)]) + ")"
                for sa, sb in zip(shapes_a, shapes_b)
            )
            rows.append((name, text, params))
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        w1 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
        w2 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 2
        line = "─" * (w1 + w2 + 12)
        out = [
            f'Model: "{self.name or "sequential"}"',
            line,
            f"{'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':>10}",
            line,
        ]
        out += [f"{a:<{w1}}{b:<{w2}}{c:>10,}" for a, b, c in rows]
        out += [
            line,
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            line,
        ]
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text

    def _dtype(self) -> torch.dtype:
        for p in self.parameters():
            if p.is_floating_point():
                return p.dtype
        return torch.get_default_dtype()

    # -- configuration ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        specs = []
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise ConfigError(f"Sequential can only save recurra layers, got {type(layer).__name__}")
            specs.append(layer_to_config(layer))
        return {
            "name": self.name,
            "layers": specs,
            "build_input_shape": None if self.build_input_shape is None else list(self.build_input_shape),
            "build_input_dtype": self.build_input_dtype,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        model = cls([layer_from_config(spec) for spec in config.get("layers", [])], name=config.get("name"))
        shape = config.get("build_input_shape")
        if shape is not None:
            model.build_input_shape = tuple(shape)
            model.build_input_dtype = config.get("build_input_dtype") or "float"
        return model

    def extra_repr(self) -> str:
        return "" if self.build_input_shape is None else f"input_shape={format_shape(self.build_input_shape)}"
