"""Dtypes by the names Keras code gives them (``"float32"``, ``"int64"`` ...)."""

from __future__ import annotations

import torch

from .errors import ConfigError

DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16,
          "int64": torch.int64, "int32": torch.int32, "int16": torch.int16, "int8": torch.int8, "uint8": torch.uint8,
          "bool": torch.bool}  # fmt: skip


def dtype_of(name: str | torch.dtype | None) -> torch.dtype:
    """A dtype from its name (``"float32"``, ``"int64"`` ...), a torch dtype, or ``None`` (the default float)."""
    if name is None:
        return torch.get_default_dtype()
    if isinstance(name, torch.dtype):
        return name
    if name not in DTYPES:
        raise ConfigError(f"expected dtype in {', '.join(DTYPES)}, got {name!r}")
    return DTYPES[name]


__all__ = ["DTYPES", "dtype_of"]
