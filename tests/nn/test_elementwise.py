"""recurra.nn.IndRNN, MinGRU and MinLSTM against their cells' reference equations (``cell.step``, one
sequence and one step at a time, with the module's own parameters), float64: outputs, final states and
gradients, over layers, directions, bias, initial states and input kinds."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from recurra import nn as rnn
from recurra.cells import IndRNNCell, MinGRUCell, MinLSTMCell

from .compare import INPUT_KINDS, LENGTHS, T, assert_same, make_input, make_states

H = 4
MODULES = {
    "indrnn-relu": (rnn.IndRNN, {}),
    "indrnn-tanh-max": (rnn.IndRNN, dict(nonlinearity="tanh", recurrent_max=0.5)),
    "mingru-g": (rnn.MinGRU, {}),
    "minlstm-g": (rnn.MinLSTM, {}),
    "minlstm-tanh": (rnn.MinLSTM, dict(activation="tanh")),
}


def reference_cells(module) -> list:
    """One recurra cell per layer and direction, sharing the module's parameters (same objects)."""
    cells = []
    for names in module._all_weights:
        w = {n.split("_l")[0]: getattr(module, n) for n in names}
        F_l = w["weight_ih"].shape[1]
        kw = dict(use_bias=module.bias, dtype=torch.float64)
        if isinstance(module, rnn.IndRNN):
            cell = IndRNNCell(F_l, module.hidden_size, activation=module.nonlinearity, recurrent_max=module.recurrent_max, **kw)
            cell.weight_hh = w["weight_hh"]
        else:
            cell_class = MinGRUCell if isinstance(module, rnn.MinGRU) else MinLSTMCell
            cell = cell_class(F_l, module.hidden_size, activation=module.activation, **kw)
        cell.weight_ih = w["weight_ih"]
        cell.bias = w.get("bias_ih")
        cells.append(cell)
    return cells


def reference(module, sequences: list[torch.Tensor], h0: torch.Tensor):
    """Each sequence ``(T_b, F)`` alone through the stacked cells: ``([y_b (T_b, D·H)], h_n (L·D, B, H))``."""
    cells, D = reference_cells(module), 2 if module.bidirectional else 1
    ys, finals = [], [[None] * len(sequences) for _ in cells]
    for b, seq in enumerate(sequences):
        inp = seq
        for layer in range(module.num_layers):
            outs = []
            for d in range(D):
                cell = cells[layer * D + d]
                state = cell.State(h0[layer * D + d, b : b + 1])  # (1, H)
                steps = inp if d == 0 else inp.flip(0)
                y = []
                for t in range(steps.shape[0]):
                    y_t, state = cell.step(steps[t : t + 1], state)
                    y.append(y_t)
                y = torch.cat(y)  # (T_b, H)
                outs.append(y if d == 0 else y.flip(0))
                finals[layer * D + d][b] = state.h[0]
            inp = torch.cat(outs, -1)  # (T_b, D·H)
        ys.append(inp)
    return ys, torch.stack([torch.stack(f) for f in finals])


COMBOS = list(itertools.product(MODULES, (1, 2), (True, False), (False, True), (False, True), INPUT_KINDS))


@pytest.mark.parametrize("module_name,num_layers,bias,bidirectional,hx_given,kind", COMBOS)
def test_against_the_cells_reference_steps(module_name, num_layers, bias, bidirectional, hx_given, kind):
    cls, extra = MODULES[module_name]
    batch_first = kind == "packed_unsorted"  # both layouts, without doubling the combinations
    module = cls(3, H, num_layers, bias, batch_first, 0.0, bidirectional, **extra, dtype=torch.float64)
    assert module.kernel is None
    x, inp = make_input(kind, batch_first)
    states = make_states(module, kind, hx_given)
    output, h_n = module(inp, None if states is None else states[0])
    assert module.kernel == "compiled"

    # the module's outputs, one sequence at a time
    if kind == "unbatched":
        got, sequences = [output], [x]
        h_n, h0 = h_n[:, None], (states[0][:, None] if states else None)
    else:
        xs = x.transpose(0, 1) if batch_first else x  # (T, B, F)
        lengths = LENGTHS.get(kind, [T] * xs.shape[1])
        padded = pad_packed_sequence(output)[0] if isinstance(output, PackedSequence) else output
        padded = padded.transpose(0, 1) if batch_first and not isinstance(output, PackedSequence) else padded  # (T, B, ·)
        got = [padded[:n, b] for b, n in enumerate(lengths)]
        sequences = [xs[:n, b] for b, n in enumerate(lengths)]
        h0 = states[0] if states else None
    layers = num_layers * (2 if bidirectional else 1)
    h0 = torch.zeros(layers, len(sequences), H, dtype=torch.float64) if h0 is None else h0
    expected, expected_h = reference(module, sequences, h0)
    assert_same([*got, h_n], [*expected, expected_h], [f"output[{b}]" for b in range(len(got))] + ["h_n"])

    # gradients of one random weighting of the outputs, through both
    g = torch.Generator().manual_seed(5)
    weights = [torch.randn(y.shape, generator=g, dtype=torch.float64) for y in [*got, h_n]]
    leaves = [x, *(states or ()), *module.parameters()]
    ours = torch.autograd.grad(sum((w * y).sum() for w, y in zip(weights, [*got, h_n])), leaves, retain_graph=True)
    theirs = torch.autograd.grad(sum((w * y).sum() for w, y in zip(weights, [*expected, expected_h])), leaves)
    assert_same(
        list(ours), list(theirs), ["grad input", *(["grad hx"] if states else [])] + [n for n, _ in module.named_parameters()]
    )


def test_indrnn_draws_u_in_the_papers_range():
    module = rnn.IndRNN(3, 64, recurrent_max=0.5)
    u = module.weight_hh_l0.detach()
    assert 0 <= float(u.min()) and float(u.max()) <= 0.5
    assert tuple(module.weight_hh_l0.shape) == (64,)
