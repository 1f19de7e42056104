"""Every script in examples/ runs to the end and reaches the result it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# script -> the smallest held-out accuracy it must print
FLOORS = {"keras_seed_example.py": 0.8, "variable_length_tokens.py": 0.85}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(FLOORS)


@pytest.mark.parametrize("script", sorted(FLOORS))
def test_example_runs(script):
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(r"held-out accuracy: ([0-9.]+)", done.stdout)
    assert found, done.stdout[-2000:]
    assert float(found.group(1)) >= FLOORS[script]
