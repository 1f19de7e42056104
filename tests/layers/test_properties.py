"""Properties of the recurrent layers over many shapes, lengths and masks, drawn by hypothesis: output
shapes, a padded batch giving every sequence what it gets alone, an all-true mask equal to none, and
the fast kernels equal to the reference loop."""

from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from recurra import GRU, LSTM, IndRNN, MinGRU, MinLSTM, SimpleRNN
from tests.helpers import as_tuple, check_each_sequence_alone

FAMILY = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU, "indrnn": IndRNN, "mingru": MinGRU, "minlstm": MinLSTM}
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def batches(draw):
    """A cell, sizes, and a (B, T) mask with at least one real step per sequence (any pattern)."""
    cell = draw(st.sampled_from(sorted(FAMILY)))
    B, T = draw(st.integers(1, 4)), draw(st.integers(1, 7))
    F, H = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(st.booleans(), min_size=T, max_size=T), min_size=B, max_size=B))
    mask = torch.tensor(rows, dtype=torch.bool).reshape(B, T)
    first = draw(st.lists(st.integers(0, T - 1), min_size=B, max_size=B))
    mask[torch.arange(B), torch.tensor(first)] = True  # every sequence has a real step
    seed = draw(st.integers(0, 2**16))
    return cell, B, T, F, H, mask, seed


def _layer(cell: str, H: int, **kw):
    return FAMILY[cell](H, return_sequences=True, return_state=True, **kw).double()


@SETTINGS
@given(batches())
def test_output_shapes(case):
    cell, B, T, F, H, mask, seed = case
    torch.manual_seed(seed)
    layer = _layer(cell, H)
    x = torch.randn(B, T, F, dtype=torch.float64)
    y, *states = as_tuple(layer(x, mask=mask))
    assert tuple(y.shape) == (B, T, H)
    assert all(tuple(s.shape) == (B, H) for s in states)
    last = FAMILY[cell](H).double()
    last.load_state_dict(layer.state_dict(), strict=False)
    assert tuple(last(x, mask=mask).shape) == (B, H)


@SETTINGS
@given(batches(), st.booleans())
def test_a_padded_batch_gives_every_sequence_what_it_gets_alone(case, backwards):
    cell, B, T, F, H, mask, seed = case
    torch.manual_seed(seed)
    layer = _layer(cell, H, go_backwards=backwards)
    x = torch.randn(B, T, F, dtype=torch.float64)
    check_each_sequence_alone(layer, x, mask, {"mask": mask}, reversed_output=backwards)


@SETTINGS
@given(batches())
def test_lengths_equal_the_right_padded_mask_and_a_full_mask_equals_none(case):
    cell, B, T, F, H, mask, seed = case
    torch.manual_seed(seed)
    layer = _layer(cell, H)
    x = torch.randn(B, T, F, dtype=torch.float64)
    lengths = mask.sum(1)
    right = torch.arange(T)[None, :] < lengths[:, None]
    for a, b in zip(as_tuple(layer(x, lengths=lengths)), as_tuple(layer(x, mask=right))):
        assert_close(a, b, atol=0, rtol=0)
    for a, b in zip(as_tuple(layer(x, mask=torch.ones(B, T, dtype=torch.bool))), as_tuple(layer(x))):
        assert_close(a, b, atol=0, rtol=0)


@SETTINGS
@given(batches())
def test_fast_kernels_equal_the_reference_loop(case):
    cell, B, T, F, H, mask, seed = case
    torch.manual_seed(seed)
    fast = _layer(cell, H)
    x = torch.randn(B, T, F, dtype=torch.float64)
    fast(x)
    reference = _layer(cell, H, implementation="reference")
    reference(x)
    reference.load_state_dict(fast.state_dict())
    for a, b in zip(as_tuple(fast(x, mask=mask)), as_tuple(reference(x, mask=mask))):
        assert_close(a, b, atol=1e-10, rtol=0)
