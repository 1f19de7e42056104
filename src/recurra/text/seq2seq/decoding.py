"""Decoding a batch of encoded sentences one token at a time from the decoder's carried states.

Every strategy steps ``Seq2SeqNetwork.step`` (the prefix is never run again) over a batch of sentences:

- ``greedy``: ``y_t = argmax_v log p(v | y_<t, x)``;
- ``sample``: ``y_t ~ softmax(log p(· | y_<t, x) / τ)`` (``τ`` the temperature), from a seeded generator;
- ``beam``: ``k`` hypotheses per sentence. At step ``t`` every hypothesis ``y_<t`` (score
  ``Σ log p``) is extended by every token; of the ``2k`` best extensions of a sentence, those that end
  with ``<end>`` among the first ``k`` are finished, and the best ``k`` others go on. A sentence stops
  when it holds ``k`` finished hypotheses (or at ``max_length``), and its answer is the finished one
  with the best length-normalised score ``Σ log p / |y|^α`` (``α`` = ``length_penalty``; ``|y|``
  counts ``<end>``). With ``k = 1`` this is greedy decoding exactly.

Each returns, per sentence, its token ids without ``<start>`` and ``<end>``.
"""

from __future__ import annotations

import torch

from .network import Memory, Seq2SeqNetwork, States, select_states


@torch.no_grad()
def greedy(net: Seq2SeqNetwork, memory: Memory, states: States, start: int, end: int, max_length: int) -> list[list[int]]:
    """Greedy decoding of every sentence of the batch."""
    return _stepwise(net, memory, states, start, end, max_length, lambda logp: logp.argmax(-1))


@torch.no_grad()
def sample(
    net: Seq2SeqNetwork, memory: Memory, states: States, start: int, end: int, max_length: int, temperature: float,
    generator: torch.Generator,
) -> list[list[int]]:  # fmt: skip
    """Sampled decoding at ``temperature`` (> 0), drawing from ``generator``."""

    def pick(logp: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(logp / temperature, -1)  # (B, V)
        return torch.multinomial(p, 1, generator=generator)[:, 0]

    return _stepwise(net, memory, states, start, end, max_length, pick)


def _stepwise(net, memory: Memory, states: States, start: int, end: int, max_length: int, pick) -> list[list[int]]:
    B = memory.outputs.shape[0]
    previous = torch.full((B,), start, dtype=torch.long, device=memory.outputs.device)
    out: list[list[int]] = [[] for _ in range(B)]
    alive = torch.ones(B, dtype=torch.bool)
    rows = torch.arange(B)  # the sentence each row of the running batch belongs to
    for _ in range(max_length):
        logp, _, states = net.step(previous, states, memory)  # (b, V)
        token = pick(logp)  # (b,)
        for r, tok in zip(rows.tolist(), token.tolist()):
            if tok == end:
                alive[r] = False
            else:
                out[r].append(tok)
        keep = alive[rows]  # (b,): rows still writing
        if not keep.any():
            break
        if not keep.all():
            idx = keep.nonzero()[:, 0]
            rows, token, memory, states = rows[idx], token[idx], memory.select(idx), select_states(states, idx)
        previous = token
    return out


@torch.no_grad()
def beam_search(
    net: Seq2SeqNetwork, memory: Memory, states: States, start: int, end: int, max_length: int, beam: int,
    length_penalty: float = 1.0,
) -> list[list[int]]:  # fmt: skip
    """Beam search with ``beam`` hypotheses per sentence and length normalisation (module docstring)."""
    B, k = memory.outputs.shape[0], beam
    device = memory.outputs.device
    grow = torch.arange(B).repeat_interleave(k)  # (B k,): each sentence k times
    memory, states = memory.select(grow), select_states(states, grow)
    scores = torch.full((B, k), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0  # one live hypothesis at first: the k copies must not give k equal beams
    tokens = torch.full((B, k, 0), start, dtype=torch.long)  # (B, k, t): the hypotheses so far
    previous = torch.full((B * k,), start, dtype=torch.long, device=device)
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool)
    for t in range(max_length):
        logp, _, states = net.step(previous, states, memory)  # (B k, V)
        V = logp.shape[-1]
        total = scores[:, :, None] + logp.double().cpu().view(B, k, V)  # (B, k, V)
        top, flat = total.view(B, k * V).topk(min(2 * k, k * V), dim=-1)  # (B, 2k)
        origin, token = flat // V, flat % V  # (B, 2k): the hypothesis extended, the token added
        next_scores = torch.full((B, k), float("-inf"), dtype=torch.float64)
        next_origin = torch.zeros(B, k, dtype=torch.long)
        next_token = torch.full((B, k), end, dtype=torch.long)
        for b in range(B):
            if done[b]:
                continue
            j = 0
            for rank in range(top.shape[1]):
                s = float(top[b, rank])
                if s == float("-inf") or j == k:
                    break
                o, v = int(origin[b, rank]), int(token[b, rank])
                if v == end:
                    if rank < k:  # only an end among the k best finishes a hypothesis
                        finished[b].append((s / (t + 1) ** length_penalty, tokens[b, o].tolist()))
                    continue
                next_scores[b, j], next_origin[b, j], next_token[b, j] = s, o, v
                j += 1
            if len(finished[b]) >= k or j == 0:
                done[b] = True
        if done.all():
            break
        pick = (torch.arange(B)[:, None] * k + next_origin).reshape(-1)  # (B k,): rows of the running batch
        tokens = torch.cat([tokens[torch.arange(B)[:, None], next_origin], next_token[:, :, None]], -1)  # (B, k, t+1)
        scores = next_scores.masked_fill(done[:, None], float("-inf"))
        states = select_states(states, pick.to(device))
        memory = memory.select(pick.to(device))
        previous = next_token.reshape(-1).to(device)
    results = []
    for b in range(B):
        if finished[b]:
            results.append(max(finished[b], key=lambda h: h[0])[1])
        else:  # max_length reached before any hypothesis ended: the best live one
            results.append(tokens[b, int(scores[b].argmax())].tolist())
    return results
