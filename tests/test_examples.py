"""Every script in examples/ runs to the end and reaches the result it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each script trains for real

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# script -> the smallest held-out accuracy it must print
FLOORS = {"keras_seed_example.py": 0.8, "variable_length_tokens.py": 0.85, "keyboard.py": 0.12, "names.py": 0.2}


# scripts checked by their own test below
OWN_TESTS = {"forecast_airline.py", "esn_mackey_glass.py", "vanishing_gradient.py"}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted({*FLOORS, *OWN_TESTS})


@pytest.mark.parametrize("script", sorted(FLOORS))
def test_example_runs(script):
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(r"held-out accuracy: ([0-9.]+)", done.stdout)
    assert found, done.stdout[-2000:]
    assert float(found.group(1)) >= FLOORS[script]


def test_forecast_example_runs(tmp_path):
    script = EXAMPLES / "forecast_airline.py"
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in (r"held-out MASE / seasonal naive's: [0-9.]+", r"held-out 90% interval coverage: [0-9.]+", r"1961-12-01"):
        assert re.search(line, done.stdout), done.stdout[-2000:]
    assert (tmp_path / "airline_forecast.png").is_file() and (tmp_path / "airline_model" / "config.json").is_file()


def test_esn_example_generates_mackey_glass_in_closed_loop(tmp_path):
    script = EXAMPLES / "esn_mackey_glass.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    one_step = re.search(r"one-step NRMSE on s\[4000:5000\]: ([0-9.e+-]+)", done.stdout)
    closed = re.search(r"closed-loop NRMSE over 500 steps: ([0-9.e+-]+)", done.stdout)
    assert one_step and closed, done.stdout[-2000:]
    assert float(one_step.group(1)) < 1e-3 and float(closed.group(1)) < 0.02  # the figures
    assert (tmp_path / "mackey_glass.png").is_file()


def test_vanishing_gradient_example_shows_the_lstm_carrying_the_gradient(tmp_path):
    script = EXAMPLES / "vanishing_gradient.py"
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    line = r"{}: test MSE ([0-9.]+); orders of magnitude the gradient loses over the 100 steps: "
    line += r"([0-9.-]+) at initialisation, ([0-9.-]+) trained"
    rnn = re.search(line.format(r"SimpleRNN\(32\)"), done.stdout)
    lstm = re.search(line.format(r"LSTM\(16\)"), done.stdout)
    assert rnn and lstm, done.stdout[-2000:]
    assert float(lstm.group(1)) < 0.01 and float(rnn.group(1)) > 0.1  # the LSTM solves T=100, the simple RNN does not
    assert float(rnn.group(3)) - float(lstm.group(3)) > 3  # trained: > 3 orders more decay for the simple RNN
    assert (tmp_path / "vanishing_gradient.png").is_file()
