"""The Spanish text that accent restoration learns from and is measured on, split into contiguous blocks.

Sources: the Reina-Valera 1909 Bible (``load_reina_valera``, one verse per line; its 1909 spelling
accents the preposition ``á``, the conjunction ``ó`` and ``fué``, ``dió``), and the fortunes of Debian's
``fortunes-es`` (modern spelling; the bundled refranes when the package is missing). Each source is
split in order: the first ``1 - validation - test`` of its lines train, the next ``validation`` pick the
best epoch, the last ``test`` are held out. Held-out text is therefore whole passages (the end of the
New Testament, the last fortune files), never lines drawn from the passages a model trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputValueError
from .datasets import MissingCorpusError, bundled_text, load_fortunes_es, load_reina_valera


@dataclass
class AccentCorpus:
    """Lines by source (``"reina_valera"``, ``"fortunes_es"`` or ``"refranes"``) in three contiguous blocks."""

    train: dict[str, list[str]] = field(default_factory=dict)
    validation: dict[str, list[str]] = field(default_factory=dict)
    test: dict[str, list[str]] = field(default_factory=dict)

    def lines(self, block: str) -> list[str]:
        """Every source's lines of ``block`` (``"train"``, ``"validation"`` or ``"test"``), source after source."""
        return [line for lines in getattr(self, block).values() for line in lines]


def split_blocks(lines: list[str], validation: float, test: float) -> tuple[list[str], list[str], list[str]]:
    """The first ``1 - validation - test`` of ``lines``, the next ``validation``, the last ``test``, in order."""
    if not (0 <= validation < 1 and 0 < test < 1 and validation + test < 1):
        raise InputValueError(f"expected 0 <= validation, 0 < test and validation + test < 1, got {validation} and {test}")
    n = len(lines)
    a, b = round(n * (1 - validation - test)), round(n * (1 - test))
    return lines[:a], lines[a:b], lines[b:]


def load_accent_corpus(validation: float = 0.05, test: float = 0.1, bible: bool = True, fortunes: bool = True) -> AccentCorpus:
    """The sources (module docstring) split into contiguous train, validation and test blocks."""
    sources: dict[str, list[str]] = {}
    if bible:
        sources["reina_valera"] = load_reina_valera().splitlines()
    if fortunes:
        try:
            sources["fortunes_es"] = load_fortunes_es()
        except MissingCorpusError:
            sources["refranes"] = bundled_text("refranes").splitlines()
    if not sources:
        raise InputValueError("expected at least one source (bible=True or fortunes=True), got none")
    corpus = AccentCorpus()
    for name, lines in sources.items():
        lines = [line.strip() for line in lines if line.strip()]
        corpus.train[name], corpus.validation[name], corpus.test[name] = split_blocks(lines, validation, test)
    return corpus


def windows(lines: list[str], width: int) -> list[str]:
    """The lines joined by spaces and cut into consecutive pieces of exactly ``width`` characters (the
    shorter rest is left out): batches without padding, which train fastest."""
    if width < 1:
        raise InputValueError(f"expected a window width >= 1, got {width}")
    stream = " ".join(lines)
    return [stream[a : a + width] for a in range(0, len(stream) - width + 1, width)]


__all__ = ["AccentCorpus", "load_accent_corpus", "split_blocks", "windows"]
