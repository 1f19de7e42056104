"""RecognizerStream: block by block equals the whole sequence (values and text), for every subsampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra.errors import ConfigError, NotBuiltError
from recurra.recognition import CTCRecognizer


def fitted(
    subsample: int, cell: str = "gru", layers: int = 2, lookahead: int = 0, head_lookahead: int = 0, chunk: int = 0
) -> tuple[CTCRecognizer, list[np.ndarray]]:
    rng = np.random.default_rng(subsample)
    X = [rng.normal(size=(int(rng.integers(9, 41)), 3)) for _ in range(12)]
    model = CTCRecognizer(
        cell, 8, layers=layers, bidirectional=False, subsample=subsample, lookahead=lookahead, head_lookahead=head_lookahead,
        chunk=chunk, epochs=1, validation=0.0, seed=1,
    )  # fmt: skip
    model.fit(X, ["ab" if i % 2 else "ba" for i in range(12)])
    if head_lookahead:  # one epoch leaves it near the identity: make every step it reads count
        with torch.no_grad():
            model.network_.head_ahead.weight.normal_(0.0, 0.3, generator=torch.Generator().manual_seed(0))
    return model, X


@pytest.mark.parametrize("subsample", [1, 2, 4])
@pytest.mark.parametrize("block", [1, 3, 7, 100])
def test_blocks_give_the_whole_sequence_log_probabilities(subsample: int, block: int) -> None:
    model, X = fitted(subsample)
    whole = model.log_probabilities(X[:4])
    for x, expected in zip(X[:4], whole):
        stream = model.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
        assert len(stream.log_probabilities) <= len(expected)
        text = stream.finish()
        np.testing.assert_allclose(stream.log_probabilities, expected, atol=1e-5)
        assert text == model.transcribe([x])[0]


@pytest.mark.parametrize("subsample", [1, 2, 4])
@pytest.mark.parametrize("lookahead", [1, 3])
@pytest.mark.parametrize("block", [1, 5, 100])
def test_blocks_with_lookahead_give_the_whole_sequence(subsample: int, lookahead: int, block: int) -> None:
    model, X = fitted(subsample, lookahead=lookahead)
    whole = model.log_probabilities(X[:4])
    for x, expected in zip(X[:4], whole):
        stream = model.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
            # an output is written only once the lookahead's frames have arrived too
            assert len(stream.log_probabilities) == max(min(a + block, len(x)) // subsample - lookahead, 0)
        text = stream.finish()
        np.testing.assert_allclose(stream.log_probabilities, expected, atol=1e-5)
        assert text == model.transcribe([x])[0]


@pytest.mark.parametrize("subsample", [1, 2, 4])
@pytest.mark.parametrize(("lookahead", "head_lookahead"), [(0, 2), (1, 3)])
@pytest.mark.parametrize("block", [1, 5, 100])
def test_blocks_with_the_head_lookahead_give_the_whole_sequence(
    subsample: int, lookahead: int, head_lookahead: int, block: int
) -> None:
    model, X = fitted(subsample, lookahead=lookahead, head_lookahead=head_lookahead)
    whole = model.log_probabilities(X[:4])
    for x, expected in zip(X[:4], whole):
        stream = model.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
            # the head writes step u once the recurrent layers have read step u + head_lookahead
            assert len(stream.log_probabilities) == max(min(a + block, len(x)) // subsample - lookahead - head_lookahead, 0)
        text = stream.finish()
        np.testing.assert_allclose(stream.log_probabilities, expected, atol=1e-5)
        assert text == model.transcribe([x])[0]
        assert stream.finish() == text  # a second finish writes nothing more


@pytest.mark.parametrize("subsample", [1, 2, 4])
@pytest.mark.parametrize(("chunk", "lookahead", "head_lookahead"), [(1, 0, 0), (3, 0, 0), (4, 1, 2), (50, 0, 1)])
@pytest.mark.parametrize("block", [1, 5, 100])
def test_blocks_with_chunks_give_the_whole_sequence(
    subsample: int, chunk: int, lookahead: int, head_lookahead: int, block: int
) -> None:
    model, X = fitted(subsample, lookahead=lookahead, head_lookahead=head_lookahead, chunk=chunk)
    whole = model.log_probabilities(X[:4])
    for x, expected in zip(X[:4], whole):
        stream = model.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
            # the recurrent layers read whole chunks of the front end's outputs; the head R steps behind them
            front = max(min(a + block, len(x)) // subsample - lookahead, 0)
            assert len(stream.log_probabilities) == max(front // chunk * chunk - head_lookahead, 0)
        text = stream.finish()
        np.testing.assert_allclose(stream.log_probabilities, expected, atol=1e-5)
        assert text == model.transcribe([x])[0]
        assert stream.finish() == text


def test_head_lookahead_changes_outputs_only_from_the_future() -> None:
    model, X = fitted(2, head_lookahead=3)
    x = X[0]
    changed = x.copy()
    changed[30:] += 5.0  # frames 30 on: recurrent outputs 15 on, and the head's outputs reading them 3 ahead (12 on)
    before, after = model.log_probabilities([x, changed])
    np.testing.assert_allclose(before[:12], after[:12], atol=1e-6)
    assert not np.allclose(before[12], after[12], atol=1e-6)


def test_lookahead_changes_outputs_only_from_the_future() -> None:
    model, X = fitted(2, lookahead=3)
    x = X[0]
    changed = x.copy()
    changed[30:] += 5.0  # frames 30 on: subsampled outputs 15 on, and those reading them 3 ahead (12 on)
    before, after = model.log_probabilities([x, changed])
    np.testing.assert_allclose(before[:12], after[:12], atol=1e-6)
    assert not np.allclose(before[12:], after[12:], atol=1e-6)


def test_update_writes_only_what_the_frames_so_far_decide() -> None:
    model, X = fitted(4)
    stream = model.stream()
    stream.update(X[0][:3])  # fewer than 4 frames: no output of the front end is complete yet
    assert len(stream.log_probabilities) == 0
    stream.update(X[0][3:9])  # 9 frames: outputs 0 and 1 complete (each needs up to frame 4u + 3)
    assert len(stream.log_probabilities) == 2
    stream.update(np.zeros((0, 3)))
    assert len(stream.log_probabilities) == 2


def test_reset_starts_a_new_sequence() -> None:
    model, X = fitted(2, cell="lstm", layers=1)
    stream = model.stream()
    stream.update(X[1])
    stream.finish()
    stream.reset()
    stream.update(X[0])
    assert stream.finish() == model.transcribe([X[0]])[0]


def test_stream_needs_a_fitted_one_way_model() -> None:
    with pytest.raises(NotBuiltError, match="fit"):
        CTCRecognizer("gru", 4, bidirectional=False).stream()
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(10, 2)) for _ in range(4)]
    model = CTCRecognizer("gru", 4, layers=1, epochs=1, validation=0.0).fit(X, ["a", "b", "a", "b"])
    with pytest.raises(ConfigError, match="bidirectional=False"):
        model.stream()


def test_a_block_of_the_wrong_width_is_named() -> None:
    model, X = fitted(2)
    with pytest.raises(Exception, match=r"\(time >= 1, 3\)"):
        model.stream().update(np.zeros((4, 5)))
