"""One token at a time: milliseconds per generated token and per keyboard suggestion, one thread.

For a word-level and a char-level ``LanguageModel`` with an LSTM(128) (the corpus: the bundled proverbs),
in interleaved rounds on the same weights:

- ``recurra``: ``LanguageModel.generate`` (greedy and sampled), which runs its whole loop of steps and
  choices in one compiled call (``step_kernel.generate``) and draws a token from one uniform number;
- ``layers``: the same loop through the network's layers for a sequence of one step (``network_.step``,
  the path generation took before the one-step path: input checks, masks, the sequence kernel);
- ``torch``: a hand-written PyTorch loop, ``nn.Embedding`` + ``nn.LSTMCell`` + ``nn.Linear`` with the
  same weights, greedy; its tokens must equal recurra's greedy ones (checked).

And one LSTM(128) step of a batch of one (64 inputs): ``LSTMCell.inference_step`` (recurra's compiled step)
against ``torch.lstm_cell``, microseconds per call.

And ``suggest``: the keyboard's suggestions for a text typed one character at a time (each call reuses the
state of the previous one), milliseconds per call.

    python benchmarks/generation.py                  # prints the table, writes results/generation.json
    python benchmarks/generation.py --tokens 500 --rounds 7
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from recurra.text import LanguageModel, bundled_text

RESULTS = Path(__file__).resolve().parent / "results" / "generation.json"
TYPED = "el que madruga, dios le ayuda; más vale pájaro en mano que ciento volando"


def torch_twin(lm: LanguageModel) -> tuple[nn.Module, nn.Module, nn.Module]:
    """``nn.Embedding``, ``nn.LSTMCell`` and ``nn.Linear`` holding the model's weights (one LSTM layer)."""
    net = lm.network_
    (rnn,) = net.rnns
    cell = rnn.cell
    emb = nn.Embedding.from_pretrained(net.embed.embeddings.detach().clone())
    lstm = nn.LSTMCell(cell.input_size, cell.units)
    out = nn.Linear(cell.units, len(lm.vocab_.tokens))
    with torch.no_grad():
        lstm.weight_ih.copy_(cell.weight_ih)
        lstm.weight_hh.copy_(cell.weight_hh)
        lstm.bias_ih.copy_(cell.bias)
        lstm.bias_hh.zero_()
        if net.tie_weights:
            assert net.proj is None, "the twin reads tied weights without a projection"
            out.weight.copy_(net.embed.embeddings)
            out.bias.copy_(net.out_bias)
        else:
            out.weight.copy_(net.out.weight)
            out.bias.copy_(net.out.bias)
    return emb, lstm, out


@torch.no_grad()
def torch_greedy(lm: LanguageModel, twin, tokens: int) -> list[int]:
    """Greedy generation from the start of a line, by hand: the same banned tokens and line breaks."""
    emb, lstm, out = twin
    v = lm.vocab_
    ban = lm._ban_mask()
    H = lstm.hidden_size
    h, c = torch.zeros(1, H), torch.zeros(1, H)
    h, c = lstm(emb(torch.tensor([v.start_id])), (h, c))
    made = []
    for _ in range(tokens):
        nxt = int(torch.argmax(out(h)[0] + ban))
        made.append(nxt)
        feed = [nxt, v.start_id] if nxt == v.end_id else [nxt]
        for tok in feed:
            h, c = lstm(emb(torch.tensor([tok])), (h, c))
    return made


@torch.no_grad()
def layers_greedy(lm: LanguageModel, tokens: int) -> list[int]:
    """Greedy generation through the layers for sequences of one step (``network_.step``)."""
    net, v = lm.network_, lm.vocab_
    ban = lm._ban_mask()
    logits, state = net.step(torch.tensor([[v.start_id]]))
    made = []
    for _ in range(tokens):
        nxt = int(torch.argmax(logits[0, -1] + ban))
        made.append(nxt)
        feed = [nxt, v.start_id] if nxt == v.end_id else [nxt]
        logits, state = net.step(torch.tensor([feed]), state)
    return made


def recurra_greedy(lm: LanguageModel, tokens: int) -> list[int]:
    text = lm.generate(length=tokens, strategy="greedy", stop_at_end=False)
    return text  # type: ignore[return-value]


def timed(fn, *args) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def measure(level: str, tokens: int, rounds: int) -> dict:
    lm = LanguageModel(level=level, cell="lstm", units=128, epochs=1, validation=0.0, seed=0)
    lm.fit(bundled_text("refranes"), verbose=0)
    lm.network_.eval()
    twin = torch_twin(lm)
    # the same tokens by hand as by recurra (greedy, same weights)
    mine = lm._render(torch_greedy(lm, twin, 60), "")
    assert mine == lm.generate(length=60, strategy="greedy", stop_at_end=False), "the hand-written loop disagrees"
    assert mine == lm._render(layers_greedy(lm, 60), ""), "the layers' loop disagrees"
    runs: dict[str, list[float]] = {"recurra greedy": [], "recurra sample": [], "layers greedy": [], "torch greedy": []}
    for _ in range(rounds):
        runs["recurra greedy"].append(timed(recurra_greedy, lm, tokens)[0])
        runs["recurra sample"].append(timed(lambda: lm.generate(length=tokens, stop_at_end=False, seed=0))[0])
        runs["layers greedy"].append(timed(layers_greedy, lm, tokens)[0])
        runs["torch greedy"].append(timed(torch_greedy, lm, twin, tokens)[0])
    ms = {k: statistics.median(v) / tokens * 1e3 for k, v in runs.items()}
    result = {"level": level, "vocabulary": len(lm.vocab_.tokens), "tokens": tokens, "rounds": rounds, "ms_per_token": ms}
    if level == "word":
        per_call = []
        for _ in range(rounds):
            lm._cache = None
            t = time.perf_counter()
            for i in range(1, len(TYPED) + 1):
                lm.suggest(TYPED[:i])
            per_call.append((time.perf_counter() - t) / len(TYPED))
        result["suggest_ms"] = statistics.median(per_call) * 1e3
    return result


def one_step_micros(rounds: int, calls: int = 5000) -> dict[str, float]:
    """Microseconds per call of one LSTM(128) step, batch of one: recurra's compiled step and torch.lstm_cell."""
    from recurra.cells.lstm import LSTMCell

    cell = LSTMCell(64, 128)
    x, state = torch.randn(1, 64), cell.zero_state(1, dtype=torch.float32, device="cpu")
    w_ih, w_hh, b = cell.weight_ih.detach(), cell.weight_hh.detach(), cell.bias.detach()
    contenders = {
        "recurra inference_step": lambda: cell.inference_step(x, state),
        "torch.lstm_cell": lambda: torch.lstm_cell(x, (state.h, state.c), w_ih, w_hh, b, None),
    }
    times: dict[str, list[float]] = {k: [] for k in contenders}
    with torch.no_grad():
        for _ in range(rounds):
            for name, call in contenders.items():
                call()
                t = time.perf_counter()
                for _ in range(calls):
                    call()
                times[name].append((time.perf_counter() - t) / calls * 1e6)
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = [measure(level, args.tokens, args.rounds) for level in ("word", "char")]
    print(
        f"ms per token, LSTM(128), {args.threads} thread(s), median of {args.rounds} interleaved rounds of {args.tokens} tokens"
    )
    heads = ("recurra greedy", "recurra sample", "layers greedy", "torch greedy", "torch/recurra")
    print(f"{'model':<22} " + " ".join(f"{h:>14}" for h in heads))
    for r in results:
        m = r["ms_per_token"]
        name = f"{r['level']} (V={r['vocabulary']:,})"
        cells = [m["recurra greedy"], m["recurra sample"], m["layers greedy"], m["torch greedy"]]
        print(f"{name:<22} " + " ".join(f"{c:>14.3f}" for c in cells) + f" {m['torch greedy'] / m['recurra greedy']:>14.2f}")
    micros = one_step_micros(args.rounds)
    print("one LSTM(128) step, batch of one: " + ", ".join(f"{k} {v:.1f} us" for k, v in micros.items()))
    word = results[0]
    print(f"suggest (word model, typed one character at a time): {word['suggest_ms']:.3f} ms per call (goal < 1 ms)")
    print(f"word greedy: {word['ms_per_token']['recurra greedy']:.3f} ms per token (goal <= 0.1 ms)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"threads": args.threads, "results": results, "one_step_us": micros}, indent=2))


if __name__ == "__main__":
    main()
