"""The Echo State reservoir: a fixed random recurrent network, never trained.

Equations (the leaky-integrator ESN of Jaeger 2001 and Lukoševičius 2012, as reservoirpy writes it),
with the code's symbols::

    x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1} + W_fb y_{t-1})
    y_t = W_out [1; x_t]

- ``u_t (F,)`` the input, ``x_t (N,)`` the reservoir state (``N = units``; ``x_{-1} = 0`` unless given),
  ``y_t (O,)`` the output; ``α = leak_rate`` in ``(0, 1]`` (``α = 1``: no leak).
- ``W_in (N, 1 + F)``: column 0 is the bias ``b`` and multiplies the constant 1, columns ``1..F``
  multiply ``u_t``. ``b ~ bias_scaling · U(-1, 1)``, the input columns ``~ input_scaling · U(-1, 1)``,
  dense. (reservoirpy keeps ``b`` as a separate vector; ``W_in [1; u_t] = b + W_in[:, 1:] u_t`` is the
  same sum.)
- ``W (N, N)``: ``round(density · N²)`` entries at random positions drawn from ``N(0, 1)``, the rest 0,
  then scaled so that its spectral radius ``max |eig(W)|`` is exactly ``spectral_radius`` (the
  eigenvalues are computed in float64 by LAPACK, on the dense matrix). It is drawn as ``W = s · G``:
  ``G`` the draw divided by its largest magnitude and rounded to float32's grid, ``s`` one float64
  scale; so the compiled loop reads ``G`` in float32 (half the memory traffic of float64, the loop's
  bottleneck) and multiplies each row's sum by ``s`` in float64, the same numbers as ``W`` up to rounding.
- ``W_fb (N, O)`` (only with output feedback, ``feedback_size = O > 0``): ``feedback_scaling · U(-1, 1)``;
  ``y_{t-1}`` is the previous output (while fitting, the previous target: teacher forcing), ``y_{-1} = 0``.
- ``W_out`` is the readout, fitted by ridge regression outside the cell (``recurra.EchoStateNetwork``)
  or a trained ``Dense`` after a ``Reservoir`` layer.

``step`` is these equations for one step, symbol for symbol. ``fused`` runs whole sequences: the
input term ``z_t = W_in [1; u_t] (+ W_fb y_{t-1})`` of every step in one matrix product, then the
recurrence ``x_t = (1 - α) x_{t-1} + α tanh(z_t + W x_{t-1})`` in a loop, with one of two backends:

- ``"cpp"``: a compiled C++ loop over ``W`` in compressed sparse rows (``src/recurra/csrc/reservoir.cpp``,
  built on first use with ``torch.utils.cpp_extension`` and cached); float32 and float64 CPU tensors;
- ``"torch"``: a loop of torch operations on preallocated rows (any device or dtype), a sparse
  (CSR) or a dense matrix-vector product per step.

``"auto"`` takes ``"cpp"`` when it can run and ``W`` is sparse (at most ``SPARSE_MAX_DENSITY`` = 30 %
of its entries non-zero), else ``"torch"`` with a sparse product for a sparse ``W`` and a dense (BLAS)
one otherwise. Measured on 2 CPU cores (``benchmarks/esn.py kernels``, docs/esn.md), at density 0.1
the compiled sparse loop is the fastest at 500 and 2,000 units; for a dense ``W`` BLAS is.

Nothing in a reservoir is trained: its matrices are buffers (saved with a model, never in
``parameters()``). Neither fast backend propagates gradients; a ``Reservoir`` layer whose input needs
gradients runs ``step`` instead.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import warnings
from typing import Any, NamedTuple

import torch

from ..errors import ConfigError, InputValueError, ShapeError, format_shape
from .base import RecurrentCell
from .extensions import BuildVariant, CompiledExtension

BACKENDS = ("auto", "cpp", "torch")
SPARSE_MAX_DENSITY = 0.3  # W runs in compressed sparse rows when at most this fraction of it is non-zero
_MAX_DRAWS = 100  # draws of W tried before a reservoir that is always nilpotent is refused


class ReservoirState(NamedTuple):
    h: torch.Tensor  # (B, N): the reservoir state x_t (named h like every cell's output state)


# -- arguments ------------------------------------------------------------------------------------


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"expected {name} to be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"expected a finite {name}, got {value!r}")
    return value


def check_reservoir_args(
    *,
    units: Any,
    spectral_radius: Any,
    leak_rate: Any,
    input_scaling: Any,
    bias_scaling: Any,
    density: Any,
    feedback_scaling: Any = 1.0,
    seed: Any = 0,
) -> dict[str, Any]:
    """Validate the reservoir's arguments (``ConfigError`` naming the bad value); return them cleaned."""
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ConfigError(f"expected units to be a positive integer, got {units!r}")
    rho = _number("spectral_radius", spectral_radius)
    if rho <= 0:
        raise ConfigError(f"expected spectral_radius > 0, got {spectral_radius!r}")
    alpha = _number("leak_rate", leak_rate)
    if not 0.0 < alpha <= 1.0:
        raise ConfigError(f"expected leak_rate in (0, 1], got {leak_rate!r}")
    dens = _number("density", density)
    if not 0.0 < dens <= 1.0:
        raise ConfigError(f"expected density in (0, 1], got {density!r}")
    scalings = {}
    for name, value in (("input_scaling", input_scaling), ("bias_scaling", bias_scaling), ("feedback_scaling", feedback_scaling)):
        scalings[name] = _number(name, value)
        if scalings[name] < 0:
            raise ConfigError(f"expected {name} >= 0, got {value!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ConfigError(f"expected seed to be a non-negative integer or None, got {seed!r}")
    return dict(
        units=int(units),
        spectral_radius=rho,
        leak_rate=alpha,
        density=dens,
        seed=None if seed is None else int(seed),
        **scalings,
    )


def draw_seed() -> int:
    """A seed drawn from torch's global generator (so ``torch.manual_seed`` / ``recurra.set_seed`` fix it)."""
    return int(torch.randint(0, 2**31 - 1, (1,)).item())


def spectral_radius_of(W: torch.Tensor) -> float:
    """``max |eig(W)|``, computed in float64 on the dense matrix (LAPACK's ``geev``).

    It runs on one thread: the routine gains little from a second one (2.7 s at 2,000 units either
    way, measured), and its threads wait for each other, so on a machine busy with other work it was
    measured 60 times slower with two threads than with one.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return float(torch.linalg.eigvals(W.detach().to("cpu", torch.float64)).abs().max())
    finally:
        torch.set_num_threads(threads)


def reservoir_weights(
    input_size: int,
    units: int,
    *,
    spectral_radius: float,
    input_scaling: float,
    bias_scaling: float,
    density: float,
    seed: int,
    feedback_size: int = 0,
    feedback_scaling: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Draw ``W_in (N, 1 + F)``, ``W (N, N)`` and (``feedback_size > 0``) ``W_fb (N, O)`` in float64.

    The same arguments give the same matrices on one machine. ``W`` is scaled to the exact spectral
    radius. A tiny, very sparse ``W`` can be nilpotent (spectral radius 0, impossible to scale): such a
    draw is replaced by the next one from the same generator (up to ``_MAX_DRAWS`` times).
    """
    g = torch.Generator().manual_seed(seed)
    f64 = torch.float64
    n_cells = units * units
    nnz = min(n_cells, max(1, round(density * n_cells)))
    for _ in range(_MAX_DRAWS):
        positions = torch.randperm(n_cells, generator=g)[:nnz]
        values = torch.randn(nnz, generator=g, dtype=f64)
        values = (values / values.abs().max()).to(torch.float32).to(f64)  # G: on float32's grid, max |G_ij| = 1
        W = torch.zeros(n_cells, dtype=f64)
        W[positions] = values
        W = W.view(units, units)
        rho = spectral_radius_of(W)
        if rho > 0.0:
            break
    else:
        raise ConfigError(
            f"the random reservoir W (units={units}, density={density}, seed={seed}) has spectral radius 0 "
            f"in {_MAX_DRAWS} draws and cannot be scaled: use more units or a higher density"
        )
    W *= spectral_radius / rho  # W = s · G (see sparse_rows)
    b = bias_scaling * (2.0 * torch.rand(units, 1, generator=g, dtype=f64) - 1.0)  # (N, 1)
    W_u = input_scaling * (2.0 * torch.rand(units, input_size, generator=g, dtype=f64) - 1.0)  # (N, F)
    weights = {"W_in": torch.cat([b, W_u], 1), "W": W}  # (N, 1) + (N, F) -> (N, 1 + F)
    if feedback_size:
        weights["W_fb"] = feedback_scaling * (2.0 * torch.rand(units, feedback_size, generator=g, dtype=f64) - 1.0)
    return weights


# -- the compiled kernel --------------------------------------------------------------------------

def _build_variants() -> list[BuildVariant]:
    """-fopenmp-simd: the vector tanh and reductions of the source's "omp simd" loops, no OpenMP runtime;
    CPUs with AVX2 and FMA (as torch sees them) get a build of their own, named apart (the row sums
    run about 1.3x faster at 2,000 units), and the plain build is the fallback."""
    base = ["-O3", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math"]
    plain = ("recurra_reservoir_kernel_v2", base, [])
    if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512"):
        return [("recurra_reservoir_kernel_v2_avx2", [*base, "-mavx2", "-mfma"], []), plain]
    return [plain]


def _register_fake_kernel() -> None:
    """The op writes into ``z`` and returns nothing: its fake kernel has nothing to compute (torch.compile)."""

    @torch.library.register_fake("recurra_reservoir::run_sparse_")
    def _run_sparse(z, crow, col, values, scale, alpha, x0):
        return None


EXTENSION = CompiledExtension(
    "reservoir.cpp",
    op="recurra_reservoir.run_sparse_",
    variants=_build_variants,
    what="reservoir loop",
    fallback="reservoirs use a slower loop of torch operations instead",
    on_load=_register_fake_kernel,
)


def kernel_available() -> bool:
    """Whether the compiled CPU loop is usable; builds it on the first call (a few seconds, once per
    machine: the build is cached in torch's extensions directory). A failed build warns once
    (``RecurraWarning``) and the torch loop is used from then on."""
    return EXTENSION.available()


def use_compiled(z: torch.Tensor) -> bool:
    """Whether ``backend="auto"`` runs the compiled loop for ``z``: float32/float64 on the CPU, and a
    kernel that builds."""
    return z.device.type == "cpu" and z.dtype in (torch.float32, torch.float64) and kernel_available()


class _SparseRows(NamedTuple):
    crow: torch.Tensor  # (N + 1,) int64: row i's entries are values[crow[i]:crow[i + 1]]
    col: torch.Tensor  # (nnz,) int32 column indices (half the memory traffic of int64)
    values: torch.Tensor  # (nnz,)
    csr: torch.Tensor  # the same as a torch sparse CSR tensor (for the torch loop)
    kernel_values: torch.Tensor  # (nnz,) what the compiled loop reads: G with values = scale · G
    scale: float


def _scaled_grid(values: torch.Tensor) -> tuple[torch.Tensor, float]:
    """``(G, s)`` with ``values == s · G`` exactly in float64 and ``G`` float32, when the values were drawn
    that way (``reservoir_weights``: ``s`` is then the largest magnitude); otherwise ``(values, 1.0)``."""
    if values.dtype != torch.float64 or values.numel() == 0 or values.device.type != "cpu":
        return values, 1.0
    s = values.abs().max()
    G = (values / s).to(torch.float32)
    if s > 0 and torch.equal(G.to(torch.float64) * s, values):
        return G, float(s)
    return values, 1.0


def sparse_rows(W: torch.Tensor) -> _SparseRows:
    """``W`` in compressed sparse rows (row-major order of its non-zero entries)."""
    nonzero = W != 0
    crow = torch.zeros(W.shape[0] + 1, dtype=torch.int64, device=W.device)
    crow[1:] = nonzero.sum(1).cumsum(0)
    col = nonzero.nonzero()[:, 1]  # nonzero() lists (row, col) pairs in row-major order
    values = W[nonzero].contiguous()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "sparse CSR support is in beta"
        csr = torch.sparse_csr_tensor(crow, col, values, W.shape)
    return _SparseRows(crow, col.to(torch.int32).contiguous(), values, csr, *_scaled_grid(values))


def run_reservoir(
    z: torch.Tensor,
    x0: torch.Tensor,
    W: torch.Tensor,
    leak_rate: float,
    *,
    backend: str = "auto",
    rows: _SparseRows | None = None,
) -> torch.Tensor:
    """``x_t = (1 - α) x_{t-1} + α tanh(z_t + W x_{t-1})`` for ``t = 0 .. T-1``, ``x_{-1} = x0``.

    Shapes: ``z (B, T, N)`` (``W_in [1; u_t]`` of every step, computed beforehand), ``x0 (B, N)``,
    ``W (N, N)``; returns ``x (B, T, N)``, written into ``z``'s memory (``z`` must be a contiguous
    buffer nobody else reads). ``rows``: ``W`` in compressed sparse rows (``sparse_rows(W)``): the
    torch loop then multiplies by the sparse ``W``, else by the dense one; the compiled loop always
    runs the sparse rows (computed here when not given). ``"auto"``: ``"cpp"`` when it can run and
    ``rows`` are given, else ``"torch"``. No gradients flow through it.

    >>> z = torch.ones(1, 3, 1, dtype=torch.float64)
    >>> x = run_reservoir(z, torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64), 0.5)
    >>> [round(v, 6) for v in x.flatten().tolist()]  # x_t = x_{t-1} / 2 + tanh(1) / 2
    [0.380797, 0.571196, 0.666395]
    """
    if backend not in BACKENDS:
        raise ConfigError(f"expected backend in {BACKENDS}, got {backend!r}")
    if z.dim() != 3 or tuple(x0.shape) != (z.shape[0], z.shape[2]) or tuple(W.shape) != (z.shape[2], z.shape[2]):
        raise ShapeError(
            f"expected z (batch, time, N), x0 (batch, N) and W (N, N), got {format_shape(z.shape)}, "
            f"{format_shape(x0.shape)} and {format_shape(W.shape)}"
        )
    if not z.is_contiguous():
        raise InputValueError("run_reservoir writes the states into z: expected a contiguous z")
    if backend == "cpp":
        if z.device.type != "cpu" or z.dtype not in (torch.float32, torch.float64):
            raise InputValueError(f"backend='cpp' runs float32/float64 CPU tensors, got {z.dtype} on {z.device}")
        if not kernel_available():
            raise ConfigError("backend='cpp': the compiled loop could not be built (see the RecurraWarning); use 'torch'")
    x0 = x0.to(z.dtype).contiguous()
    with torch.no_grad():
        if backend == "cpp" or (backend == "auto" and rows is not None and use_compiled(z)):
            rows = rows if rows is not None else sparse_rows(W)
            values, scale = (rows.kernel_values, rows.scale) if z.dtype == torch.float64 else (rows.values, 1.0)
            if values.dtype != z.dtype and values.dtype != torch.float32:
                values, scale = values.to(z.dtype), 1.0
            torch.ops.recurra_reservoir.run_sparse_(z, rows.crow, rows.col, values, scale, float(leak_rate), x0)
            return z
        if z.device.type != "cpu":
            return _torch_loop(z, x0, W, float(leak_rate), rows)
        with _one_thread():
            return _torch_loop(z, x0, W, float(leak_rate), rows)


@contextlib.contextmanager
def _one_thread():
    """Run torch's CPU operations on one thread for a while. The loop's products are small and
    follow each other closely: their threads wait for each other at every step, and on a machine busy
    with other work a sparse product of 2,000 units was measured taking 15 ms with two threads
    against 0.2 ms with one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _torch_loop(z: torch.Tensor, x0: torch.Tensor, W: torch.Tensor, alpha: float, rows: _SparseRows | None) -> torch.Tensor:
    B = z.shape[0]
    zt = z.transpose(0, 1).contiguous()  # (T, B, N): each step's rows contiguous
    W_T = W.T
    prev = x0  # (B, N)
    for cur in zt.unbind(0):  # T views (B, N): split once; cur holds z_t, then x_t
        if rows is None:
            cur.addmm_(prev, W_T)  # z_t + x_{t-1} W^T
        elif B == 1:
            torch.addmv(cur[0], rows.csr, prev[0], out=cur[0])  # z_t + W x_{t-1}
        else:
            cur.add_(torch.sparse.mm(rows.csr, prev.T).T)  # z_t + (W x_{t-1}^T)^T
        cur.tanh_()
        if alpha != 1.0:
            cur.mul_(alpha).add_(prev, alpha=1.0 - alpha)  # α tanh(.) + (1 - α) x_{t-1}
        prev = cur
    z.copy_(zt.transpose(0, 1))
    return z


# -- the cell -------------------------------------------------------------------------------------


class ReservoirCell(RecurrentCell):
    """One step of ``x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1} + W_fb y_{t-1})``.

    Arguments: ``input_size`` (``F``), ``units`` (``N``), ``spectral_radius``, ``leak_rate`` (``α``),
    ``input_scaling``, ``bias_scaling``, ``density`` (of ``W``), ``feedback_size`` (``O``; 0: no
    ``W_fb``), ``feedback_scaling``, ``seed`` (an integer: the cell is then the same every time;
    ``None``: drawn from torch's global generator). ``initialize=False`` leaves the matrices as
    uninitialised memory of the right shapes, to be loaded from a file.

    Buffers (never parameters): ``W_in (N, 1 + F)``, ``W (N, N)``, ``W_fb (N, O)`` or ``None``.

    Shapes: ``u_t (B, F)``, ``state.h = x_{t-1} (B, N)``, ``y_prev (B, O)``; ``step`` returns
    ``(x_t, ReservoirState(x_t))``.

    >>> cell = ReservoirCell(2, 5, spectral_radius=0.9, seed=0, dtype=torch.float64)
    >>> round(spectral_radius_of(cell.W), 12)
    0.9
    >>> x, state = cell.step(torch.zeros(3, 2, dtype=torch.float64), cell.zero_state(3, dtype=torch.float64, device="cpu"))
    >>> tuple(x.shape)
    (3, 5)
    """

    State = ReservoirState

    def __init__(
        self,
        input_size: int,
        units: int,
        *,
        spectral_radius: float = 0.9,
        leak_rate: float = 1.0,
        input_scaling: float = 1.0,
        bias_scaling: float = 1.0,
        density: float = 0.1,
        feedback_size: int = 0,
        feedback_scaling: float = 1.0,
        seed: int | None = None,
        initialize: bool = True,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        args = check_reservoir_args(
            units=units,
            spectral_radius=spectral_radius,
            leak_rate=leak_rate,
            input_scaling=input_scaling,
            bias_scaling=bias_scaling,
            density=density,
            feedback_scaling=feedback_scaling,
            seed=seed,
        )
        if isinstance(input_size, bool) or not isinstance(input_size, numbers.Integral) or input_size <= 0:
            raise ConfigError(f"expected input_size to be a positive integer, got {input_size!r}")
        if isinstance(feedback_size, bool) or not isinstance(feedback_size, numbers.Integral) or feedback_size < 0:
            raise ConfigError(f"expected feedback_size to be a non-negative integer, got {feedback_size!r}")
        self.input_size, self.units, self.feedback_size = int(input_size), args["units"], int(feedback_size)
        self.spectral_radius, self.leak_rate, self.density = args["spectral_radius"], args["leak_rate"], args["density"]
        self.input_scaling, self.bias_scaling = args["input_scaling"], args["bias_scaling"]
        self.feedback_scaling = args["feedback_scaling"]
        self.seed = draw_seed() if args["seed"] is None else args["seed"]
        dtype = dtype or torch.get_default_dtype()
        N, F, O = self.units, self.input_size, self.feedback_size
        if initialize:
            weights = reservoir_weights(
                F,
                N,
                spectral_radius=self.spectral_radius,
                input_scaling=self.input_scaling,
                bias_scaling=self.bias_scaling,
                density=self.density,
                seed=self.seed,
                feedback_size=O,
                feedback_scaling=self.feedback_scaling,
            )
            weights = {k: v.to(dtype=dtype, device=device) for k, v in weights.items()}
        else:
            shapes = {"W_in": (N, 1 + F), "W": (N, N), **({"W_fb": (N, O)} if O else {})}
            weights = {k: torch.empty(s, dtype=dtype, device=device) for k, s in shapes.items()}
        self.register_buffer("W_in", weights["W_in"])  # (N, 1 + F): [b | W_u]
        self.register_buffer("W", weights["W"])  # (N, N)
        self.register_buffer("W_fb", weights.get("W_fb"))  # (N, O) or None
        self.backend: str | None = None  # the backend of the last fused call: "cpp" or "torch"
        self._rows_key: tuple | None = None
        self._rows: _SparseRows | None = None

    def step(self, u_t, state, recurrent_mask=None, *, y_prev=None):
        """``x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1} + W_fb y_{t-1})``."""
        _, new_state = self.step_quantities(u_t, state, recurrent_mask, y_prev=y_prev)
        return new_state.h, new_state

    quantities = {"h": "reservoir state x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1})"}

    def trace_reason(self) -> str | None:
        if self.W_fb is not None:
            return "a reservoir with output feedback (it needs the outputs y_{t-1})"
        return None

    def step_quantities(self, u_t, state, recurrent_mask=None, *, y_prev=None):
        """``step`` with its quantity: ``{"h": x_t}``."""
        if recurrent_mask is not None:
            raise ConfigError("a reservoir has no recurrent dropout: expected recurrent_mask=None")
        W_in, W, W_fb, alpha = self.W_in, self.W, self.W_fb, self.leak_rate
        x_prev = state.h  # (B, N)
        one_u = torch.cat([torch.ones_like(u_t[:, :1]), u_t], 1)  # (B, 1) + (B, F) -> (B, 1 + F): [1; u_t]
        pre = one_u @ W_in.T + x_prev @ W.T  # (B, N)
        if W_fb is not None:
            if y_prev is None:
                raise ConfigError(f"this reservoir has output feedback: step needs y_prev of shape (batch, {self.feedback_size})")
            pre = pre + y_prev @ W_fb.T
        x = (1 - alpha) * x_prev + alpha * torch.tanh(pre)
        return {"h": x}, ReservoirState(x)

    # -- the fast path ----------------------------------------------------------------------------
    def fused_reason(self):
        return None

    def input_term(self, u: torch.Tensor, y_prev: torch.Tensor | None = None) -> torch.Tensor:
        """``z_t = W_in [1; u_t] (+ W_fb y_{t-1})`` for every step in one product: ``(B, T, F) -> (B, T, N)``.

        The result is a fresh contiguous tensor (``run_reservoir`` may overwrite it).
        """
        B, T, F = u.shape
        if F != self.input_size:
            raise ShapeError(f"expected input of shape (batch, time, {self.input_size}), got {format_shape(u.shape)}")
        W_in = self.W_in
        z = torch.addmm(W_in[:, 0], u.reshape(B * T, F), W_in[:, 1:].T)  # (B*T, N): b + W_u u_t
        if self.W_fb is not None:
            if y_prev is None or tuple(y_prev.shape) != (B, T, self.feedback_size):
                got = "None" if y_prev is None else format_shape(y_prev.shape)
                raise ShapeError(f"expected y_prev of shape ({B}, {T}, {self.feedback_size}) (y_(t-1) for every step), got {got}")
            z.addmm_(y_prev.reshape(B * T, self.feedback_size), self.W_fb.T)  # + W_fb y_{t-1}
        return z.view(B, T, self.units)

    def sparse_rows(self) -> _SparseRows:
        """``W`` in compressed sparse rows; cached until ``W`` changes (in place, or replaced)."""
        W = self.W
        if self._rows is not None and torch.compiler.is_compiling():
            return self._rows  # traced graphs take the rows of the last eager call (W is fixed: it is not trained)
        key = (W.data_ptr(), W._version, W.dtype, W.device)
        if key != self._rows_key:
            self._rows = sparse_rows(W)
            self._rows_key = key
        return self._rows

    @property
    def is_sparse(self) -> bool:
        """Whether at most ``SPARSE_MAX_DENSITY`` of ``W`` is non-zero (then the sparse loops run)."""
        return self.sparse_rows().values.numel() <= SPARSE_MAX_DENSITY * self.W.numel()

    def choose_backend(self, z: torch.Tensor, backend: str = "auto") -> tuple[str, _SparseRows | None]:
        """The backend ``"auto"`` means for ``z``, and the sparse rows it should run (``None``: dense ``W``)."""
        if backend not in BACKENDS:
            raise ConfigError(f"expected backend in {BACKENDS}, got {backend!r}")
        if backend == "auto":
            backend = "cpp" if self.is_sparse and use_compiled(z) else "torch"
        return backend, (self.sparse_rows() if backend == "cpp" or self.is_sparse else None)

    def fused(self, u, state, *, y_prev=None, backend="auto"):
        """Every step of a ``(B, T, F)`` batch: returns ``x (B, T, N)`` and ``ReservoirState(x_{T-1})``.

        ``y_prev (B, T, O)``: with output feedback, ``y_{t-1}`` for every step (teacher forcing).
        """
        if torch.is_grad_enabled() and (u.requires_grad or state.h.requires_grad):
            raise ConfigError("the reservoir's fast loops do not propagate gradients; run step() for inputs that need them")
        with torch.no_grad():
            z = self.input_term(u, y_prev)
            chosen, rows = self.choose_backend(z, backend)
            x = run_reservoir(z, state.h, self.W, self.leak_rate, backend=chosen, rows=rows)
        self.backend = chosen
        return x, ReservoirState(x[:, -1])

    def extra_repr(self) -> str:
        return (
            f"input_size={self.input_size}, units={self.units}, spectral_radius={self.spectral_radius}, "
            f"leak_rate={self.leak_rate}, density={self.density}, seed={self.seed}"
        )


__all__ = [
    "ReservoirCell",
    "ReservoirState",
    "check_reservoir_args",
    "kernel_available",
    "reservoir_weights",
    "run_reservoir",
    "spectral_radius_of",
]
