"""Gradient flow through time on the adding problem, at initialisation, for every recurrent cell.

For each cell (the widths ``recurra.compare`` gives for a parameter budget, Keras's default
initialisers), on one batch of the adding problem (``T`` steps), with the MSE loss of a
``Dense(1)`` output layer on the last state:

- ``orders``: ``log10(‖∂L/∂h_T‖ / ‖∂L/∂h_{T-100}‖)``, the orders of magnitude the gradient loses
  over the last 100 steps (``recurra.inspect.GradientFlow.orders_of_decay(100)``);
- ``‖∂h_T/∂h_0‖``: the largest singular value of the state Jacobian over the whole sequence.

Then an exploding gradient: a relu SimpleRNN whose recurrent matrix is ``gain · I``
(1.25, Le et al.'s identity initialisation scaled up) grows ``‖∂L/∂h_t‖`` going back in time;
trained for ``--explode-steps`` plain SGD steps (learning rate ``--explode-lr``) with and without
``clipnorm=1``. (SGD, because Adam divides each weight's step by its own gradient's running scale,
which bounds every step whatever the gradient's norm: clipping changes little there.)

    python benchmarks/gradient_flow.py                        # T=200, budget 5000, seeds 0 1 2
    python benchmarks/gradient_flow.py --out benchmarks/results/gradient_flow
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from recurra import Dense, Sequential, SimpleRNN, initializers
from recurra.compare import RECURRENT, build_model, units_for_budget
from recurra.data.tasks import adding_problem, make_task
from recurra.inspect import gradient_flow, plot_gradient_flow
from recurra.train import Trainer, set_seed
from recurra.train.optimizers import Optimizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--params", type=int, default=5000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--explode-steps", type=int, default=100)
    p.add_argument("--explode-lr", type=float, default=1e-3)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/gradient_flow"))
    args = p.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    T = args.length
    task = make_task("adding", length=T, n_train=args.batch, n_test=1)
    x, y = task.x_train, task.y_train
    rows, flows = [], {}
    for cell in RECURRENT:
        units = units_for_budget(cell, args.params, task)
        orders, jac = [], []
        for seed in args.seeds:
            set_seed(seed)
            model = build_model(cell, units, task).double()  # float64: float32 underflows below 1e-38
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
    plot_gradient_flow(flows, args.out / "adding_init.png", title=f"Adding problem, T={T}, at initialisation")

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


if __name__ == "__main__":
    main()
