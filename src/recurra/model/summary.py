"""The table ``summary()`` prints, shared by ``Sequential`` and functional models (Keras's layout)."""

from __future__ import annotations

from typing import Callable, Sequence

from torch import nn

from ..errors import format_shape
from ..layers.base import Layer


def layer_label(layer: nn.Module) -> str:
    """``"lstm (LSTM)"``: the layer's name and class, or the class alone."""
    name = getattr(layer, "name", None) if isinstance(layer, Layer) else None
    return f"{name} ({type(layer).__name__})" if name else type(layer).__name__


def shape_text(shapes: Sequence[tuple]) -> str:
    return ", ".join(format_shape(s) for s in shapes)


def summary_table(title: str, rows: Sequence[Sequence[str]], headers: Sequence[str], module: nn.Module,
                  print_fn: Callable[[str], None] | None = print) -> str:  # fmt: skip
    """The table of ``rows`` (the last column right-aligned: parameter counts) under ``headers``, with the
    module's parameter totals; printed with ``print_fn`` (unless ``None``) and returned."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) + 2 for i, h in enumerate(headers)]
    widths[-1] = max(widths[-1], 10)

    def line_of(cells: Sequence[str]) -> str:
        head = "".join(f"{c:<{w}}" for c, w in zip(cells[:-1], widths[:-1]))
        return head + f"{cells[-1]:>{widths[-1]}}"

    rule = "─" * sum(widths)
    total = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    out = [f'Model: "{title}"', rule, line_of(headers), rule, *(line_of(r) for r in rows), rule]
    out += [f"Total params: {total:,}", f"Trainable params: {trainable:,}", f"Non-trainable params: {total - trainable:,}", rule]
    text = "\n".join(out)
    if print_fn is not None:
        print_fn(text)
    return text


__all__ = ["summary_table", "layer_label", "shape_text"]
