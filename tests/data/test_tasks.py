"""The memory tasks: structure, targets, seeds and chance levels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recurra.data import tasks
from recurra.errors import ConfigError, UnknownNameError


def test_adding_problem_marks_one_step_in_each_half_and_sums_them():
    x, y = tasks.adding_problem(200, 30, seed=4)
    assert x.shape == (200, 30, 2) and y.shape == (200, 1) and x.dtype == np.float32
    markers = x[:, :, 1]
    assert np.all(markers.sum(1) == 2)
    assert np.all(markers[:, :15].sum(1) == 1) and np.all(markers[:, 15:].sum(1) == 1)
    assert np.allclose(y[:, 0], (x[:, :, 0] * markers).sum(1), atol=1e-6)
    assert x[:, :, 0].min() >= 0 and x[:, :, 0].max() <= 1


def test_adding_problem_chance_level_is_the_variance_of_the_sum():
    _, y = tasks.adding_problem(40_000, 10, seed=1)
    assert abs(float(np.mean((y - 1.0) ** 2)) - tasks.ADDING_CHANCE_MSE) < 0.005
    assert tasks.ADDING_CHANCE_MSE == pytest.approx(0.1667, abs=1e-4)


def test_tasks_repeat_under_a_seed_and_differ_across_seeds():
    a, b, c = (tasks.adding_problem(5, 12, seed=s)[0] for s in (7, 7, 8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(tasks.copy_task(3, 4, seed=2)[1], tasks.copy_task(3, 4, seed=2)[1])


def test_copy_task_writes_the_symbols_out_after_the_delimiter():
    S, K, T = 4, 5, 7
    x, y = tasks.copy_task(10, T, sequence_length=S, n_symbols=K, seed=0)
    assert x.shape == (10, T + 2 * S, K + 2) and y.shape == (10, T + 2 * S)
    ids = x.argmax(-1)
    assert np.all(ids[:, T + S - 1] == K + 1)  # the delimiter
    assert np.all(ids[:, S : T + S - 1] == 0) and np.all(ids[:, T + S :] == 0)
    assert np.array_equal(y[:, T + S :], ids[:, :S]) and np.all(y[:, : T + S] == 0)
    assert ids[:, :S].min() >= 1 and ids[:, :S].max() <= K
    chance = tasks.copy_chance(T, sequence_length=S, n_symbols=K)
    assert chance["accuracy"] == pytest.approx(1 / K)
    assert chance["crossentropy"] == pytest.approx(S * math.log(K) / (T + 2 * S))


def test_delayed_recall_targets_the_symbol_delay_steps_before_the_end():
    x, y = tasks.delayed_recall(50, 9, delay=3, n_symbols=4, seed=0)
    assert x.shape == (50, 9, 4) and y.shape == (50,)
    assert np.array_equal(x[:, 9 - 1 - 3].argmax(-1), y)
    x, y = tasks.delayed_recall(50, 9, seed=0)  # default: the first symbol
    assert np.array_equal(x[:, 0].argmax(-1), y)
    with pytest.raises(ConfigError, match=r"delay in \[0, length - 1\] = \[0, 8\], got 9"):
        tasks.delayed_recall(5, 9, delay=9)


def test_sequential_digits_rows_and_pixels_are_the_same_images():
    (xr, yr), (xr_test, yr_test) = tasks.sequential_digits("rows", seed=3)
    (xp, yp), (xp_test, _) = tasks.sequential_digits("pixels", seed=3)
    assert xr.shape[1:] == (8, 8) and xp.shape[1:] == (64, 1)
    assert len(xr) + len(xr_test) == 1797 and len(xr_test) == round(0.25 * 1797)
    assert np.array_equal(xr.reshape(len(xr), 64, 1), xp) and np.array_equal(yr, yp)
    assert 0.0 <= xr.min() and xr.max() <= 1.0 and set(np.unique(yr)) == set(range(10))
    assert 0.09 < tasks.majority_accuracy(yr_test) < 0.15


def test_make_task_states_metric_and_chance_and_refuses_unknown_names():
    t = tasks.make_task("adding", length=12, n_train=20, n_test=10)
    assert (t.kind, t.metric, t.length, t.features, t.n_outputs) == ("regression", "mse", 12, 2, 1)
    assert t.chance == tasks.ADDING_CHANCE_MSE and not t.higher_is_better
    assert not np.array_equal(t.x_train[:10], t.x_test)  # train and test drawn apart
    c = tasks.make_task("copy", length=5, n_train=4, n_test=4)
    assert c.kind == "sequence_classification" and c.scored_steps == 10 and c.chance == pytest.approx(1 / 8)
    r = tasks.make_task("recall", length=6, n_train=4, n_test=4)
    assert r.kind == "classification" and r.n_outputs == 8
    with pytest.raises(UnknownNameError, match="unknown task 'parity'; expected one of: adding, copy, digits_pixels"):
        tasks.make_task("parity")
    with pytest.raises(ConfigError, match="expected length to be an integer >= 2, got 1"):
        tasks.adding_problem(3, 1)
