"""Accent restoration pieces: stripping, tags and restoring, the most-frequent-form baseline, the report,
contiguous blocks, windows, and the marks a figure draws."""

from __future__ import annotations

import unicodedata

import pytest

from recurra.errors import InputValueError, ModelFileError, ShapeError
from recurra.text.accent_corpus import split_blocks, windows
from recurra.text.accent_training import TimeLimit, training_pairs
from recurra.text.accent_view import marks
from recurra.text.accents import AMBIGUOUS, KEEP, MostFrequentForm, accent_report, accent_tags, restore, strip_accents


def test_strip_keeps_every_other_character_and_composes_first():
    assert strip_accents("ÁÉÍÓÚÜÑ áéíóúüñ") == "AEIOUUN aeiouun"
    assert strip_accents("Sichêm, ¿qué? ¡Ça!") == "Sichêm, ¿que? ¡Ça!"  # ê and ç are not Spanish accents: kept
    assert strip_accents(unicodedata.normalize("NFD", "niño")) == "nino"  # n + U+0303 composed first


def test_tags_and_restore_round_trip():
    text = "¿Él está aquí? PINGÜINO, año."
    stripped, tags = accent_tags(text)
    assert stripped == "¿El esta aqui? PINGUINO, ano." and len(tags) == len(text)
    assert tags[1] == "é" and tags[:1] == [KEEP] and tags[19] == "ü"
    assert sorted(set(tags)) == sorted({KEEP, "é", "á", "í", "ü", "ñ"})
    assert restore(stripped, tags) == text
    with pytest.raises(InputValueError, match="got 'ó' on 'a' at position 0"):
        restore("al", ["ó", KEEP])
    assert restore("al", ["ó", KEEP], strict=False) == "al"
    with pytest.raises(ShapeError, match="2 characters and 1 tags"):
        restore("al", [KEEP])


def test_the_baseline_restores_the_most_frequent_form_and_keeps_case():
    base = MostFrequentForm().fit(["Él dijo que él está aquí; el niño está", "el perro, el gato"])
    assert base.forms["el"] == "el" and base.forms["esta"] == "está" and base.forms["nino"] == "niño"
    assert base.restore("EL NINO esta aqui con Xose") == "EL NIÑO está aquí con Xose"  # unknown words unchanged
    assert base.restore("él") == "el"  # input accents are stripped first
    assert base.closest("Níño") == "Niño" and base.closest("perro") == "perro" and base.closest("Xosé") == "Xosé"
    again = MostFrequentForm.from_json(base.to_json())
    assert again.forms == base.forms and again.counts == base.counts
    with pytest.raises(ModelFileError, match="damaged: expected format 'recurra.accent_forms'"):
        MostFrequentForm.from_json({"format": "recurra.accent_forms", "counts": {"a": 1.5}})
    assert base.to_seen_forms("Él dijó que ésta aqui") == "Él dijo que está aquí"  # aqui: never seen so


def test_ambiguous_groups_share_one_stripped_form():
    for group in AMBIGUOUS:
        assert len(group) >= 2 and len({strip_accents(w) for w in group}) == 1, group
    assert ("el", "él") in AMBIGUOUS and ("publico", "público", "publicó") in AMBIGUOUS


def test_accent_report_counts_characters_words_and_ambiguous_words():
    true = ["él está en el río", "sí"]
    got = ["el está en el rio", "sí"]
    r = accent_report(true, got)
    assert (r.chars, r.words, r.ambiguous_words) == (19, 6, 5)  # él está el río sí
    assert r.char_accuracy == pytest.approx(17 / 19) and r.word_accuracy == pytest.approx(4 / 6)
    assert r.ambiguous_accuracy == pytest.approx(3 / 5)
    with pytest.raises(ShapeError, match="expected restored text 0 as long as the true one"):
        accent_report(["abc"], ["ab"])
    assert r.rare_form_words == 0


def test_rare_form_words_are_the_ambiguous_words_the_baseline_gets_wrong():
    base = MostFrequentForm().fit(["el libro está en el río", "el río", "si"])  # el, está, río, si
    true = ["Él está en el río", "sí, esta vez rio"]
    restorers = {"baseline": [base.restore(x) for x in true], "right": true, "half": ["El está en el río", "sí, esta vez rio"]}
    reports = {name: accent_report(true, got, frequent_forms=base.forms) for name, got in restorers.items()}
    assert {r.rare_form_words for r in reports.values()} == {4}  # Él, sí, esta, rio (está, el, río are the frequent forms)
    assert reports["baseline"].rare_form_accuracy == 0.0 and reports["right"].rare_form_accuracy == 1.0
    assert reports["half"].rare_form_accuracy == pytest.approx(3 / 4)


def test_blocks_are_contiguous_and_windows_have_one_width():
    lines = [f"line {i}" for i in range(100)]
    train, val, test = split_blocks(lines, 0.05, 0.1)
    assert train == lines[:85] and val == lines[85:90] and test == lines[90:]
    with pytest.raises(InputValueError, match="validation \\+ test < 1"):
        split_blocks(lines, 0.5, 0.5)
    assert windows(["abcd", "ef"], 3) == ["abc", "d e"]  # "abcd ef": the last partial window left out
    X, Y = training_pairs(["él está aquí"], 4)
    assert X == ["el e", "sta ", "aqui"] and Y[0] == ["é", KEEP, KEEP, KEEP] and Y[1][2] == "á"


def test_marks_say_which_letters_were_restored_or_wrong():
    assert marks("él está", "el esta") == ["wrong", "", "", "", "", "", "wrong"]
    assert marks("él está", "él estó") == ["restored", "", "", "", "", "", "wrong"]
    assert marks("el", "él") == ["wrong", ""]


def test_time_limit_stops_training():
    class Host:
        stop_training = False

    limit = TimeLimit(0.0)
    limit.set_model(Host())
    limit.on_train_begin()
    limit.on_epoch_begin(2)
    limit.on_train_batch_end(7)
    assert limit.model.stop_training and limit.stopped_at == (2, 7)
