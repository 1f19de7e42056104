"""The Reservoir layer: kernels, masks, gradients, a trained Dense readout in a Sequential, saving."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import recurra
from recurra import Dense, Sequential
from recurra.cells.reservoir import kernel_available
from recurra.errors import ConfigError, InputValueError
from recurra.layers.reservoir import Reservoir
from tests.helpers import B, F, T, as_tuple, check_each_sequence_alone, mask_kwargs, mask_of
from tests.layers.harness import CHECKS, RESERVOIR_CASES

H = 8


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", RESERVOIR_CASES, ids=repr)
def test_harness(case, check):
    check(case)


def make(**kw) -> Reservoir:
    return Reservoir(H, spectral_radius=0.9, leak_rate=0.4, density=0.3, seed=2, input_shape=(None, F), **kw).double()


@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
def test_fast_kernel_matches_reference(return_sequences, go_backwards, with_initial_state):
    fast = make(return_sequences=return_sequences, go_backwards=go_backwards, return_state=True)
    ref = Reservoir.from_config(dict(fast.get_config(), implementation="reference")).double()
    x = torch.randn(B, T, F, dtype=torch.float64)
    init = 0.3 * torch.randn(B, H, dtype=torch.float64) if with_initial_state else None
    out_fast = fast(x, initial_state=init)
    assert fast.kernel == ("compiled" if kernel_available() else "torch")
    out_ref = ref(x, initial_state=init)
    assert ref.kernel == "reference"
    for a, b in zip(out_fast, out_ref):
        assert_close(a, b, atol=1e-13, rtol=0)


@pytest.mark.parametrize("mask_kind", ["lengths", "left", "holes"])
def test_masked_batches_give_each_sequence_its_own_numbers(mask_kind):
    layer = make(return_sequences=True, return_state=True)
    x = torch.randn(B, T, F, dtype=torch.float64)
    check_each_sequence_alone(layer, x, mask_of(mask_kind), mask_kwargs(mask_kind), reversed_output=False)
    layer(x, **mask_kwargs(mask_kind))
    assert layer.kernel == "reference"


def test_gradients_flow_to_the_input_through_the_reference_steps():
    layer = make(return_sequences=True)
    x = torch.randn(B, T, F, dtype=torch.float64, requires_grad=True)
    y = layer(x)
    assert layer.kernel == "reference"
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with torch.no_grad():
        assert_close(layer(x), y.detach(), atol=1e-13, rtol=0)
    assert layer.kernel != "reference"


def test_stateful_carries_the_state():
    layer = make(return_sequences=True, stateful=True)
    whole = make(return_sequences=True)
    x = torch.randn(B, T, F, dtype=torch.float64)
    first, second = layer(x[:, :3]), layer(x[:, 3:])
    assert_close(torch.cat([first, second], 1), whole(x), atol=1e-13, rtol=0)


def test_sequential_fit_trains_only_the_dense_readout(tmp_path):
    t = np.linspace(0, 30, 301, dtype=np.float32)
    u, v = np.sin(t)[None, :-1, None], np.sin(t)[None, 1:, None]  # (1, 300, 1): next value of a sine
    model = Sequential([Reservoir(40, leak_rate=0.5, return_sequences=True, seed=0, input_shape=(None, 1)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    reservoir = model.layers[0]
    buffers = {k: v.clone() for k, v in reservoir.state_dict().items()}
    dense = [p.detach().clone() for p in model.layers[1].parameters()]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 40 + 1  # the Dense alone
    history = model.fit(u, v, epochs=5, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(torch.equal(v, reservoir.state_dict()[k]) for k, v in buffers.items())  # the reservoir is untouched
    assert all(not torch.equal(a, p) for a, p in zip(dense, model.layers[1].parameters()))  # the readout trained
    assert reservoir.kernel in ("compiled", "torch")

    model.save(tmp_path / "m")
    loaded = recurra.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(u), model.predict(u))
    assert torch.equal(loaded.layers[0].cell.W, reservoir.cell.W)


def test_config_keeps_the_drawn_seed_and_only_reservoir_options():
    torch.manual_seed(8)
    layer = Reservoir(5)
    config = layer.get_config()
    assert isinstance(config["seed"], int) and config["seed"] == layer.seed
    assert "activation" not in config and "dropout" not in config
    clone = Reservoir.from_config(config)
    x = torch.randn(2, 4, 3)
    assert torch.equal(clone(x), layer(x))


def test_errors():
    with pytest.raises(ConfigError, match=r"expected spectral_radius > 0, got 0"):
        Reservoir(4, spectral_radius=0)
    with pytest.raises(ConfigError, match=r"expected units to be a positive integer, got -1"):
        Reservoir(-1)
    with pytest.raises(ConfigError, match=r"Reservoir expected input_shape=\(timesteps, features\), got \(3,\)"):
        Reservoir(4, input_shape=(3,))
    layer = make()
    with pytest.raises(
        InputValueError, match=r"Reservoir expected input of dtype torch.float64 \(its matrices\), got torch.float32"
    ):
        layer(torch.zeros(2, 3, F))
    fused_only = make(implementation="fused", return_sequences=True)
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run a mask"):
        fused_only(torch.zeros(B, T, F, dtype=torch.float64), **mask_kwargs("holes"))
    assert as_tuple(fused_only(torch.zeros(B, T, F, dtype=torch.float64)))[0].shape == (B, T, H)
