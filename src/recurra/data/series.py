"""Real series bundled with recurra (small CSV files in ``recurra/data/bundled``; see ``data/README.md``).

>>> load_airline().shape
(144, 2)
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

BUNDLED = {
    "airline": "airline.csv",
    "co2": "co2.csv",
}


def bundled_path(name: str) -> str:
    """The file path of a bundled series (``"airline"``, ``"co2"``)."""
    if name not in BUNDLED:
        raise ValueError(f"expected a bundled series in {sorted(BUNDLED)}, got {name!r}")
    return str(resources.files(__package__).joinpath("bundled", BUNDLED[name]))


def load_airline() -> pd.DataFrame:
    """Box & Jenkins' international airline passengers, monthly totals in thousands, 1949–1960.

    144 rows: ``month`` (``"1949-01"`` ...) and ``passengers``. Source: Box, Jenkins & Reinsel,
    *Time Series Analysis* (series G), as shipped by pmdarima (MIT).
    """
    return pd.read_csv(bundled_path("airline"))


def load_co2() -> pd.DataFrame:
    """Atmospheric CO2 at Mauna Loa, weekly, 1958-03-29 to 2001-12-29, in ppm (Keeling & Whorf).

    2,284 rows: ``week`` (a Saturday) and ``co2``, with 59 weeks missing (NaN): fit with ``fill=``.
    Public domain; as shipped by statsmodels (``sm.datasets.co2``).
    """
    return pd.read_csv(bundled_path("co2"))


__all__ = ["BUNDLED", "bundled_path", "load_airline", "load_co2"]
