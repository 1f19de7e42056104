"""What a forecast plot shows, read off the matplotlib figure itself: the axes' labels (the time column, the
target named), a title, and a legend entry for the history, each forecast and each interval with its level."""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from recurra import Forecaster

PATTERN = np.array([1.0, 3.0, 2.0, 5.0])


def monthly(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"month": pd.date_range("2001-01", periods=n, freq="MS"), "sales": np.resize(PATTERN, n) + rng.normal(0, 0.1, n)}
    )


@pytest.fixture
def figures(monkeypatch):
    """Every figure the plots save, kept open for inspection (the plot functions close them)."""
    saved: list[matplotlib.figure.Figure] = []
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    return saved


def _panels(figure: matplotlib.figure.Figure) -> list:
    return [ax for ax in figure.axes if ax.get_legend() is not None]


def test_a_forecast_plot_names_its_axes_and_every_line_and_band(tmp_path, figures):
    fc = Forecaster("gru", 4, lookback=6, horizon=3, output="gaussian", level=0.8, epochs=1).fit(monthly(), time_col="month")
    path = fc.plot(path=tmp_path / "forecast.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    (ax,) = _panels(figures[-1])
    assert ax.get_xlabel() == "month" and ax.get_ylabel() == "sales"
    assert ax.get_title() == "GRU(4) forecast"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", "forecast", "80% interval"]


def test_a_point_forecast_has_no_interval_in_its_legend(tmp_path, figures):
    fc = Forecaster("gru", 4, lookback=6, horizon=3, output="point", epochs=1).fit(monthly(), time_col="month")
    fc.plot(path=tmp_path / "forecast.png")
    (ax,) = _panels(figures[-1])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", "forecast"]


def test_a_backtest_plot_has_a_line_and_a_band_per_fold(tmp_path, figures):
    fc = Forecaster("gru", 4, lookback=6, horizon=3, output="gaussian", epochs=1).fit(monthly(), time_col="month")
    fc.backtest(monthly(), folds=2, refit=False).plot(tmp_path / "backtest.png", last=10)
    (ax,) = _panels(figures[-1])
    assert ax.get_xlabel() == "month" and ax.get_ylabel() == "sales"
    assert ax.get_title() == "backtest: 2 origin(s), 3 steps each"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "actual"
    assert sorted(labels[1:]) == sorted(["fold 0", "fold 1", "90% interval, fold 0", "90% interval, fold 1"])


def test_several_targets_get_a_panel_each_labelled_with_its_target(tmp_path, figures):
    data = monthly()
    data["visits"] = 2 * data["sales"] + 1
    fc = Forecaster("gru", 4, lookback=6, horizon=3, output="gaussian", epochs=1)
    fc.fit(data, time_col="month", target=["sales", "visits"]).plot(path=tmp_path / "forecast.png")
    panels = _panels(figures[-1])
    assert [ax.get_ylabel() for ax in panels] == ["sales", "visits"]
    assert all(ax.get_xlabel() == "month" for ax in panels)
    assert [ax.get_title() for ax in panels] == ["GRU(4) forecast: sales", "GRU(4) forecast: visits"]
