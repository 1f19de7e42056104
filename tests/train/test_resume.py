"""Resuming checks its run: a checkpoint of another network, batch size, data or estimator settings is
refused with each difference named; epochs may grow, never shrink below the checkpoint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from recurra import GRU, LSTM, Dense, Forecaster, Sequential
from recurra.errors import ConfigError
from recurra.train.resume import differences


def _data(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6, 2)).astype(np.float32)
    return x, x.sum((1, 2))[:, None]


def _model(layer=LSTM, units: int = 4) -> Sequential:
    model = Sequential([layer(units, input_shape=(None, 2)), Dense(1)])
    model.compile("adam", "mse")
    return model


def _fit(model, directory, *, epochs=2, batch_size=8, data=None, resume=False):
    x, y = data if data is not None else _data()
    return model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, seed=0, checkpoint_dir=directory, resume=resume)


@pytest.mark.parametrize(
    "change, named",
    [
        (dict(layer=GRU), r"network\.layers\[0\]\.class_name: 'LSTM' -> 'GRU'"),
        (dict(units=5), r"network\.layers\[0\]\.config\.units: 4 -> 5"),
        (dict(batch_size=4), r"fit\.batch_size: 8 -> 4"),
        (dict(data=_data(32)), r"data\.samples: 40 -> 32"),
    ],
)
def test_resuming_a_different_run_is_refused_naming_what_differs(tmp_path, change, named):
    _fit(_model(), tmp_path)
    model = _model(change.get("layer", LSTM), change.get("units", 4))
    with pytest.raises(ConfigError, match=f"cannot resume from .*ckpt-.*: it was written by a different run \\(.*{named}"):
        _fit(model, tmp_path, batch_size=change.get("batch_size", 8), data=change.get("data"), resume=True)


def test_epochs_may_grow_but_not_end_before_the_checkpoint(tmp_path):
    done = _model()
    _fit(done, tmp_path, epochs=3)
    with pytest.raises(ConfigError, match=r"epochs=2: the checkpoint is at the end of epoch 3.*give epochs >= 3"):
        _fit(_model(), tmp_path, epochs=2, resume=True)
    same = _model()
    history = _fit(same, tmp_path, epochs=3, resume=True)  # nothing left to train: the checkpoint's weights
    assert all(torch.equal(a, b) for a, b in zip(same.state_dict().values(), done.state_dict().values()))
    assert len(history.history["loss"]) == 3
    more = _model()
    history = _fit(more, tmp_path, epochs=5, resume=True)
    assert len(history.history["loss"]) == 5


def test_differences_name_each_leaf():
    old = {"a": 1, "b": {"c": [1, 2], "d": "x"}, "layers": [{"units": 4}, {"units": 2}]}
    new = {"a": 1, "b": {"c": [1, 3], "e": 0}, "layers": [{"units": 5}, {"units": 2}]}
    assert differences(old, new) == [
        "b.c: [1, 2] -> [1, 3]",
        "b.d: 'x' -> (absent)",
        "b.e: (absent) -> 0",
        "layers[0].units: 4 -> 5",
    ]


# -- estimators: their settings are part of the run ---------------------------------------------------


def _series() -> pd.DataFrame:
    t = np.arange(80)
    rng = np.random.default_rng(0)
    return pd.DataFrame({"t": t, "y": 10 + np.sin(t * np.pi / 6) + 0.1 * rng.normal(size=80)})


def _forecaster(**change) -> Forecaster:
    settings = dict(cell="lstm", units=4, lookback=8, horizon=3, output="gaussian", calibrate=0.2, epochs=3, seed=0)
    return Forecaster(**{**settings, **change})


def test_a_finished_forecaster_resumed_is_never_recalibrated(tmp_path):
    """Resuming a finished run gives the same network and the same calibration (the first fit, which
    calibrates, is checkpointed too); fewer epochs are refused; another cell is refused by name."""
    first = _forecaster().fit(_series(), time_col="t", checkpoint_dir=tmp_path)
    again = _forecaster().fit(_series(), time_col="t", checkpoint_dir=tmp_path, resume=True)
    assert again.calibration_ == first.calibration_
    pd.testing.assert_frame_equal(again.predict(), first.predict())
    with pytest.raises(ConfigError, match="epochs=2: the checkpoint is at the end of epoch 3"):
        _forecaster(epochs=2).fit(_series(), time_col="t", checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(ConfigError, match=r"settings\.cell: 'lstm' -> 'gru'.*settings\.units: 4 -> 8"):
        _forecaster(cell="gru", units=8).fit(_series(), time_col="t", checkpoint_dir=tmp_path, resume=True)
