"""What a forecaster directory holds besides the network: the format name, and the end of the
training series (``predict()`` forecasts from it) as JSON and back.

A forecaster directory: ``config.json`` (settings, columns, that tail), ``scaler.json`` (shift and
scale per series and column), ``weights.safetensors`` and ``manifest.json``; written whole or not at
all and checked when read (``recurra.io.directory``); ``Forecaster.save`` / ``Forecaster.load``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.frames import Panel

FORMAT = "recurra.forecaster"
FORMAT_VERSION = 1
SCALER_FILE = "scaler.json"


def tail_to_json(panel: Panel) -> dict[str, Any]:
    return {
        "ids": panel.ids,
        "times": [[_time_json(t) for t in panel.times[sid]] for sid in panel.ids],
        "values": [panel.values[sid].tolist() for sid in panel.ids],
        "columns": panel.columns,
        "freq": panel.freq,
    }


def _time_json(t: Any) -> Any:
    return pd.Timestamp(t).isoformat() if isinstance(t, (pd.Timestamp, np.datetime64)) else int(t)


def tail_from_json(doc: dict[str, Any]) -> Panel:
    ids = list(doc["ids"])
    times = {}
    for sid, ts in zip(ids, doc["times"]):
        times[sid] = (
            pd.DatetimeIndex(pd.to_datetime(ts)) if ts and isinstance(ts[0], str) else pd.Index(np.asarray(ts, dtype=np.int64))
        )
    values = {sid: np.asarray(v, dtype=np.float64) for sid, v in zip(ids, doc["values"])}
    return Panel(ids, times, values, list(doc["columns"]), doc["freq"])


def json_default(v: Any) -> Any:
    """numpy scalars and timestamps in a forecaster's config, as JSON values."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    raise TypeError(f"cannot write {type(v).__name__} to JSON")


__all__ = ["FORMAT", "FORMAT_VERSION", "SCALER_FILE", "tail_to_json", "tail_from_json", "json_default"]
