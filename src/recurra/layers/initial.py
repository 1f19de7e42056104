"""Drawing initial weights again from a seed, so that a seed repeats a run however the layers were built.

A layer given ``input_shape`` draws its weights in the constructor, before ``fit(seed=...)`` seeds
the generators; one without draws them at the first call, after. ``redraw_initial_weights`` closes that
gap: right after seeding, every layer whose weights are still exactly as drawn (no optimiser step, no
``set_weights`` / ``load_weights`` / ``load_state_dict``, no in-place change) draws them again, in
the order a first call would build them. Weights that were trained, loaded or set are never touched.
"""

from __future__ import annotations

from torch import nn

from .base import Layer


def redraw_initial_weights(module: nn.Module) -> list[str]:
    """Draw again the weights of the layers in ``module`` that nothing has changed since they were drawn,
    outermost first, in registration order. Returns their names (``""`` for ``module`` itself)."""
    redrawn: list[str] = []

    def visit(m: nn.Module, name: str) -> None:
        if isinstance(m, Layer) and m.untouched_since_drawn():
            m.redraw()
            redrawn.append(name)
            return
        for child_name, child in m.named_children():
            visit(child, f"{name}.{child_name}" if name else child_name)

    visit(module, "")
    return redrawn


__all__ = ["redraw_initial_weights"]
