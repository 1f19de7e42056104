"""The result of a comparison: the settings, every run, per-cell summaries, the JSON file and the plot."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..inspect import _plot
from ..io import atomic_write_bytes
from .runs import Run


@dataclass
class Comparison:
    """The result of ``compare``: the settings, the task, every run, and per-cell summaries."""

    task: str
    description: str
    metric: str
    higher_is_better: bool
    chance: float
    settings: dict[str, Any]
    runs: list[Run]

    def summary(self) -> list[dict[str, Any]]:
        """Per cell (in the order run): units, parameters, metric mean / std / min / max over the seeds,
        mean training seconds and steps."""
        rows = []
        for cell in dict.fromkeys(r.cell for r in self.runs):
            runs = [r for r in self.runs if r.cell == cell]
            m = np.array([r.metric for r in runs], dtype=np.float64)
            rows.append(
                {
                    "cell": cell,
                    "units": runs[0].units,
                    "parameters": runs[0].parameters,
                    "fixed_parameters": runs[0].fixed_parameters,
                    "metric_mean": float(m.mean()),
                    "metric_std": float(m.std(ddof=1)) if len(m) > 1 else 0.0,
                    "metric_min": float(m.min()),
                    "metric_max": float(m.max()),
                    "seeds": len(runs),
                    "train_seconds": float(np.mean([r.train_seconds for r in runs])),
                    "steps": float(np.mean([r.steps for r in runs])),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "runs"}
        d["summary"] = self.summary()
        d["runs"] = [asdict(r) for r in self.runs]
        return d

    def save_json(self, path: str | os.PathLike) -> None:
        """Write ``to_dict()`` to ``path`` whole or not at all (``compare`` does after every run)."""
        atomic_write_bytes(path, (json.dumps(self.to_dict(), indent=1, allow_nan=True) + "\n").encode())

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Comparison:
        """The comparison a ``results.json`` holds (``to_dict``'s form)."""
        runs = [Run(**r) for r in document["runs"]]
        keys = ("task", "description", "metric", "higher_is_better", "chance", "settings")
        return cls(**{k: document[k] for k in keys}, runs=runs)

    @classmethod
    def read_json(cls, path: str | os.PathLike) -> Comparison:
        """Read a ``results.json`` written by ``save_json``; ``ConfigError`` naming it when it is not one."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{path} is not a results.json written by recurra compare ({e})") from None

    def plot(self, path: str | os.PathLike | None = None) -> Any:
        """The learning curves: the metric (mean over the seeds, the band from the worst to the best seed)
        against steps, or seconds for a time budget; ``esn`` as a horizontal line (fitted in one solve);
        chance level dashed. Writes ``path`` when given; returns the ``Figure``."""
        by_time = self.settings.get("budget_seconds") is not None
        fig = _plot.new_figure(7.0, 4.4)
        ax = fig.add_subplot()
        for cell in dict.fromkeys(r.cell for r in self.runs):
            runs = [r for r in self.runs if r.cell == cell]
            if cell == "esn" or not runs[0].curve:
                ax.axhline(float(np.mean([r.metric for r in runs])), linestyle=":", label=f"{cell} (closed form)", color="0.3")
                continue
            n = min(len(r.curve) for r in runs)
            xs = np.array([[p["seconds" if by_time else "step"] for p in r.curve[:n]] for r in runs]).mean(0)
            ys = np.array([[p["metric"] for p in r.curve[:n]] for r in runs])  # (seeds, points)
            (line,) = ax.plot(xs, ys.mean(0), label=cell)
            ax.fill_between(xs, ys.min(0), ys.max(0), color=line.get_color(), alpha=0.15)
        ax.axhline(self.chance, linestyle="--", color="k", linewidth=0.8, label="chance")
        if self.metric == "mse":
            ax.set_yscale("log")
        ax.set_xlabel("training seconds" if by_time else "optimiser steps")
        ax.set_ylabel(f"test {self.metric}")
        ax.set_title(self.description, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncol=2)
        _plot.save(fig, path)
        return fig


__all__ = ["Comparison"]
