"""``EchoStateNetwork``: a fixed random reservoir and a linear readout fitted in closed form.

>>> import numpy as np
>>> from recurra.data import mackey_glass
>>> s = mackey_glass(1200)[:, None]                                  # (T, 1)
>>> esn = EchoStateNetwork(100, spectral_radius=0.9, leak_rate=0.5, ridge=1e-8, washout=100, seed=0)
>>> esn = esn.fit(s[:999], s[1:1000])                                # input u_t, target u_{t+1}
>>> esn.predict(s[999:1199]).shape, esn.generate(50).shape           # continues after the training inputs
((200, 1), (50, 1))
"""

from __future__ import annotations

import inspect
import math
import os
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import numpy as np
import scipy.linalg
import torch
from torch import nn

from .cells.reservoir import BACKENDS, ReservoirCell, ReservoirState, check_reservoir_args, draw_seed, run_reservoir
from .errors import ConfigError, InputValueError, NotBuiltError, ShapeError, format_shape
from .io import save_model
from .registry import register_model

F64 = torch.float64
_CHUNK_VALUES = 1 << 22  # fit and predict run long series in chunks of about this many state values (32 MB)


def _usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def nrmse(y_true: Any, y_pred: Any) -> float:
    """Normalised root-mean-square error: ``sqrt(mean((y - ŷ)²)) / std(y)`` (population std over the
    same values; averaged over the output columns when there are several)."""
    y, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y.shape != p.shape:
        raise ShapeError(
            f"nrmse expected y_true and y_pred of one shape, got {format_shape(y.shape)} and {format_shape(p.shape)}"
        )
    y, p = y.reshape(len(y), -1), p.reshape(len(p), -1)
    return float(np.mean(np.sqrt(np.mean((y - p) ** 2, 0)) / y.std(0)))


def _series_list(data: Any, name: str) -> tuple[list[torch.Tensor], bool]:
    """One series or several -> a list of float64 ``(T, F)`` tensors, and whether several were given.

    A series is a ``(T,)`` or ``(T, F)`` array or tensor; several are a list/tuple of them or a
    ``(S, T, F)`` array.
    """
    several = isinstance(data, (list, tuple)) and len(data) > 0 and np.ndim(data[0]) >= 1
    items = list(data) if several else [data]
    out = []
    for item in items:
        try:
            if isinstance(item, torch.Tensor):
                t = item.detach().to("cpu", F64)
            else:
                t = torch.as_tensor(np.asarray(item, dtype=np.float64))
        except (TypeError, ValueError):
            raise InputValueError(
                f"expected {name} as numbers (an array, a tensor or a list of them), got {type(item).__name__}"
            ) from None
        if t.dim() == 3 and not several:
            out.extend(t.unbind(0))
            several = True
            continue
        if t.dim() == 1:
            t = t[:, None]  # (T,) -> (T, 1)
        if t.dim() != 2:
            raise ShapeError(f"expected {name} of shape (time,) or (time, features), got {format_shape(t.shape)}")
        out.append(t)
    for i, t in enumerate(out):
        if t.shape[0] == 0:
            raise InputValueError(f"expected a non-empty {name}, got a series of 0 steps")
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            step = int(bad.any(1).nonzero()[0, 0])
            where = f" of series {i}" if several else ""
            raise InputValueError(f"expected finite values in {name}, got {t[step][bad[step]][0].item()} at step {step}{where}")
    return [t.contiguous() for t in out], several


@register_model
class EchoStateNetwork(nn.Module):
    """An Echo State Network: a fixed random leaky reservoir and a ridge-regression readout.

    Equations (see ``recurra.cells.reservoir`` for how ``W_in``, ``W`` and ``W_fb`` are drawn)::

        x_t = (1 - α) x_{t-1} + α tanh(W_in [1; u_t] + W x_{t-1} + W_fb y_{t-1})   (W_fb: output_feedback)
        y_t = W_out [1; x_t]

    ``W_out (O, 1 + N)`` is the only trained part: the ridge solution ::

        W_out^T = (Σ z_t z_t^T + ridge · D)^{-1} Σ z_t y_t^T,      z_t = [1; x_t],  D = diag(0, 1, ..., 1)

    summed over every step of every training series except the first ``washout`` steps of each
    series. ``ridge`` penalises the state weights, not the bias column (as reservoirpy's ``Ridge``).
    It is solved in the equivalent centred form ::

        W^T = (C_xx + ridge · I)^{-1} C_xy,    b = ȳ - W x̄,    W_out = [b | W]

    with the means ``x̄``, ``ȳ`` and the centred sums ``C_xx = Σ (x - x̄)(x - x̄)ᵀ``,
    ``C_xy = Σ (x - x̄)(y - ȳ)ᵀ``, accumulated in float64 chunk by chunk (so a series longer than
    memory can be streamed) and merged exactly (Chan, Golub & LeVeque, 1979). Solving ``Σ z zᵀ``
    directly is the same algebra but worse conditioned: at 2,000 units and ``ridge=1e-10`` its readout
    was measured 13 times less accurate. The whole network runs in float64.

    Arguments: ``units`` (``N``), ``spectral_radius``, ``leak_rate`` (``α`` in ``(0, 1]``),
    ``input_scaling``, ``bias_scaling``, ``density`` (of ``W``, in ``(0, 1]``), ``ridge`` (``>= 0``),
    ``washout`` (steps per series left out of the fit), ``input_noise`` (the standard deviation of
    Gaussian noise added to the inputs while fitting, never while predicting or generating: the
    readout then learns to tolerate small errors in its inputs, which keeps closed-loop ``generate``
    stable; drawn from a generator seeded with ``seed`` at each ``fit``), ``output_feedback`` (add ``W_fb y_{t-1}``;
    while fitting ``y_{t-1}`` is the previous target, teacher forcing), ``feedback_scaling``,
    ``seed`` (``None``: drawn from torch's global generator, then fixed), ``backend`` (``"auto"``,
    ``"cpp"`` or ``"torch"``: the reservoir loop, see ``recurra.cells.reservoir``).

    The network holds a current state: ``fit``, ``partial_fit``, ``predict`` and ``generate`` start
    from it and leave it after the last step they ran; each series of a list (and ``fit``) starts
    from zero; ``reset_state()`` zeroes it.

    - ``fit(x, y)``: one series (``(T,)`` or ``(T, F)`` inputs, ``(T,)`` or ``(T, O)`` targets) or a
      list of them; refits from scratch. Returns ``self``.
    - ``partial_fit(x, y)`` ... ``solve()``: the same, streamed: each call adds a chunk of the current
      series, carrying the state (and the washout count) over; ``reset_state()`` starts a new series.
    - ``initialize(input_dim, output_dim)``: draw the reservoir before the first fit.
    - ``predict(x)``: teacher-forced outputs ``(T, O)`` for inputs ``(T, F)`` (a list for a list).
    - ``generate(n_steps)``: closed loop, ``O == F``: each output is fed back as the next input;
      returns ``(n_steps, O)``, the continuation of the last input series.
    - ``save(path)`` / ``recurra.load_model(path)``: ``config.json`` + ``weights.safetensors`` (the
      reservoir, ``W_out`` and the current state).
    """

    def __init__(
        self,
        units: int = 500,
        *,
        spectral_radius: float = 0.9,
        leak_rate: float = 1.0,
        input_scaling: float = 1.0,
        density: float = 0.1,
        bias_scaling: float = 1.0,
        ridge: float = 1e-8,
        washout: int = 100,
        input_noise: float = 0.0,
        output_feedback: bool = False,
        feedback_scaling: float = 1.0,
        seed: int | None = None,
        backend: str = "auto",
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
        if isinstance(ridge, bool) or not isinstance(ridge, (int, float, np.integer, np.floating)) or not math.isfinite(ridge):
            raise ConfigError(f"expected ridge to be a finite number >= 0, got {ridge!r}")
        if ridge < 0:
            raise ConfigError(f"expected ridge >= 0, got {ridge!r}")
        if isinstance(washout, bool) or not isinstance(washout, (int, np.integer)) or washout < 0:
            raise ConfigError(f"expected washout to be a non-negative integer, got {washout!r}")
        if (
            isinstance(input_noise, bool)
            or not isinstance(input_noise, (int, float, np.integer, np.floating))
            or not math.isfinite(input_noise)
            or input_noise < 0
        ):
            raise ConfigError(f"expected input_noise to be a finite number >= 0, got {input_noise!r}")
        if backend not in BACKENDS:
            raise ConfigError(f"expected backend in {BACKENDS}, got {backend!r}")
        self.units = args["units"]
        self.spectral_radius, self.leak_rate, self.density = args["spectral_radius"], args["leak_rate"], args["density"]
        self.input_scaling, self.bias_scaling = args["input_scaling"], args["bias_scaling"]
        self.feedback_scaling = args["feedback_scaling"]
        self.seed = seed  # as given; the seed in use (drawn when None) is seed_
        self.seed_ = draw_seed() if args["seed"] is None else args["seed"]
        self.ridge, self.washout = float(ridge), int(washout)
        self.input_noise = float(input_noise)
        self.output_feedback = bool(output_feedback)
        self.backend = backend
        self.input_dim: int | None = None
        self.output_dim: int | None = None
        self.reservoir: ReservoirCell | None = None
        self.register_buffer("W_out", None)  # (O, 1 + N): [bias | state weights]
        self.register_buffer("x", None)  # (N,): the current state
        self.register_buffer("y_prev", None)  # (O,): the last output (or target), fed back with output_feedback
        self.reset_fit()

    # -- the estimator contract (recurra.estimator) ----------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings by name (``seed`` as given; ``seed_`` is the seed in use, drawn when ``None``)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters if name != "self"}

    def set_params(self, **settings: Any) -> EchoStateNetwork:
        """Change settings (checked first, all together); returns ``self``. A fitted readout is kept until
        the next ``fit``."""
        known = self.get_params()
        unknown = sorted(set(settings) - set(known))
        if unknown:
            listed = ", ".join(map(repr, unknown))
            raise ConfigError(f"EchoStateNetwork has no setting {listed}; its settings: {', '.join(known)}")
        trial = type(self)(**{**known, **settings})
        for name in settings:
            setattr(self, name, getattr(trial, name))
        if "seed" in settings:
            self.seed_ = trial.seed_
        return self

    def clone(self) -> EchoStateNetwork:
        """An unfitted network with the same settings."""
        return type(self)(**self.get_params())

    @property
    def fitted(self) -> bool:
        """Whether the readout is fitted."""
        return self.W_out is not None

    # -- building ---------------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the readout is fitted (``fit``, or ``partial_fit`` then ``solve``)."""
        return self.W_out is not None

    def initialize(self, input_dim: int, output_dim: int) -> EchoStateNetwork:
        """Draw the reservoir now, for ``input_dim`` input features and ``output_dim`` outputs (``fit`` and
        ``partial_fit`` do it on their first call; the eigenvalues of ``W`` take a few seconds at
        2,000 units). Returns ``self``."""
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ConfigError(f"expected {name} to be a positive integer, got {value!r}")
        self._build(int(input_dim), int(output_dim))
        return self

    def _build(self, input_dim: int, output_dim: int, *, initialize: bool = True) -> None:
        if self.reservoir is not None and (input_dim, output_dim) == (self.input_dim, self.output_dim):
            return
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.reservoir = ReservoirCell(
            self.input_dim,
            self.units,
            spectral_radius=self.spectral_radius,
            leak_rate=self.leak_rate,
            input_scaling=self.input_scaling,
            bias_scaling=self.bias_scaling,
            density=self.density,
            feedback_size=self.output_dim if self.output_feedback else 0,
            feedback_scaling=self.feedback_scaling,
            seed=self.seed_,
            initialize=initialize,
            dtype=F64,
        )
        self.W_out = torch.zeros(self.output_dim, 1 + self.units, dtype=F64) if not initialize else None
        self.x = torch.zeros(self.units, dtype=F64)
        self.y_prev = torch.zeros(self.output_dim, dtype=F64)
        self._series_steps = 0

    def _require_fitted(self, what: str) -> None:
        if not self.built:
            raise NotBuiltError(
                f"EchoStateNetwork is not fitted: {what} needs fit(x, y) (or partial_fit(x, y) and solve()) first"
            )

    def _check_dims(self, series: list[torch.Tensor], expected: int | None, name: str, what: str) -> None:
        for t in series:
            if expected is not None and t.shape[1] != expected:
                raise ShapeError(f"expected {name} of shape (time, {expected}) ({what}), got {format_shape(t.shape)}")

    # -- state ------------------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Zero the current state (and the fed-back output): the next step starts a new series."""
        if self.x is not None:
            self.x.zero_()
            self.y_prev.zero_()
        self._series_steps = 0

    def reset_fit(self) -> None:
        """Forget the statistics accumulated by ``partial_fit`` (``fit`` calls it)."""
        # the fit's statistics over the steps so far (float64): their number, the means of x_t and y_t,
        # and the centred sums Σ (x - x̄)(x - x̄)ᵀ and Σ (x - x̄)(y - ȳ)ᵀ
        self._count = 0
        self._mean_x: np.ndarray | None = None  # (N,)
        self._mean_y: np.ndarray | None = None  # (O,)
        self._cxx: np.ndarray | None = None  # (N, N)
        self._cxy: np.ndarray | None = None  # (N, O)
        self._series_steps = 0  # steps seen of the current series (for the washout)
        self._noise: torch.Generator | None = None  # draws the input noise of this fit (seeded on first use)

    # -- running the reservoir --------------------------------------------------------------------
    def _states(self, u: torch.Tensor, y_prev: torch.Tensor | None) -> torch.Tensor:
        """Teacher-forced states ``(T, N)`` from the current state (which moves to the last one)."""
        fb = None if y_prev is None else y_prev[None]  # (1, T, O)
        x, _ = self.reservoir.fused(u[None], ReservoirState(self.x[None]), y_prev=fb, backend=self.backend)
        x = x[0]  # (1, T, N) -> (T, N)
        self.x.copy_(x[-1])
        return x

    def _chunk_len(self) -> int:
        return max(1, _CHUNK_VALUES // self.units)

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, x: Any, y: Any) -> EchoStateNetwork:
        """Fit the readout on one series or a list of series (each from the zero state). Returns ``self``."""
        xs, several = _series_list(x, "x")
        ys, _ = _series_list(y, "y")
        if len(xs) != len(ys):
            raise ShapeError(f"expected as many target series as input series, got {len(ys)} and {len(xs)}")
        for i, (u, t) in enumerate(zip(xs, ys)):
            if u.shape[0] != t.shape[0]:
                where = f" (series {i})" if several else ""
                raise ShapeError(f"expected x and y of one length, got {u.shape[0]} and {t.shape[0]} steps{where}")
            if u.shape[0] <= self.washout:
                where = f" (series {i})" if several else ""
                raise InputValueError(
                    f"expected every series longer than washout={self.washout} steps, got {u.shape[0]} steps{where}"
                )
        self._check_dims(xs, xs[0].shape[1], "x", "every series has the features of the first")
        self._check_dims(ys, ys[0].shape[1], "y", "every series has the outputs of the first")
        self._build(xs[0].shape[1], ys[0].shape[1])
        self.reset_fit()
        i = 0
        while i < len(xs):
            # consecutive series of one length run side by side, as one batch, while it fits in a chunk
            T = xs[i].shape[0]
            most = max(1, _CHUNK_VALUES // (T * self.units))
            j = i + 1
            while j < len(xs) and j - i < most and xs[j].shape[0] == T:
                j += 1
            self.reset_state()
            if j - i == 1:
                self._accumulate(xs[i], ys[i])
            else:
                self._accumulate_batch(xs[i:j], ys[i:j])
            i = j
        return self.solve()

    def partial_fit(self, x: Any, y: Any) -> EchoStateNetwork:
        """Add one chunk of the current series to the fit's statistics, carrying the state over from the
        last chunk.

        The first ``washout`` steps of each series (counted since ``reset_state()``) are left out.
        Call ``solve()`` to compute the readout; ``reset_state()`` between series; ``reset_fit()``
        to start the statistics again (``fit`` does; after ``fit``, ``partial_fit`` adds to its data).
        """
        xs, several_x = _series_list(x, "x")
        ys, several_y = _series_list(y, "y")
        if several_x or several_y:
            raise ShapeError("partial_fit takes one chunk of one series: (time,) or (time, features) arrays, not a list")
        u, t = xs[0], ys[0]
        if u.shape[0] != t.shape[0]:
            raise ShapeError(f"expected x and y of one length, got {u.shape[0]} and {t.shape[0]} steps")
        if self.reservoir is None:
            self._build(u.shape[1], t.shape[1])
        self._check_dims([u], self.input_dim, "x", "the network's input size")
        self._check_dims([t], self.output_dim, "y", "the network's output size")
        self._accumulate(u, t)
        return self

    def _accumulate(self, u: torch.Tensor, target: torch.Tensor) -> None:
        """Run the reservoir over one series (or chunk of one) and add its steps to the statistics.

        Chunk by chunk, pipelined: while the reservoir loop runs chunk k (compiled, without the GIL),
        a worker thread adds chunk k - 1 to the statistics (a BLAS product, also without the GIL), so
        the two overlap on two cores; at most one chunk waits. The sums are added in chunk order, so
        the result does not depend on the timing. A series of one chunk, or a process allowed only one
        core, adds its chunks itself (no thread).
        """
        step = self._chunk_len()
        overlap = u.shape[0] > step and _usable_cores() > 1  # a second chunk to overlap with, and a core for it
        pending: Future | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recurra-esn") if overlap else nullcontext() as worker:
            try:
                for start in range(0, u.shape[0], step):
                    u_c, t_c = self._with_noise(u[start : start + step]), target[start : start + step]
                    y_prev = None
                    if self.output_feedback:  # teacher forcing: y_{t-1} is the previous target
                        y_prev = torch.cat([self.y_prev[None], t_c[:-1]], 0)  # (1, O) + (T' - 1, O) -> (T', O)
                    states = self._states(u_c, y_prev)  # (T', N), a fresh buffer: the statistics may centre it in place
                    if self.output_feedback:
                        self.y_prev.copy_(t_c[-1])
                    skip = max(0, self.washout - self._series_steps)
                    self._series_steps += u_c.shape[0]
                    if skip >= u_c.shape[0]:
                        continue
                    if pending is not None:
                        pending.result()
                    if overlap:
                        pending = worker.submit(self._add_statistics, states[skip:].numpy(), t_c[skip:].numpy())
                    else:
                        self._add_statistics(states[skip:].numpy(), t_c[skip:].numpy())
            finally:
                if pending is not None:
                    pending.result()

    def _with_noise(self, u: torch.Tensor) -> torch.Tensor:
        """``u_t + ν_t``, ``ν_t ~ N(0, input_noise²)`` from the fit's seeded generator (``u`` itself without noise)."""
        if self.input_noise == 0:
            return u
        if self._noise is None:
            self._noise = torch.Generator().manual_seed(self.seed_)
        return u + self.input_noise * torch.randn(u.shape, generator=self._noise, dtype=F64)

    def _accumulate_batch(self, us: list[torch.Tensor], targets: list[torch.Tensor]) -> None:
        """Several whole series of one length, each from the zero state, run as one batch ``(S, T, ·)``;
        the same statistics (up to rounding) and the same input noise as one series after the other.
        Leaves the state after the last series."""
        us = [self._with_noise(u) for u in us]
        U, Y = torch.stack(us), torch.stack(targets)  # (S, T, F), (S, T, O)
        y_prev = None
        if self.output_feedback:  # teacher forcing from y_{-1} = 0
            y_prev = torch.cat([torch.zeros_like(Y[:, :1]), Y[:, :-1]], 1)  # (S, T, O)
        x0 = torch.zeros(U.shape[0], self.units, dtype=F64)
        states, _ = self.reservoir.fused(U, ReservoirState(x0), y_prev=y_prev, backend=self.backend)  # (S, T, N)
        self.x.copy_(states[-1, -1])
        if self.output_feedback:
            self.y_prev.copy_(Y[-1, -1])
        self._series_steps = U.shape[1]
        w = self.washout
        X = states[:, w:].reshape(-1, self.units)  # (S · (T - w), N), a fresh copy
        self._add_statistics(X.numpy(), Y[:, w:].reshape(-1, Y.shape[2]).numpy())

    def _add_statistics(self, X: np.ndarray, Y: np.ndarray) -> None:
        """Merge the statistics of the steps ``X (n, N)``, ``Y (n, O)`` into the running ones (the pairwise
        update of Chan, Golub & LeVeque, 1979: exact, and free of the cancellation of Σ xxᵀ - n x̄x̄ᵀ)."""
        n_b = X.shape[0]
        mean_x, mean_y = X.mean(0), Y.mean(0)
        Xc = X
        Xc -= mean_x  # (n, N), centred on this chunk's mean, in place (X is the chunk's own state buffer)
        cxx = Xc.T @ Xc  # numpy recognises AᵀA and runs BLAS's symmetric product
        cxy = Xc.T @ (Y - mean_y)  # (N, O)
        if self._count == 0:
            self._count, self._mean_x, self._mean_y, self._cxx, self._cxy = n_b, mean_x, mean_y, cxx, cxy
            return
        n_a = self._count
        n = n_a + n_b
        dx, dy = mean_x - self._mean_x, mean_y - self._mean_y
        self._cxx += cxx
        self._cxx += (n_a * n_b / n) * np.outer(dx, dx)
        self._cxy += cxy + (n_a * n_b / n) * np.outer(dx, dy)
        self._mean_x = self._mean_x + dx * (n_b / n)
        self._mean_y = self._mean_y + dy * (n_b / n)
        self._count = n

    def solve(self) -> EchoStateNetwork:
        """Compute ``W_out`` from the accumulated statistics (in float64). Returns ``self``."""
        if self._count == 0:
            raise NotBuiltError(
                f"EchoStateNetwork.solve: no steps to fit (every step so far was in the washout of {self.washout} steps): "
                "give partial_fit longer series first"
            )
        A = self._cxx.copy()
        A[np.diag_indices_from(A)] += self.ridge
        try:  # A is symmetric and (with ridge > 0, or enough varied steps) positive definite: Cholesky
            W_T = scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, overwrite_a=True, check_finite=False), self._cxy)
        except np.linalg.LinAlgError:  # not positive definite to working precision: LU, as for any matrix
            try:
                A = self._cxx.copy()
                A[np.diag_indices_from(A)] += self.ridge
                W_T = np.linalg.solve(A, self._cxy)  # (N, O): the state weights
            except np.linalg.LinAlgError:
                raise InputValueError(
                    "the normal equations of the readout are singular: use ridge > 0 or more varied training data"
                ) from None
        b = self._mean_y - self._mean_x @ W_T  # (O,): the bias, ȳ - W x̄
        W_out = np.concatenate([b[:, None], W_T.T], 1)  # (O, 1) + (O, N) -> (O, 1 + N)
        # in torch's own (aligned) memory like a loaded copy: BLAS may sum in another order for
        # differently aligned data, and a saved-and-loaded network must give identical numbers
        self.W_out = torch.from_numpy(W_out).clone(memory_format=torch.contiguous_format)
        return self

    # -- predicting -------------------------------------------------------------------------------
    def _readout(self, states: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.W_out[:, 0], states, self.W_out[:, 1:].T)  # (T, N) -> (T, O): W_out [1; x_t]

    def predict(self, x: Any, *, reset_state: bool = False) -> np.ndarray | list[np.ndarray]:
        """Teacher-forced outputs: inputs ``(T, F)`` -> outputs ``(T, O)`` (a list for a list of series).

        One series continues from the current state (``reset_state=True``: from zero); each series of
        a list starts from zero. With output feedback, ``y_{t-1}`` is the network's own previous output.
        """
        self._require_fitted("predict()")
        xs, several = _series_list(x, "x")
        self._check_dims(xs, self.input_dim, "x", "the network's input size")
        outputs = []
        for u in xs:
            if several or reset_state:
                self.reset_state()
            if self.output_feedback:
                outputs.append(self._closed_loop(u.shape[0], u))
            else:
                step = self._chunk_len()
                parts = [self._readout(self._states(u[s : s + step], None)) for s in range(0, u.shape[0], step)]
                outputs.append(torch.cat(parts, 0))
        result = [o.numpy() for o in outputs]
        return result if several else result[0]

    def generate(self, n_steps: int) -> np.ndarray:
        """Run closed-loop for ``n_steps``: each output becomes the next input. Returns ``(n_steps, O)``.

        It starts from the current state (after the last input seen by ``fit`` / ``predict``):
        ``out[0] = W_out [1; x]`` predicts the input after that one. Afterwards the state is as if
        the generated values had been inputs, so ``generate(a)`` then ``generate(b)`` equals
        ``generate(a + b)``.
        """
        self._require_fitted("generate()")
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps <= 0:
            raise ConfigError(f"expected n_steps to be a positive integer, got {n_steps!r}")
        if self.input_dim != self.output_dim:
            raise ShapeError(
                f"generate feeds each output back as the next input: it needs as many outputs as inputs, "
                f"got {self.output_dim} outputs and {self.input_dim} inputs"
            )
        return self._closed_loop(int(n_steps), None).numpy()

    def _closed_loop(self, n: int, inputs: torch.Tensor | None) -> torch.Tensor:
        """Step by step, the output computed at every step: ``inputs (n, F)`` given (predict with
        output feedback) or ``None`` (generate: the input is the previous output).

        Each step's recurrence runs in the reservoir's loop (one step long): small torch operations
        spread over threads, such as a sparse matrix-vector product, were measured up to 100 times
        slower on a busy machine.
        """
        cell = self.reservoir
        b, W_u, W_fb = cell.W_in[:, 0], cell.W_in[:, 1:], cell.W_fb
        backend, rows = cell.choose_backend(b, self.backend)
        out_b, out_W = self.W_out[:, 0], self.W_out[:, 1:]
        x = self.x.clone()[None]  # (1, N)
        outputs = torch.empty(n, self.output_dim, dtype=F64)
        y = torch.addmv(out_b, out_W, x[0])  # generate: the prediction of the next input
        for t in range(n):
            if inputs is None:
                outputs[t] = y
                u_t, fb = y, y  # the output is the next input (and, with feedback, y_{t-1})
            else:
                u_t, fb = inputs[t], self.y_prev
            z = torch.addmv(b, W_u, u_t)  # W_in [1; u_t]
            if W_fb is not None:
                z.addmv_(W_fb, fb)  # + W_fb y_{t-1}
            x = run_reservoir(z.view(1, 1, -1), x, cell.W, self.leak_rate, backend=backend, rows=rows)[:, 0]  # (1, N)
            y = torch.addmv(out_b, out_W, x[0])  # y_t = W_out [1; x_t]
            self.y_prev.copy_(y)
            if inputs is not None:
                outputs[t] = y
        self.x.copy_(x[0])
        return outputs

    # -- saving -----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write ``path/config.json`` and ``path/weights.safetensors`` (atomically; no pickle)."""
        save_model(self, path)

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "spectral_radius": self.spectral_radius,
            "leak_rate": self.leak_rate,
            "input_scaling": self.input_scaling,
            "density": self.density,
            "bias_scaling": self.bias_scaling,
            "ridge": self.ridge,
            "washout": self.washout,
            "input_noise": self.input_noise,
            "output_feedback": self.output_feedback,
            "feedback_scaling": self.feedback_scaling,
            "seed": self.seed_,
            "backend": self.backend,
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> EchoStateNetwork:
        """Rebuild from ``get_config()``; a fitted network gets empty matrices of the right shapes,
        ready for ``load_state_dict`` (the reservoir is not drawn again)."""
        config = dict(config)
        input_dim, output_dim = config.pop("input_dim", None), config.pop("output_dim", None)
        esn = cls(**config)
        if input_dim is not None and output_dim is not None:
            for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
                if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                    raise ConfigError(f"expected {name} to be a positive integer, got {value!r}")
            esn._build(input_dim, output_dim, initialize=False)
        return esn

    def extra_repr(self) -> str:
        return (
            f"units={self.units}, spectral_radius={self.spectral_radius}, leak_rate={self.leak_rate}, "
            f"ridge={self.ridge}, washout={self.washout}, seed={self.seed}"
        )


__all__ = ["EchoStateNetwork", "nrmse"]
