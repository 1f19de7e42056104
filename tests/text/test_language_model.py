"""LanguageModel: training over the stream with truncated BPTT, generation from the carried state,
sampling controls, beam search, the keyboard, saving and loading, and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from recurra.errors import ConfigError, InputValueError, ModelFileError, NotBuiltError
from recurra.text import LanguageModel, bundled_text, load_language_model
from recurra.text.generation import filter_logits

from ..helpers import rewrite_model_file

TEXT = "\n".join(["el perro come pan", "el gato come pez", "la niña come pan", "el niño bebe agua", "la perra bebe leche"] * 12)


@pytest.fixture(scope="module")
def char_lm() -> LanguageModel:
    lm = LanguageModel(level="char", cell="lstm", units=24, layers=2, embedding=12, bptt=8, window=32, epochs=3, batch_size=16)
    return lm.fit(TEXT)


def test_training_over_the_stream_lowers_the_loss_and_reports_bits(char_lm):
    losses = char_lm.history_["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    m = char_lm.metrics_
    assert set(m) == {"loss", "perplexity", "bits_per_token", "bits_per_char", "accuracy", "top3_accuracy"}
    assert 0 < m["accuracy"] <= m["top3_accuracy"] <= 1
    assert m["perplexity"] == pytest.approx(math.exp(m["loss"]))
    assert m["bits_per_char"] == pytest.approx(m["loss"] / math.log(2))
    assert m["bits_per_char"] < math.log2(len(char_lm.vocab_))  # better than uniform
    assert "val_loss" in char_lm.history_


def test_carried_state_gives_the_distribution_of_the_whole_prefix(char_lm):
    net, v = char_lm.network_, char_lm.vocab_
    ids = [v.start_id] + v.encode(list("el perro come"))
    full, _ = net.step(torch.tensor([ids]))  # (1, T, V): the prefix read at once
    state, stepped = None, []
    for i in ids:  # one token at a time, the state carried
        logits, state = net.step(torch.tensor([[i]]), state)
        stepped.append(logits[0, -1])
    torch.testing.assert_close(torch.stack(stepped), full[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn", "indrnn", "mingru", "minlstm"])
@pytest.mark.parametrize("tie", [False, True], ids=["untied", "tied"])
def test_the_one_step_path_equals_the_layers(cell, tie):
    from recurra.text.networks import LanguageNetwork

    torch.manual_seed(0)
    net = LanguageNetwork(30, cell=cell, units=12, layers=2, embedding=8, dropout=0.0, tie_weights=tie).eval()
    ids = torch.randint(0, 30, (3, 7))
    with torch.no_grad():
        whole, _ = net.step(ids)  # (B, T, V)
        state, steps = None, []
        for t in range(ids.shape[1]):
            logits, state = net.next_logits(ids[:, t], state)  # (B, V)
            steps.append(logits)
        one, _ = net.next_logits(int(ids[0, 0]))  # a single id: one row
    torch.testing.assert_close(torch.stack(steps, 1), whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(one[0], whole[0, 0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "options",
    [dict(cell="lstm", units=16, embedding=16), dict(cell="gru", units=12, layers=2, embedding=8, tie_weights=True),
     dict(cell="lstm", units=10, layers=2, embedding=6, tie_weights=True)],
    ids=["lstm", "gru-2-tied-projected", "lstm-2-tied-projected"],
)  # fmt: skip
def test_the_compiled_generation_loop_chooses_as_the_python_loop(options, monkeypatch):
    from recurra.text.networks import LanguageNetwork

    lm = LanguageModel(level="char", epochs=1, validation=0.0, seed=0, **options).fit(bundled_text("refranes")[:3000])
    with torch.no_grad():  # as in generate: the compiled step records no graph
        assert lm.network_.generation_parts() is not None
    runs = [dict(strategy="greedy", stop_at_end=False), dict(seed=3), dict(seed=4, temperature=0.6, stop_at_end=False),
            dict(seed=5, temperature=2.0)]  # fmt: skip
    compiled = [lm.generate("el ", length=120, **run) for run in runs]
    monkeypatch.setattr(LanguageNetwork, "generation_parts", lambda self: None)  # the Python loop
    assert compiled == [lm.generate("el ", length=120, **run) for run in runs]
    assert len(compiled[0]) == 120 and "\n" not in compiled[1]


def test_cells_without_a_compiled_step_generate_through_the_python_loop():
    lm = LanguageModel(level="char", cell="rnn", units=8, embedding=4, epochs=1, validation=0.0)
    lm.fit(bundled_text("refranes")[:2000])
    with torch.no_grad():
        assert lm.network_.generation_parts() is None
    assert len(lm.generate(length=40, stop_at_end=False, seed=1)) == 40


def test_greedy_generation_picks_the_argmax_of_the_recomputed_prefix(char_lm):
    out = char_lm.generate(prime="la ", length=12, strategy="greedy", stop_at_end=False)
    v, net = char_lm.vocab_, char_lm.network_
    ids = [v.start_id] + v.encode(list("la "))
    banned = [v.pad_id, v.unk_id, v.start_id]
    for ch in out:
        tok = v.end_id if ch == "\n" else v[ch]
        logits = net.step(torch.tensor([ids]))[0][0, -1].clone()
        logits[banned] = float("-inf")
        assert int(torch.argmax(logits)) == tok
        ids += [tok] if tok != v.end_id else [tok, v.start_id]


def test_sampling_controls_and_seeds(char_lm):
    a = char_lm.generate(prime="el", length=30, temperature=0.8, seed=3)
    assert a == char_lm.generate(prime="el", length=30, temperature=0.8, seed=3)
    greedy = char_lm.generate(prime="el", length=30, strategy="greedy")
    assert char_lm.generate(prime="el", length=30, top_k=1, seed=5) == greedy
    assert char_lm.generate(prime="el", length=30, top_p=1e-9, seed=5) == greedy  # the nucleus keeps one token
    assert char_lm.generate(prime="el", length=30, strategy="beam", beam_width=1) == greedy
    assert "\n" not in a and "<" not in a  # stops at the end of a line; never writes special tokens
    many = char_lm.generate(length=300, stop_at_end=False, seed=0, temperature=1.5)
    assert len(many) == 300
    with pytest.raises(ConfigError, match="temperature > 0"):
        char_lm.generate(temperature=0)
    with pytest.raises(ConfigError, match="strategy"):
        char_lm.generate(strategy="nucleus")


def test_filter_logits_keeps_the_top_k_and_the_nucleus():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64))
    assert torch.isinf(filter_logits(logits, top_k=3)).tolist() == [False, False, False, True]
    assert torch.isinf(filter_logits(logits, top_p=0.7)).tolist() == [False, False, True, True]
    assert torch.isinf(filter_logits(logits, top_p=0.81)).tolist() == [False, False, False, True]


def test_save_and_load_give_the_same_model(char_lm, tmp_path):
    char_lm.save(tmp_path / "lm")
    files = sorted(p.name for p in (tmp_path / "lm").iterdir())
    assert files == ["config.json", "manifest.json", "vocab.json", "weights.safetensors"]
    again = load_language_model(tmp_path / "lm")
    assert again.vocab_ == char_lm.vocab_ and again.metrics_ == char_lm.metrics_
    p, q = char_lm.next_token_probabilities("el pe"), again.next_token_probabilities("el pe")
    assert p.keys() == q.keys() and all(abs(p[k] - q[k]) < 1e-6 for k in p)
    assert sum(p.values()) == pytest.approx(1.0)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_language_model(tmp_path / "missing")
    rewrite_model_file(tmp_path / "lm", "config.json", b'{"format": "recurra.model"}')
    with pytest.raises(ModelFileError, match="not a recurra language model config: expected format 'recurra.language_model'"):
        load_language_model(tmp_path / "lm")


def test_char_level_suggestions(char_lm):
    s = char_lm.suggest("el perro co", k=2)
    assert s.partial == "co" and len(s.completions) == 2
    assert all(w.startswith("co") for w, _ in s.completions)
    assert s.completions[0][1] >= s.completions[1][1] > 0


def test_word_level_keyboard_and_unknown_tokens():
    lm = LanguageModel(
        level="word",
        cell="gru",
        units=32,
        embedding=16,
        bptt=8,
        window=16,
        epochs=6,
        batch_size=4,
        learning_rate=0.01,
        min_count=1,
        validation=0.0,
    )
    lm.fit(TEXT)
    s = lm.suggest("El niño bebe ag", k=3)
    assert s.partial == "ag" and s.completions[0][0] == "agua"
    s = lm.suggest("la perra bebe ", k=2)
    assert s.completions == [] and len(s.next_words) == 2 and s.next_words[0][0] in {"leche", "agua"}
    assert lm.metrics_ == {}  # no validation split
    assert isinstance(lm.generate(prime="el zorro", length=5, seed=0), str)  # unknown words are read as <unk>
    with pytest.raises(InputValueError, match=r"does not know: \['zorro'\]"):
        lm.generate(prime="el zorro", strict=True)


def test_the_keyboard_completes_perro_after_a_short_run_on_the_proverbs():
    # a small fixed run on the bundled proverbs (Spanish, 4,995 lines); the figure in docs/text.md uses a longer one
    lm = LanguageModel(
        level="word", cell="lstm", units=32, embedding=32, max_vocab=1000, bptt=32, window=64, batch_size=64, epochs=2, seed=0
    )
    lm.fit(bundled_text("refranes"))
    words = [w for w, _ in lm.suggest("Voy al parque con mi per", k=3).completions]
    assert "perro" in words, words


def test_bad_input_is_refused_with_what_was_expected(tmp_path):
    lm = LanguageModel(level="char", units=8, window=64, bptt=16, epochs=1)
    with pytest.raises(InputValueError, match="expected a corpus of at least 65 char tokens"):
        lm.fit("hola\nadiós\n" * 3, epochs=1)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    with pytest.raises(InputValueError, match="got an empty file"):
        lm.fit(files=empty)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("año\n".encode("latin-1"))
    with pytest.raises(InputValueError, match="got the byte 0xf1 at offset 1 that is not UTF-8"):
        lm.fit(files=[latin])
    with pytest.raises(InputValueError, match="texts=... \\(strings\\) or files="):
        lm.fit()
    with pytest.raises(NotBuiltError, match=r"LanguageModel is not fitted: generate\(\) needs fit"):
        lm.generate()
    with pytest.raises(ConfigError, match="expected cell in"):
        LanguageModel(cell="transformer")
    with pytest.raises(ConfigError, match="window >= bptt"):
        LanguageModel(bptt=64, window=32)


def test_training_repeats_under_a_seed_and_reads_files(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text(TEXT, encoding="utf-8")
    kw = dict(level="char", cell="gru", units=8, embedding=4, bptt=8, window=16, epochs=1, seed=7)
    a = LanguageModel(**kw).fit(files=[f])
    b = LanguageModel(**kw).fit(TEXT)
    assert a.history_["loss"] == b.history_["loss"]
    wa = [p.detach().numpy() for p in a.network_.parameters()]
    wb = [p.detach().numpy() for p in b.network_.parameters()]
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))


def test_tied_weights_share_the_embedding():
    lm = LanguageModel(level="char", units=12, embedding=6, tie_weights=True, bptt=8, window=16, epochs=1).fit(TEXT)
    assert lm.network_.out is None and lm.network_.proj is not None
    names = [n for n, _ in lm.network_.named_parameters()]
    assert not any(n.startswith("out.") for n in names)
