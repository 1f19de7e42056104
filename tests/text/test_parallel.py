"""Parallel corpora: Bible verse pairs from two SWORD modules, Python functions and their docstrings, splits."""

from __future__ import annotations

import sysconfig
import textwrap

import pandas as pd
import pytest

from recurra.errors import InputValueError
from recurra.text.datasets import MissingCorpusError
from recurra.text.parallel import (
    BIBLE_TEST_BOOKS,
    BIBLE_VALIDATION_BOOKS,
    code_as_words,
    load_bible_pairs,
    load_python_docstrings,
    python_sources,
    split_by_books,
    split_by_package,
)

from .test_datasets import write_ztext

# the layout of a SWORD module in the KJV versification: module and testament headings, then per book its
# heading, and per chapter its heading followed by its verses
EN_OT = [
    "",
    '<milestone type="x-importer"/>',
    '<div canonical="true" osisID="Gen" sID="g1" type="book"/> <title type="main">Genesis</title>',
    '<chapter n="1" osisID="Gen.1" sID="Gen.1"/> ',
    'In the <w lemma="strong:H7225">beginning</w> God created<note type="x">a note</note>. ',
    "¶ And  the earth was void. <chapter eID=\"Gen.1\"/>",
    '<chapter n="2" osisID="Gen.2" sID="Gen.2"/>',
    "Thus the heavens were finished. <chapter eID=\"Gen.2\"/> <div eID=\"g1\" osisID=\"Gen\" type=\"book\"/>",
    '<div canonical="true" osisID="Exod" sID="g2" type="book"/>',
    '<chapter n="1" osisID="Exod.1" sID="Exod.1"/>',
    '<title canonical="true" type="psalm">A <w>song</w>.</title> Now these are the names.',
    "",
    "Reuben, Simeon.",
]
ES_OT = [
    "",
    '<milestone type="x-importer"/>',
    '<div canonical="true" osisID="Gen" sID="g1" type="book"/> <title type="main">Génesis</title>',
    '<chapter n="1" osisID="Gen.1" sID="Gen.1"/>',
    '<w lemma="strong:H7225">EN el principio</w> crió Dios.',
    "Y la tierra estaba vacía.",
    '<chapter n="2" osisID="Gen.2" sID="Gen.2"/>',
    "Y fueron acabados los cielos.",
    '<div canonical="true" osisID="Exod" sID="g2" type="book"/>',
    '<chapter n="1" osisID="Exod.1" sID="Exod.1"/>',
    "Un cántico. Estos son los nombres.",
    "Texto sin inglés.",
    "<note>solo una nota</note>",
]
EN_NT = ["", "", '<div osisID="Matt" sID="g3" type="book"/>', '<chapter n="1" osisID="Matt.1" sID="Matt.1"/>', "The book."]
ES_NT = ["", "", '<div osisID="Matt" sID="g3" type="book"/>', '<chapter n="1" osisID="Matt.1" sID="Matt.1"/>', "El libro."]


def fake_modules(tmp_path, en_ot=EN_OT):
    es, en = tmp_path / "es", tmp_path / "en"
    for d, ot, nt in ((es, ES_OT, ES_NT), (en, en_ot, EN_NT)):
        d.mkdir()
        write_ztext(d, "ot", ot)
        write_ztext(d, "nt", nt)
    return es, en


def test_bible_pairs_from_fake_modules(tmp_path):
    es, en = fake_modules(tmp_path)
    df = load_bible_pairs(es, en)
    assert df.to_dict("records") == [
        {"book": "Gen", "book_index": 0, "chapter": 1, "verse": 1, "es": "EN el principio crió Dios.",
         "en": "In the beginning God created."},
        {"book": "Gen", "book_index": 0, "chapter": 1, "verse": 2, "es": "Y la tierra estaba vacía.",
         "en": "And the earth was void."},
        {"book": "Gen", "book_index": 0, "chapter": 2, "verse": 1, "es": "Y fueron acabados los cielos.",
         "en": "Thus the heavens were finished."},
        {"book": "Exod", "book_index": 1, "chapter": 1, "verse": 1, "es": "Un cántico. Estos son los nombres.",
         "en": "A song. Now these are the names."},
        {"book": "Matt", "book_index": 2, "chapter": 1, "verse": 1, "es": "El libro.", "en": "The book."},
    ]


def test_bible_errors(tmp_path):
    es, en = fake_modules(tmp_path)
    with pytest.raises(MissingCorpusError, match="apt-get install sword-text-kjv"):
        load_bible_pairs(es, tmp_path / "none")
    with pytest.raises(MissingCorpusError, match="apt-get install sword-text-sparv"):
        load_bible_pairs(tmp_path / "none", en)
    other = tmp_path / "other"
    other.mkdir()
    write_ztext(other, "ot", EN_OT[:-1])
    write_ztext(other, "nt", EN_NT)
    with pytest.raises(InputValueError, match="got 14 and 13 ot entries"):
        load_bible_pairs(es, other)
    df = load_bible_pairs(es, en)
    with pytest.raises(InputValueError, match=r"unknown books \['Rev'\]"):
        split_by_books(df, validation=("Rev",), test=("Matt",))
    with pytest.raises(InputValueError, match="in both"):
        split_by_books(df, validation=("Gen",), test=("Gen",))


def test_real_bible_pairs_and_default_split():
    df = load_bible_pairs()
    assert df["book"].nunique() == 66 and df["book_index"].max() == 65
    assert df.groupby("book")["chapter"].nunique().sum() == 1189
    assert 31_000 < len(df) <= 31_102
    first = df.iloc[0]
    assert (first["book"], first["chapter"], first["verse"]) == ("Gen", 1, 1)
    assert first["es"] == "EN el principio crió Dios los cielos y la tierra."
    assert first["en"] == "In the beginning God created the heaven and the earth."
    assert not df["en"].str.contains("[<>¶]").any() and not df["es"].str.contains("[<>]").any()
    train, val, test = split_by_books(df)
    assert set(val["book"]) == set(BIBLE_VALIDATION_BOOKS) and set(test["book"]) == set(BIBLE_TEST_BOOKS)
    assert not set(train["book"]) & (set(val["book"]) | set(test["book"]))
    assert len(train) + len(val) + len(test) == len(df)
    assert 0.02 < len(val) / len(df) < 0.04 and 0.02 < len(test) / len(df) < 0.04


def write_package(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


PACKAGES = {
    "pkg_a/__init__.py": '''
        def read_text_file(path):
            """Read a text file and return it."""
            with open(path) as f:
                return f.read()

        def _private(x):
            """A private helper, left out."""
            return x

        def short(x):
            """Short."""
            return x
        ''',
    "pkg_a/core.py": '''
        class Reader:
            """A reader."""

            def read_line(self, n: int) -> str:
                """Return the next line of the file.

                More text.
                """
                # a comment
                line = self.lines[n]

                return line

            def stub(self):
                """Do nothing at all here."""
                pass
        ''',
    "pkg_a/tests/test_core.py": '''
        def check_reader(reader):
            """A test helper, left out."""
            return reader
        ''',
    "pkg_a/bad.py": "def broken(:\n",
    "pkg_b.py": '''
        import functools

        def add(a, b):
            """Add two numbers. Then more."""
            return a + b

        @functools.cache
        async def fetch(url):
            """Fetch a page from the web!"""
            return await get(url)
        ''',
    "pkg_c/__init__.py": '''
        def add(a, b):
            """Add two numbers. Then more."""
            return a + b
        ''',
    "pkg_c-1.0.dist-info/setup.py": '''
        def setup_all(x):
            """Set everything up for this."""
            return x
        ''',
}


def test_docstring_pairs_from_fake_packages(tmp_path):
    write_package(tmp_path, PACKAGES)
    df = load_python_docstrings([tmp_path])
    assert list(df.columns) == ["package", "module", "name", "qualname", "body", "summary"]
    assert df.to_dict("records") == [
        {"package": "pkg_a", "module": "pkg_a", "name": "read_text_file", "qualname": "read_text_file",
         "body": "def read_text_file(path):\n    with open(path) as f:\n        return f.read()",
         "summary": "Read a text file and return it."},
        {"package": "pkg_a", "module": "pkg_a.core", "name": "read_line", "qualname": "Reader.read_line",
         "body": "def read_line(self, n: int) -> str:\n    # a comment\n    line = self.lines[n]\n    return line",
         "summary": "Return the next line of the file."},
        {"package": "pkg_b", "module": "pkg_b", "name": "add", "qualname": "add", "body": "def add(a, b):\n    return a + b",
         "summary": "Add two numbers."},
        {"package": "pkg_b", "module": "pkg_b", "name": "fetch", "qualname": "fetch",
         "body": "async def fetch(url):\n    return await get(url)", "summary": "Fetch a page from the web!"},
    ]  # pkg_c's add is pkg_b's again: kept once
    private = load_python_docstrings([tmp_path], include_private=True)
    assert "_private" in set(private["name"])
    assert len(load_python_docstrings([tmp_path], max_pairs=1)) == 1
    # "def add ( a , b ) : return a + b": 12 tokens; fetch has 13
    assert list(load_python_docstrings([tmp_path], max_body_tokens=12)["name"]) == ["add"]
    assert [m for _, m, _ in python_sources(tmp_path)] == ["pkg_a", "pkg_a.bad", "pkg_a.core", "pkg_b", "pkg_c"]
    assert [m for _, m, _ in python_sources(tmp_path, max_files_per_package=1)] == ["pkg_a", "pkg_b", "pkg_c"]
    with pytest.raises(InputValueError, match="not a folder"):
        load_python_docstrings([tmp_path / "none"])


def test_docstring_pairs_from_the_standard_library():
    df = load_python_docstrings([sysconfig.get_paths()["stdlib"]], max_files_per_package=1, max_pairs=100)
    assert len(df) == 100 and df["package"].nunique() > 3
    assert not df["name"].str.startswith("_").any()
    assert df["body"].str.match(r"(async )?def ").all() and (df["summary"].str.split().str.len() >= 3).all()
    assert not df.duplicated(["body", "summary"]).any()


def test_split_by_package_holds_out_whole_packages():
    df = pd.DataFrame({"package": [f"p{i}" for i in range(40) for _ in range(i % 5 + 1)]})
    df["body"] = range(len(df))
    train, val, test = split_by_package(df, validation=0.1, test=0.1)
    parts = [set(part["package"]) for part in (train, val, test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert len(train) + len(val) + len(test) == len(df)
    assert 0.05 * len(df) < len(val) <= 0.1 * len(df) and 0.05 * len(df) < len(test) <= 0.1 * len(df)
    again = split_by_package(df.copy(), validation=0.1, test=0.1)
    assert all(a.equals(b) for a, b in zip(again, (train, val, test)))
    train, val, test = split_by_package(df, validation=["p1", "p2"], test=["p3"])
    assert set(val["package"]) == {"p1", "p2"} and set(test["package"]) == {"p3"} and len(train) == len(df) - 9
    with pytest.raises(InputValueError, match="unknown packages"):
        split_by_package(df, test=["nope"])
    with pytest.raises(InputValueError, match="in both"):
        split_by_package(df, validation=["p1"], test=["p1"])


def test_code_as_words_splits_identifiers_and_keeps_symbols():
    code = "def readTextFile(path_name):\n    return HTTPServer(path_name, 2)"
    assert code_as_words(code) == "def read text file ( path name ) : return http server ( path name , 2 )"
    assert code_as_words("read_text") == code_as_words("readText") == code_as_words("ReadText") == "read text"
    assert code_as_words("") == ""
