"""Weight initialisers with Keras 3 names and defaults.

Tensors are in PyTorch layout: a 2-D weight is ``(fan_out, fan_in)`` (the transpose of a Keras
kernel), so ``fan_in = shape[1]`` and ``fan_out = shape[0]``; statistics match Keras's on the
transposed kernel. Each initialiser has ``get_config()`` and is rebuilt from ``{"class_name",
"config"}`` or from its string name.
"""

from __future__ import annotations

import math
from typing import Any, Union

import torch

from .errors import ConfigError, unknown_name


def _fans(t: torch.Tensor) -> tuple[int, int]:
    if t.dim() == 1:
        return t.shape[0], t.shape[0]
    receptive = int(torch.tensor(t.shape[2:]).prod()) if t.dim() > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


class Initializer:
    """Fills a tensor in place; ``__call__(tensor, generator=None)`` returns it."""

    def __call__(self, t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        with torch.no_grad():
            return self.fill(t, generator)

    def fill(self, t: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def serialize(self) -> Union[str, dict[str, Any]]:
        config = self.get_config()
        name = _NAME_OF[type(self)]
        return name if not config else {"class_name": name, "config": config}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def fill(self, t, generator):
        return t.zero_()


class Ones(Initializer):
    def fill(self, t, generator):
        return t.fill_(1.0)


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def fill(self, t, generator):
        return t.fill_(self.value)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        if maxval < minval:
            raise ConfigError(f"expected minval <= maxval, got minval={minval}, maxval={maxval}")
        self.minval, self.maxval = float(minval), float(maxval)

    def fill(self, t, generator):
        return t.uniform_(self.minval, self.maxval, generator=generator)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class RandomNormal(Initializer):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def fill(self, t, generator):
        return t.normal_(self.mean, self.stddev, generator=generator)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


def _truncated_normal_(t: torch.Tensor, std: float, generator, mean: float = 0.0) -> torch.Tensor:
    return torch.nn.init.trunc_normal_(t, mean, std, mean - 2 * std, mean + 2 * std, generator=generator)


class TruncatedNormal(RandomNormal):
    def fill(self, t, generator):
        return _truncated_normal_(t, self.stddev, generator, self.mean)


class VarianceScaling(Initializer):
    """``scale / fan`` variance, fan chosen by ``mode``; normal draws are truncated at 2 std."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"):
        if scale <= 0:
            raise ConfigError(f"expected scale > 0, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ConfigError(f"expected mode 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ConfigError(
                f"expected distribution 'truncated_normal', 'untruncated_normal' or 'uniform', got {distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def fill(self, t, generator):
        fan_in, fan_out = _fans(t)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return t.uniform_(-limit, limit, generator=generator)
        if self.distribution == "untruncated_normal":
            return t.normal_(0.0, math.sqrt(var), generator=generator)
        return _truncated_normal_(t, math.sqrt(var) / 0.87962566103423978, generator)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class _Preset(VarianceScaling):
    SCALE, MODE, DIST = 1.0, "fan_in", "truncated_normal"

    def __init__(self):
        super().__init__(self.SCALE, self.MODE, self.DIST)

    def get_config(self):
        return {}


class GlorotUniform(_Preset):
    SCALE, MODE, DIST = 1.0, "fan_avg", "uniform"


class GlorotNormal(_Preset):
    SCALE, MODE, DIST = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_Preset):
    SCALE, MODE, DIST = 2.0, "fan_in", "uniform"


class HeNormal(_Preset):
    SCALE, MODE, DIST = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_Preset):
    SCALE, MODE, DIST = 1.0, "fan_in", "uniform"


class LecunNormal(_Preset):
    SCALE, MODE, DIST = 1.0, "fan_in", "truncated_normal"


class Orthogonal(Initializer):
    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def fill(self, t, generator):
        if t.dim() < 2:
            raise ConfigError(f"orthogonal initialisation needs a 2-D weight, got shape {tuple(t.shape)}")
        return torch.nn.init.orthogonal_(t, self.gain, generator=generator)

    def get_config(self):
        return {"gain": self.gain}


class Identity(Initializer):
    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def fill(self, t, generator):
        if t.dim() != 2:
            raise ConfigError(f"identity initialisation needs a 2-D weight, got shape {tuple(t.shape)}")
        t.zero_()
        n = min(t.shape)
        t[torch.arange(n), torch.arange(n)] = self.gain
        return t

    def get_config(self):
        return {"gain": self.gain}


_CLASSES: dict[str, type[Initializer]] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "uniform": RandomUniform,
    "random_normal": RandomNormal,
    "normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "xavier_uniform": GlorotUniform,
    "xavier_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
}
_NAME_OF: dict[type, str] = {}
for _name, _cls in _CLASSES.items():
    _NAME_OF.setdefault(_cls, _name)
for _cls in list(_NAME_OF):
    _CLASSES.setdefault(_cls.__name__, _cls)

InitializerLike = Union[str, dict, Initializer]


def get(spec: InitializerLike) -> Initializer:
    """Resolve a name, a ``{"class_name", "config"}`` dict or an instance to an initialiser."""
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, str):
        key = spec if spec in _CLASSES else spec.lower()
        if key not in _CLASSES:
            raise unknown_name("initializer", spec, [k for k in _CLASSES if k.islower()])
        return _CLASSES[key]()
    if isinstance(spec, dict) and "class_name" in spec:
        name = spec["class_name"]
        key = name if name in _CLASSES else str(name).lower()
        if key not in _CLASSES:
            raise unknown_name("initializer", name, [k for k in _CLASSES if k.islower()])
        return _CLASSES[key](**spec.get("config", {}))
    raise TypeError(
        f"expected an initializer name, a {{'class_name', 'config'}} dict or an Initializer, got {type(spec).__name__}"
    )


def serialize(spec: InitializerLike) -> Union[str, dict]:
    """The JSON form of an initialiser spec."""
    return get(spec).serialize()
