"""Parallel corpora for sequence-to-sequence models, read from what is installed; nothing is downloaded.

- ``load_bible_pairs()``: the Reina-Valera 1909 (Debian ``sword-text-sparv``) and the King James Version
  (Debian ``sword-text-kjv``) aligned verse by verse: 31,084 Spanish-English pairs in 66 books;
  ``split_by_books`` holds out whole books.
- ``load_python_docstrings()``: Python functions and the first sentence of their docstrings, from the
  standard library and the installed site-packages (parsed with ``ast``, never imported);
  ``split_by_package`` holds out whole top-level packages.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import sysconfig
import textwrap
import warnings
import zlib
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputValueError
from .datasets import MissingCorpusError, osis_text, read_sword_entries

__all__ = [
    "BIBLE_TEST_BOOKS",
    "BIBLE_VALIDATION_BOOKS",
    "code_as_words",
    "load_bible_pairs",
    "load_python_docstrings",
    "split_by_books",
    "split_by_package",
]

SWORD_TEXTS = Path("/usr/share/sword/modules/texts/ztext")
SPANISH_DIR = SWORD_TEXTS / "spaRV1909eb"
ENGLISH_DIR = SWORD_TEXTS / "engKJV2006eb"

# held out by default: mid-size books of both testaments, about 2.5 % of the verses each
BIBLE_VALIDATION_BOOKS = ("Lam", "Joel", "Obad", "Hab", "Zeph", "Hag", "Gal", "Titus", "Phlm", "1Pet", "2Pet")
BIBLE_TEST_BOOKS = ("Ruth", "Esth", "Jonah", "Mic", "Phil", "Col", "Jas", "1John", "Jude")

_TAG = re.compile(r"<(div|chapter)\b([^>]*)>")
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def _module_dir(directory: str | os.PathLike | None, default: Path, name: str, package: str) -> Path:
    d = Path(directory) if directory is not None else default
    if not all((d / f"{t}.{ext}").exists() for t in ("ot", "nt") for ext in ("bzs", "bzv", "bzz")):
        raise MissingCorpusError(f"the {name} was not found in {d}: install Debian's {package} (apt-get install {package})")
    return d


def _starts(raw: str) -> tuple[str | None, int | None]:
    """The book (OSIS name) and chapter (number) whose start tags an entry holds; end tags (``eID``) are not starts."""
    book, chapter = None, None
    for m in _TAG.finditer(raw):
        attributes = dict(_ATTRIBUTE.findall(m.group(2)))
        if "sID" not in attributes or "osisID" not in attributes:
            continue
        if m.group(1) == "div" and attributes.get("type") == "book":
            book = attributes["osisID"]
        elif m.group(1) == "chapter" and attributes.get("n", "").isdigit():
            chapter = int(attributes["n"])
    return book, chapter


def _places(entries: list[str]) -> list[tuple[str, int, int] | None]:
    """(book, chapter, verse) of each entry from the structure markup; ``None`` for headings and the entries before."""
    places: list[tuple[str, int, int] | None] = []
    book, chapter, heading = None, 0, 0
    for i, raw in enumerate(entries):
        starts_book, starts_chapter = _starts(raw)
        if starts_book is not None:
            book, chapter = starts_book, 0
        if starts_chapter is not None:
            chapter, heading = starts_chapter, i
        if starts_book is not None or starts_chapter is not None:
            places.append(None)
        else:
            places.append((book, chapter, i - heading) if book is not None and chapter > 0 else None)
    return places


def _clean_verse(raw: str) -> str:
    return osis_text(raw.replace("¶", " "))


def load_bible_pairs(spanish_dir: str | os.PathLike | None = None, english_dir: str | os.PathLike | None = None):
    """The Reina-Valera 1909 and the King James Version aligned verse by verse (a pandas DataFrame).

    Columns ``book`` (OSIS name: ``"Gen"``, ``"Matt"``), ``book_index`` (0 to 65 in canonical order),
    ``chapter``, ``verse``, ``es``, ``en``; 31,084 rows from 66 books and 1,189 chapters. Both SWORD modules
    use the KJV versification, so their entries line up index by index; the English module's markup gives
    the books and chapters. Notes, non-canonical titles, tags and the KJV's paragraph marks (``¶``) are
    removed; a psalm's canonical heading is kept (the Spanish text has it in the verse too). Pairs where
    either side is empty are left out.

    Needs Debian's ``sword-text-sparv`` and ``sword-text-kjv``; the directories override where they are.
    """
    import pandas as pd

    es_dir = _module_dir(spanish_dir, SPANISH_DIR, "Reina-Valera 1909 text", "sword-text-sparv")
    en_dir = _module_dir(english_dir, ENGLISH_DIR, "King James Version text", "sword-text-kjv")
    rows = []
    books: dict[str, int] = {}
    for testament in ("ot", "nt"):
        es, en = read_sword_entries(es_dir, testament), read_sword_entries(en_dir, testament)
        if len(es) != len(en):
            raise InputValueError(
                f"expected the same versification in {es_dir} and {en_dir}, got {len(es)} and {len(en)} {testament} entries"
            )
        for place, es_raw, en_raw in zip(_places(en), es, en):
            if place is None:
                continue
            es_text, en_text = _clean_verse(es_raw), _clean_verse(en_raw)
            if es_text and en_text:
                book = place[0]
                rows.append((book, books.setdefault(book, len(books)), place[1], place[2], es_text, en_text))
    return pd.DataFrame(rows, columns=["book", "book_index", "chapter", "verse", "es", "en"])


def _check_names(df, column: str, names: Sequence[str], what: str) -> None:
    missing = sorted(set(names) - set(df[column]))
    if missing:
        raise InputValueError(f"expected {what} present in the data, got unknown {what} {missing}")


def split_by_books(df, validation: Sequence[str] = BIBLE_VALIDATION_BOOKS, test: Sequence[str] = BIBLE_TEST_BOOKS):
    """``(train, validation, test)``: whole books held out, so no verse of a held-out book is trained on.

    Defaults: validation = Lamentations, Joel, Obadiah, Habakkuk, Zephaniah, Haggai, Galatians, Titus,
    Philemon, 1 and 2 Peter (``BIBLE_VALIDATION_BOOKS``, 781 verses, 2.5 %); test = Ruth, Esther, Jonah,
    Micah, Philippians, Colossians, James, 1 John, Jude (``BIBLE_TEST_BOOKS``, 841 verses, 2.7 %). Each part
    keeps the rows' order; the index is reset.
    """
    if set(validation) & set(test):
        raise InputValueError(f"expected different validation and test books, got {sorted(set(validation) & set(test))} in both")
    _check_names(df, "book", list(validation) + list(test), "books")
    held_val, held_test = df["book"].isin(list(validation)), df["book"].isin(list(test))
    return (
        df[~held_val & ~held_test].reset_index(drop=True),
        df[held_val].reset_index(drop=True),
        df[held_test].reset_index(drop=True),
    )


# -- Python functions and their docstrings -----------------------------------------------------------
_SKIP_DIRS = frozenset({"test", "tests", "testing", "idle_test", "vendor", "site-packages", "dist-packages"})
_CODE_TOKEN = re.compile(r"\w+|[^\w\s]")
_IDENTIFIER_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def code_as_words(code: str) -> str:
    """Source code as a line of lowercased words and symbols, identifiers split at ``_`` and case changes.

    ``"def readTextFile(path_name):"`` gives ``"def read text file ( path name ) :"``: the words of the
    names are what a summary of the code is made of, and split this way they are shared between functions
    (``read_text``, ``readText`` and ``ReadText`` give the same words). String literals are kept as words
    too; line breaks and indentation are dropped.
    """
    out: list[str] = []
    for token in _CODE_TOKEN.findall(code):
        if token[0].isalnum() or token[0] == "_":
            out.extend(w.lower() for w in _IDENTIFIER_WORD.findall(token))
        else:
            out.append(token)
    return " ".join(out)
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def default_python_roots() -> list[Path]:
    """The standard library's directory and site-packages (``sysconfig``'s ``stdlib`` and ``purelib``)."""
    paths = sysconfig.get_paths()
    return [Path(paths["stdlib"]), Path(paths["purelib"])]


def _wanted(name: str, include_private: bool) -> bool:
    return name.isidentifier() and (include_private or not name.startswith("_"))


def _is_test_file(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def python_sources(
    root: str | os.PathLike, max_files_per_package: int | None = None, include_private: bool = False
) -> list[tuple[str, str, Path]]:
    """``(package, module, path)`` of the ``.py`` files under ``root``, in sorted order.

    Only folders and files named like Python modules are read; test folders and files, vendored copies
    (``vendor``, ``_vendor``) and nested ``site-packages`` are skipped, and private folders and modules
    (``_name``, ``__init__.py`` excepted) unless ``include_private``. ``max_files_per_package`` keeps the
    first files of each top-level package.
    """
    root = Path(root)
    found: list[tuple[str, str, Path]] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if _wanted(d, include_private) and d not in _SKIP_DIRS and "vendor" not in d)
        parts = Path(directory).relative_to(root).parts
        for name in sorted(files):
            wanted = name == "__init__.py" or _wanted(name[:-3], include_private)
            if not name.endswith(".py") or _is_test_file(name) or not wanted:
                continue
            module = [*parts, name[:-3]] if name != "__init__.py" else list(parts)
            if module:
                found.append((module[0], ".".join(module), Path(directory) / name))
    found.sort(key=lambda item: item[1].split("."))
    if max_files_per_package is None:
        return found
    kept: list[tuple[str, str, Path]] = []
    counts: dict[str, int] = {}
    for item in found:
        counts[item[0]] = counts.get(item[0], 0) + 1
        if counts[item[0]] <= max_files_per_package:
            kept.append(item)
    return kept


def docstring_summary(docstring: str) -> str:
    """The first sentence of a docstring's first paragraph, on one line."""
    paragraph = _SPACE.sub(" ", inspect.cleandoc(docstring).strip().split("\n\n")[0]).strip()
    m = _SENTENCE_END.search(paragraph)
    return paragraph[: m.end()] if m else paragraph


def _function_body(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> str | None:
    """The function's source from its ``def`` line without the docstring, dedented, blank lines dropped."""
    doc = node.body[0]
    rest = node.body[1:]
    if doc.lineno == node.lineno or not rest or all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(
            s.value, ast.Constant)) for s in rest):
        return None
    kept = lines[node.lineno - 1 : doc.lineno - 1] + lines[doc.end_lineno : node.end_lineno]
    return textwrap.dedent("\n".join(line.rstrip() for line in kept if line.strip()))


def _functions(body: list[ast.stmt], prefix: str, include_private: bool):
    """``(qualname, node)`` of the functions of a module or class body, methods of nested classes included."""
    for node in body:
        named = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        if named and not include_private and node.name.startswith("_"):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{prefix}{node.name}.", include_private)


def _parse(path: Path, max_file_bytes: int) -> tuple[ast.Module, list[str]] | None:
    try:
        if path.stat().st_size > max_file_bytes:
            return None
        source = path.read_bytes().decode("utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source, filename=str(path)), source.splitlines()
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
        return None


def load_python_docstrings(
    roots: Sequence[str | os.PathLike] | None = None,
    max_body_tokens: int = 256,
    min_summary_words: int = 3,
    max_summary_words: int = 40,
    include_private: bool = False,
    max_files_per_package: int | None = 100,
    max_file_bytes: int = 100_000,
    max_pairs: int | None = None,
):
    """Python functions and the first sentence of their docstrings (a pandas DataFrame), for summarisation.

    Columns ``package`` (the top-level package or module), ``module`` (dotted), ``name`` (the function's
    name), ``qualname`` (``Class.method``), ``body`` (the source from the ``def`` line on, without the
    docstring, dedented, blank lines dropped; decorators left out) and ``summary`` (``docstring_summary``).
    ``roots`` default to the standard library and site-packages of this Python (``default_python_roots``);
    files are parsed with ``ast``, never imported. Left out: test folders and files, vendored copies,
    private functions and classes (names starting with ``_``) unless ``include_private``, functions whose
    body is only a docstring and ``pass`` or ``...``, summaries under ``min_summary_words`` or over
    ``max_summary_words`` words or ending with ``:``, bodies over ``max_body_tokens`` code tokens, files
    over ``max_file_bytes``, files after the first ``max_files_per_package`` of a package, everything after
    ``max_pairs`` rows. Identical (body, summary) pairs are kept once; rows follow the sorted module names.
    The defaults read at most 100 files of 100 kB of each package, which bounds the time spent parsing:
    with recurra's dependencies installed, about 15,700 pairs from 280 packages in about 20 seconds.
    """
    import pandas as pd

    dirs = [Path(r) for r in roots] if roots is not None else default_python_roots()
    for d in dirs:
        if not d.is_dir():
            raise InputValueError(f"expected a folder of Python sources, got {d}: it is not a folder")
    rows: list[tuple[str, str, str, str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for root in dirs:
        for package, module, path in python_sources(root, max_files_per_package, include_private):
            if max_pairs is not None and len(rows) >= max_pairs:
                break
            parsed = _parse(path, max_file_bytes)
            if parsed is None:
                continue
            tree, lines = parsed
            for qualname, node in _functions(tree.body, "", include_private):
                docstring = ast.get_docstring(node, clean=False)
                if not docstring:
                    continue
                summary = docstring_summary(docstring)
                if not min_summary_words <= len(summary.split()) <= max_summary_words or summary.endswith(":"):
                    continue
                body = _function_body(node, lines)
                if body is None or len(_CODE_TOKEN.findall(body)) > max_body_tokens or (body, summary) in seen:
                    continue
                seen.add((body, summary))
                rows.append((package, module, node.name, qualname, body, summary))
    rows = rows[:max_pairs] if max_pairs is not None else rows
    return pd.DataFrame(rows, columns=["package", "module", "name", "qualname", "body", "summary"])


def split_by_package(df, validation: float | Sequence[str] = 0.05, test: float | Sequence[str] = 0.05):
    """``(train, validation, test)`` holding out whole top-level packages (the ``package`` column).

    A fraction picks packages in a fixed pseudo-random order (their names' CRC-32), each taken while it
    still fits in the part's share of the rows, so the parts come close to the fractions without splitting a
    package; a list of names picks those packages. The same data always gives the same split.
    """
    sizes = df.groupby("package").size().to_dict()
    chosen: dict[str, list[str]] = {"validation": [], "test": []}
    for part, spec in (("test", test), ("validation", validation)):
        if isinstance(spec, str) or not isinstance(spec, (int, float)):
            names = [spec] if isinstance(spec, str) else list(spec)
            _check_names(df, "package", names, "packages")
            chosen[part] = names
    if set(chosen["validation"]) & set(chosen["test"]):
        both = sorted(set(chosen["validation"]) & set(chosen["test"]))
        raise InputValueError(f"expected different validation and test packages, got {both} in both")
    taken = set(chosen["validation"]) | set(chosen["test"])
    for part, spec in (("test", test), ("validation", validation)):
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            if not 0 <= spec < 0.5:
                raise InputValueError(f"expected a {part} fraction in [0, 0.5), got {spec}")
            budget = spec * len(df)
            for name in sorted(sizes, key=lambda n: (zlib.crc32(n.encode()), n)):
                if name not in taken and sizes[name] <= budget:
                    chosen[part].append(name)
                    taken.add(name)
                    budget -= sizes[name]
    held_val, held_test = df["package"].isin(chosen["validation"]), df["package"].isin(chosen["test"])
    return (
        df[~held_val & ~held_test].reset_index(drop=True),
        df[held_val].reset_index(drop=True),
        df[held_test].reset_index(drop=True),
    )
