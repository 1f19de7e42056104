"""The GRU's compiled CPU loop: the same numbers and gradients as torch.gru (and so as the reference
equations, which test_gru.py checks against the fused path)."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from recurra import GRU
from recurra.cells import gru_kernel


def _weights(F: int, H: int, dtype: torch.dtype, bias: bool, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shapes = [(3 * H, F), (3 * H, H)] + ([(3 * H,), (3 * H,)] if bias else [])
    return [(0.5 * torch.randn(s, generator=g, dtype=dtype)).requires_grad_() for s in shapes]


def _torch_gru(x, h0, weights):
    y, h = torch.gru(x, h0[None], weights, len(weights) == 4, 1, 0.0, False, False, True)
    return y, h[0]


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)], ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("which", ["sequence", "last", "both"])
def test_the_compiled_loop_equals_torch_gru_in_values_and_gradients(dtype, tol, bias, which):
    assert gru_kernel.usable(torch.zeros(1, dtype=dtype))
    B, T, F, H = 6, 13, 5, 19  # H not a multiple of any vector width
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, F, generator=g, dtype=dtype, requires_grad=True)
    h0 = (0.5 * torch.randn(B, H, generator=g, dtype=dtype)).requires_grad_()
    weights = _weights(F, H, dtype, bias)
    y_ref, h_ref = _torch_gru(x, h0, weights)
    y, h = gru_kernel.gru_sequence(x, h0, *weights, *([None, None] if not bias else []))
    assert_close(y, y_ref, atol=tol, rtol=tol)
    assert_close(h, h_ref, atol=tol, rtol=tol)
    gy = torch.randn(B, T, H, generator=g, dtype=dtype)
    gh = torch.randn(B, H, generator=g, dtype=dtype)

    def loss(y_, h_):
        return {"sequence": (y_ * gy).sum(), "last": (h_ * gh).sum(), "both": (y_ * gy).sum() + (h_ * gh).sum()}[which]

    inputs = [x, h0, *weights]
    expected = torch.autograd.grad(loss(y_ref, h_ref), inputs)
    got = torch.autograd.grad(loss(y, h), inputs)
    for name, a, b in zip(["x", "h0", "W_ih", "U", "b_ih", "b_hh"], got, expected):
        assert_close(a, b, atol=10 * tol, rtol=10 * tol, msg=lambda m, name=name: f"d{name}: {m}")


def test_gradcheck_in_float64():
    gru_kernel.usable(torch.zeros(1))
    B, T, F, H = 3, 5, 2, 4
    x = torch.randn(B, T, F, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)
    weights = _weights(F, H, torch.float64, bias=True)
    assert torch.autograd.gradcheck(lambda *a: gru_kernel.gru_sequence(*a), (x, h0, *weights))


def test_without_gradients_the_loop_gives_the_same_numbers():
    gru_kernel.usable(torch.zeros(1))
    x, h0 = torch.randn(4, 9, 3), torch.randn(4, 7)
    weights = _weights(3, 7, torch.float32, bias=True)
    with torch.no_grad():
        y, h = gru_kernel.gru_sequence(x, h0, *weights)
    y2, h2 = gru_kernel.gru_sequence(x, h0, *weights)
    assert not y.requires_grad and y2.requires_grad
    assert torch.equal(y, y2.detach()) and torch.equal(h, h2.detach()) and torch.equal(h, y[:, -1])


def test_the_layer_runs_the_compiled_loop_on_the_cpu_and_torch_gru_otherwise(monkeypatch):
    layer = GRU(5, return_sequences=True, input_shape=(None, 3))
    x = torch.randn(2, 6, 3)
    calls = []
    real = gru_kernel.gru_packed_sequence  # a dense batch runs as a packed one with every row active
    monkeypatch.setattr(gru_kernel, "gru_packed_sequence", lambda *a: calls.append(1) or real(*a))
    y = layer(x)
    assert layer.kernel == "fused" and calls == [1]
    assert not gru_kernel.usable(x.to(torch.bfloat16))  # other dtypes: torch.gru
    assert not gru_kernel.usable(x.to(torch.int64))
    calls.clear()
    y16 = layer.to(torch.bfloat16)(x.to(torch.bfloat16))
    assert calls == [] and y16.dtype == torch.bfloat16
    assert_close(y16.float(), y, atol=0.05, rtol=0.05)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)], ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_packed_sequences_equal_torch_gru_in_values_and_gradients(dtype, tol, bias):
    from torch.nn.utils.rnn import pack_padded_sequence

    assert gru_kernel.usable(torch.zeros(1, dtype=dtype))
    B, T, F, H = 6, 9, 4, 13
    g = torch.Generator().manual_seed(2)
    x = torch.randn(B, T, F, generator=g, dtype=dtype)
    packed = pack_padded_sequence(x, torch.tensor([9, 2, 5, 1, 9, 4]), batch_first=True, enforce_sorted=False)
    data = packed.data.clone().requires_grad_()
    h0 = (0.5 * torch.randn(B, H, generator=g, dtype=dtype)).requires_grad_()
    weights = _weights(F, H, dtype, bias)
    y_ref, h_ref = torch.gru(data, packed.batch_sizes, h0[None], weights, bias, 1, 0.0, False, False)
    y, h = gru_kernel.gru_packed_sequence(data, packed.batch_sizes, h0, *weights, *([None, None] if not bias else []))
    assert_close(y, y_ref, atol=tol, rtol=tol)
    assert_close(h, h_ref[0], atol=tol, rtol=tol)
    gy = torch.randn(y.shape, generator=g, dtype=dtype)
    gh = torch.randn(h.shape, generator=g, dtype=dtype)
    inputs = [data, h0, *weights]
    expected = torch.autograd.grad((y_ref * gy).sum() + (h_ref[0] * gh).sum(), inputs)
    got = torch.autograd.grad((y * gy).sum() + (h * gh).sum(), inputs)
    for name, a, b in zip(["data", "h0", "W_ih", "U", "b_ih", "b_hh"], got, expected):
        assert_close(a, b, atol=10 * tol, rtol=10 * tol, msg=lambda m, name=name: f"d{name}: {m}")


def test_the_loop_refuses_batch_sizes_that_do_not_describe_the_rows():
    assert gru_kernel.usable(torch.zeros(1))
    data, h0 = torch.randn(5, 2), torch.zeros(2, 3)
    weights = [w.detach() for w in _weights(2, 3, torch.float32, bias=True)]
    for sizes, message in (([2, 2], "do not add up"), ([1, 2, 2], "batch_sizes\\[0\\] == B"), ([2, 1, 2], "non-increasing")):
        with pytest.raises(RuntimeError, match=message):
            gru_kernel.gru_packed_sequence(data, torch.tensor(sizes), h0, *weights)
