"""Kill -9 at random moments while two different models are saved into one directory in turn: what is
left is always the old model, the new one, or refused — never a mix that loads."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pandas as pd
import pytest
import torch

from recurra import Dense, Forecaster, Sequential, SimpleRNN
from recurra.errors import ModelFileError
from recurra.io import load_model

pytestmark = pytest.mark.slow


def _save_in_turn(models, path, ready) -> None:
    """The child: save the models into ``path`` in turn until killed."""
    i = 0
    while True:
        models[i % len(models)].save(path)
        if i == 1:
            ready.set()
        i += 1


def _kill_while_saving(models, path, kills: int, seed: int) -> list[str]:
    """Start a process that saves ``models`` into ``path`` in turn, kill it after a random delay, ``kills``
    times; returns what each kill left: the index of the model that loads, or "refused"."""
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(seed)
    outcomes = []
    for _ in range(kills):
        ready = ctx.Event()
        child = ctx.Process(target=_save_in_turn, args=(models, path, ready))
        child.start()
        assert ready.wait(60), "the saving process did not start"
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        outcomes.append(_which(models, path))
    return outcomes


def _which(models, path) -> str:
    try:
        loaded = type(models[0]).load(path) if isinstance(models[0], Forecaster) else load_model(path)
    except ModelFileError:
        return "refused"
    if isinstance(loaded, Forecaster):
        got = loaded.predict()["upper"].to_numpy()
        same = [np.array_equal(got, m.predict()["upper"].to_numpy()) for m in models]
    else:
        x = torch.ones(1, 3, 2)
        with torch.no_grad():
            same = [torch.equal(loaded(x), m(x)) for m in models]
    return str(same.index(True)) if any(same) else "mix"


def _sequential(seed: int) -> Sequential:
    torch.manual_seed(seed)
    model = Sequential([SimpleRNN(256, input_shape=(None, 2)), Dense(1)]).eval()  # ~66k weights: saves take a while
    return model


def test_killed_sequential_saves_leave_the_old_or_the_new_model(tmp_path):
    models = [_sequential(0), _sequential(1)]
    outcomes = _kill_while_saving(models, tmp_path / "m", kills=20, seed=0)
    assert "mix" not in outcomes, outcomes
    assert set(outcomes) <= {"0", "1", "refused"}


def test_killed_forecaster_saves_leave_the_old_or_the_new_forecaster(tmp_path):
    t = np.arange(60)
    df = pd.DataFrame({"t": t, "y": 10 + np.sin(t * np.pi / 6)})
    models = [
        Forecaster("gru", 16, lookback=12, horizon=3, output="gaussian", calibrate=0, epochs=1, seed=0).fit(df, time_col="t"),
        Forecaster("gru", 16, lookback=12, horizon=3, output="gaussian", calibrate=0, epochs=2, seed=1).fit(df, time_col="t"),
    ]
    outcomes = _kill_while_saving(models, tmp_path / "f", kills=20, seed=1)
    assert "mix" not in outcomes, outcomes
