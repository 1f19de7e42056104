"""An Echo State Network learns the chaotic Mackey–Glass series and then runs on its own.

The reservoir (500 units) is fixed and random; only the linear readout is fitted, in closed form.
Fitted to predict the next value, the network is then run in closed loop: each prediction is fed
back as the next input, for 500 steps. A little noise on the training inputs (``input_noise``) makes
the readout tolerate its own errors when they come back.

    python examples/esn_mackey_glass.py            # prints the NRMSE of both, writes mackey_glass.png
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import recurra  # noqa: E402
from recurra.data import mackey_glass  # noqa: E402
from recurra.esn import nrmse  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="mackey_glass.png")
    args = parser.parse_args()

    s = mackey_glass(6001)[1000:, None]  # (5001, 1): tau = 17, the first 1,000 samples dropped
    train, test = 4000, 5000
    esn = recurra.EchoStateNetwork(
        500, spectral_radius=1.4, leak_rate=0.7, ridge=1e-12, washout=200, input_noise=1e-5, seed=0
    )
    esn.fit(s[: train - 1], s[1:train])  # inputs s[t], targets s[t + 1]
    one_step = esn.predict(s[train - 1 : test - 1])  # continues from the state after s[train - 2]
    print(f"one-step NRMSE on s[{train}:{test}]: {nrmse(s[train:test], one_step):.2e}")

    esn.predict(s[:train], reset_state=True)  # the state after s[train - 1]
    generated = esn.generate(500)  # closed loop: predicts s[train : train + 500]
    print(f"closed-loop NRMSE over 500 steps: {nrmse(s[train : train + 500], generated):.2e}")

    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(range(train - 200, train + 500), s[train - 200 : train + 500, 0], label="Mackey–Glass", color="0.4")
    ax.plot(range(train, train + 500), generated[:, 0], "--", label="ESN, closed loop")
    ax.set_xlabel("t")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
