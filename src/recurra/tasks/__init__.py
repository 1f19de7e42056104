"""Deprecated: the forecasting estimators moved to ``recurra.forecast`` (``recurra.tasks`` named two
different things; the memory tasks stay in ``recurra.data.tasks``).

``recurra.tasks.Forecaster`` (and ``BacktestResult``, ``load_forecaster``) still work with a
``RecurraWarning`` naming the new name; the old submodules (``recurra.tasks.forecaster``, ``backtest``,
``forecast_io``, ``forecast_metrics``, ``forecast_net``, ``plots``) still import, with a
``DeprecationWarning`` naming the module that holds their names now.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

from ..errors import RecurraWarning

_MOVED = {"Forecaster", "BacktestResult", "load_forecaster"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        # ``from recurra.tasks import X`` asks twice, once from the import machinery: warn once, for the caller
        if "importlib" not in sys._getframe(1).f_code.co_filename:
            warnings.warn(f"recurra.tasks.{name} is deprecated; use recurra.forecast.{name}", RecurraWarning, stacklevel=2)
        from .. import forecast

        return getattr(forecast, name)
    raise AttributeError(f"module 'recurra.tasks' has no attribute {name!r}")
