"""The networks behind ``Forecaster``: a recurrent encoder and a dense head, or an Echo State Network.

Both read windows ``x (N, L [+ Hm], C)`` (``make_windows``'s layout: ``L`` history rows, then ``Hm``
rows that hold only the known-future columns when there are any) and give the parameters of the
forecast distribution of the next ``Hm`` steps of the ``K`` targets, ``(N, Hm, K, P)``:

- ``output="point"``: ``P = 1``, the value;
- ``output="gaussian"``: ``P = 2``, the mean ``μ`` and the scale ``σ > 0``;
- ``output="quantile"``: ``P = Q``, one value per quantile level.

All in the scaled space of the targets; the ``Forecaster`` undoes the scaling.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from ..errors import ConfigError
from ..esn import EchoStateNetwork
from ..io import load_state
from ..layers.family import CELLS

OUTPUTS = ("point", "gaussian", "quantile")
NORMALIZE = ("window", "none")
MIN_SCALE = 1e-4  # the smallest Gaussian scale, in scaled units


def n_params(output: str, quantiles: Sequence[float]) -> int:
    return {"point": 1, "gaussian": 2, "quantile": len(quantiles)}[output]


class ForecastNetwork(nn.Module):
    """``layers`` recurrent layers of ``cell`` over the history, then a linear head.

    ``normalize="window"`` subtracts each window's mean of the targets over its ``L`` history rows
    from the target inputs and adds it back to the outputs (locations and quantiles, not scales): the
    network learns the shape of what comes next, not the level, so a trend that leaves the range seen
    in training still forecasts.

    Shapes:
        x: ``(B, L + Hk, C)``, ``Hk = horizon`` when ``n_known > 0`` else 0.
        output: ``(B, horizon, n_targets, P)``.
    """

    def __init__(
        self,
        *,
        cell: str,
        units: int,
        layers: int,
        lookback: int,
        horizon: int,
        n_features: int,
        n_targets: int,
        n_known: int,
        output: str,
        quantiles: Sequence[float] = (),
        dropout: float = 0.0,
        normalize: str = "window",
    ):
        super().__init__()
        self.config = dict(
            cell=cell,
            units=units,
            layers=layers,
            lookback=lookback,
            horizon=horizon,
            n_features=n_features,
            n_targets=n_targets,
            n_known=n_known,
            output=output,
            quantiles=list(quantiles),
            dropout=dropout,
            normalize=normalize,
        )
        self.lookback, self.horizon, self.n_targets, self.n_known = lookback, horizon, n_targets, n_known
        self.output, self.normalize = output, normalize
        self.P = n_params(output, quantiles)
        stack = []
        for i in range(layers):
            last = i == layers - 1
            stack.append(CELLS[cell](units, return_sequences=not last, input_shape=(lookback, n_features if i == 0 else units)))
        self.rnn = nn.ModuleList(stack)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(units + horizon * n_known, horizon * n_targets * self.P)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        L, H, K = self.lookback, self.horizon, self.n_targets
        hist = x[:, :L]  # (B, L, C)
        level = None
        if self.normalize == "window":
            level = hist[:, :, :K].mean(1, keepdim=True)  # (B, 1, K)
            if hist.shape[2] == K:
                hist = hist - level  # (B, L, K)
            else:
                hist = torch.cat([hist[:, :, :K] - level, hist[:, :, K:]], 2)  # (B, L, K) + (B, L, C - K) -> (B, L, C)
        h = hist
        for layer in self.rnn:
            h = layer(h)  # (B, L, U) then (B, U) after the last layer
        if self.training and self.drop.p > 0:
            h = self.drop(h)
        if self.n_known:
            known = x[:, L : L + H, x.shape[2] - self.n_known :].reshape(x.shape[0], -1)  # (B, H, Fk) -> (B, H·Fk)
            h = torch.cat([h, known], 1)  # (B, U) + (B, H·Fk) -> (B, U + H·Fk)
        out = self.head(h).view(-1, H, K, self.P)  # (B, H·K·P) -> (B, H, K, P)
        if self.output == "gaussian":
            mu, raw = out[..., 0], out[..., 1]  # (B, H, K) each
            if level is not None:
                mu = mu + level
            return torch.stack([mu, functional.softplus(raw) + MIN_SCALE], -1)  # (B, H, K, 2)
        if level is not None:
            out = out + level[..., None]  # (B, H, K, P) + (B, 1, K, 1)
        return out


def make_loss(output: str, quantiles: Sequence[float]):
    """The training loss of an output kind: ``(params (B, H, K, P), y (B, H, K)) -> scalar``."""
    if output == "point":

        def mse(params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return ((params[..., 0] - y) ** 2).mean()

        return mse
    if output == "gaussian":

        def gaussian_nll(params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            mu, sigma = params[..., 0], params[..., 1]
            return (torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2).mean() + 0.5 * math.log(2 * math.pi)

        return gaussian_nll
    q = torch.tensor(list(quantiles))

    def pinball(params: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        err = y[..., None] - params  # (B, H, K, 1) - (B, H, K, Q)
        levels = q.to(params)
        return torch.maximum(levels * err, (levels - 1) * err).mean()

    return pinball


def check_quantiles(quantiles: Any, level: float) -> list[float]:
    """Sorted distinct levels in (0, 1) that include the interval's two ends (1 ∓ level) / 2."""
    try:
        qs = sorted(float(v) for v in quantiles)
    except (TypeError, ValueError):
        raise ConfigError(f"expected quantiles as numbers in (0, 1), got {quantiles!r}") from None
    if not qs or any(not 0 < v < 1 for v in qs) or len(set(qs)) != len(qs):
        raise ConfigError(f"expected distinct quantiles in (0, 1), got {quantiles!r}")
    for end in ((1 - level) / 2, (1 + level) / 2):
        if not any(abs(v - end) < 1e-9 for v in qs):
            raise ConfigError(
                f"the {level:.0%} interval needs the quantiles {(1 - level) / 2:g} and {(1 + level) / 2:g}; got {qs}"
            )
    return qs


class EsnForecaster:
    """An Echo State Network read out at the end of each window (closed-form ridge, no gradients).

    Each window runs the reservoir from the zero state over its ``L`` history rows; the state after
    the last one is read out to all ``Hm · K`` values at once (``washout = L - 1``: only the last step
    of a window enters the ridge fit). Known-future values are appended to every row of the window.
    ``output="gaussian"`` / ``"quantile"`` take their spread from the training residuals of each
    horizon step and target (their standard deviation or their empirical quantiles).
    """

    def __init__(self, *, units: int, lookback: int, horizon: int, n_targets: int, n_known: int, output: str,
                 quantiles: Sequence[float], seed: int, options: dict[str, Any] | None = None):  # fmt: skip
        opts = {"spectral_radius": 0.9, "leak_rate": 0.5, "input_scaling": 0.5, "ridge": 1e-4, "density": 0.2}
        opts.update(options or {})
        self.lookback, self.horizon, self.n_targets, self.n_known = lookback, horizon, n_targets, n_known
        self.output, self.quantiles = output, list(quantiles)
        self.esn = EchoStateNetwork(units, washout=lookback - 1, seed=seed, **opts)
        self.spread: np.ndarray | None = None  # (H, K) std, or (H, K, Q) residual quantiles

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        L, H = self.lookback, self.horizon
        hist = x[:, :L]  # (N, L, C)
        if not self.n_known:
            return hist
        known = x[:, L : L + H, x.shape[2] - self.n_known :].reshape(x.shape[0], 1, -1)  # (N, 1, H·Fk)
        return np.concatenate([hist, np.repeat(known, L, 1)], 2)  # (N, L, C) + (N, L, H·Fk) -> (N, L, C + H·Fk)

    def _values(self, x: np.ndarray) -> np.ndarray:
        outs = self.esn.predict(list(self._inputs(x)))  # N × (L, H·K)
        return np.stack([o[-1] for o in outs]).reshape(len(x), self.horizon, self.n_targets)  # (N, H, K)

    def fit(self, x: np.ndarray, y: np.ndarray) -> None:
        N, L = len(x), self.lookback
        targets = np.zeros((N, L, self.horizon * self.n_targets))  # only the last row counts (washout L - 1)
        targets[:, -1] = y.reshape(N, -1)
        self.esn.fit(list(self._inputs(x)), list(targets))
        resid = y - self._values(x)  # (N, H, K)
        if self.output == "gaussian":
            self.spread = resid.std(0) + 1e-9  # (H, K)
        elif self.output == "quantile":
            self.spread = np.moveaxis(np.quantile(resid, self.quantiles, axis=0), 0, -1)  # (H, K, Q)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(N, H, K, P)`` like the network's output."""
        v = self._values(x)  # (N, H, K)
        if self.output == "point":
            return v[..., None]
        if self.output == "gaussian":
            return np.stack([v, np.broadcast_to(self.spread, v.shape)], -1)  # (N, H, K, 2)
        return v[..., None] + self.spread[None]  # (N, H, K, 1) + (1, H, K, Q)

    def tensors(self) -> dict[str, torch.Tensor]:
        out = {f"esn/{k}": v.detach().contiguous() for k, v in self.esn.state_dict().items()}
        if self.spread is not None:
            out["spread"] = torch.from_numpy(np.ascontiguousarray(self.spread))
        return out

    def esn_config(self) -> dict[str, Any]:
        return self.esn.get_config()

    def load(self, esn_config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        self.esn = EchoStateNetwork.from_config(esn_config)
        load_state(self.esn, {k[4:]: v for k, v in tensors.items() if k.startswith("esn/")}, "weights.safetensors")
        self.spread = tensors["spread"].numpy() if "spread" in tensors else None


__all__ = ["CELLS", "OUTPUTS", "NORMALIZE", "ForecastNetwork", "EsnForecaster", "make_loss", "check_quantiles", "n_params"]
