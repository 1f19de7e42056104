"""Distillation: the per-frame KL term by hand, padded frames ignored, and a student pulled toward its teacher."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recurra.errors import ConfigError, InputValueError, NotBuiltError
from recurra.recognition import CTCRecognizer
from recurra.recognition.distill import frame_kl_loss, teacher_targets


def data(n: int = 24) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(rng.integers(10, 30)), 3)) + (i % 2) for i in range(n)]
    return X, ["ab" if i % 2 else "ba" for i in range(n)]


def test_frame_kl_is_the_mean_over_real_frames_of_kl() -> None:
    q = torch.log_softmax(torch.randn(2, 4, 3), -1)
    p = torch.log_softmax(torch.randn(2, 3, 3), -1)  # the batch ends a frame before the teacher's padding
    real = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    target = torch.cat([q, real.unsqueeze(-1)], -1)  # (2, 4, 4)
    expected = sum(
        float((q[b, u].exp() * (q[b, u] - p[b, u])).sum()) for b, u in [(0, 0), (0, 1), (0, 2), (1, 0)]
    ) / 4
    assert float(frame_kl_loss(2.0)(p, target)) == pytest.approx(2 * expected, rel=1e-5)
    assert float(frame_kl_loss(1.0)(q[:, :3], target)) == pytest.approx(0.0, abs=1e-6)


def test_teacher_targets_pad_with_certain_blanks_and_mark_real_frames() -> None:
    X, texts = data()
    teacher = CTCRecognizer("gru", 6, layers=1, subsample=2, epochs=1, validation=0.0).fit(X, texts)
    frames = [(len(x) + 1) // 2 for x in X[:3]]
    out = teacher_targets(teacher, X[:3], frames, teacher.alphabet_, batch_size=2)
    assert out.shape == (3, max(frames), len(teacher.alphabet_) + 1)
    for i, lp in enumerate(teacher.log_probabilities(X[:3])):
        np.testing.assert_allclose(out[i, : frames[i], :-1].numpy(), lp, atol=1e-6)
        assert out[i, : frames[i], -1].eq(1).all() and out[i, frames[i] :, -1].eq(0).all()
        assert out[i, frames[i] :, 0].eq(0).all()  # log p(blank) = 0 past the end


def test_a_student_learns_the_teachers_frames() -> None:
    X, texts = data()
    # a teacher trained briefly: soft posteriors that CTC's loss alone would not give
    teacher = CTCRecognizer("gru", 8, layers=1, subsample=2, epochs=2, validation=0.0, seed=2).fit(X, texts)
    settings = dict(layers=1, bidirectional=False, subsample=2, epochs=20, validation=0.0, seed=3)
    alone = CTCRecognizer("gru", 8, **settings).fit(X, texts)
    taught = CTCRecognizer("gru", 8, distill_weight=20.0, **settings).fit(X, texts, teacher=teacher)
    target = teacher_targets(teacher, X, [(len(x) + 1) // 2 for x in X], teacher.alphabet_)

    def kl(model: CTCRecognizer) -> float:
        lps = model.log_probabilities(X)
        student = torch.zeros(target.shape[:2] + (target.shape[2] - 1,))
        for i, lp in enumerate(lps):
            student[i, : len(lp)] = torch.from_numpy(lp).float()
        return float(frame_kl_loss(1.0)(student, target))

    assert kl(taught) < 0.5 * kl(alone)
    assert set(taught.history_) >= {"loss"}


def test_a_teacher_of_another_alphabet_or_frame_rate_is_named() -> None:
    X, texts = data()
    student = CTCRecognizer("gru", 4, layers=1, bidirectional=False, subsample=2, epochs=1, validation=0.0)
    other = CTCRecognizer("gru", 4, layers=1, subsample=2, epochs=1, validation=0.0).fit(X, ["ac"] * len(X))
    with pytest.raises(InputValueError, match="'b'"):  # the student writes in the teacher's alphabet
        student.fit(X, texts, teacher=other)
    with pytest.raises(ConfigError, match="alphabet"):
        teacher_targets(other, X, [(len(x) + 1) // 2 for x in X], student.fit(X, texts).alphabet_)
    faster = CTCRecognizer("gru", 4, layers=1, subsample=4, epochs=1, validation=0.0).fit(X, texts)
    with pytest.raises(ConfigError, match="frames"):
        student.fit(X, texts, teacher=faster)
    with pytest.raises(NotBuiltError, match="fitted"):
        student.fit(X, texts, teacher=CTCRecognizer("gru", 4))


def test_the_student_takes_the_teachers_alphabet() -> None:
    X, texts = data()
    teacher = CTCRecognizer("gru", 4, layers=1, subsample=2, epochs=1, validation=0.0).fit(X, [*texts[:-1], "abc"])
    student = CTCRecognizer("gru", 4, layers=1, bidirectional=False, subsample=2, epochs=1, validation=0.0)
    student.fit(X[:-1], texts[:-1], teacher=teacher)  # no 'c' in its own texts
    assert student.alphabet_.characters == teacher.alphabet_.characters
    assert student.log_probabilities(X[:1])[0].shape[1] == len(teacher.alphabet_)


def test_distillation_with_validation_data() -> None:
    X, texts = data()
    teacher = CTCRecognizer("gru", 4, layers=1, subsample=2, epochs=1, validation=0.0).fit(X, texts)
    student = CTCRecognizer("gru", 4, layers=1, bidirectional=False, subsample=2, epochs=2)
    student.fit(X[:16], texts[:16], validation_data=(X[16:], texts[16:]), teacher=teacher)
    assert len(student.history_["val_loss"]) == 2
    split = CTCRecognizer("gru", 4, layers=1, bidirectional=False, subsample=2, epochs=2, validation=0.25)
    assert len(split.fit(X, texts, teacher=teacher).history_["val_loss"]) == 2
