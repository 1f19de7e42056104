"""``torch.compile`` through recurra's layers: the compiled kernels are custom operators with fake
kernels and autograd, so the recurrent call traces as one node (``fullgraph=True``: no graph break) and a
compiled training step gives eager's loss and gradients."""

from __future__ import annotations

import copy

import pytest
import torch

import recurra
from recurra import layers

LAYERS = {
    "GRU": lambda: layers.GRU(12, return_sequences=True),
    "LSTM": lambda: layers.LSTM(12, return_sequences=True),
    "IndRNN": lambda: layers.IndRNN(12, return_sequences=True),
    "MinGRU": lambda: layers.MinGRU(12, return_sequences=True),
    "nn.GRU": lambda: recurra.nn.GRU(5, 12, num_layers=2, batch_first=True),
    "nn.LSTM": lambda: recurra.nn.LSTM(5, 12, batch_first=True),
}


def _loss(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = module(x)
    y = out[0] if isinstance(out, tuple) else out
    return y.square().mean()


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_compiled_training_step_equals_eager(name):
    torch.manual_seed(0)
    model = torch.nn.Sequential(LAYERS[name]())
    x = torch.randn(3, 7, 5)
    _loss(model, x)  # build
    eager = copy.deepcopy(model)
    compiled = torch.compile(model, fullgraph=True)  # a graph break would raise
    for _step in range(2):  # the second step after an optimiser update: no recompile needed for new values
        ours, theirs = _loss(compiled, x), _loss(eager, x)
        ours.backward()
        theirs.backward()
        assert abs(ours.item() - theirs.item()) <= 1e-6
        for p, q in zip(model.parameters(), eager.parameters()):
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6)
        with torch.no_grad():
            for p, q in zip(model.parameters(), eager.parameters()):
                p -= 0.1 * p.grad
                q -= 0.1 * q.grad
                p.grad = q.grad = None


def test_the_kernels_fake_shapes_match_their_real_outputs():
    """torch's own check of a custom operator: schema, fake kernel against the real one, autograd."""
    from recurra.cells import gru_kernel, scan
    from recurra.cells.lstm_op import lstm_sequence

    assert gru_kernel.EXTENSION.available() and scan.kernel_available()
    B, T, F, H = 2, 4, 3, 5
    gi, h0, u, b = torch.randn(T * B, 3 * H), torch.randn(B, H), torch.randn(3 * H, H), torch.randn(3 * H)
    sizes = torch.full((T,), B, dtype=torch.int64)
    shapes_only = ("test_schema", "test_faketensor")
    torch.library.opcheck(torch.ops.recurra_gru.gru_forward, (gi, sizes, h0, u, b, True), test_utils=shapes_only)
    k, lengths = torch.randn(B, T, 2 * H), torch.tensor([T, 2])
    torch.library.opcheck(torch.ops.recurra_scan.minimal_recurrence_forward, (k, h0, lengths, 0, 1), test_utils=shapes_only)
    weights = [torch.randn(4 * H, F, requires_grad=True), torch.randn(4 * H, H, requires_grad=True)]
    torch.library.opcheck(lstm_sequence, (torch.randn(T, B, F), h0, torch.randn(B, H), weights, False))
    torch.library.opcheck(lstm_sequence, (torch.randn(T, B, F), h0, torch.randn(B, H), weights, False, torch.tensor([2, T])))


def test_a_reservoir_compiles_without_a_graph_break():
    torch.manual_seed(0)
    reservoir = layers.Reservoir(30, return_sequences=True)
    x = torch.randn(2, 9, 3)
    expected = reservoir(x)
    reservoir.cell.backend = None
    torch.testing.assert_close(torch.compile(reservoir, fullgraph=True)(x), expected)
    assert reservoir.cell.backend == "cpp"  # the compiled sparse loop ran inside the graph


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU", "IndRNN", "MinLSTM"])
def test_torch_export_keeps_batch_and_time_free(name):
    """``torch.export``: the layer's steps as one ``scan`` node; the exported program runs other sizes."""
    torch.manual_seed(0)
    recurrent = getattr(layers, name)(5, return_sequences=True)
    model = recurra.Sequential([layers.Input((None, 3)), layers.Masking(), recurrent]).eval()
    x = torch.randn(2, 6, 3)
    model(x)
    program = torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch"), 1: torch.export.Dim("time")},))
    assert any("scan" in str(node.target) for node in program.graph.nodes)
    other = torch.randn(3, 11, 3)
    other[1, 7:] = 0.0  # padding the Masking layer masks: the held outputs follow Keras
    torch.testing.assert_close(program.module()(other), model(other), rtol=0, atol=1e-5)


class _WithLengths(torch.nn.Module):
    """A ``recurra.nn`` module called on a padded batch with ``lengths=`` or with the ``mask=`` they make."""

    def __init__(self, module: torch.nn.Module, use_mask: bool):
        super().__init__()
        self.module, self.use_mask = module, use_mask

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        if self.use_mask:
            output, h_n = self.module(x, mask=torch.arange(x.shape[1])[None, :] < lengths[:, None])  # batch_first
        else:
            output, h_n = self.module(x, lengths=lengths)
        return output, (h_n[0] if isinstance(h_n, tuple) else h_n)


NN_WITH_LENGTHS = {
    "nn.GRU 2 layers bidirectional, lengths": (lambda: recurra.nn.GRU(5, 6, 2, batch_first=True, bidirectional=True), False),
    "nn.LSTM bidirectional, mask": (lambda: recurra.nn.LSTM(5, 6, batch_first=True, bidirectional=True), True),
    "nn.MinGRU, lengths": (lambda: recurra.nn.MinGRU(5, 6, batch_first=True), False),
}


@pytest.mark.parametrize("name", list(NN_WITH_LENGTHS))
def test_recurra_nn_with_lengths_or_a_mask_compiles_without_a_graph_break(name):
    """Compiled, the padded batch stays dense (no packing, whose shapes depend on the lengths' values): each row
    runs to its length in place; values and gradients are eager's (which packs)."""
    make, use_mask = NN_WITH_LENGTHS[name]
    torch.manual_seed(0)
    model = _WithLengths(make(), use_mask)
    eager = copy.deepcopy(model)
    compiled = torch.compile(model, fullgraph=True)  # a graph break would raise
    x, lengths = torch.randn(3, 7, 5), torch.tensor([7, 4, 2])
    ours, theirs = compiled(x, lengths), eager(x, lengths)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert bool((ours[0][2, 2:] == 0).all())  # zeros after a row's length, as eager gives
    (ours[0].square().sum() + ours[1].sum()).backward()
    (theirs[0].square().sum() + theirs[1].sum()).backward()
    for p, q in zip(model.parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5)


def test_the_kernel_builds_are_constants_to_the_tracer():
    """``CompiledExtension.available`` carries the mark ``torch.compiler.assume_constant_result`` sets (so a first
    call inside a compiled region builds the kernel outside the graph); torch's decorator still sets just that."""
    from recurra.cells import gru_kernel

    def probe():
        return True

    torch.compiler.assume_constant_result(probe)
    assert vars(probe) == {"_dynamo_marked_constant": True}
    assert type(gru_kernel.EXTENSION).available._dynamo_marked_constant is True


@pytest.mark.parametrize("use_mask", [False, True], ids=["lengths", "mask"])
def test_torch_export_of_recurra_nn_with_lengths_keeps_batch_and_time_free(use_mask):
    torch.manual_seed(0)
    model = _WithLengths(recurra.nn.GRU(5, 6, 2, batch_first=True, bidirectional=True), use_mask).eval()
    batch, time = torch.export.Dim("batch"), torch.export.Dim("time")
    args = (torch.randn(2, 6, 5), torch.tensor([6, 3]))
    program = torch.export.export(model, args, dynamic_shapes=({0: batch, 1: time}, {0: batch}))
    assert any("scan" in str(node.target) for node in program.graph.nodes)
    for B, T in ((3, 4), (4, 11)):
        x, lengths = torch.randn(B, T, 5), torch.tensor([T, 2, 1, T - 1][:B])
        for a, b in zip(program.module()(x, lengths), model(x, lengths)):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
