"""recurra.compare: budgets, parameter matching, results and their JSON, on tiny tasks."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from recurra.compare import CELLS, CompareMonitor, build_model, compare, parameter_count, parse_cells, score, units_for_budget
from recurra.data.tasks import make_task
from recurra.errors import ConfigError, UnknownNameError

TRAINED = [c for c in CELLS if c != "esn"]


@pytest.mark.parametrize("name,length", [("adding", 9), ("copy", 4), ("recall", 5), ("digits_rows", 0)])
def test_the_parameter_count_formula_is_the_built_model_s_count(name, length):
    task = make_task(name, length=max(length, 2), n_train=4, n_test=4)
    for cell in TRAINED:
        for units in (1, 7):
            for layers in (1, 3):
                model = build_model(cell, units, task, layers)
                counted = sum(p.numel() for p in model.parameters())
                assert parameter_count(cell, units, task, layers) == counted, (cell, units, layers)


def test_stacked_contenders_share_the_budget_and_run():
    task = make_task("adding", length=6, n_train=64, n_test=16)
    one, two = units_for_budget("indrnn", 20_000, task), units_for_budget("indrnn", 20_000, task, layers=2)
    assert (one, two) == (4000, 138)  # H·2 + 2H + (1 + H): wide alone; H² + 7H + 1 stacked
    model = build_model("lstm", 5, task, layers=2)
    assert [type(m).__name__ for m in model.layers] == ["LSTM", "LSTM", "Dense"]
    assert model.layers[0].return_sequences and not model.layers[1].return_sequences
    result = compare(task, cells="indrnn,mlp", seeds=1, params=2000, layers=2, budget_steps=3, batch_size=16)
    assert result.settings["layers"] == 2
    H_ind, H_mlp = units_for_budget("indrnn", 2000, task, layers=2), units_for_budget("mlp", 2000, task)
    assert [r.units for r in result.runs] == [H_ind, H_mlp]  # the mlp is not stacked
    assert [r.parameters for r in result.runs] == [parameter_count("indrnn", H_ind, task, 2), parameter_count("mlp", H_mlp, task)]


def test_units_are_chosen_closest_to_the_budget():
    task = make_task("adding", length=10, n_train=4, n_test=4)
    for cell in TRAINED:
        H = units_for_budget(cell, 3000, task)
        gap = abs(parameter_count(cell, H, task) - 3000)
        assert gap <= abs(parameter_count(cell, H + 1, task) - 3000)
        assert H == 1 or gap <= abs(parameter_count(cell, H - 1, task) - 3000)
    assert units_for_budget("esn", 3000, task, esn_max_units=50) == 50
    assert units_for_budget("esn", 30, task) == 29  # (29 + 1) · 1 = 30 fitted weights


def test_a_step_budget_run_of_the_whole_family(tmp_path):
    result = compare(
        "adding", length=8, seeds=2, params=600, budget_steps=6, batch_size=16, n_train=96, n_test=40,
        eval_every=3, curve_samples=20, esn_max_units=30, out=tmp_path,
    )  # fmt: skip
    data = json.loads((tmp_path / "results.json").read_text())
    assert data == json.loads(json.dumps(result.to_dict()))
    assert (tmp_path / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    rows = {r["cell"]: r for r in data["summary"]}
    assert list(rows) == list(CELLS)
    assert data["metric"] == "mse" and data["chance"] == pytest.approx(1 / 6)
    assert data["settings"]["budget_steps"] == 6 and data["settings"]["seeds"] == [0, 1]
    for cell, row in rows.items():
        assert math.isfinite(row["metric_mean"]) and row["seeds"] == 2, cell
        if cell != "esn":
            assert abs(row["parameters"] - 600) / 600 < 0.1, (cell, row["parameters"])
            assert row["steps"] == 6
    assert rows["esn"]["parameters"] == 31 and rows["esn"]["fixed_parameters"] > 0
    runs = [r for r in data["runs"] if r["cell"] == "lstm"]
    assert [p["step"] for p in runs[0]["curve"]] == [0, 3, 6]
    assert len(data["runs"]) == 2 * len(CELLS)


def test_a_seed_repeats_a_run_and_a_time_budget_stops_the_run():
    kw = dict(cells="gru", length=6, params=300, n_train=64, n_test=16, curve_samples=8)
    a = compare("recall", seeds=[5], budget_steps=3, **kw)
    b = compare("recall", seeds=[5], budget_steps=3, **kw)
    assert a.runs[0].metric == b.runs[0].metric
    assert [(p["metric"], p["loss"]) for p in a.runs[0].curve] == [(p["metric"], p["loss"]) for p in b.runs[0].curve]
    timed = compare("recall", seeds=1, budget_seconds=0.2, eval_every=1000, **kw)
    run = timed.runs[0]
    assert run.train_seconds >= 0.2 and run.steps >= 1
    assert timed.settings["budget_seconds"] == 0.2 and timed.settings["budget_steps"] is None


def test_the_copy_task_is_scored_on_the_copied_steps_only():
    task = make_task("copy", length=3, n_train=4, n_test=4)
    y = task.y_test
    probs = np.eye(10)[y]  # perfect everywhere
    assert score(task, probs, y) == 1.0
    probs[:, :-10] = np.eye(10)[9]  # wrong on the blanks: not counted
    assert score(task, probs, y) == 1.0
    probs[:, -1] = np.eye(10)[9]
    assert score(task, probs, y) == pytest.approx(0.9)


def test_bad_arguments_are_refused_with_the_valid_choices():
    with pytest.raises(UnknownNameError, match="unknown cell 'transformer'; expected one of: esn, gru, indrnn, lstm, mingru"):
        parse_cells("lstm,transformer")
    with pytest.raises(ConfigError, match="expected each cell once"):
        parse_cells(["lstm", "lstm"])
    with pytest.raises(ConfigError, match="exactly one of budget_steps and budget_seconds"):
        compare("adding", cells="rnn", budget_steps=2, budget_seconds=1.0)
    with pytest.raises(ConfigError, match="exactly one of budget_steps and budget_seconds"):
        compare("adding", cells="rnn")
    with pytest.raises(UnknownNameError, match="unknown task 'sorting'"):
        compare("sorting", cells="rnn", budget_steps=1)
    with pytest.raises(ConfigError, match="expected params to be an integer >= 1, got 0"):
        compare("adding", cells="rnn", budget_steps=1, params=0)


def test_the_mlp_has_no_memory_across_samples_and_sees_the_whole_window():
    task = make_task("adding", length=5, n_train=4, n_test=4)
    model = build_model("mlp", 3, task)
    x = torch.from_numpy(task.x_test)
    y = model(x)
    assert y.shape == (4, 1)
    torch.testing.assert_close(model(x[:1]), y[:1])


def test_saved_models_are_the_trained_networks(tmp_path):
    from recurra import load_model
    from recurra.compare.runs import _predict

    result = compare(
        "adding", cells="lstm,indrnn", length=7, seeds=[3], params=400, budget_steps=4, batch_size=16,
        n_train=64, n_test=24, layers=2, out=tmp_path, save_models=True,
    )  # fmt: skip
    task = make_task("adding", length=7, n_train=64, n_test=24)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["indrnn-seed3", "lstm-seed3"]
    for run in result.runs:
        model = load_model(tmp_path / "models" / f"{run.cell}-seed{run.seed}")
        assert sum(p.numel() for p in model.parameters()) == run.parameters
        assert score(task, _predict(model, task.x_test), task.y_test) == pytest.approx(run.metric, rel=1e-6)


def test_a_cosine_schedule_decays_over_the_step_budget():
    kw = dict(cells="rnn", length=6, seeds=[1], params=300, n_train=64, n_test=16, batch_size=16, curve_samples=8)
    one = [compare("adding", budget_steps=1, lr_schedule=s, **kw).runs[0].metric for s in (None, "cosine")]
    assert one[0] == one[1]  # the first step is taken at the full learning rate
    constant = compare("adding", budget_steps=4, **kw)
    cosine = compare("adding", budget_steps=4, lr_schedule="cosine", **kw)
    assert cosine.runs[0].metric != constant.runs[0].metric
    assert cosine.settings["lr_schedule"] == "cosine" and constant.settings["lr_schedule"] is None


def test_schedule_and_saving_arguments_are_checked():
    with pytest.raises(UnknownNameError, match="unknown learning-rate schedule of compare 'linear'; expected one of: cosine"):
        compare("adding", cells="rnn", budget_steps=2, lr_schedule="linear")
    with pytest.raises(ConfigError, match="decays over the step budget: give budget_steps"):
        compare("adding", cells="rnn", budget_seconds=1.0, lr_schedule="cosine")
    with pytest.raises(ConfigError, match="save_models=True writes the trained networks under out/models/: give out"):
        compare("adding", cells="rnn", budget_steps=2, save_models=True)


# -- results on disk as they come, and resuming -----------------------------------------------------


class _Watch(CompareMonitor):
    """Records what compare reports, and what results.json holds when each run finishes."""

    def __init__(self, results):
        self.results, self.started, self.steps, self.on_disk = results, [], 0, []

    def run_started(self, index, total, cell, seed):
        self.started.append((index, total, cell, seed))

    def run_progress(self, steps, seconds, metric):
        self.steps += 1

    def run_finished(self, run):
        self.on_disk.append(len(json.loads(self.results.read_text())["runs"]))


def test_every_finished_run_is_written_at_once_and_a_resume_skips_it(tmp_path):
    task = make_task("adding", length=6, n_train=32, n_test=8)
    watch = _Watch(tmp_path / "results.json")
    first = compare(task, cells="rnn", seeds=[0, 1], params=200, budget_steps=4, batch_size=8, out=tmp_path, monitor=watch)
    assert watch.on_disk == [1, 2] and watch.steps == 8
    assert [s[:2] for s in watch.started] == [(0, 2), (1, 2)]
    again = _Watch(tmp_path / "results.json")
    second = compare(task, cells="rnn,gru", seeds=[0, 1], params=200, budget_steps=4, batch_size=8, out=tmp_path,
                     resume=True, monitor=again)  # fmt: skip
    assert again.steps == 8  # only the two gru runs trained
    kept = [(r.cell, r.seed, r.metric, r.train_seconds) for r in second.runs[:2]]
    assert kept == [(r.cell, r.seed, r.metric, r.train_seconds) for r in first.runs]
    assert [r.cell for r in second.runs] == ["rnn", "rnn", "gru", "gru"]
    with pytest.raises(ConfigError, match=r"cannot resume from .*results.json: .*settings.budget_steps: 4 -> 5"):
        compare(task, cells="rnn", seeds=[0], params=200, budget_steps=5, batch_size=8, out=tmp_path, resume=True)
