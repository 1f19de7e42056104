"""Names that moved still work, each with a warning that names where it lives now: the old module paths
(``recurra.tasks.<submodule>``, ``recurra.cli_*``), ``recurra.tasks.<name>``, the estimators' earlier
attribute names (``Forecaster.params``, ``.network`` ...) and ``recurra.inspect.traces.DESCRIPTIONS``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recurra.cli.classify
import recurra.cli.compare
import recurra.cli.forecast
import recurra.cli.text
import recurra.forecast
import recurra.forecast.backtest
import recurra.forecast.files
import recurra.forecast.forecaster
import recurra.forecast.metrics
import recurra.forecast.network
import recurra.forecast.plots
from recurra import Forecaster, LanguageModel, SequenceClassifier
from recurra.errors import RecurraWarning

# old module -> (where its names live now, as the warning says, {name: the module that holds it now})
MOVED_MODULES = {
    "recurra.tasks.forecaster": (
        "recurra.forecast.forecaster",
        {n: recurra.forecast.forecaster for n in ("Forecaster", "BacktestResult", "ALL_CELLS", "STRATEGIES", "TRANSFORMS")},
    ),
    "recurra.tasks.backtest": ("recurra.forecast.backtest", {"BacktestResult": recurra.forecast.backtest}),
    "recurra.tasks.forecast_io": (
        "recurra.forecast.files",
        {"FORMAT": recurra.forecast.files, "FORMAT_VERSION": recurra.forecast.files, "load_forecaster": recurra.forecast},
    ),
    "recurra.tasks.forecast_metrics": (
        "recurra.forecast.metrics",
        {n: recurra.forecast.metrics for n in recurra.forecast.metrics.__all__},
    ),
    "recurra.tasks.forecast_net": (
        "recurra.forecast.network",
        {n: recurra.forecast.network for n in recurra.forecast.network.__all__},
    ),
    "recurra.tasks.plots": ("recurra.forecast.plots", {"plot_forecast": recurra.forecast.plots}),
    "recurra.cli_forecast": (
        "recurra.cli.forecast",
        {n: recurra.cli.forecast for n in ("forecast_app", "train", "predict", "backtest")},
    ),
    "recurra.cli_text": (
        "recurra.cli.text",
        {
            **{n: recurra.cli.text for n in ("text_app", "text_train", "text_generate", "text_suggest")},
            **{n: recurra.cli.classify for n in ("classify_app", "classify_train", "classify_predict")},
        },
    ),
    "recurra.cli_compare": ("recurra.cli.compare", {"compare_command": recurra.cli.compare}),
}


def _import_fresh(name: str):
    """Import ``name`` again (the doctest collection or an earlier test may have imported it already), as
    ``import name`` does: ``__import__`` adds no Python frame, so the warning points at the caller."""
    sys.modules.pop(name, None)
    __import__(name)
    return sys.modules[name]


@pytest.mark.parametrize("old", list(MOVED_MODULES))
def test_an_old_module_path_imports_with_a_warning_naming_the_new_one(old):
    new, names = MOVED_MODULES[old]
    with pytest.warns(DeprecationWarning, match=rf"^{old} is deprecated; import from {new}") as caught:
        module = _import_fresh(old)
    assert len([w for w in caught if issubclass(w.category, DeprecationWarning)]) == 1
    # attributed to the line that imports it (pytest's loader when a run names the module's file), not to the
    # old module itself or to importlib
    where = Path(caught[0].filename)
    assert "importlib" not in where.parts and where.name != old.rsplit(".", 1)[1] + ".py", where
    for name, holder in names.items():
        assert getattr(module, name) is getattr(holder, name), f"{old}.{name}"
    assert set(names) <= set(module.__all__)


def test_the_old_helpers_taking_a_forecaster_still_run(tmp_path):
    frame = pd.DataFrame({"t": np.arange(40), "y": np.tile([1.0, 3.0, 2.0, 5.0], 10)})
    fc = Forecaster("gru", 4, lookback=6, horizon=3, epochs=1).fit(frame, time_col="t")
    with pytest.warns(DeprecationWarning, match="recurra.forecast.files"):
        io = _import_fresh("recurra.tasks.forecast_io")
    assert io.save_forecaster(fc, tmp_path / "f") == tmp_path / "f"
    pd.testing.assert_frame_equal(io.load_forecaster(tmp_path / "f").predict(), fc.predict())
    with pytest.warns(DeprecationWarning, match="recurra.forecast.backtest"):
        backtest = _import_fresh("recurra.tasks.backtest")
    assert backtest.score.__doc__.startswith("Deprecated")


@pytest.mark.parametrize("name", ["Forecaster", "BacktestResult", "load_forecaster"])
def test_recurra_tasks_names_warn_once_naming_recurra_forecast(name):
    import recurra.tasks

    with pytest.warns(RecurraWarning, match=rf"^recurra.tasks.{name} is deprecated; use recurra.forecast.{name}$") as caught:
        value = getattr(recurra.tasks, name)
    assert value is getattr(recurra.forecast, name)
    with pytest.warns(RecurraWarning) as caught:
        exec(f"from recurra.tasks import {name}", {})
    assert len(caught) == 1  # not once more from the import machinery's own look-up


def test_forecaster_params_warns_and_gives_get_params():
    fc = Forecaster("gru", 8, horizon=3)
    with pytest.warns(RecurraWarning, match=r"^Forecaster.params is deprecated; use get_params\(\)$"):
        assert fc.params == fc.get_params()


RENAMED = [(cls, old, new) for cls in (Forecaster, LanguageModel, SequenceClassifier) for old, new in cls.renamed.items()]


@pytest.mark.parametrize("cls, old, new", RENAMED, ids=[f"{c.__name__}.{o}" for c, o, _ in RENAMED])
def test_an_earlier_attribute_name_reads_and_writes_the_new_one_with_a_warning(cls, old, new):
    estimator, value, other = cls(), object(), object()
    object.__setattr__(estimator, new, value)
    with pytest.warns(RecurraWarning, match=rf"^{cls.__name__}.{old} is deprecated; use .{new}$"):
        assert getattr(estimator, old) is value
    with pytest.warns(RecurraWarning, match=rf"^{cls.__name__}.{old} is deprecated; use .{new}$"):
        setattr(estimator, old, other)
    assert getattr(estimator, new) is other


@pytest.mark.parametrize("name", ["DESCRIPTIONS", "GATES"])
def test_the_trace_tables_warn_that_cells_declare_their_own(name):
    from recurra.cells import LSTMCell
    from recurra.inspect import traces

    with pytest.warns(RecurraWarning, match=rf"^recurra.inspect.traces.{name} is deprecated; each cell declares its own"):
        table = getattr(traces, name)
    assert LSTMCell in table if name == "DESCRIPTIONS" else set(LSTMCell.gates) <= table
