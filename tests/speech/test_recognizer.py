"""SpeechRecognizer: audio of every form in, files, the streaming model, and bad recordings named."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import wavfile

import recurra
from recurra.errors import ConfigError, InputValueError
from recurra.speech import SpeechRecognizer, synthetic_speech


@pytest.fixture(scope="module")
def data() -> tuple[list[np.ndarray], list[str]]:
    return synthetic_speech(24, np.random.default_rng(0))


@pytest.fixture(scope="module")
def streaming(data) -> SpeechRecognizer:
    model = SpeechRecognizer("gru", 12, layers=2, epochs=2, validation=0.0, bidirectional=False, normalization="running")
    return model.fit(*data)


def test_paths_pairs_and_arrays_give_the_same_text(tmp_path, data) -> None:
    audio, texts = data
    model = SpeechRecognizer("lstm", 8, layers=1, epochs=1, validation=0.0, subsample=4).fit(audio, texts)
    x = audio[0]
    wavfile.write(tmp_path / "x.wav", 8000, x)
    as16k = np.interp(np.arange(2 * len(x)) / 2, np.arange(len(x)), x).astype(np.float32)
    assert model.transcribe([x])[0] == model.transcribe([str(tmp_path / "x.wav")])[0]
    assert isinstance(model.transcribe([(as16k, 16000)])[0], str)
    assert set(model.alphabet_.characters) <= set(" abcdefghijklmnopqrstuvwxyzñ")


def test_save_and_load_keep_the_features_and_the_prior(tmp_path, streaming, data) -> None:
    streaming.save(tmp_path / "m")
    again = recurra.load(tmp_path / "m")
    assert isinstance(again, SpeechRecognizer) and again.normalization == "running"
    assert again.prior_ == streaming.prior_
    np.testing.assert_allclose(again.log_probabilities(data[0][:3])[1], streaming.log_probabilities(data[0][:3])[1])


@pytest.mark.parametrize("block", [80, 333, 4000])
def test_the_stream_equals_the_whole_recording(streaming, data, block: int) -> None:
    for x in data[0][:3]:
        stream = streaming.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
        text = stream.finish()
        np.testing.assert_allclose(stream.frames.log_probabilities, streaming.log_probabilities([x])[0], atol=1e-4)
        assert text == streaming.transcribe([x])[0]


def test_a_prepared_stream_reused_after_reset_equals_the_whole_recording(streaming, data) -> None:
    stream = streaming.stream()
    stream.prepare()  # hears half a second of silence and forgets it
    assert stream.heard == 0 and stream.text == "" and len(stream.log_probabilities) == 0
    for x in data[0][:3]:
        stream.reset()
        for a in range(0, len(x), 800):
            stream.update(x[a : a + 800])
        assert stream.finish() == streaming.transcribe([x])[0]
        np.testing.assert_allclose(stream.log_probabilities, streaming.log_probabilities([x])[0], atol=1e-4)


@pytest.mark.parametrize("block", [80, 4000])
def test_a_stream_with_a_warmup_waits_for_it_and_equals_the_whole(data, block: int) -> None:
    model = SpeechRecognizer(
        "gru", 12, layers=1, epochs=1, validation=0.0, bidirectional=False, normalization="running", warmup=0.3, lookahead=2
    ).fit(*data)
    assert model.warmup_frames == 30
    with pytest.raises(ConfigError, match="warmup=0.3 is for normalization='running'"):
        SpeechRecognizer("gru", 12, warmup=0.3)
    short = data[0][0][:1200]  # 0.15 s: shorter than the warmup
    for x in [*data[0][:2], short]:
        stream = model.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
            if a + block < 8000 * 0.3:  # fewer than 30 frames heard: nothing read yet
                assert len(stream.log_probabilities) == 0
        text = stream.finish()
        np.testing.assert_allclose(stream.log_probabilities, model.log_probabilities([x])[0], atol=1e-4)
        assert text == model.transcribe([x])[0]


@pytest.mark.parametrize("block", [80, 1000])
def test_a_chunked_stream_equals_the_whole_recording(data, block: int) -> None:
    model = SpeechRecognizer(
        "gru", 12, layers=2, epochs=1, validation=0.0, bidirectional=False, normalization="running", chunk=5,
        head_lookahead=2, lookahead=1, subsample=2,
    ).fit(*data)  # fmt: skip
    for x in data[0][:3]:
        stream = model.stream()
        for a in range(0, len(x), block):
            stream.update(x[a : a + block])
        text = stream.finish()
        np.testing.assert_allclose(stream.log_probabilities, model.log_probabilities([x])[0], atol=1e-4)
        assert text == model.transcribe([x])[0]


def test_only_the_running_one_way_model_streams(data) -> None:
    with pytest.raises(ConfigError, match="bidirectional=False"):
        SpeechRecognizer(normalization="running")
    model = SpeechRecognizer("gru", 4, layers=1, epochs=1, validation=0.0, bidirectional=False).fit(*data)
    with pytest.raises(ConfigError, match="normalization='running'"):
        model.stream()


def write(path, rate: int, data: np.ndarray) -> str:
    wavfile.write(path, rate, data)
    return str(path)


def test_bad_recordings_are_named(tmp_path, streaming) -> None:
    cases = {
        "empty": (write(tmp_path / "empty.wav", 8000, np.zeros(0, np.int16)), "expected audio samples"),
        "one sample": (write(tmp_path / "one.wav", 8000, np.zeros(1, np.int16)), "expected audio samples"),
        "stereo": (write(tmp_path / "st.wav", 8000, np.zeros((800, 2), np.int16)), "expected mono audio, got 2 channels"),
        "odd rate": (write(tmp_path / "r.wav", 1000, np.zeros(800, np.int16)), "got 1000 Hz"),
        "short": (write(tmp_path / "s.wav", 8000, np.zeros(100, np.int16)), "at least one 25 ms window"),
    }
    (tmp_path / "text.wav").write_text("not audio")
    cases["not a wav"] = (str(tmp_path / "text.wav"), "expected a WAV file")
    for path, message in cases.values():
        with pytest.raises(InputValueError, match=message):
            streaming.transcribe([path])
    with pytest.raises(InputValueError, match="one recording"):
        streaming.transcribe(cases["empty"][0])


def test_bad_texts_are_named(data) -> None:
    audio, _ = data
    model = SpeechRecognizer("gru", 4, layers=1, epochs=1, validation=0.0)
    with pytest.raises(InputValueError, match="too short for its text"):
        model.fit(audio[:2], ["a", "x" * 400])
    fitted = model.fit(audio[:2], ["ab", "ba"])
    with pytest.raises(InputValueError, match="outside the model's alphabet: 'z'"):
        fitted.evaluate(audio[:1], ["zz"])
