"""Deprecated: ``recurra.forecast.network`` holds these names now."""

import warnings

warnings.warn("recurra.tasks.forecast_net is deprecated; import from recurra.forecast.network", DeprecationWarning, stacklevel=2)

from ..forecast.network import (  # noqa: E402
    CELLS,
    NORMALIZE,
    OUTPUTS,
    EsnForecaster,
    ForecastNetwork,
    check_quantiles,
    make_loss,
    n_params,
)

__all__ = ["CELLS", "OUTPUTS", "NORMALIZE", "ForecastNetwork", "EsnForecaster", "make_loss", "check_quantiles", "n_params"]
