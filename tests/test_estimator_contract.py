"""The one contract every application estimator passes (``recurra.estimator``): settings stored as given,
``get_params`` / ``set_params`` / ``clone``, learned state only after ``fit``, ``fit`` returning ``self``,
and a saved estimator that ``recurra.load`` opens to the same predictions."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import recurra
from recurra import CTCRecognizer, EchoStateNetwork, Forecaster, LanguageModel, Seq2Seq, SequenceClassifier, SequenceTagger
from recurra.errors import ConfigError, NotBuiltError
from recurra.speech import SpeechRecognizer


def _series() -> pd.DataFrame:
    t = np.arange(48)
    return pd.DataFrame({"t": t, "y": 5 + np.sin(t * np.pi / 6) + 0.1 * np.cos(t)})


TEXTS = ["el perro come", "la gata bebe", "mi perro corre", "el gato duerme"] * 4
LABELS = [1, 0, 1, 0] * 4
WAVE = np.sin(np.arange(200) * 0.3)[:, None]
FRAMES = [np.eye(3)[[i % 3 for i in range(k, k + 6)]] for k in range(8)]  # (6, 3) one-hot frames
AUDIO = [np.sin(np.arange(1600 + 400 * k) * (0.2 + 0.1 * k)).astype(np.float32) * 0.5 for k in range(6)]  # 8 kHz tones


class Case:
    """One estimator: its settings, how to fit it, how to predict with it, and one bad setting."""

    def __init__(self, cls: type, settings: dict[str, Any], fit: Callable, predict: Callable, bad: tuple[str, Any]):
        self.cls, self.settings, self.fit, self.predict, self.bad = cls, settings, fit, predict, bad


CASES = {
    "forecaster": Case(
        Forecaster,
        dict(cell="gru", units=np.int64(4), lookback=6, horizon=2, quantiles=[0.05, 0.5, 0.95], epochs=1),
        lambda e: e.fit(_series(), time_col="t"),
        lambda e: e.predict()["forecast"].to_numpy(),
        ("horizon", 0),
    ),
    "language_model": Case(
        LanguageModel,
        dict(level="char", units=8, embedding=4, window=8, bptt=8, epochs=1, validation=0.0),
        lambda e: e.fit(TEXTS),
        lambda e: np.asarray(list(e.next_token_probabilities("el ").values())),
        ("level", "sentence"),
    ),
    "classifier": Case(
        SequenceClassifier,
        dict(units=4, embedding=4, epochs=1, validation=0.0, class_weight="balanced"),
        lambda e: e.fit(TEXTS, LABELS),
        lambda e: e.predict_proba(["el perro"]),
        ("pooling", "median"),
    ),
    "tagger": Case(
        SequenceTagger,
        dict(units=4, embedding=4, epochs=1, validation=0.0, crf=True),
        lambda e: e.fit([t.split() for t in TEXTS], [[int(w[0] in "pg") for w in t.split()] for t in TEXTS]),
        lambda e: np.asarray([tag for row in e.predict([["el", "perro"], ["mi", "gata", "come"]]) for tag in row]),
        ("level", "sentence"),
    ),
    "seq2seq": Case(
        Seq2Seq,
        dict(units=np.int64(4), level="char", embedding=4, epochs=1, validation=0.0, attention="general"),
        lambda e: e.fit(TEXTS, [t.upper() for t in TEXTS]),
        lambda e: e.attention_weights("el perro")[2],
        ("attention", "luong"),
    ),
    "ctc_recognizer": Case(
        CTCRecognizer,
        dict(cell="gru", units=np.int64(4), layers=1, epochs=1, validation=0.0, subsample=2),
        lambda e: e.fit(FRAMES, ["ab", "ba", "a", "b", "aa", "bb", "ab", "ba"]),
        lambda e: np.concatenate(e.log_probabilities(FRAMES[:2])),
        ("subsample", 3),
    ),
    "speech_recognizer": Case(
        SpeechRecognizer,
        dict(cell="gru", units=np.int64(4), layers=1, epochs=1, validation=0.0, cepstra=13, bidirectional=False,
             normalization="running"),  # fmt: skip
        lambda e: e.fit(AUDIO, ["uno", "dos", "tres", "uno", "dos", "tres"]),
        lambda e: np.concatenate(e.log_probabilities(AUDIO[:2])),
        ("normalization", "global"),
    ),
    "esn": Case(
        EchoStateNetwork,
        dict(units=20, washout=10, seed=3),
        lambda e: e.fit(WAVE[:-1], WAVE[1:]),
        lambda e: e.predict(WAVE[:50], reset_state=True),
        ("units", -1),
    ),
}


@pytest.fixture(params=list(CASES))
def case(request) -> Case:
    return CASES[request.param]


def test_settings_are_stored_as_given(case):
    est = case.cls(**case.settings)
    params = est.get_params()
    for name, value in case.settings.items():
        assert params[name] is value or params[name] == value, name
    if dataclasses.is_dataclass(est):
        assert params["units"] is case.settings["units"]  # not converted, not copied


def test_set_params_checks_everything_before_keeping_anything(case):
    est = case.cls(**case.settings)
    name, bad = case.bad
    before = est.get_params()[name]
    with pytest.raises(ConfigError, match=name):
        est.set_params(**{name: bad})
    assert est.get_params()[name] == before
    with pytest.raises(ConfigError, match="no setting 'no_such_setting'"):
        est.set_params(no_such_setting=1)
    assert est.set_params(seed=5) is est and est.get_params()["seed"] == 5


def test_a_bad_setting_is_refused_at_construction_naming_it(case):
    name, bad = case.bad
    with pytest.raises(ConfigError, match=name):
        case.cls(**{**case.settings, name: bad})


def test_learned_state_exists_only_after_fit_and_fit_returns_self(case, tmp_path):
    est = case.cls(**case.settings)
    assert not est.fitted
    with pytest.raises(NotBuiltError, match="not fitted"):
        case.predict(est)
    assert case.fit(est) is est and est.fitted
    clone = est.clone()
    assert not clone.fitted and clone.get_params() == est.get_params()
    assert type(est).__name__ in repr(est)


def test_saved_estimators_load_by_their_format_and_predict_the_same(case, tmp_path):
    est = case.fit(case.cls(**case.settings))
    est.save(tmp_path / "saved")
    loaded = recurra.load(tmp_path / "saved")
    assert type(loaded) is type(est)
    np.testing.assert_allclose(case.predict(loaded), case.predict(est), rtol=0, atol=0)
