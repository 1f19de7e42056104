"""Per-series scaling of a table's columns, undone on output; stored as plain JSON.

``standard``: ``(v - mean) / std``; ``minmax``: ``(v - min) / (max - min)``; ``robust``:
``(v - median) / IQR``. A column that does not vary gets the scale 1. Each series of a table has its
own shift and scale per column, fitted on its training rows.

>>> s = Scaler("minmax")
>>> s.fit("a", np.array([[0.0], [10.0]]))
>>> s.transform("a", np.array([[5.0]])).tolist(), s.inverse("a", np.array([[0.5]])).tolist()
([[0.5]], [[5.0]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ConfigError, InputValueError, ModelFileError

SCALERS = ("standard", "minmax", "robust", "none")


class Scaler:
    """Shift and scale per series and column: ``z = (v - shift) / scale``."""

    def __init__(self, kind: str = "standard"):
        if kind not in SCALERS:
            raise ConfigError(f"expected scaler in {SCALERS}, got {kind!r}")
        self.kind = kind
        self.params: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # series key -> (shift (C,), scale (C,))

    @staticmethod
    def key(series_id: Any) -> str:
        """The JSON key of a series id (ids are kept as strings in the file)."""
        return "" if series_id is None else str(series_id)

    def fit(self, series_id: Any, values: np.ndarray) -> None:
        """Fit the shift and scale of every column of ``values (T, C)`` for this series."""
        v = np.asarray(values, dtype=np.float64)
        if self.kind == "standard":
            shift, scale = v.mean(0), v.std(0)
        elif self.kind == "minmax":
            shift, scale = v.min(0), v.max(0) - v.min(0)
        elif self.kind == "robust":
            q25, q50, q75 = np.percentile(v, [25, 50, 75], axis=0)
            shift, scale = q50, q75 - q25
        else:
            shift, scale = np.zeros(v.shape[1]), np.ones(v.shape[1])
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(shift)), scale, 1.0)
        if not (np.isfinite(shift).all() and np.isfinite(scale).all()):
            c = int(np.flatnonzero(~(np.isfinite(shift) & np.isfinite(scale)))[0])
            where = "" if series_id is None else f" of series {series_id!r}"
            raise InputValueError(
                f"cannot scale column {c}{where}: its {self.kind} scaling overflows (shift {shift[c]}, scale {scale[c]}); "
                "the values are too large to train on: rescale them"
            )
        self.params[self.key(series_id)] = (shift, scale)

    def has(self, series_id: Any) -> bool:
        return self.key(series_id) in self.params

    def _get(self, series_id: Any) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self.params[self.key(series_id)]
        except KeyError:
            raise ConfigError(f"no scaling fitted for series {series_id!r}") from None

    def transform(self, series_id: Any, values: np.ndarray) -> np.ndarray:
        """``(v - shift) / scale`` on the first ``values.shape[-1]`` columns."""
        shift, scale = self._get(series_id)
        c = values.shape[-1]
        return (values - shift[:c]) / scale[:c]

    def inverse(self, series_id: Any, values: np.ndarray) -> np.ndarray:
        """``z · scale + shift`` on the first ``values.shape[-1]`` columns (the targets come first)."""
        shift, scale = self._get(series_id)
        c = values.shape[-1]
        return values * scale[:c] + shift[:c]

    def scale_of(self, series_id: Any, columns: int) -> np.ndarray:
        """The scales of the first ``columns`` columns."""
        return self._get(series_id)[1][:columns]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "series": {k: {"shift": s.tolist(), "scale": c.tolist()} for k, (s, c) in self.params.items()},
        }

    @classmethod
    def from_json(cls, document: Any) -> Scaler:
        try:
            scaler = cls(document["kind"])
            for k, p in document["series"].items():
                shift, scale = np.asarray(p["shift"], dtype=np.float64), np.asarray(p["scale"], dtype=np.float64)
                if shift.shape != scale.shape or shift.ndim != 1:
                    raise ValueError(f"series {k!r}: expected a shift and a scale per column, got {shift.shape}, {scale.shape}")
                if not (np.isfinite(shift).all() and np.isfinite(scale).all() and (scale > 0).all()):
                    found = f"{shift.tolist()}, {scale.tolist()}"
                    raise ValueError(f"series {k!r}: expected finite shifts and finite positive scales, got {found}")
                scaler.params[str(k)] = (shift, scale)
        except (KeyError, TypeError, ValueError, ConfigError, AttributeError) as e:
            raise ModelFileError(f"the scaler file is damaged ({e})") from None
        return scaler


__all__ = ["SCALERS", "Scaler"]
