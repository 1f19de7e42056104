"""Forecaster directories: ``config.json`` (settings, columns, the end of the training series),
``scaler.json`` (shift and scale per series and column) and ``weights.safetensors``. Written
atomically; no pickle, so loading never runs code from the files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..data.frames import Panel
from ..data.scalers import Scaler
from ..errors import ConfigError, ModelFileError
from ..io import atomic_save_tensors, atomic_write_bytes, load_state, load_weights_file, read_document, read_json
from .forecast_net import EsnForecaster, ForecastNetwork

if TYPE_CHECKING:
    from .forecaster import Forecaster

FORMAT = "recurra.forecaster"
FORMAT_VERSION = 1


def save_forecaster(self: Forecaster, path: str | os.PathLike) -> Path:
    """Write ``path/config.json`` (settings, columns, the end of the training series),
    ``path/scaler.json`` and ``path/weights.safetensors``; atomically, no pickle."""
    from .. import __version__

    self._require_fitted("save()")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    is_esn = isinstance(self.network, EsnForecaster)
    tensors = self.network.tensors() if is_esn else {k: v.detach().contiguous() for k, v in self.network.state_dict().items()}
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "recurra_version": __version__,
        "params": self.params,
        "schema": self.schema,
        "season": self.season_,
        "calibration": self.calibration,
        "network": self.network.esn_config() if is_esn else self.network.config,
        "tail": _tail_json(self._tail),
        "history": self.history,
    }
    atomic_save_tensors(tensors, path / "weights.safetensors", {"format": FORMAT})
    atomic_write_bytes(path / "scaler.json", json.dumps(self.scaler.to_json(), indent=1).encode())
    atomic_write_bytes(path / "config.json", json.dumps(document, indent=1, default=_json_default).encode())
    return path


def load_forecaster(path: str | os.PathLike) -> Forecaster:
    """Rebuild a ``Forecaster`` saved by ``save``: the same forecasts from the same data."""
    from .forecaster import Forecaster

    path = Path(path)
    doc = read_document(path, FORMAT, what="recurra forecaster", max_version=FORMAT_VERSION)
    cfg = path / "config.json"
    scaler_path = path / "scaler.json"
    if not scaler_path.is_file():
        raise ModelFileError(f"{path} is not a complete forecaster: scaler.json is missing")
    scaler_doc = read_json(scaler_path)
    try:
        fc = Forecaster(**doc["params"])
        fc.schema = doc["schema"]
        fc.season_ = int(doc["season"])
        fc.calibration = float(doc["calibration"])
        fc.history = doc.get("history", {})
        fc._tail = _tail_from_json(doc["tail"], fc.schema)
        net_cfg = doc["network"]
    except (KeyError, TypeError, ValueError, ConfigError) as e:
        raise ModelFileError(f"{cfg} describes a forecaster recurra cannot build: {e}") from None
    fc.scaler = Scaler.from_json(scaler_doc)
    tensors = load_weights_file(path / "weights.safetensors")
    if fc.cell == "esn":
        net = EsnForecaster(
            units=fc.units,
            lookback=fc.lookback,
            horizon=fc.model_horizon,
            n_targets=fc.n_targets,
            n_known=fc.n_known,
            output=fc.output,
            quantiles=fc.quantiles,
            seed=fc.seed,
            options=fc.esn_options,
        )
        try:
            net.load(net_cfg, tensors)
        except (KeyError, TypeError, ConfigError) as e:
            raise ModelFileError(f"{path} holds an Echo State Network recurra cannot rebuild: {e}") from None
    else:
        try:
            net = ForecastNetwork(**net_cfg)
        except (TypeError, ConfigError) as e:
            raise ModelFileError(f"{cfg} describes a network recurra cannot build: {e}") from None
        load_state(net, tensors, path / "weights.safetensors")
        net.eval()
    fc.network = net
    return fc


def _tail_json(panel: Panel) -> dict[str, Any]:
    return {
        "ids": panel.ids,
        "times": [[_time_json(t) for t in panel.times[sid]] for sid in panel.ids],
        "values": [panel.values[sid].tolist() for sid in panel.ids],
        "columns": panel.columns,
        "freq": panel.freq,
    }


def _time_json(t: Any) -> Any:
    return pd.Timestamp(t).isoformat() if isinstance(t, (pd.Timestamp, np.datetime64)) else int(t)


def _tail_from_json(doc: dict[str, Any], schema: dict[str, Any]) -> Panel:
    ids = list(doc["ids"])
    times = {}
    for sid, ts in zip(ids, doc["times"]):
        times[sid] = (
            pd.DatetimeIndex(pd.to_datetime(ts)) if ts and isinstance(ts[0], str) else pd.Index(np.asarray(ts, dtype=np.int64))
        )
    values = {sid: np.asarray(v, dtype=np.float64) for sid, v in zip(ids, doc["values"])}
    return Panel(ids, times, values, list(doc["columns"]), doc["freq"])


def _json_default(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(v).isoformat()
    raise TypeError(f"cannot write {type(v).__name__} to JSON")


__all__ = ["FORMAT", "FORMAT_VERSION", "save_forecaster", "load_forecaster"]
