"""ChunkedBidirectional: the backward direction within chunks, against Bidirectional and the equations."""

from __future__ import annotations

import pytest
import torch

from recurra.errors import ConfigError
from recurra.layers import GRU, LSTM, Bidirectional
from recurra.recognition.chunked import ChunkedBidirectional


def pair(cell: type = GRU, units: int = 5, features: int = 3) -> Bidirectional:
    torch.manual_seed(0)
    return Bidirectional(cell(units, return_sequences=True, return_state=True, input_shape=(None, features)))


def lengths_mask(lengths: list[int], T: int) -> torch.Tensor:
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T)


@pytest.mark.parametrize("cell", [GRU, LSTM])
def test_a_chunk_as_long_as_the_sequence_is_the_bidirectional_layer(cell: type) -> None:
    both = pair(cell)
    x = torch.randn(3, 9, 3)
    mask = lengths_mask([9, 6, 1], 9)
    expected = both(x, mask=mask)[0]
    for chunk in (9, 20):
        found = ChunkedBidirectional(both, chunk)(x, mask=mask)[0]
        torch.testing.assert_close(found * mask[..., None], expected * mask[..., None], atol=1e-6, rtol=0)


def test_every_chunk_is_read_backwards_from_its_own_end() -> None:
    both, C = pair(), 4
    x = torch.randn(2, 11, 3)
    mask = lengths_mask([11, 7], 11)
    found = ChunkedBidirectional(both, C)(x, mask=mask)[0]  # (B, T, 2H)
    H = both.forward_layer.units
    for b, n in enumerate([11, 7]):
        torch.testing.assert_close(found[b, :n, :H], both.forward_layer(x[b : b + 1, :n])[0][0], atol=1e-6, rtol=0)
        for start in range(0, n, C):  # ←h over the chunk alone, from zeros: Bidirectional on the chunk
            piece = x[b : b + 1, start : min(start + C, n)]
            torch.testing.assert_close(found[b, start : start + piece.shape[1], H:], both(piece)[0][0, :, H:], atol=1e-6, rtol=0)


def test_the_future_past_a_chunk_changes_nothing_before_it() -> None:
    layer = ChunkedBidirectional(pair(), 4)
    x = torch.randn(1, 12, 3)
    changed = x.clone()
    changed[:, 7] += 3.0  # step 7: the last of the second chunk (4..7)
    before, after = layer(x)[0], layer(changed)[0]
    torch.testing.assert_close(before[:, :4], after[:, :4])  # the first chunk does not hear it
    assert not torch.allclose(before[:, 4, 5:], after[:, 4, 5:])  # the second chunk's start hears it backwards
    torch.testing.assert_close(before[:, :7, :5], after[:, :7, :5])  # the forward direction only from step 7


def test_the_forward_direction_carries_its_state() -> None:
    layer = ChunkedBidirectional(pair(), 3)
    x = torch.randn(1, 9, 3)
    whole, *state = layer(x)
    first, *carried = layer(x[:, :6])
    second = layer(x[:, 6:], initial_state=carried)[0]
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-6, rtol=0)
    torch.testing.assert_close(state[0], layer(x[:, 6:], initial_state=carried)[1], atol=1e-6, rtol=0)


def test_gradients_reach_both_directions() -> None:
    layer = ChunkedBidirectional(pair(), 2)
    layer(torch.randn(2, 5, 3), mask=lengths_mask([5, 3], 5))[0].sum().backward()
    for direction in (layer.pair.forward_layer, layer.pair.backward_layer):
        grads = [p.grad for p in direction.parameters()]
        assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_a_chunk_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="expected chunk >= 1 steps, got 0"):
        ChunkedBidirectional(pair(), 0)
