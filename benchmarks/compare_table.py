"""Print the table of one or more `recurra compare` results (results.json) as Markdown.

python benchmarks/compare_table.py benchmarks/results/digits_rows/results.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def fmt(metric: str, v: float) -> str:
    return f"{v:.4f}" if metric == "mse" else f"{100 * v:.1f} %"


def table(path: Path) -> str:
    d = json.loads(path.read_text())
    s, m = d["settings"], d["metric"]
    budget = f"{s['budget_steps']} steps" if s["budget_steps"] is not None else f"{s['budget_seconds']:g} s of training"
    layers = s.get("layers", 1)
    depth = f"{layers} recurrent layers, " if layers > 1 else ""
    schedule = " decayed to 0 (cosine)" if s.get("lr_schedule") == "cosine" else ""
    lines = [
        f"**{d['description']}**: test {m} ({'higher' if d['higher_is_better'] else 'lower'} is better, chance "
        f"{fmt(m, d['chance'])}); {depth}{budget} per run, batch {s['batch_size']}, Adam lr {s['learning_rate']:g}{schedule}, "
        f"clipnorm {s['clipnorm']}, {len(s['seeds'])} seeds, {s['n_train']} training / {s['n_test']} test sequences, "
        f"{s['threads']} thread",
        "",
        f"| cell | units | parameters | {m} mean ± std | best / worst seed | train s (mean) | steps |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in d["summary"]:
        best, worst = (r["metric_max"], r["metric_min"]) if d["higher_is_better"] else (r["metric_min"], r["metric_max"])
        params = f"{r['parameters']:,}" + (" fitted" if r["cell"] == "esn" else "")
        steps = "closed form" if r["cell"] == "esn" else f"{r['steps']:.0f}"
        lines.append(
            f"| {r['cell']} | {r['units']} | {params} | {fmt(m, r['metric_mean'])} ± {fmt(m, r['metric_std'])} | "
            f"{fmt(m, best)} / {fmt(m, worst)} | {r['train_seconds']:.1f} | {steps} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(Path(p)) for p in sys.argv[1:]))
