"""The LSTM's compiled CPU loop: the same numbers and gradients as torch.lstm and as the reference step,
dense and packed, with initial states; through the layers, ``recurra.nn.LSTM``, torch.compile and export."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from torch.testing import assert_close

import recurra
from recurra import LSTM, layers
from recurra.cells import LSTMCell, lstm_kernel
from recurra.cells.lstm import COMPILED_MAX_UNITS, fused_lstm_kernel
from tests.helpers import mask_kwargs, randomize

TOLERANCES = [(torch.float64, 1e-12), (torch.float32, 2e-6)]


@pytest.fixture(autouse=True, scope="module")
def _built():
    assert lstm_kernel.usable(torch.zeros(1)), "the compiled LSTM loop did not build"


def _weights(F: int, H: int, dtype: torch.dtype, bias: bool, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shapes = [(4 * H, F), (4 * H, H)] + ([(4 * H,), (4 * H,)] if bias else [])
    return [(0.5 * torch.randn(s, generator=g, dtype=dtype)).requires_grad_() for s in shapes]


def _states(B: int, H: int, dtype: torch.dtype, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple((0.5 * torch.randn(B, H, generator=g, dtype=dtype)).requires_grad_() for _ in range(2))


def _grads_equal(got, expected, names, tol):
    for name, a, b in zip(names, got, expected):
        assert_close(a, b, atol=10 * tol, rtol=10 * tol, msg=lambda m, name=name: f"d{name}: {m}")


@pytest.mark.parametrize("dtype,tol", TOLERANCES, ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("which", ["sequence", "h", "c", "all"])
def test_the_compiled_loop_equals_torch_lstm_in_values_and_gradients(dtype, tol, bias, which):
    B, T, F, H = 6, 13, 5, 19  # H not a multiple of any vector width
    g = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, F, generator=g, dtype=dtype, requires_grad=True)
    h0, c0 = _states(B, H, dtype, g)
    weights = _weights(F, H, dtype, bias)
    y_ref, h_ref, c_ref = torch.lstm(x, (h0[None], c0[None]), weights, bias, 1, 0.0, False, False, True)
    y, h, c = lstm_kernel.lstm_sequence(x, h0, c0, *weights, *([] if bias else [None, None]))
    for a, b in ((y, y_ref), (h, h_ref[0]), (c, c_ref[0])):
        assert_close(a, b, atol=tol, rtol=tol)
    gy, gh, gc = (torch.randn(t.shape, generator=g, dtype=dtype) for t in (y, h, c))

    def loss(y_, h_, c_):
        terms = {"sequence": (y_ * gy).sum(), "h": (h_ * gh).sum(), "c": (c_ * gc).sum()}
        return sum(terms.values()) if which == "all" else terms[which]

    inputs = [x, h0, c0, *weights]
    expected = torch.autograd.grad(loss(y_ref, h_ref[0], c_ref[0]), inputs)
    got = torch.autograd.grad(loss(y, h, c), inputs)
    _grads_equal(got, expected, ["x", "h0", "c0", "W_ih", "U", "b_ih", "b_hh"], tol)


@pytest.mark.parametrize("dtype,tol", TOLERANCES, ids=["f64", "f32"])
@pytest.mark.parametrize("B,H", [(13, 16), (7, 40), (20, 64), (3, 80), (1, 8), (8, 24), (16, 19), (40, 8)])
def test_the_register_tiles_cover_every_row_and_unit(dtype, tol, B, H):
    """Rows in tiles of 6 (AVX-512) or 2 (AVX2) and the rest; units in vectors of 16/8/4 lanes, whole or with a
    tail, the backward's columns in groups of four vectors and the rest; the weights' gradients at the end or
    step by step (8 rows or more per thread): each shape against torch.lstm."""
    T, F = 5, 3
    g = torch.Generator().manual_seed(B * H)
    x = torch.randn(B, T, F, generator=g, dtype=dtype, requires_grad=True)
    h0, c0 = _states(B, H, dtype, g)
    weights = _weights(F, H, dtype, bias=True)
    y_ref, h_ref, c_ref = torch.lstm(x, (h0[None], c0[None]), weights, True, 1, 0.0, False, False, True)
    y, h, c = lstm_kernel.lstm_sequence(x, h0, c0, *weights)
    for a, b in ((y, y_ref), (h, h_ref[0]), (c, c_ref[0])):
        assert_close(a, b, atol=tol, rtol=tol)
    gy, gh = torch.randn(y.shape, generator=g, dtype=dtype), torch.randn(h.shape, generator=g, dtype=dtype)
    inputs = [x, h0, c0, *weights]
    expected = torch.autograd.grad((y_ref * gy).sum() + (h_ref[0] * gh).sum(), inputs)
    got = torch.autograd.grad((y * gy).sum() + (h * gh).sum(), inputs)
    _grads_equal(got, expected, ["x", "h0", "c0", "W_ih", "U", "b_ih", "b_hh"], tol)


@pytest.mark.parametrize("layout", ["batch-first", "time-major", "expanded", "sliced"])
def test_the_output_gradient_is_read_as_it_lies(layout):
    """The backward reads a (T, B, H) gradient with any strides along T and B without copying it; other layouts
    (a sum's expanded gradient, a slice's along H) are made contiguous first: the same gradients every way."""
    B, T, F, H = 4, 6, 3, 8
    g = torch.Generator().manual_seed(3)
    x = torch.randn(B, T, F, generator=g, dtype=torch.float64, requires_grad=True)
    h0, c0 = _states(B, H, torch.float64, g)
    weights = _weights(F, H, torch.float64, bias=True)
    y_ref = torch.lstm(x, (h0[None], c0[None]), weights, True, 1, 0.0, False, False, True)[0]
    y = lstm_kernel.lstm_sequence(x, h0, c0, *weights)[0]
    w = torch.randn(B, T, H, generator=g, dtype=torch.float64)
    losses = {
        "batch-first": lambda out: (out * w).sum(),
        "time-major": lambda out: (out.transpose(0, 1) * w.transpose(0, 1).contiguous()).sum(),
        "expanded": lambda out: out.sum(),
        "sliced": lambda out: out[..., ::2].sum(),
    }
    inputs = [x, h0, c0, *weights]
    expected = torch.autograd.grad(losses[layout](y_ref), inputs)
    got = torch.autograd.grad(losses[layout](y), inputs)
    _grads_equal(got, expected, ["x", "h0", "c0", "W_ih", "U", "b_ih", "b_hh"], 1e-12)


def test_the_compiled_loop_equals_the_reference_step_in_float64():
    """``LSTMCell.step`` (the equations as written) step by step against the loop: 1e-12, every gradient."""
    B, T, F, H = 3, 7, 4, 6
    cell = LSTMCell(F, H, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.normal_(0, 0.5)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(B, T, F, generator=g, dtype=torch.float64, requires_grad=True)
    h0, c0 = _states(B, H, torch.float64, g)
    state, ys = cell.State(h0, c0), []
    for t in range(T):
        y_t, state = cell.step(x[:, t], state)
        ys.append(y_t)
    y_ref = torch.stack(ys, 1)  # (B, T, H)
    y, h, c = lstm_kernel.lstm_sequence(x, h0, c0, cell.weight_ih, cell.weight_hh, cell.bias, None)
    for a, b in ((y, y_ref), (h, state.h), (c, state.c)):
        assert_close(a, b, atol=1e-12, rtol=0)
    weights = torch.randn(B, T, H, generator=g, dtype=torch.float64)
    inputs = [x, h0, c0, *cell.parameters()]
    expected = torch.autograd.grad((y_ref * weights).sum() + state.c.sum(), inputs)
    got = torch.autograd.grad((y * weights).sum() + c.sum(), inputs)
    for a, b in zip(got, expected):
        assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("B,T,F,H", [(3, 5, 2, 4), (1, 1, 1, 1), (3, 1, 2, 17)], ids=["small", "one-step-one-row", "one-step"])
def test_gradcheck_in_float64(B, T, F, H):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(B, T, F, generator=g, dtype=torch.float64, requires_grad=True)
    h0, c0 = _states(B, H, torch.float64, g)
    weights = _weights(F, H, torch.float64, bias=True)
    assert torch.autograd.gradcheck(lambda *a: lstm_kernel.lstm_sequence(*a), (x, h0, c0, *weights))


def test_gradcheck_of_a_packed_batch_in_float64():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 4, 2, generator=g, dtype=torch.float64)
    packed = pack_padded_sequence(x, torch.tensor([4, 1, 3]), batch_first=True, enforce_sorted=False)
    data = packed.data.clone().requires_grad_()
    h0, c0 = _states(3, 3, torch.float64, g)
    weights = _weights(2, 3, torch.float64, bias=True)

    def run(*a):
        return lstm_kernel.lstm_packed_sequence(a[0], packed.batch_sizes, *a[1:])

    assert torch.autograd.gradcheck(run, (data, h0, c0, *weights))


def test_without_gradients_the_loop_gives_the_same_numbers():
    x, h0, c0 = torch.randn(4, 9, 3), torch.randn(4, 7), torch.randn(4, 7)
    weights = _weights(3, 7, torch.float32, bias=True)
    with torch.no_grad():
        y, h, c = lstm_kernel.lstm_sequence(x, h0, c0, *weights)
    y2, h2, c2 = lstm_kernel.lstm_sequence(x, h0, c0, *weights)
    assert not y.requires_grad and y2.requires_grad
    assert torch.equal(y, y2.detach()) and torch.equal(h, h2.detach()) and torch.equal(c, c2.detach())
    assert torch.equal(h, y[:, -1])


@pytest.mark.parametrize("dtype,tol", TOLERANCES, ids=["f64", "f32"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize(
    "lengths", [[9, 2, 5, 1, 9, 4], [9, 2, 5, 1, 9, 4, 7, 3, 8, 1, 6, 2, 9, 5, 3, 9, 1, 4, 8, 2]], ids=["6-rows", "20-rows"]
)
def test_packed_sequences_equal_torch_lstm_in_values_and_gradients(dtype, tol, bias, lengths):
    """With 20 rows and two threads, each thread's rows drop out at their own steps (and each thread adds up
    its share of the weights' gradients step by step)."""
    B, T, F, H = len(lengths), 9, 4, 13
    g = torch.Generator().manual_seed(2)
    x = torch.randn(B, T, F, generator=g, dtype=dtype)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    data = packed.data.clone().requires_grad_()
    h0, c0 = _states(B, H, dtype, g)
    weights = _weights(F, H, dtype, bias)
    y_ref, h_ref, c_ref = torch.lstm(data, packed.batch_sizes, (h0[None], c0[None]), weights, bias, 1, 0.0, False, False)
    y, h, c = lstm_kernel.lstm_packed_sequence(data, packed.batch_sizes, h0, c0, *weights, *([None, None] if not bias else []))
    for a, b in ((y, y_ref), (h, h_ref[0]), (c, c_ref[0])):
        assert_close(a, b, atol=tol, rtol=tol)
    gy, gh, gc = (torch.randn(t.shape, generator=g, dtype=dtype) for t in (y, h, c))
    inputs = [data, h0, c0, *weights]
    expected = torch.autograd.grad((y_ref * gy).sum() + (h_ref[0] * gh).sum() + (c_ref[0] * gc).sum(), inputs)
    got = torch.autograd.grad((y * gy).sum() + (h * gh).sum() + (c * gc).sum(), inputs)
    torch.set_num_threads(threads)
    _grads_equal(got, expected, ["data", "h0", "c0", "W_ih", "U", "b_ih", "b_hh"], tol)


def test_the_loop_refuses_batch_sizes_that_do_not_describe_the_rows():
    data, h0 = torch.randn(5, 2), torch.zeros(2, 3)
    weights = [w.detach() for w in _weights(2, 3, torch.float32, bias=True)]
    for sizes, message in (([2, 2], "do not add up"), ([1, 2, 2], "batch_sizes\\[0\\] == B"), ([2, 1, 2], "non-increasing")):
        with pytest.raises(RuntimeError, match=message):
            lstm_kernel.lstm_packed_sequence(data, torch.tensor(sizes), h0, h0, *weights)


def test_large_buffers_are_kept_for_the_next_call_and_released():
    """Buffers of 2 MiB and up (here the saved gates, (T·B, 4H) float32 = 4 MiB) come back to the next call."""
    lstm_kernel.release_buffers()
    x, h0 = torch.randn(16, 64, 4), torch.zeros(16, 256)
    weights = [w.detach() for w in _weights(4, 256, torch.float32, bias=True)]
    w_ih = weights[0].requires_grad_()
    y, _, _ = lstm_kernel.lstm_sequence(x, h0, h0.clone(), w_ih, *weights[1:])
    y.sum().backward()
    del y
    assert lstm_kernel.release_buffers() >= 2 * 4 * 2**20  # the gates (4 MiB) and their gradient
    assert lstm_kernel.release_buffers() == 0


def test_the_kernel_choice(monkeypatch):
    """The compiled loop on the CPU in float32/float64 up to COMPILED_MAX_UNITS units; torch.lstm otherwise."""
    x = torch.zeros(5, 2, 3)
    assert fused_lstm_kernel(x, torch.zeros(2, 8)) == "compiled"
    assert fused_lstm_kernel(x.double(), torch.zeros(2, 8, dtype=torch.float64)) == "compiled"
    assert fused_lstm_kernel(x, torch.zeros(2, COMPILED_MAX_UNITS + 1)) == "torch.lstm"
    assert fused_lstm_kernel(x, torch.zeros(2, 2), weight_hr=torch.zeros(2, 8)) == "torch.lstm"  # proj_size
    assert fused_lstm_kernel(x.bfloat16(), torch.zeros(2, 8, dtype=torch.bfloat16)) == "torch.lstm"
    layer = LSTM(5, return_sequences=True, input_shape=(None, 3))
    calls = []
    real = lstm_kernel.lstm_time_major  # a dense batch: the packed loop with every row active
    monkeypatch.setattr(lstm_kernel, "lstm_time_major", lambda *a: calls.append(1) or real(*a))
    y = layer(torch.randn(2, 6, 3))
    assert layer.kernel == "fused" and calls == [1]
    calls.clear()
    y16 = layer.to(torch.bfloat16)(torch.randn(2, 6, 3, dtype=torch.bfloat16))
    assert calls == [] and y16.dtype == torch.bfloat16 and y.shape == y16.shape


def _reference_twin(layer):
    """The same layer (weights too) running the reference loop."""
    twin = copy.deepcopy(layer)
    for sub in twin.modules():
        if hasattr(sub, "implementation"):
            sub.implementation = "reference"
    return twin


@pytest.mark.parametrize("mask_kind", ["none", "lengths", "holes"])
def test_bidirectional_stacked_layers_equal_the_reference_loop(mask_kind):
    """Bidirectional (a go_backwards copy), stacking and return_state through the layer machinery, float64."""
    rng = np.random.default_rng(0)
    first = layers.Bidirectional(LSTM(5, return_sequences=True, input_shape=(None, 3)))
    second = LSTM(4, return_state=True, go_backwards=True, input_shape=(None, 10))
    model = torch.nn.ModuleList([first, second]).double()
    for layer in (first.forward_layer, first.backward_layer, second):
        randomize(layer, rng)
    reference = _reference_twin(model)
    x = torch.tensor(rng.normal(size=(4, 6, 3)), requires_grad=True)
    outs = []
    for m in (model, reference):
        y = m[0](x, **mask_kwargs(mask_kind))
        outs.append(m[1](y, **mask_kwargs(mask_kind)))
    assert second.kernel == "fused" and reference[1].kernel == "reference"
    for a, b in zip(*outs):
        assert_close(a, b, atol=1e-12, rtol=0)
    grads = [torch.autograd.grad(sum(o.square().sum() for o in out), [x, *m.parameters()])
             for out, m in zip(outs, (model, reference))]  # fmt: skip
    for a, b in zip(*grads):
        assert_close(a, b, atol=1e-12, rtol=0)


def test_recurra_nn_lstm_runs_the_compiled_loop_and_equals_torch_nn():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 16, num_layers=2, batch_first=True, bidirectional=True)
    ours = recurra.nn.LSTM(3, 16, num_layers=2, batch_first=True, bidirectional=True)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 20, 3)
    hx = (torch.randn(4, 4, 16), torch.randn(4, 4, 16))
    out, (h, c) = ours(x, hx)
    assert ours.kernel == "compiled"
    ref, (h_ref, c_ref) = theirs(x, hx)
    for a, b in ((out, ref), (h, h_ref), (c, c_ref)):
        assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_the_ops_fake_kernels_match_their_real_outputs():
    """torch's own check of a custom operator: schema and fake kernels against the real ones."""
    B, T, F, H = 2, 4, 3, 5
    x, h0, c0 = torch.randn(T * B, F), torch.randn(B, H), torch.randn(B, H)
    w_ih, w_hh, b = torch.randn(4 * H, F), torch.randn(4 * H, H), torch.randn(4 * H)
    sizes = torch.tensor([2, 2, 1, 1])
    x = x[:6]
    shapes_only = ("test_schema", "test_faketensor")
    for save in (True, False):
        args = (x, sizes, h0, c0, w_ih, w_hh, b, save)
        torch.library.opcheck(torch.ops.recurra_lstm.lstm_forward, args, test_utils=shapes_only)
    y, _, _, gates, cells = torch.ops.recurra_lstm.lstm_forward(x, sizes, h0, c0, w_ih, w_hh, b, True)
    empty = torch.empty(0)
    for input_grad, bias in ((True, True), (False, False)):
        args = (torch.randn(6, H), empty, torch.randn(B, H), x, y, gates, cells, sizes, h0, c0, w_ih, w_hh, bias, input_grad)
        torch.library.opcheck(torch.ops.recurra_lstm.lstm_backward, args, test_utils=shapes_only)


class _Dense(torch.nn.Module):
    """A module over ``fused_lstm`` (the compiled loop) for torch.compile and torch.export."""

    def __init__(self):
        super().__init__()
        self.cell = LSTMCell(3, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, F) -> (B, T, H)
        zeros = x.new_zeros(x.shape[0], 6)
        y, _ = self.cell.fused(x, self.cell.State(zeros, zeros))
        return y


def test_torch_compile_traces_the_loop_as_its_operators():
    torch.manual_seed(0)
    model = _Dense()
    graphs = []

    def backend(gm, inputs):
        graphs.append(gm)
        return gm.forward

    x = torch.randn(2, 5, 3)
    compiled = torch.compile(model, backend=backend, fullgraph=True)
    y = compiled(x)
    targets = {str(node.target) for gm in graphs for sub in gm.modules() if isinstance(sub, torch.fx.GraphModule)
               for node in sub.graph.nodes}  # fmt: skip
    assert {"recurra_lstm.lstm_forward", "recurra_lstm.lstm_backward"} <= targets  # no graph break, no torch.lstm
    y.square().sum().backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    expected_y = model(x)
    expected_y.square().sum().backward()
    assert_close(y, expected_y)
    for a, b in zip(got, (p.grad for p in model.parameters())):
        assert_close(a, b)


def test_torch_export_keeps_the_loop_as_its_operator_with_batch_and_time_free():
    torch.manual_seed(0)
    model = _Dense().eval()
    x = torch.randn(2, 5, 3)
    program = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch"), 1: torch.export.Dim("time")},))
    assert any("recurra_lstm.lstm_forward" in str(node.target) for node in program.graph.nodes)
    other = torch.randn(3, 8, 3)
    assert_close(program.module()(other), model(other))


_PORTABLE_CHECK = """
import torch
from torch.nn.utils.rnn import pack_padded_sequence
from recurra.cells import lstm_kernel
assert torch.backends.cpu.get_cpu_capability() == "DEFAULT"
assert lstm_kernel.usable(torch.zeros(1, dtype=torch.float64)), "the portable build did not build"
g = torch.Generator().manual_seed(0)
B, T, F, H = 9, 6, 3, 7
x = torch.randn(B, T, F, generator=g, dtype=torch.float64, requires_grad=True)
h0, c0 = (torch.randn(B, H, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(2))
shapes = ((4 * H, F), (4 * H, H), (4 * H,), (4 * H,))
w = [(0.5 * torch.randn(s, generator=g, dtype=torch.float64)).requires_grad_() for s in shapes]
y_ref = torch.lstm(x, (h0[None], c0[None]), w, True, 1, 0.0, False, False, True)[0]
y = lstm_kernel.lstm_sequence(x, h0, c0, *w)[0]
gy = torch.randn(y.shape, generator=g, dtype=torch.float64)
for a, b in zip(torch.autograd.grad((y * gy).sum(), [x, h0, c0, *w]), torch.autograd.grad((y_ref * gy).sum(), [x, h0, c0, *w])):
    torch.testing.assert_close(a, b, atol=1e-11, rtol=1e-11)
torch.testing.assert_close(y, y_ref, atol=1e-12, rtol=1e-12)
packed = pack_padded_sequence(x.detach(), torch.tensor([6, 2, 5, 1, 6, 4, 3, 6, 2]), batch_first=True, enforce_sorted=False)
y_p = lstm_kernel.lstm_packed_sequence(packed.data, packed.batch_sizes, h0, c0, *w)[0]
y_pr = torch.lstm(packed.data, packed.batch_sizes, (h0[None], c0[None]), w, True, 1, 0.0, False, False)[0]
torch.testing.assert_close(y_p, y_pr, atol=1e-12, rtol=1e-12)
print("portable build ok")
"""


@pytest.mark.slow
def test_the_portable_build_without_register_tiles_equals_torch_lstm(tmp_path):
    """On a CPU without AVX2 the loop builds without register tiles (BLAS products per step and at the end):
    built here as such a machine would (``ATEN_CPU_CAPABILITY=default``, in a process of its own, its own
    build directory), it gives torch.lstm's values and gradients, dense and packed."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default", "TORCH_EXTENSIONS_DIR": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", _PORTABLE_CHECK], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and "portable build ok" in run.stdout, run.stdout + run.stderr
