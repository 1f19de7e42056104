"""Speed of recurra's GRU on the CPU (its compiled loop) against torch's own GRU and Keras 3's.

Forward + backward of one GRU layer (``y.backward(g)`` with a fixed ``g``, ``return_sequences``),
float32, batch-first ``(B, T, F)`` inputs, the same weights in every contender:

- ``recurra``: ``recurra.GRU(H, return_sequences=True)`` (on the CPU: the compiled loop of
  ``recurra/cells/gru_kernel.py``);
- ``torch.gru``: the same layer's weights through ``torch.nn.GRU`` (what recurra ran before);
- ``keras``: ``keras.layers.GRU(H, return_sequences=True)`` with the torch backend (Keras 3), the
  same weights, when keras is installed (``benchmarks/requirements.txt``);
- ``nn.LSTM``: ``torch.nn.LSTM(F, H')`` with ``H'`` giving about the GRU's parameter count (its CPU
  kernel is oneDNN's): a reference for what a fused recurrence costs at that size.

Sizes: the ones ``recurra compare`` uses on the adding problem (``F = 2``, 16 to 80 units, 32
sequences of 200 steps) and a larger layer (``B = 64, T = 100, F = H = 256``); then masked sequences
(``lengths`` from 50 to 200 steps, ``F = H = 64``): recurra's packed loop against
``pack_padded_sequence`` + ``torch.nn.GRU`` + ``pad_packed_sequence``. Contenders interleaved
over ``--rounds`` rounds after one untimed call; the table gives median milliseconds and ratios of
medians to ``recurra`` (median per-round ratio in brackets).

    python benchmarks/gru.py                     # one thread, 7 rounds
    python benchmarks/gru.py --threads 2 --json benchmarks/results/gru.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from typing import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from family import fwd_bwd, print_table, summarize, timed_rounds  # noqa: E402

SIZES = [(32, 200, 2, 16), (32, 200, 2, 39), (32, 200, 2, 80), (64, 100, 256, 256)]  # (B, T, F, H)
MASKED = (32, 200, 64, 64)  # variable lengths, 50 to 200 steps


def _keras_gru(layer, x: torch.Tensor) -> Callable[[], torch.Tensor] | None:
    """Keras 3's GRU (torch backend) with ``layer``'s weights, or None without keras."""
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    H = layer.units
    k = keras.layers.GRU(H, return_sequences=True, reset_after=True)
    k.build((None, x.shape[1], x.shape[2]))
    k.set_weights(layer.get_weights())  # recurra's get_weights() is in Keras's layout and gate order
    return lambda: k(x)


def contenders(B: int, T: int, F: int, H: int, seed: int) -> dict[str, Callable[[], None]]:
    from recurra import GRU

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, F, generator=g)
    grad = torch.randn(B, T, H, generator=g)
    layer = GRU(H, return_sequences=True, input_shape=(None, F))
    cell = layer.cell
    torch_gru = torch.nn.GRU(F, H, batch_first=True)
    with torch.no_grad():
        torch_gru.weight_ih_l0.copy_(cell.weight_ih)
        torch_gru.weight_hh_l0.copy_(cell.weight_hh)
        torch_gru.bias_ih_l0.copy_(cell.bias)
        torch_gru.bias_hh_l0.copy_(cell.recurrent_bias)
    n_params = sum(p.numel() for p in layer.parameters())
    H_lstm = max(1, round(((F + 2) ** 2 + n_params) ** 0.5 / 2 - (F + 2) / 2))  # 4(H(F+H) + 2H) ≈ n_params
    lstm = torch.nn.LSTM(F, H_lstm, batch_first=True)
    grad_lstm = torch.randn(B, T, H_lstm, generator=g)
    out = {
        "recurra": fwd_bwd(lambda: layer(x), grad, list(layer.parameters())),
        "torch.gru": fwd_bwd(lambda: torch_gru(x)[0], grad, list(torch_gru.parameters())),
    }
    keras_call = _keras_gru(layer, x)
    if keras_call is not None:
        out["keras"] = fwd_bwd(keras_call, grad, [])
    out[f"nn.LSTM({H_lstm})"] = fwd_bwd(lambda: lstm(x)[0], grad_lstm, list(lstm.parameters()))
    return out


def masked_contenders(B: int, T: int, F: int, H: int, seed: int) -> dict[str, Callable[[], None]]:
    """Sequences of 50 to T steps: recurra's layer with ``lengths`` (its packed loop) against
    ``pack_padded_sequence`` + ``torch.nn.GRU`` + ``pad_packed_sequence``."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    from recurra import GRU

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, F, generator=g)
    lengths = torch.randint(50, T + 1, (B,), generator=g)
    grad = torch.randn(B, T, H, generator=g)
    layer = GRU(H, return_sequences=True, input_shape=(None, F))
    cell = layer.cell
    torch_gru = torch.nn.GRU(F, H, batch_first=True)
    with torch.no_grad():
        for name, src in (("weight_ih_l0", cell.weight_ih), ("weight_hh_l0", cell.weight_hh)):
            getattr(torch_gru, name).copy_(src)
        torch_gru.bias_ih_l0.copy_(cell.bias)
        torch_gru.bias_hh_l0.copy_(cell.recurrent_bias)

    def torch_packed() -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(torch_gru(packed)[0], batch_first=True, total_length=T)[0]

    return {
        "recurra": fwd_bwd(lambda: layer(x, lengths=lengths), grad, list(layer.parameters())),
        "torch.gru": fwd_bwd(torch_packed, grad, list(torch_gru.parameters())),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from recurra.cells import gru_kernel

    if not gru_kernel.usable(torch.zeros(1)):
        sys.exit("the compiled GRU loop could not be built here: nothing to measure")
    results = {"threads": args.threads, "rounds": args.rounds, "torch": torch.__version__, "machine": platform.machine()}
    results["sizes"] = []
    for B, T, F, H in SIZES:
        summary = summarize(timed_rounds(contenders(B, T, F, H, args.seed), args.rounds), "recurra")
        print_table(f"GRU({H}), B={B}, T={T}, F={F}: forward + backward", summary, "recurra", None)
        results["sizes"].append({"B": B, "T": T, "F": F, "H": H, "contenders": summary})
    B, T, F, H = MASKED
    summary = summarize(timed_rounds(masked_contenders(B, T, F, H, args.seed), args.rounds), "recurra")
    print_table(f"GRU({H}), B={B}, T={T}, F={F}, lengths 50-{T} (packed): forward + backward", summary, "recurra", None)
    results["masked"] = {"B": B, "T": T, "F": F, "H": H, "contenders": summary}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
