"""Shared pytest configuration: every test starts from the same random state.

``recurra.errors.RecurraWarning`` is turned into an error by pyproject's ``filterwarnings``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch


def pytest_configure(config):
    # The tensors in these tests are tiny: one thread is faster than several fighting over 2 cores.
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_seeds():
    """Seed torch (and numpy's legacy global generator) before each test; restore the default dtype after."""
    torch.manual_seed(0)
    np.random.seed(0)
    dtype = torch.get_default_dtype()
    yield
    torch.set_default_dtype(dtype)


@pytest.fixture
def rng() -> np.random.Generator:
    """A numpy generator with a fixed seed, for test data and Keras-layout weights."""
    return np.random.default_rng(1234)
