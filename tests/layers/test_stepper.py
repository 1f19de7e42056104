"""Stepper and the cells' inference_step: one step at a time equals the layers over the whole sequence."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from recurra.errors import ConfigError, InputValueError
from recurra.layers import GRU, LSTM, Bidirectional, IndRNN, MinGRU, MinLSTM, SimpleRNN, Stepper

F, H = 3, 6

LAYERS = {
    "lstm": lambda f: LSTM(H, input_shape=(None, f)),
    "lstm-hard-sigmoid": lambda f: LSTM(H, recurrent_activation="hard_sigmoid", input_shape=(None, f)),
    "lstm-no-bias": lambda f: LSTM(H, use_bias=False, input_shape=(None, f)),
    "gru": lambda f: GRU(H, input_shape=(None, f)),
    "gru-reset-before": lambda f: GRU(H, reset_after=False, input_shape=(None, f)),
    "gru-no-bias": lambda f: GRU(H, use_bias=False, input_shape=(None, f)),
    "rnn-tanh": lambda f: SimpleRNN(H, input_shape=(None, f)),
    "rnn-relu": lambda f: SimpleRNN(H, activation="relu", input_shape=(None, f)),
    "rnn-direct": lambda f: SimpleRNN(H, feedback="direct", input_shape=(None, f)),
    "rnn-jordan": lambda f: SimpleRNN(H, feedback="indirect", output_units=4, input_shape=(None, f)),
    "indrnn": lambda f: IndRNN(H, input_shape=(None, f)),
    "indrnn-clamped": lambda f: IndRNN(H, recurrent_max=0.5, input_shape=(None, f)),
    "mingru": lambda f: MinGRU(H, input_shape=(None, f)),
    "minlstm": lambda f: MinLSTM(H, input_shape=(None, f)),
}


def _width(layer) -> int:
    return (
        layer.cell.zero_state(1, dtype=torch.float64, device="cpu")._asdict()[getattr(layer.cell, "output_state", "h")].shape[1]
    )


def _stack(name: str, depth: int) -> list:
    torch.manual_seed(0)
    layers, f = [], F
    for _ in range(depth):
        layer = LAYERS[name](f).double()
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(0.1 * torch.randn_like(p))  # biases away from zero, so that they count
        layers.append(layer)
        f = _width(layer)
    return layers


def _whole_sequence(layers: list, x: torch.Tensor) -> torch.Tensor:
    for layer in layers:
        layer.return_sequences = True
        x = layer(x)
    return x  # (B, T, H)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_inference_step_equals_the_reference_step(name):
    cell = _stack(name, 1)[0].cell
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, F, generator=g, dtype=torch.float64)
    state = cell.State(
        *(torch.randn(s.shape, generator=g, dtype=torch.float64) for s in cell.zero_state(4, dtype=torch.float64, device="cpu"))
    )
    fast = cell.inference_step(x, state)
    _, ref = cell.step(x, state)
    assert type(fast) is type(ref)
    for a, b in zip(fast, ref):
        assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_stepping_two_layers_equals_the_layers_over_the_sequence(name):
    layers = _stack(name, 2)
    x = torch.randn(3, 9, F, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        whole = _whole_sequence(layers, x)  # (B, T, H)
    stepper = Stepper(layers, batch=3)
    steps = torch.stack([stepper(x[:, t]) for t in range(x.shape[1])], 1)
    assert_close(steps, whole, atol=1e-12, rtol=0)


def test_reset_starts_again_and_given_states_are_used():
    layers = _stack("lstm", 1)
    x = torch.randn(2, 5, F, dtype=torch.float64)
    stepper = Stepper(layers, batch=2)
    first = [stepper(x[:, t]) for t in range(5)]
    stepper.reset()
    assert_close(stepper(x[:, 0]), first[0])
    layers[0].return_state, layers[0].return_sequences = True, False
    with torch.no_grad():
        _, h, c = layers[0](x[:, :3])
        expected = layers[0](x[:, 3:4], initial_state=[h, c])[0]
    stepper.reset([[h, c]])
    assert_close(stepper(x[:, 3]), expected, atol=1e-12, rtol=0)


def test_the_stepper_refuses_what_cannot_step():
    with pytest.raises(ConfigError, match="Bidirectional"):
        Stepper([Bidirectional(LSTM(4, return_sequences=True), input_shape=(None, 3))])
    with pytest.raises(ConfigError, match="go_backwards"):
        Stepper([LSTM(4, go_backwards=True, input_shape=(None, 3))])
    stepper = Stepper([LSTM(4, input_shape=(None, 3))], batch=2)
    with pytest.raises(InputValueError, match=r"expected one step of shape \(batch=2, features=3\), got \(2, 5\)"):
        stepper(torch.zeros(2, 5))
    with pytest.raises(InputValueError, match="dtype"):
        stepper(torch.zeros(2, 3, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("B", [1, 7], ids=["few-rows", "matrix-products"])
@pytest.mark.parametrize("name", ["lstm", "lstm-no-bias", "gru", "gru-no-bias"])
def test_the_compiled_step_equals_torch_cell_ops(name, B, dtype):
    from recurra.cells import step_kernel

    cell = _stack(name, 1)[0].cell.to(dtype)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(B, F, generator=g, dtype=dtype)
    state = cell.State(*(torch.randn(s.shape, generator=g, dtype=dtype) for s in cell.zero_state(B, dtype=dtype, device="cpu")))
    with torch.no_grad():
        assert step_kernel.usable(x, *state, *cell.parameters())
        fast = cell.inference_step(x, state)
        _, ref = cell.step(x, state)
    tol = 1e-12 if dtype == torch.float64 else 2e-6
    for a, b in zip(fast, ref):
        assert_close(a, b, atol=tol, rtol=0)
    if name.startswith("lstm"):
        theirs = torch.lstm_cell(x, tuple(state), cell.weight_ih, cell.weight_hh, cell.bias, None)
    else:
        theirs = (torch.gru_cell(x, state.h, cell.weight_ih, cell.weight_hh, cell.bias, cell.recurrent_bias),)
    for a, b in zip(fast, theirs):
        assert_close(a, b.detach(), atol=tol, rtol=0)


def test_with_gradients_the_step_is_torch_s_and_differentiable():
    from recurra.cells import step_kernel

    cell = _stack("lstm", 1)[0].cell
    x = torch.randn(2, F, dtype=torch.float64, requires_grad=True)
    state = cell.zero_state(2, dtype=torch.float64, device="cpu")
    assert not step_kernel.usable(x, *state, *cell.parameters())
    h, c = cell.inference_step(x, state)
    (h.sum() + c.sum()).backward()
    assert x.grad is not None and cell.weight_ih.grad is not None


def test_advance_layers_gives_the_same_for_blocks_of_one_and_more():
    from recurra.layers.stepper import advance_layers

    layers = _stack("gru", 2)
    for layer in layers:
        layer.return_sequences, layer.return_state = True, True
        layer.eval()
    x = torch.randn(2, 6, F, dtype=torch.float64)
    with torch.no_grad():
        whole, _ = advance_layers(layers, x, [None, None])
        states: list = [None, None]
        parts = []
        for a, b in ((0, 1), (1, 4), (4, 5), (5, 6)):  # blocks of one step and of three
            y, states = advance_layers(layers, x[:, a:b], states)
            parts.append(y)
    assert_close(torch.cat(parts, 1), whole, atol=1e-12, rtol=0)
