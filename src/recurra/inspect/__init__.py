"""Seeing inside a recurrent network: gradient flow through time, gate and state traces, state maps.

- ``gradient_flow(model, x, y)``: ``‖∂L/∂h_t‖`` at every step and ``‖∂h_T/∂h_0‖``
  (``plot_gradient_flow``): the vanishing or exploding gradient, measured on your model;
- ``trace(layer, x)``: every gate and state per step, recomputed from the cell's equations with the
  layer's weights (``plot_trace``: heatmaps);
- ``states(model, x)``: the hidden states projected to 2-D by PCA (``plot_states``).

Plots are matplotlib ``Figure`` objects drawn without pyplot (no window, no global backend), written
to PNG, SVG or PDF by the ``path`` argument.
"""

from .gradients import GradientFlow, gradient_flow, jacobian_norms, plot_gradient_flow, state_jacobian
from .states import StateProjection, pca_2d, plot_states, states
from .traces import Trace, plot_trace, trace, trace_cell

__all__ = [
    "GradientFlow",
    "StateProjection",
    "Trace",
    "gradient_flow",
    "jacobian_norms",
    "pca_2d",
    "plot_gradient_flow",
    "plot_states",
    "plot_trace",
    "state_jacobian",
    "states",
    "trace",
    "trace_cell",
]
