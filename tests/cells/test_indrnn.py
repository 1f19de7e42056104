"""IndRNNCell / IndRNN: h_t = act(W x_t + u ⊙ h_{t-1} + b), u a vector."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import IndRNN
from recurra.cells import IndRNNCell, IndRNNState
from recurra.errors import ConfigError
from recurra.initializers import Constant
from tests.helpers import MASK_KINDS, B, F, H, T, as_tuple, gradcheck_step, mask_kwargs, randomize, twin


def numpy_indrnn(xs, W, u, b, h, act=lambda v: np.maximum(v, 0.0)):
    """The docstring's equation, ``h = act(W x_t + u ⊙ h + b)``, over ``xs (T, B, F)``."""
    out = []
    for x_t in xs:
        h = act(x_t @ W.T + u * h + b)
        out.append(h)
    return out


def check_fast_matches_reference(
    cls,
    *,
    kernel: str,
    return_sequences: bool,
    go_backwards: bool,
    mask_kind: str,
    with_initial_state: bool,
    use_bias: bool = True,
    positive_initial_state: bool = False,
    **kwargs,
) -> None:
    """A fast kernel of ``cls`` equals the reference loop on outputs, states and every gradient (float64)."""
    rng = np.random.default_rng(7)
    fast = cls(
        H,
        return_sequences=return_sequences,
        return_state=True,
        go_backwards=go_backwards,
        use_bias=use_bias,
        input_shape=(None, F),
        **kwargs,
    ).double()
    randomize(fast, rng)
    if fast.cell.activation == "relu" and use_bias:
        with torch.no_grad():
            fast.cell.bias += 0.5  # fewer dead relu units: every weight then gets a gradient to compare
    ref = twin(fast, implementation="reference")

    x = torch.tensor(rng.normal(size=(B, T, F)), requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    init = init_ref = None
    if with_initial_state:
        h0 = rng.uniform(0.1, 1.0, size=(B, H)) if positive_initial_state else rng.normal(0, 0.5, size=(B, H))
        init = [torch.tensor(h0, requires_grad=True)]
        init_ref = [s.detach().clone().requires_grad_() for s in init]

    out_f = as_tuple(fast(x, initial_state=init, **mask_kwargs(mask_kind)))
    assert fast.kernel == kernel
    out_r = as_tuple(ref(x_ref, initial_state=init_ref, **mask_kwargs(mask_kind)))
    assert ref.kernel == "reference"

    assert len(out_f) == len(out_r) == 2
    assert out_f[0].shape == ((B, T, H) if return_sequences else (B, H))
    for a, b in zip(out_f, out_r):
        assert a.dtype == torch.float64
        assert_close(a, b, atol=1e-10, rtol=0)

    sum((o * (1.0 + 0.1 * i)).sum() for i, o in enumerate(out_f)).backward()
    sum((o * (1.0 + 0.1 * i)).sum() for i, o in enumerate(out_r)).backward()
    names = [n for n, _ in fast.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()] and names
    for (name, p), q in zip(fast.named_parameters(), ref.parameters()):
        assert p.grad is not None and p.grad.abs().sum() > 0, name
        assert_close(p.grad, q.grad, atol=1e-10, rtol=0, msg=lambda m, name=name: f"gradient of {name}: {m}")
    assert_close(x.grad, x_ref.grad, atol=1e-10, rtol=0)
    if with_initial_state:
        assert_close(init[0].grad, init_ref[0].grad, atol=1e-10, rtol=0)


@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("with_initial_state", [False, True], ids=["zero0", "init0"])
@pytest.mark.parametrize("mask_kind", MASK_KINDS)
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["seq", "last"])
def test_compiled_matches_reference(return_sequences, go_backwards, mask_kind, with_initial_state, use_bias):
    check_fast_matches_reference(
        IndRNN,
        kernel="compiled",
        return_sequences=return_sequences,
        go_backwards=go_backwards,
        mask_kind=mask_kind,
        with_initial_state=with_initial_state,
        use_bias=use_bias,
    )


@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_other_kernel_activations_match_reference(activation):
    check_fast_matches_reference(
        IndRNN,
        kernel="compiled",
        activation=activation,
        return_sequences=True,
        go_backwards=False,
        mask_kind="holes",
        with_initial_state=True,
    )


def test_torch_loop_matches_reference(monkeypatch):
    """Where the compiled loop is not used (other devices, no compiler) the torch loop runs."""
    import recurra.layers.indrnn as module

    monkeypatch.setattr(module, "use_compiled", lambda x: False)
    check_fast_matches_reference(
        IndRNN, kernel="elementwise", return_sequences=True, go_backwards=True, mask_kind="left", with_initial_state=True
    )


def test_recurrent_max_clamps_in_both_kernels():
    layer = IndRNN(4, return_sequences=True, recurrent_max=0.5, input_shape=(None, 2)).double()
    with torch.no_grad():
        layer.cell.weight_hh.copy_(torch.tensor([0.2, 0.9, -3.0, 0.5], dtype=torch.float64))
    assert torch.equal(layer.cell.recurrent_weight(), torch.tensor([0.2, 0.5, -0.5, 0.5], dtype=torch.float64))
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    ref = twin(layer, implementation="reference")
    # the same as an unconstrained layer holding the clamped weights
    plain = twin(layer, recurrent_max=None)
    with torch.no_grad():
        plain.cell.weight_hh.copy_(layer.cell.recurrent_weight())
    for lay in (layer, ref):
        y = lay(x)
        assert_close(y, plain(x), atol=1e-12, rtol=0)
        y.sum().backward()
        g = lay.cell.weight_hh.grad
        assert g[1] == 0 and g[2] == 0  # out of range: no gradient
        assert g[0] != 0
    assert_close(layer.cell.weight_hh.grad, ref.cell.weight_hh.grad, atol=1e-12, rtol=0)


def test_default_initialisation_follows_the_paper():
    torch.manual_seed(0)
    u = IndRNN(500, input_shape=(None, 2)).cell.weight_hh.detach()
    assert 0.0 <= float(u.min()) and float(u.max()) <= 1.0 and float(u.max()) > 0.95
    bound = 2 ** (1 / 100)
    u = IndRNN(500, recurrent_max=bound, input_shape=(None, 2)).cell.weight_hh.detach()
    assert 0.0 <= float(u.min()) and float(u.max()) <= bound and float(u.max()) > 1.0
    u = IndRNN(5, recurrent_initializer=Constant(-0.3), input_shape=(None, 2)).cell.weight_hh
    assert torch.equal(u, torch.full((5,), -0.3))
    assert torch.count_nonzero(IndRNN(5, input_shape=(None, 2)).cell.bias) == 0


def test_constant_initialisers_golden():
    cell = IndRNNCell(
        2,
        3,
        kernel_initializer=Constant(0.2),
        recurrent_initializer=Constant(-0.5),
        bias_initializer=Constant(0.1),
        dtype=torch.float64,
    )
    xs = np.array([[[1.0, -2.0], [0.5, 0.25]], [[0.1, 3.0], [-1.0, 1.0]], [[2.0, 2.0], [0.0, -0.5]]])  # (T, B, F)
    expected = numpy_indrnn(xs, np.full((3, 2), 0.2), np.full(3, -0.5), np.full(3, 0.1), np.zeros((2, 3)))
    # by hand, sequence 1: h0 = relu(0.2*0.75 + 0.1) = 0.25; h1 = relu(0.2*0 - 0.125 + 0.1) = 0; h2 = relu(-0.1 + 0.1) = 0
    np.testing.assert_allclose([e[1, 0] for e in expected], [0.25, 0.0, 0.0], atol=1e-15)
    state = cell.zero_state(2, dtype=torch.float64, device="cpu")
    for x_t, h in zip(xs, expected):
        y, state = cell.step(torch.from_numpy(x_t), state)
        assert isinstance(state, IndRNNState) and torch.equal(state.h, y)
        np.testing.assert_allclose(y.detach().numpy(), h, rtol=0, atol=1e-14)


@pytest.mark.parametrize("implementation", ["auto", "reference"])
def test_keras_weights_golden(rng, implementation):
    """Keras layout ``[kernel (F, H), recurrent_kernel (H,), bias (H,)]`` through the whole layer."""
    layer = IndRNN(H, return_sequences=True, implementation=implementation, input_shape=(None, F)).double()
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [(F, H), (H,), (H,)]
    kernel, u, b = rng.normal(size=(F, H)), rng.uniform(-1, 1, size=H), rng.normal(size=H)
    layer.set_weights([kernel, u, b])
    assert torch.equal(layer.cell.weight_ih, torch.from_numpy(kernel.T.copy()))
    xs = rng.normal(size=(T, B, F))
    h0 = rng.normal(size=(B, H))
    expected = np.stack(numpy_indrnn(xs, kernel.T, u, b, h0), 1)
    y = layer(torch.from_numpy(xs.transpose(1, 0, 2).copy()), initial_state=[torch.from_numpy(h0)])
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=0, atol=1e-12)


def test_gradcheck_reference_step():
    cell = IndRNNCell(3, 2, activation="tanh", recurrent_max=0.9, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_(0, 0.3)
    assert gradcheck_step(cell)
    assert gradcheck_step(cell, recurrent_mask=torch.tensor([[0.0, 2.0], [2.0, 2.0]], dtype=torch.float64))


def test_recurrent_mask_multiplies_h_prev():
    cell = IndRNNCell(3, 2, dtype=torch.float64)
    x, h = torch.randn(2, 3, dtype=torch.float64), torch.rand(2, 2, dtype=torch.float64)
    m = torch.tensor([[0.0, 2.0], [2.0, 0.0]], dtype=torch.float64)
    assert torch.equal(cell.step(x, IndRNNState(h), m)[0], cell.step(x, IndRNNState(h * m))[0])


def test_kernel_choice():
    x = torch.randn(2, 4, 3)
    assert IndRNNCell(3, 2).fused_reason() is None
    layer = IndRNN(2, activation="sigmoid")
    layer(x)
    assert layer.kernel == "reference"
    with pytest.raises(ConfigError, match=r"implementation='fused' cannot run activation 'sigmoid'"):
        IndRNN(2, activation="sigmoid", implementation="fused", input_shape=(None, 3))
    layer = IndRNN(2, recurrent_dropout=0.3)
    layer.train()
    layer(x)
    assert layer.kernel == "reference"
    layer.eval()
    layer(x)
    assert layer.kernel == "compiled"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, r"expected units to be a positive integer, got 0"),
        ({"units": -3}, r"expected units to be a positive integer, got -3"),
        ({"units": 4, "recurrent_max": 0}, r"expected recurrent_max to be a positive number or None, got 0"),
        ({"units": 4, "recurrent_max": -1.5}, r"got -1.5"),
        ({"units": 4, "recurrent_max": float("inf")}, r"got inf"),
        ({"units": 4, "recurrent_max": True}, r"got True"),
        ({"units": 4, "recurrent_max": "2"}, r"got '2'"),
        ({"units": 4, "implementation": "scan"}, r"expected implementation in"),
        ({"units": 4, "dropout": 1.0}, r"expected dropout in \[0, 1\)"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        IndRNN(**kwargs)
