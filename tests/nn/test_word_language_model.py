"""PyTorch's word_language_model (pytorch/examples) in miniature, with torch.nn's recurrent module and
then recurra.nn's in its place, nothing else changed: the same training (truncated backpropagation
through time, the hidden state carried and detached between batches, gradient clipping, plain SGD,
dropout), then ``torch.save(model)`` / ``torch.load``, on a small generated text. The test perplexities
must agree within 2 %."""

from __future__ import annotations

import io
import math
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from recurra import nn as rnn

pytestmark = pytest.mark.slow

VOCABULARY, WIDTH, LAYERS, BPTT, BATCH = 24, 32, 2, 12, 8


class LanguageModel(nn.Module):
    """Embedding, dropout, a recurrent module of ``source`` (torch.nn or recurra.nn), dropout, decoder."""

    def __init__(self, source, kind: str, dropout: float = 0.2):
        super().__init__()
        self.kind = kind
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(VOCABULARY, WIDTH)
        if kind in ("LSTM", "GRU"):
            self.rnn = getattr(source, kind)(WIDTH, WIDTH, LAYERS, dropout=dropout)
        else:
            self.rnn = source.RNN(WIDTH, WIDTH, LAYERS, nonlinearity=kind.split("_")[1].lower(), dropout=dropout)
        self.decoder = nn.Linear(WIDTH, VOCABULARY)

    def forward(self, tokens, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(tokens)), hidden)  # (T, B, H)
        return F.log_softmax(self.decoder(self.drop(output)).view(-1, VOCABULARY), dim=1), hidden

    def zero_hidden(self, batch: int):
        h = torch.zeros(LAYERS, batch, WIDTH)
        return (h, h.clone()) if self.kind == "LSTM" else h


def generated_text(n: int, seed: int) -> torch.Tensor:
    """Tokens from a fixed random bigram chain: ``n`` ids with structure for a model to learn."""
    g = torch.Generator().manual_seed(1234)
    transitions = torch.softmax(3 * torch.randn(VOCABULARY, VOCABULARY, generator=g), 1)  # (V, V)
    g.manual_seed(seed)
    tokens = [0]
    for _ in range(n - 1):
        tokens.append(int(torch.multinomial(transitions[tokens[-1]], 1, generator=g)))
    return torch.tensor(tokens)


def columns(tokens: torch.Tensor, batch: int) -> torch.Tensor:
    """``(N,)`` -> ``(N // batch, batch)``: ``batch`` independent streams, one per column."""
    n = tokens.numel() // batch
    return tokens[: n * batch].view(batch, n).t().contiguous()


def windows(data: torch.Tensor):
    """``(input (T, B), target (T·B,))`` for each window of ``BPTT`` steps."""
    for i in range(0, data.size(0) - 1, BPTT):
        T = min(BPTT, data.size(0) - 1 - i)
        yield data[i : i + T], data[i + 1 : i + 1 + T].reshape(-1)


def detached(hidden):
    return tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()


def evaluate(model, data) -> float:
    model.eval()
    total, count, hidden = 0.0, 0, model.zero_hidden(data.size(1))
    with torch.no_grad():
        for x, y in windows(data):
            out, hidden = model(x, hidden)
            total += len(x) * float(F.nll_loss(out, y))
            count += len(x)
    return math.exp(total / count)


def train_and_test(source, kind: str) -> tuple[float, float, float]:
    """``(test perplexity, the reloaded model's, seconds per training batch)``."""
    torch.manual_seed(0)
    model = LanguageModel(source, kind)
    train, test = columns(generated_text(4000, 1), BATCH), columns(generated_text(1000, 2), 4)
    lr, batches, start = 5.0, 0, time.perf_counter()
    for _epoch in range(3):
        model.train()
        hidden = model.zero_hidden(BATCH)
        for x, y in windows(train):
            hidden = detached(hidden)
            model.zero_grad()
            out, hidden = model(x, hidden)
            F.nll_loss(out, y).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(p.grad, alpha=-lr)
            batches += 1
    per_batch = (time.perf_counter() - start) / batches
    perplexity = evaluate(model, test)
    f = io.BytesIO()
    torch.save(model, f)
    f.seek(0)
    with torch.serialization.safe_globals([LanguageModel, nn.Dropout, nn.Embedding, nn.Linear, nn.RNN, nn.LSTM, nn.GRU]):
        reloaded = torch.load(f)
    return perplexity, evaluate(reloaded, test), per_batch


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
def test_the_same_perplexity_with_recurra_nn_in_place_of_torch_nn(kind):
    theirs, theirs_reloaded, theirs_time = train_and_test(torch.nn, kind)
    ours, ours_reloaded, ours_time = train_and_test(rnn, kind)
    print(
        f"\n{kind}: test perplexity torch.nn {theirs:.3f}, recurra.nn {ours:.3f}; "
        f"ms per batch torch.nn {theirs_time * 1e3:.2f}, recurra.nn {ours_time * 1e3:.2f}"
    )
    assert theirs_reloaded == theirs and ours_reloaded == ours  # saved and loaded whole
    assert abs(ours - theirs) <= 0.02 * theirs
    assert ours < 0.6 * VOCABULARY  # it learned something: uniform guessing scores VOCABULARY
