"""CRF: the forward algorithm and Viterbi against enumeration of every tag sequence, gradients, masks."""

from __future__ import annotations

import itertools

import pytest
import torch

from recurra.errors import InputValueError, ShapeError
from recurra.layers import CRF


def _crf(K: int, seed: int = 0) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(K).double()
    with torch.no_grad():  # larger than the initial draw, so the brute-force checks are not near-uniform
        crf.transitions.normal_(0, 1.0)
        crf.start.normal_(0, 1.0)
        crf.end.normal_(0, 1.0)
    return crf


def _brute_force(crf: CRF, e: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """log Z and the best tags of one sequence e (L, K), by enumerating all K^L tag sequences."""
    L, K = e.shape
    A, s, f = crf.transitions, crf.start, crf.end
    scores, paths = [], []
    for y in itertools.product(range(K), repeat=L):
        v = s[y[0]] + e[0, y[0]] + f[y[-1]]
        for t in range(1, L):
            v = v + A[y[t - 1], y[t]] + e[t, y[t]]
        scores.append(v)
        paths.append(list(y))
    scores = torch.stack(scores)
    return torch.logsumexp(scores, 0), paths[int(scores.argmax())]


@pytest.mark.parametrize("K", [1, 2, 3])
def test_log_partition_likelihood_and_viterbi_match_enumeration(K):
    crf = _crf(K, seed=K)
    lengths = [4, 1, 3, 2]
    B, T = len(lengths), max(lengths)
    e = torch.randn(B, T, K, dtype=torch.float64) * 2
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T), right-padded
    tags = torch.randint(0, K, (B, T))
    log_z = crf.log_partition(e, mask)
    ll = crf.log_likelihood(e, tags, mask)
    best = crf.decode(e, mask)
    for b, L in enumerate(lengths):
        want_z, want_path = _brute_force(crf, e[b, :L])
        assert log_z[b].item() == pytest.approx(want_z.item(), abs=1e-10)
        y = tags[b, :L]
        score = crf.start[y[0]] + e[b, torch.arange(L), y].sum() + crf.transitions[y[:-1], y[1:]].sum() + crf.end[y[-1]]
        assert ll[b].item() == pytest.approx((score - want_z).item(), abs=1e-10)
        assert best[b] == want_path and len(best[b]) == L
    assert crf.loss(e, tags, mask).item() == pytest.approx(-ll.mean().item())


def test_probabilities_of_all_tag_sequences_sum_to_one():
    crf = _crf(3)
    e = torch.randn(1, 3, 3, dtype=torch.float64)
    total = sum(torch.exp(crf.log_likelihood(e, torch.tensor([y]))) for y in itertools.product(range(3), repeat=3))
    assert total.item() == pytest.approx(1.0, abs=1e-12)


def test_gradients_match_finite_differences():
    crf = _crf(2)
    e = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    tags = torch.tensor([[0, 1, 1], [1, 0, 0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])

    assert torch.autograd.gradcheck(lambda x: crf.loss(x, tags, mask), (e,))
    params = [crf.transitions, crf.start, crf.end]
    loss = crf.loss(e.detach(), tags, mask)
    grads = torch.autograd.grad(loss, params)
    eps = 1e-6
    for p, g in zip(params, grads):  # the parameters' gradients, by central differences
        for i in range(p.numel()):
            with torch.no_grad():
                p.view(-1)[i] += eps
                up = crf.loss(e.detach(), tags, mask).item()
                p.view(-1)[i] -= 2 * eps
                down = crf.loss(e.detach(), tags, mask).item()
                p.view(-1)[i] += eps
            assert g.view(-1)[i].item() == pytest.approx((up - down) / (2 * eps), abs=1e-6)


def test_a_padded_row_equals_the_same_row_alone():
    crf = _crf(3)
    e = torch.randn(3, 6, 3, dtype=torch.float64)
    tags = torch.randint(0, 3, (3, 6))
    lengths = torch.tensor([6, 2, 4])
    mask = torch.arange(6)[None, :] < lengths[:, None]
    e_padded = e.masked_fill(~mask.unsqueeze(-1), 1e3)  # whatever is on padded steps must not count
    together_ll = crf.log_likelihood(e_padded, tags, mask)
    together = crf.decode(e_padded, mask)
    for b in range(3):
        L = int(lengths[b])
        alone_ll = crf.log_likelihood(e[b : b + 1, :L], tags[b : b + 1, :L])
        assert together_ll[b].item() == pytest.approx(alone_ll.item(), abs=1e-10)
        assert together[b] == crf.decode(e[b : b + 1, :L])[0]


def test_bad_shapes_and_masks_are_refused():
    crf = CRF(3)
    with pytest.raises(ShapeError, match=r"expected emissions of shape \(B, T, 3\), got \(2, 4, 2\)"):
        crf.decode(torch.zeros(2, 4, 2))
    with pytest.raises(ShapeError, match=r"expected tags of shape \(2, 4\), got \(2, 3\)"):
        crf.log_likelihood(torch.zeros(2, 4, 3), torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(InputValueError, match="padded first step in row 1"):
        crf.decode(torch.zeros(2, 2, 3), torch.tensor([[True, True], [False, True]]))
    with pytest.raises(InputValueError, match="num_tags"):
        CRF(0)
