"""Gradient flow through time on the adding problem, at initialisation, for every recurrent cell.

For each cell (the widths ``recurra.compare`` gives for a parameter budget, Keras's default
initialisers), on one batch of the adding problem (``T`` steps), with the MSE loss of a
``Dense(1)`` output layer on the last state:

- ``orders``: ``log10(‖∂L/∂h_T‖ / ‖∂L/∂h_{T-100}‖)``, the orders of magnitude the gradient loses
  over the last 100 steps (``recurra.inspect.GradientFlow.orders_of_decay(100)``);
- ``‖∂h_T/∂h_0‖``: the largest singular value of the state Jacobian over the whole sequence.

``--init torch`` draws every weight and bias of the recurrent layer from ``U(-1/√H, 1/√H)``, the rule
of PyTorch's own ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (no orthogonal recurrent matrix, no forget bias
of 1), instead of Keras's initialisers (recurra's default).

Then an exploding gradient: a relu SimpleRNN whose recurrent matrix is ``gain · I``
(1.25, Le et al.'s identity initialisation scaled up) grows ``‖∂L/∂h_t‖`` going back in time;
trained for ``--explode-steps`` plain SGD steps (learning rate ``--explode-lr``) with and without
``clipnorm=1``. (SGD, because Adam divides each weight's step by its own gradient's running scale,
which bounds every step whatever the gradient's norm: clipping changes little there.)

With ``--trained DIR`` (a ``recurra compare ... --save-models --out DIR`` run), instead: the same
``orders`` for every trained network in ``DIR/models/`` on a batch of its held-out sequences, next to
the same network at initialisation (rebuilt from its seed, as ``compare`` built it), for the output
state and for the LSTM's cell ``c``.

    python benchmarks/gradient_flow.py                        # T=200, budget 5000, seeds 0 1 2
    python benchmarks/gradient_flow.py --out benchmarks/results/gradient_flow
    python benchmarks/gradient_flow.py --trained benchmarks/results/adding200_8000_models \
        --out benchmarks/results/gradient_flow_trained
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from recurra import Dense, Sequential, SimpleRNN, initializers, load_model
from recurra.compare import RECURRENT, build_model, units_for_budget
from recurra.data.tasks import adding_problem, make_task
from recurra.inspect import gradient_flow, plot_gradient_flow
from recurra.layers.recurrent import Recurrent
from recurra.train import Trainer, set_seed
from recurra.train.optimizers import Optimizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--params", type=int, default=5000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--cells", default=",".join(RECURRENT), help="comma-separated recurrent cells")
    p.add_argument("--explode-steps", type=int, default=100)
    p.add_argument("--explode-lr", type=float, default=1e-3)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/gradient_flow"))
    p.add_argument("--init", choices=("keras", "torch"), default="keras", help="the recurrent layer's initialisation")
    p.add_argument("--trained", type=Path, default=None, help="a compare --save-models output directory")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.trained is not None:
        trained(args.trained, args.out, args.batch)
        return
    start = time.perf_counter()
    T = args.length
    task = make_task("adding", length=T, n_train=args.batch, n_test=1)
    x, y = task.x_train, task.y_train
    rows, flows = [], {}
    for cell in args.cells.split(","):
        units = units_for_budget(cell, args.params, task)
        orders, jac = [], []
        for seed in args.seeds:
            set_seed(seed)
            model = build_model(cell, units, task).double()  # float64: float32 underflows below 1e-38
            if args.init == "torch":
                torch_init_(model, units)
            flow = gradient_flow(model, x, y, loss="mse")
            orders.append(flow.orders_of_decay(100))
            jac.append(flow.jacobian_norm)
            if seed == args.seeds[0]:
                flows[f"{cell} ({units})"] = flow
        rows.append({"cell": cell, "units": units, "orders_over_100": orders, "jacobian_norm": jac})
        print(
            f"{cell:<8} {units:>5} units   orders lost over 100 steps: {np.mean(orders):6.2f} "
            f"(seeds {', '.join(f'{o:.2f}' for o in orders)})   ‖∂h_T/∂h_0‖: {', '.join(f'{j:.2e}' for j in jac)}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.init == "keras" else "_torch_init"
    title = f"Adding problem, T={T}, at initialisation ({args.init})"
    plot_gradient_flow(flows, args.out / f"adding_init{suffix}.png", title=title)
    if args.init != "keras":  # only the cells' figures depend on the initialisation
        result = {"length": T, "params": args.params, "batch": args.batch, "seeds": args.seeds, "init": args.init, "cells": rows}
        (args.out / f"gradient_flow{suffix}.json").write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}/ ({time.perf_counter() - start:.0f} s)")
        return

    # an exploding gradient, and clipping
    xe, ye = adding_problem(1024, 50, seed=3)
    gain = 1.25
    explode = {}
    for clip in (None, 1.0):
        set_seed(0)
        model = Sequential(
            [
                SimpleRNN(32, activation="relu", recurrent_initializer=initializers.Identity(gain=gain), input_shape=(50, 2)),
                Dense(1),
            ]
        )
        if clip is None:
            explode["flow"] = gradient_flow(model, xe[:64], ye[:64])
        trainer = Trainer(model)
        trainer.compile(Optimizer("sgd", learning_rate=args.explode_lr), "mse", clipnorm=clip)
        epochs = math.ceil(args.explode_steps / (1024 // 32))
        hist = trainer.fit(xe, ye, batch_size=32, epochs=epochs, verbose=0, seed=0)
        explode["clipnorm=1" if clip else "no clipping"] = {
            "loss": hist.history["loss"],
            "grad_norm_max": hist.history["grad_norm_max"],
        }
    f = explode.pop("flow")
    print(f"exploding: relu SimpleRNN(32), recurrent identity x {gain}, T=50: ‖∂L/∂h_0‖ / ‖∂L/∂h_50‖ = {1 / f.decay(50):.3g}")
    for k, v in explode.items():
        losses = ", ".join(f"{a:.3g}" for a in v["loss"])
        print(f"  {k:<12} loss per epoch {losses}; largest gradient norm {max(v['grad_norm_max']):.3g}")
    plot_gradient_flow({f"relu SimpleRNN, W_hh = {gain} I": f}, args.out / "exploding.png", title=f"Exploding: W_hh = {gain} I")
    result = {
        "length": T,
        "params": args.params,
        "batch": args.batch,
        "seeds": args.seeds,
        "cells": rows,
        "exploding": {"gain": gain, "growth_over_50": 1 / f.decay(50), "optimizer": "sgd", "lr": args.explode_lr, **explode},
        "seconds": time.perf_counter() - start,
    }
    (args.out / "gradient_flow.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}/ ({result['seconds']:.0f} s)")


def torch_init_(model: torch.nn.Module, units: int) -> None:
    """PyTorch's initialisation of its recurrent layers, for every recurrent layer of ``model``: each
    weight and bias ``~ U(-1/√H, 1/√H)``."""
    k = 1.0 / math.sqrt(units)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, Recurrent):
                for param in module.parameters():
                    param.uniform_(-k, k)


def trained(run_dir: Path, out: Path, batch: int) -> None:
    """Orders lost over the last 100 steps by every trained network of ``run_dir``, at initialisation
    and after training, on ``batch`` held-out sequences of the run's task."""
    start = time.perf_counter()
    saved = json.loads((run_dir / "results.json").read_text())
    settings = saved["settings"]
    results = {f"{r['cell']}-seed{r['seed']}": r for r in saved["runs"]}
    n_train, n_test = settings["n_train"], settings["n_test"]
    task = make_task(settings["task"], length=settings["length"], n_train=n_train, n_test=n_test, seed=settings["data_seed"])
    x, y = task.x_test[:batch], task.y_test[:batch]
    rows, flows = [], {}
    for path in sorted((run_dir / "models").iterdir()):
        run = results[path.name]
        set_seed(run["seed"])  # compare seeds, then builds: the same initial weights
        initial = build_model(run["cell"], run["units"], task, settings.get("layers", 1)).double()
        after = load_model(path).double()
        row = {"model": path.name, "cell": run["cell"], "units": run["units"], "test_mse": run["metric"]}
        for when, model in (("init", initial), ("trained", after)):
            flow = gradient_flow(model, x, y, loss="mse")
            flows[f"{path.name} {when}"] = flow
            row[when] = {
                "orders_over_100": flow.orders_of_decay(100),
                "orders_over_100_by_state": {
                    k: float(np.log10(v[-1] / v[-101])) if v[-101] > 0 else None for k, v in flow.grad_norms.items()
                },
                "jacobian_norm": flow.jacobian_norm,
                "state_jacobian_norm": flow.state_jacobian_norm,
                "loss": flow.loss,
            }
        rows.append(row)
        def by_state(when: str, row: dict = row) -> str:
            return ", ".join(f"{k} {v:.2f}" for k, v in row[when]["orders_over_100_by_state"].items())

        print(
            f"{path.name:<14} test MSE {run['metric']:.4f}   orders lost over the last 100 steps: "
            f"at initialisation {by_state('init')}; trained {by_state('trained')}   "
            f"‖∂s_T/∂s_0‖ {row['init']['state_jacobian_norm']:.2e} -> {row['trained']['state_jacobian_norm']:.2e}"
        )
    out.mkdir(parents=True, exist_ok=True)
    plot_gradient_flow(flows, out / "adding_trained.png", title=f"Adding problem, T={task.length}: at initialisation and trained")
    result = {"run": str(run_dir), "settings": settings, "batch": batch, "models": rows, "seconds": time.perf_counter() - start}
    (out / "gradient_flow_trained.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}/ ({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
