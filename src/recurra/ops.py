"""``recurra.ops``: the array functions Keras code calls (``keras.ops``), over torch, with Keras's argument
names (``axis``, ``keepdims``); for the math inside user-written cells and ``Lambda`` layers.

>>> float(sum(convert_to_tensor([[1.0, 2.0], [3.0, 4.0]]), axis=None))
10.0
>>> tuple(concatenate([zeros((2, 3)), ones((2, 1))], axis=-1).shape)
(2, 4)
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch.nn import functional as F

from .dtypes import dtype_of


def convert_to_tensor(x: Any, dtype: str | torch.dtype | None = None) -> torch.Tensor:
    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(x)
    if t.is_floating_point() and dtype is None and not isinstance(x, torch.Tensor):
        t = t.to(torch.get_default_dtype())
    return t if dtype is None else t.to(dtype_of(dtype))


def cast(x: Any, dtype: str | torch.dtype) -> torch.Tensor:
    return convert_to_tensor(x).to(dtype_of(dtype))


def shape(x: Any) -> tuple[int, ...]:
    return tuple(convert_to_tensor(x).shape)


def _dims(axis: int | Sequence[int] | None, t: torch.Tensor) -> Any:
    return tuple(range(t.dim())) if axis is None else axis


def _reduce(fn: Any, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    t = convert_to_tensor(x)
    return fn(t, dim=_dims(axis, t), keepdim=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001 (Keras's name)
    return _reduce(torch.sum, x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.mean, x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce(torch.amax, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    return _reduce(torch.amin, x, axis, keepdims)


def argmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.argmax(convert_to_tensor(x), dim=axis)


def argmin(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.argmin(convert_to_tensor(x), dim=axis)


def matmul(a: Any, b: Any) -> torch.Tensor:
    return torch.matmul(convert_to_tensor(a), convert_to_tensor(b))


def dot(a: Any, b: Any) -> torch.Tensor:
    a, b = convert_to_tensor(a), convert_to_tensor(b)
    return a * b if a.dim() == 0 or b.dim() == 0 else torch.matmul(a, b)


def einsum(subscripts: str, *operands: Any) -> torch.Tensor:
    return torch.einsum(subscripts, *(convert_to_tensor(o) for o in operands))


def concatenate(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.cat([convert_to_tensor(x) for x in xs], dim=axis)


def stack(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.stack([convert_to_tensor(x) for x in xs], dim=axis)


def expand_dims(x: Any, axis: int) -> torch.Tensor:
    return convert_to_tensor(x).unsqueeze(axis)


def squeeze(x: Any, axis: int | None = None) -> torch.Tensor:
    t = convert_to_tensor(x)
    return t.squeeze() if axis is None else t.squeeze(axis)


def reshape(x: Any, newshape: Sequence[int]) -> torch.Tensor:
    return convert_to_tensor(x).reshape(tuple(newshape))


def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:
    t = convert_to_tensor(x)
    return t.permute(*(reversed(range(t.dim())) if axes is None else axes))


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[torch.Tensor]:
    t = convert_to_tensor(x)
    if isinstance(indices_or_sections, int):
        return list(torch.tensor_split(t, indices_or_sections, dim=axis))
    return list(torch.tensor_split(t, list(indices_or_sections), dim=axis))


def where(condition: Any, x: Any, y: Any) -> torch.Tensor:
    return torch.where(convert_to_tensor(condition).bool(), convert_to_tensor(x), convert_to_tensor(y))


def zeros(shape: Sequence[int], dtype: str | None = None) -> torch.Tensor:
    return torch.zeros(tuple(shape), dtype=dtype_of(dtype))


def ones(shape: Sequence[int], dtype: str | None = None) -> torch.Tensor:
    return torch.ones(tuple(shape), dtype=dtype_of(dtype))


def zeros_like(x: Any, dtype: str | None = None) -> torch.Tensor:
    t = convert_to_tensor(x)
    return torch.zeros_like(t, dtype=None if dtype is None else dtype_of(dtype))


def ones_like(x: Any, dtype: str | None = None) -> torch.Tensor:
    t = convert_to_tensor(x)
    return torch.ones_like(t, dtype=None if dtype is None else dtype_of(dtype))


def one_hot(x: Any, num_classes: int) -> torch.Tensor:
    return F.one_hot(convert_to_tensor(x).long(), num_classes).to(torch.get_default_dtype())


def clip(x: Any, x_min: float, x_max: float) -> torch.Tensor:
    return torch.clamp(convert_to_tensor(x), x_min, x_max)


def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.softmax(convert_to_tensor(x), dim=axis)


def cumsum(x: Any, axis: int | None = None) -> torch.Tensor:
    t = convert_to_tensor(x)
    return torch.cumsum(t.reshape(-1), 0) if axis is None else torch.cumsum(t, dim=axis)


def flip(x: Any, axis: int | Sequence[int] | None = None) -> torch.Tensor:
    t = convert_to_tensor(x)
    dims = tuple(range(t.dim())) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    return torch.flip(t, dims)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.logsumexp, x, axis, keepdims)


def _elementwise(fn: Any, name: str) -> Any:
    def op(x: Any) -> torch.Tensor:
        return fn(convert_to_tensor(x))

    op.__name__ = op.__qualname__ = name
    return op


def _binary(fn: Any, name: str) -> Any:
    def op(a: Any, b: Any) -> torch.Tensor:
        return fn(convert_to_tensor(a), convert_to_tensor(b))

    op.__name__ = op.__qualname__ = name
    return op


tanh, sigmoid, relu, exp, log, sqrt, square, abs, negative, sign, floor, ceil, round = (  # noqa: A001
    _elementwise(fn, name)
    for fn, name in (
        (torch.tanh, "tanh"), (torch.sigmoid, "sigmoid"), (torch.relu, "relu"), (torch.exp, "exp"), (torch.log, "log"),
        (torch.sqrt, "sqrt"), (torch.square, "square"), (torch.abs, "abs"), (torch.neg, "negative"), (torch.sign, "sign"),
        (torch.floor, "floor"), (torch.ceil, "ceil"), (torch.round, "round"),
    )  # fmt: skip
)
add, subtract, multiply, divide, maximum, minimum, power, equal, greater, less = (
    _binary(fn, name)
    for fn, name in (
        (torch.add, "add"), (torch.sub, "subtract"), (torch.mul, "multiply"), (torch.div, "divide"),
        (torch.maximum, "maximum"), (torch.minimum, "minimum"), (torch.pow, "power"), (torch.eq, "equal"),
        (torch.gt, "greater"), (torch.lt, "less"),
    )  # fmt: skip
)

__all__ = [
    "convert_to_tensor", "cast", "shape", "sum", "mean", "max", "min", "argmax", "argmin", "matmul", "dot", "einsum",
    "concatenate", "stack", "expand_dims", "squeeze", "reshape", "transpose", "split", "where", "zeros", "ones",
    "zeros_like", "ones_like", "one_hot", "clip", "softmax", "cumsum", "flip", "logsumexp", "tanh", "sigmoid", "relu",
    "exp", "log", "sqrt", "square", "abs", "negative", "sign", "floor", "ceil", "round", "add", "subtract", "multiply",
    "divide", "maximum", "minimum", "power", "equal", "greater", "less",
]  # fmt: skip
