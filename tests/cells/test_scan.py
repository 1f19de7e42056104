"""The elementwise recurrence kernel (compiled and torch) and the log-space scan, against plain loops."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

from recurra.cells import scan
from recurra.cells.minimal import g as g_activation
from recurra.cells.scan import elementwise_recurrence, kernel_available, linear_scan_log, minimal_recurrence
from recurra.errors import ConfigError, InputValueError, ShapeError

ACTS = ("linear", "tanh", "relu")
TOL = {torch.float64: dict(atol=1e-12, rtol=1e-12), torch.float32: dict(atol=2e-5, rtol=2e-5)}


def python_loop(b, a, h0, activation, lengths=None):
    """``h_t = φ(a_t ⊙ h_{t-1} + b_t)`` written out step by step, one sequence at a time."""
    φ = {"linear": lambda v: v, "tanh": torch.tanh, "relu": torch.relu}[activation]
    B, T, H = b.shape
    ys, lasts = [], []
    for i in range(B):
        L = T if lengths is None else int(lengths[i])
        h, row = h0[i], []
        for t in range(T):
            if t < L:
                a_t = a if a.dim() == 1 else a[i, t]
                h = φ(a_t * h + b[i, t])
                row.append(h)
            else:
                row.append(torch.zeros_like(h))
        ys.append(torch.stack(row))
        lasts.append(h)
    return torch.stack(ys), torch.stack(lasts)


def make_inputs(per_step_a: bool, dtype, B=3, T=7, H=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    b = torch.randn(B, T, H, generator=g, dtype=dtype)
    a = torch.rand(B, T, H, generator=g, dtype=dtype) if per_step_a else 1.5 * torch.rand(H, generator=g, dtype=dtype) - 0.25
    h0 = torch.randn(B, H, generator=g, dtype=dtype)
    return b, a, h0


def values_and_grads(fn, b, a, h0, *, seed=1):
    """Outputs and the gradients of a random linear function of both outputs w.r.t. b, a, h0."""
    b, a, h0 = (t.detach().clone().requires_grad_() for t in (b, a, h0))
    y, h_last = fn(b, a, h0)
    g = torch.Generator().manual_seed(seed)
    gy, gh = torch.randn(y.shape, generator=g, dtype=y.dtype), torch.randn(h_last.shape, generator=g, dtype=y.dtype)
    loss = (y * gy).sum() + (h_last * gh).sum()
    return (y.detach(), h_last.detach(), *torch.autograd.grad(loss, (b, a, h0)))


def test_kernel_builds():
    assert kernel_available()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("per_step_a", [False, True], ids=["a_H", "a_BTH"])
@pytest.mark.parametrize("activation", ACTS)
def test_cpp_torch_and_python_loop_agree(activation, per_step_a, with_lengths, dtype):
    b, a, h0 = make_inputs(per_step_a, dtype)
    lengths = torch.tensor([7, 3, 1]) if with_lengths else None
    expected = values_and_grads(lambda b, a, h0: python_loop(b, a, h0, activation, lengths), b, a, h0)
    for backend in ("cpp", "torch", "auto"):
        got = values_and_grads(
            lambda b, a, h0, backend=backend: elementwise_recurrence(b, a, h0, activation, lengths, backend), b, a, h0
        )
        for name, x, e in zip(("y", "h_last", "grad_b", "grad_a", "grad_h0"), got, expected):
            assert x.dtype == dtype
            assert_close(x, e, **TOL[dtype], msg=lambda m, name=name, backend=backend: f"{backend} {name}: {m}")
    if with_lengths:
        y, _ = elementwise_recurrence(b, a, h0, activation, lengths, "cpp")
        assert torch.count_nonzero(y[1, 3:]) == 0 and torch.count_nonzero(y[2, 1:]) == 0


@pytest.mark.parametrize("per_step_a", [False, True], ids=["a_H", "a_BTH"])
def test_gradient_of_one_output_only(per_step_a):
    """Only y or only h_last reaches the loss: the compiled backward gets None for the other."""
    b, a, h0 = make_inputs(per_step_a, torch.float64)
    for pick in (0, 1):
        grads = []
        for backend in ("cpp", "torch"):
            bb, aa, hh = (t.clone().requires_grad_() for t in (b, a, h0))
            out = elementwise_recurrence(bb, aa, hh, "tanh", torch.tensor([7, 4, 2]), backend)[pick]
            grads.append(torch.autograd.grad(out.sin().sum(), (bb, aa, hh)))
        for x, e in zip(*grads):
            assert_close(x, e, atol=1e-12, rtol=0)


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("per_step_a", [False, True], ids=["a_H", "a_BTH"])
@pytest.mark.parametrize("activation", ACTS)
def test_gradcheck_compiled(activation, per_step_a, with_lengths):
    b, a, h0 = make_inputs(per_step_a, torch.float64, B=2, T=4, H=3, seed=5)
    if activation == "relu":
        b = b + torch.sign(b) * 0.1  # keep pre-activations away from the kink at 0
    lengths = torch.tensor([4, 2]) if with_lengths else None
    inputs = tuple(t.requires_grad_() for t in (b, a, h0))
    assert torch.autograd.gradcheck(lambda b, a, h0: elementwise_recurrence(b, a, h0, activation, lengths, "cpp"), inputs)


def test_many_units_and_threads_give_identical_numbers():
    """Units split into blocks (H > 256) and batch rows spread over threads: results do not depend on them."""
    b, a, h0 = make_inputs(False, torch.float32, B=8, T=64, H=300, seed=2)
    lengths = torch.tensor([64, 1, 30, 64, 2, 63, 64, 10])
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = values_and_grads(lambda b, a, h0: elementwise_recurrence(b, a, h0, "tanh", lengths, "cpp"), b, a, h0)
        torch.set_num_threads(2)
        two = values_and_grads(lambda b, a, h0: elementwise_recurrence(b, a, h0, "tanh", lengths, "cpp"), b, a, h0)
    finally:
        torch.set_num_threads(threads)
    for x, e in zip(one, two):
        assert torch.equal(x, e)
    ref = values_and_grads(lambda b, a, h0: elementwise_recurrence(b, a, h0, "tanh", lengths, "torch"), b, a, h0)
    for x, e in zip(one, ref):
        assert_close(x, e, **TOL[torch.float32])


def test_overwrite_b_reuses_its_memory():
    b, a, h0 = make_inputs(True, torch.float64)
    expected = values_and_grads(lambda b, a, h0: elementwise_recurrence(b, a, h0, "relu"), b, a, h0)

    def overwrite(b, a, h0):
        k = b * 1.0  # a fresh intermediate, like a layer's input projection
        y, h = elementwise_recurrence(k, a, h0, "relu", overwrite_b=True)
        assert y is k
        return y, h

    for x, e in zip(values_and_grads(overwrite, b, a, h0), expected):
        assert_close(x, e, atol=1e-14, rtol=0)
    leaf = b.clone().requires_grad_()
    with pytest.raises(RuntimeError, match="leaf"):
        elementwise_recurrence(leaf, a, h0, "relu", overwrite_b=True)


def test_no_gradient_needed():
    b, a, h0 = make_inputs(False, torch.float32)
    with torch.no_grad():
        y, h = elementwise_recurrence(b, a, h0, "relu", backend="cpp")
    assert not y.requires_grad
    assert_close(y, python_loop(b, a, h0, "relu")[0], **TOL[torch.float32])


def test_bad_arguments():
    b, a, h0 = make_inputs(False, torch.float32)
    with pytest.raises(InputValueError, match=r"expected lengths between 1 and 7 .* got values from 0 to 7"):
        elementwise_recurrence(b, a, h0, lengths=torch.tensor([7, 0, 3]))
    with pytest.raises(InputValueError, match=r"got values from 1 to 8"):
        elementwise_recurrence(b, a, h0, lengths=torch.tensor([1, 8, 3]))
    with pytest.raises(InputValueError, match="integer lengths"):
        elementwise_recurrence(b, a, h0, lengths=torch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ShapeError, match=r"expected lengths of shape \(3,\), got \(2,\)"):
        elementwise_recurrence(b, a, h0, lengths=torch.tensor([1, 2]))
    with pytest.raises(ConfigError, match="expected activation in"):
        elementwise_recurrence(b, a, h0, "sigmoid")
    with pytest.raises(ConfigError, match="expected backend in"):
        elementwise_recurrence(b, a, h0, backend="cuda")
    with pytest.raises(ShapeError, match=r"expected a of shape \(5,\) or \(3, 7, 5\), got \(4,\)"):
        elementwise_recurrence(b, a[:4], h0)
    with pytest.raises(ShapeError, match=r"expected h0 of shape \(3, 5\), got \(5,\)"):
        elementwise_recurrence(b, a, h0[0])
    with pytest.raises(ShapeError, match=r"expected b of shape \(batch, time, units\), got \(7, 5\)"):
        elementwise_recurrence(b[0], a, h0)
    with pytest.raises(InputValueError, match="one dtype"):
        elementwise_recurrence(b, a.double(), h0)
    with pytest.raises(InputValueError, match="backend='cpp' runs float32/float64"):
        elementwise_recurrence(b.half(), a.half(), h0.half(), backend="cpp")


def test_failed_build_warns_once_and_falls_back(monkeypatch):
    from recurra.errors import RecurraWarning

    monkeypatch.setattr(scan.EXTENSION, "state", None)
    monkeypatch.setattr(scan.EXTENSION, "registered", lambda: False)

    def broken(**kwargs):
        raise OSError("no compiler here")

    import torch.utils.cpp_extension as cpp_extension

    monkeypatch.setattr(cpp_extension, "load", broken)
    with pytest.warns(RecurraWarning, match="could not build .* no compiler here"):
        assert not kernel_available()
    assert not kernel_available()  # no second warning (it would be an error here)
    b, a, h0 = make_inputs(False, torch.float64)
    y, _ = elementwise_recurrence(b, a, h0, "tanh")  # auto: the torch loop
    assert_close(y, python_loop(b, a, h0, "tanh")[0], atol=1e-12, rtol=0)
    with pytest.raises(ConfigError, match="could not be built"):
        elementwise_recurrence(b, a, h0, backend="cpp")


# -- the minimal RNNs' compiled loop ---------------------------------------------------------------

CANDIDATES = {"g": g_activation, "tanh": torch.tanh, "relu": torch.relu, "linear": lambda v: v}


def python_minimal(k, h0, kind, candidate, lengths=None):
    """MinGRU / MinLSTM from the projection ``k``, written out step by step (the cells' equations)."""
    c = CANDIDATES[candidate]
    B, T, _ = k.shape
    ys, lasts = [], []
    for i in range(B):
        L = T if lengths is None else int(lengths[i])
        h, row = h0[i], []
        for t in range(T):
            if t >= L:
                row.append(torch.zeros_like(h))
                continue
            if kind == "min_gru":
                k_z, k_h = k[i, t].chunk(2)
                z = torch.sigmoid(k_z)
                h = (1 - z) * h + z * c(k_h)
            else:
                k_f, k_i, k_h = k[i, t].chunk(3)
                f, i_gate = torch.sigmoid(k_f), torch.sigmoid(k_i)
                h = f / (f + i_gate) * h + i_gate / (f + i_gate) * c(k_h)
            row.append(h)
        ys.append(torch.stack(row))
        lasts.append(h)
    return torch.stack(ys), torch.stack(lasts)


def minimal_inputs(kind, dtype, B=3, T=6, H=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    nb = 2 if kind == "min_gru" else 3
    return 2 * torch.randn(B, T, nb * H, generator=g, dtype=dtype), torch.randn(B, H, generator=g, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("candidate", list(CANDIDATES))
@pytest.mark.parametrize("kind", ["min_gru", "min_lstm"])
def test_minimal_recurrence_matches_python_loop(kind, candidate, with_lengths, dtype):
    k, h0 = minimal_inputs(kind, dtype)
    lengths = torch.tensor([6, 2, 1]) if with_lengths else None

    def run(fn):
        kk, hh = k.clone().requires_grad_(), h0.clone().requires_grad_()
        y, h_last = fn(kk, hh)
        gen = torch.Generator().manual_seed(1)
        loss = (y * torch.randn(y.shape, generator=gen, dtype=dtype)).sum() + (
            h_last * torch.randn(h_last.shape, generator=gen, dtype=dtype)
        ).sum()
        return (y, h_last, *torch.autograd.grad(loss, (kk, hh)))

    expected = run(lambda kk, hh: python_minimal(kk, hh, kind, candidate, lengths))
    got = run(lambda kk, hh: minimal_recurrence(kk, hh, kind, candidate, lengths))
    for name, x, e in zip(("y", "h_last", "grad_k", "grad_h0"), got, expected):
        assert_close(x, e, **TOL[dtype], msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("candidate", ["g", "tanh"])
@pytest.mark.parametrize("kind", ["min_gru", "min_lstm"])
def test_gradcheck_minimal_recurrence(kind, candidate):
    k, h0 = minimal_inputs(kind, torch.float64, B=2, T=4, H=3, seed=4)
    k = k + torch.sign(k) * 0.05  # away from g's seam at 0
    lengths = torch.tensor([4, 2])
    inputs = (k.requires_grad_(), h0.requires_grad_())
    assert torch.autograd.gradcheck(lambda k, h0: minimal_recurrence(k, h0, kind, candidate, lengths), inputs)


def test_minimal_lstm_gates_do_not_underflow():
    """Both gates tiny (k_f, k_i = -120): f + i underflows in float32, f' = f / (f + i) does not here."""
    k = torch.tensor([[[-120.0, -121.0, 0.3]]])  # (1, 1, 3): H = 1
    h0 = torch.tensor([[2.0]])
    y, _ = minimal_recurrence(k, h0, "min_lstm", "g")
    f_prime = torch.sigmoid(torch.tensor(1.0))  # for tiny gates f / (f + i) -> e^(k_f) / (e^(k_f) + e^(k_i)) = σ(k_f - k_i)
    assert_close(y[0, 0, 0], f_prime * 2.0 + (1 - f_prime) * 0.8)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_compiled_sigmoid_and_tanh_are_accurate(dtype):
    """The loops' own vectorisable exp / tanh: within a few eps of torch's, tiny values included."""
    eps = torch.finfo(dtype).eps
    v = torch.cat([torch.linspace(-30, 30, 20001, dtype=dtype), torch.logspace(-30, 0, 500, dtype=dtype)])
    v = torch.cat([v, -v])
    N = v.numel()
    y, _ = elementwise_recurrence(
        v.view(1, 1, N), torch.zeros(N, dtype=dtype), torch.zeros(1, N, dtype=dtype), "tanh", backend="cpp"
    )
    expected = torch.tanh(v.double())
    assert float(((y[0, 0].double() - expected).abs() / expected.abs()).max()) <= 4 * eps
    k = torch.cat([v, torch.ones_like(v)]).view(1, 1, 2 * N)  # MinGRU, h0 = 0, linear candidate 1: y = z = σ(k_z)
    y, _ = minimal_recurrence(k, torch.zeros(1, N, dtype=dtype), "min_gru", "linear")
    expected = torch.sigmoid(v.double())
    assert float(((y[0, 0].double() - expected).abs() / expected).max()) <= 4 * eps


# -- the log-space scan ----------------------------------------------------------------------------


def sequential_linear(a, b, h0=None):
    """``h_t = a_t h_{t-1} + b_t`` step by step (``h0 = 0`` when None)."""
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0
    out = []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out, 1)


def positive_inputs(T, dtype, B=2, H=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(B, T, H, generator=g, dtype=dtype) * 0.6 + 0.35  # coefficients in (0.35, 0.95)
    b = torch.rand(B, T, H, generator=g, dtype=dtype) + 0.01
    h0 = torch.rand(B, H, generator=g, dtype=dtype) * 5 + 0.1
    return a, b, h0


@pytest.mark.parametrize("chunk_size", [64, 7, None], ids=["chunk64", "chunk7", "one_chunk"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
def test_log_scan_matches_sequential_long(with_h0, chunk_size):
    a, b, h0 = positive_inputs(2000, torch.float64)  # 2000 = 31 chunks of 64 + 16, or 285 of 7 + 5
    h0 = h0 if with_h0 else None
    expected = sequential_linear(a, b, h0)
    got = linear_scan_log(a.log(), b.log(), None if h0 is None else h0.log(), chunk_size=chunk_size)
    assert_close(got, expected, atol=0, rtol=1e-10)
    # float32: the error grows with |Σ log a| over one chunk (about 950 over the whole sequence here)
    got32 = linear_scan_log(a.float().log(), b.float().log(), None if h0 is None else h0.float().log(), chunk_size=chunk_size)
    assert_close(got32.double(), expected, atol=0, rtol=2e-4 if chunk_size is None else 2e-5)


def test_log_scan_initial_state_weight():
    """h0 enters once, multiplied by every coefficient so far: h_t = (Π_{k<=t} a_k) h0 + ..."""
    a, _, h0 = positive_inputs(50, torch.float64)
    tiny = torch.full_like(a, 1e-300)  # b ~ 0: only the initial state's term is left
    got = linear_scan_log(a.log(), tiny.log(), h0.log())
    assert_close(got, torch.cumprod(a, 1) * h0[:, None, :], atol=0, rtol=1e-12)
    one = linear_scan_log(a[:, :1].log(), tiny[:, :1].log() * 0 + 0.0, h0.log())  # T = 1, b = 1
    assert_close(one[:, 0], a[:, 0] * h0 + 1.0, atol=0, rtol=1e-14)


@pytest.mark.parametrize("chunk_size", [64, 7, None], ids=["chunk64", "chunk7", "one_chunk"])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
def test_log_scan_gradients_match_sequential(with_h0, chunk_size):
    a, b, h0 = positive_inputs(40, torch.float64, seed=3)
    weights = torch.randn(a.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)

    def grads(fn):
        leaves = [t.clone().requires_grad_() for t in (a, b, h0)]
        out = fn(*leaves)
        return torch.autograd.grad((out * weights).sum(), leaves if with_h0 else leaves[:2])

    expected = grads(lambda a, b, h0: sequential_linear(a, b, h0 if with_h0 else None))
    got = grads(lambda a, b, h0: linear_scan_log(a.log(), b.log(), h0.log() if with_h0 else None, chunk_size=chunk_size))
    for x, e in zip(got, expected):
        assert_close(x, e, atol=1e-11, rtol=1e-9)


def test_log_scan_bad_shapes():
    a, b, h0 = positive_inputs(5, torch.float64)
    with pytest.raises(ShapeError, match="of one shape"):
        linear_scan_log(a.log(), b[:, :4].log())
    with pytest.raises(ShapeError, match=r"expected log_h0 of shape \(2, 3\)"):
        linear_scan_log(a.log(), b.log(), h0[:1].log())
    with pytest.raises(ConfigError, match="expected chunk_size to be a positive integer or None, got 0"):
        linear_scan_log(a.log(), b.log(), chunk_size=0)


def _grads(fn, *inputs):
    """Outputs and gradients of a fixed random linear function of both outputs."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    y, h_last = fn(*leaves)
    gen = torch.Generator().manual_seed(7)
    loss = (y * torch.randn(y.shape, generator=gen)).sum() + (h_last * torch.randn(h_last.shape, generator=gen)).sum()
    return [y.detach(), h_last.detach(), *torch.autograd.grad(loss, leaves)]


def test_large_buffers_are_reused_and_fully_rewritten():
    assert kernel_available()
    scan.release_buffers()
    B, T, H = 4, 1100, 256  # y: 4.5 MB, grad_k: 9 MB, both above the 4 MiB that the kernels keep
    g = torch.Generator().manual_seed(0)
    k_a, k_b = (3 * torch.randn(B, T, 2 * H, generator=g) for _ in range(2))
    a = torch.rand(B, T, H, generator=g)
    h0 = torch.zeros(B, H)
    lengths = torch.tensor([T, 7, 1, 500])  # padded steps must be written (zeros) over the old contents

    y_a, _ = minimal_recurrence(k_a, h0, "min_gru", "g")
    address = y_a.data_ptr()
    del y_a  # its block goes back to the cache
    y_b, _ = minimal_recurrence(k_b, h0, "min_gru", "g", lengths)
    assert y_b.data_ptr() == address  # the same block, with the first call's values in it
    del y_b

    runs = {
        "minimal": (lambda k, h: minimal_recurrence(k, h, "min_gru", "g", lengths), (k_b, h0)),
        "elementwise": (lambda b, a, h: elementwise_recurrence(b, a, h, "tanh", lengths), (k_b[..., :H], a, h0)),
    }
    for name, (fn, inputs) in runs.items():
        _grads(fn, *[3 * x + 1 for x in inputs])  # other values, freed: their blocks are cached
        reused = _grads(fn, *inputs)
        assert scan.release_buffers() >= 0
        fresh = _grads(fn, *inputs)  # fresh memory
        for got, expected in zip(reused, fresh):
            assert torch.equal(got, expected), name
        del reused, fresh
    assert scan.release_buffers() > 0  # the last call's blocks were kept
    assert scan.release_buffers() == 0
