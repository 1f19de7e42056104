"""How well predicted tags match true ones: token accuracy, each tag's precision, recall and F1, and, for
BIO tags (``B-X`` begins a span of type ``X``, ``I-X`` continues it, ``O`` is outside), span F1.

Spans are read as conlleval and seqeval's default mode read them: a span of type ``X`` starts at ``B-X``,
or at ``I-X`` after ``O`` or after a span of another type, and ends before the next ``B``, ``O`` or tag
of another type. A predicted span counts only when a true span has the same type, start and end; span
precision, recall and F1 are micro-averaged over all types:

    precision = |true ∩ predicted| / |predicted|,  recall = |true ∩ predicted| / |true|,
    F1 = 2 precision recall / (precision + recall)

>>> bio_spans(["B-PER", "I-PER", "O", "I-LOC"])
[('PER', 0, 2), ('LOC', 3, 4)]
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

BIO_TAG = re.compile(r"^[BI]-.+$")


@dataclass
class TaggingReport:
    """``accuracy`` over tokens; per tag ``precision``, ``recall``, ``f1`` and ``support`` (true count);
    ``span_precision``, ``span_recall``, ``span_f1`` (``None`` unless the tags are BIO) and ``spans`` (true spans)."""

    accuracy: float
    tokens: int
    precision: dict[Any, float] = field(default_factory=dict)
    recall: dict[Any, float] = field(default_factory=dict)
    f1: dict[Any, float] = field(default_factory=dict)
    support: dict[Any, int] = field(default_factory=dict)
    span_precision: float | None = None
    span_recall: float | None = None
    span_f1: float | None = None
    spans: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "tokens": self.tokens,
            "f1": dict(self.f1),
            "span_precision": self.span_precision,
            "span_recall": self.span_recall,
            "span_f1": self.span_f1,
        }


def looks_like_bio(tags: Sequence[Any]) -> bool:
    """True when every tag is ``O``, ``B-X`` or ``I-X`` and at least one begins a span (``B-X``)."""
    tags = set(tags)
    return all(t == "O" or (isinstance(t, str) and BIO_TAG.match(t)) for t in tags) and any(
        isinstance(t, str) and t.startswith("B-") for t in tags
    )


def bio_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The spans of one sequence of BIO tags as ``(type, start, end)``, ``end`` exclusive (module docstring)."""
    spans = []
    kind, start = None, 0
    for i, tag in enumerate(tags):
        prefix, typ = (tag[0], tag[2:]) if tag != "O" else ("O", None)
        begins = prefix == "B" or (prefix == "I" and typ != kind)
        if kind is not None and (prefix in ("B", "O") or typ != kind):
            spans.append((kind, start, i))
            kind = None
        if begins:
            kind, start = typ, i
    if kind is not None:
        spans.append((kind, start, len(tags)))
    return spans


def span_scores(true: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> tuple[float, float, float, int]:
    """Micro-averaged span precision, recall, F1, and the number of true spans, over aligned sequences."""
    want = {(i, *s) for i, row in enumerate(true) for s in bio_spans(row)}
    got = {(i, *s) for i, row in enumerate(pred) for s in bio_spans(row)}
    hit = len(want & got)
    precision = hit / len(got) if got else 0.0
    recall = hit / len(want) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1, len(want)


def tagging_report(true: Sequence[Sequence[Any]], pred: Sequence[Sequence[Any]], tags: Sequence[Any]) -> TaggingReport:
    """The report of predicted tag sequences against true ones (aligned: the same lengths); ``tags``: the
    tags the report lists (the tagger's), in order."""
    true_count: Counter[Any] = Counter()
    pred_count: Counter[Any] = Counter()
    hits: Counter[Any] = Counter()
    for row_t, row_p in zip(true, pred):
        true_count.update(row_t)
        pred_count.update(row_p)
        hits.update(t for t, p in zip(row_t, row_p) if t == p)
    n = sum(true_count.values())
    report = TaggingReport(accuracy=sum(hits.values()) / n if n else 0.0, tokens=n)
    for tag in tags:
        precision = hits[tag] / pred_count[tag] if pred_count[tag] else 0.0
        recall = hits[tag] / true_count[tag] if true_count[tag] else 0.0
        report.precision[tag], report.recall[tag], report.support[tag] = precision, recall, true_count[tag]
        report.f1[tag] = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    if looks_like_bio(tags):
        report.span_precision, report.span_recall, report.span_f1, report.spans = span_scores(true, pred)
    return report


__all__ = ["TaggingReport", "tagging_report", "bio_spans", "span_scores", "looks_like_bio"]
