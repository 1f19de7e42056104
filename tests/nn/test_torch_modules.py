"""recurra.nn.RNN, LSTM and GRU against torch.nn's, weights copied with load_state_dict, float64:
outputs, final states and the gradients of inputs, initial states and every parameter, over every
combination of options and input kinds (padded, packed sorted and unsorted, unbatched)."""

from __future__ import annotations

import itertools

import pytest
import torch

from recurra import nn as rnn

from .compare import INPUT_KINDS, assert_same, make_input, make_states, run, worst

H = 4

COMMON = list(itertools.product((1, 2), (True, False), (False, True), (False, True), (False, True), INPUT_KINDS))
COMMON_IDS = [f"L{n}-{'bias' if b else 'nobias'}-{'bf' if bf else 'tm'}-{'bi' if bi else 'uni'}-{'hx' if hx else 'nohx'}-{k}"
              for n, b, bf, bi, hx, k in COMMON]  # fmt: skip


def compare(name: str, options: dict, hx_given: bool, kind: str):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, H, **options, dtype=torch.float64).eval()
    ours = getattr(rnn, name)(3, H, **options, dtype=torch.float64).eval()
    ours.load_state_dict(theirs.state_dict())
    x, inp = make_input(kind, options["batch_first"])
    states = make_states(ours, kind, hx_given)
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    leaves_ours = [x, *(states or ()), *ours.parameters()]
    leaves_theirs = [x, *(states or ()), *theirs.parameters()]
    outs_ours, grads_ours = run(ours, inp, states, leaves_ours)
    outs_theirs, grads_theirs = run(theirs, inp, states, leaves_theirs)
    assert_same(outs_ours, outs_theirs, ["output", "h_n", "c_n"][: len(outs_ours)])
    grad_names = ["input", *[f"hx[{i}]" for i in range(len(states or ()))], *names]
    assert_same(grads_ours, grads_theirs, [f"grad {n}" for n in grad_names])
    return ours


@pytest.mark.parametrize("num_layers,bias,batch_first,bidirectional,hx_given,kind", COMMON, ids=COMMON_IDS)
def test_gru(num_layers, bias, batch_first, bidirectional, hx_given, kind):
    options = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    ours = compare("GRU", options, hx_given, kind)
    assert ours.kernel == "compiled"


@pytest.mark.parametrize("proj_size", [0, 2])
@pytest.mark.parametrize("num_layers,bias,batch_first,bidirectional,hx_given,kind", COMMON, ids=COMMON_IDS)
def test_lstm(num_layers, bias, batch_first, bidirectional, hx_given, kind, proj_size):
    options = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional, proj_size=proj_size)
    ours = compare("LSTM", options, hx_given, kind)
    assert ours.kernel == ("torch.lstm" if proj_size else "compiled")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers,bias,batch_first,bidirectional,hx_given,kind", COMMON, ids=COMMON_IDS)
def test_rnn(num_layers, bias, batch_first, bidirectional, hx_given, kind, nonlinearity):
    options = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    ours = compare("RNN", dict(options, nonlinearity=nonlinearity), hx_given, kind)
    assert ours.kernel == f"torch.rnn_{nonlinearity}"


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_in_training_draws_as_torch_does(name):
    """The same seed gives the same dropout masks as torch.nn's CPU modules (one draw per layer output)."""
    options = dict(num_layers=3, dropout=0.5, bidirectional=True, dtype=torch.float64)
    theirs = getattr(torch.nn, name)(3, H, **options).train()
    ours = getattr(rnn, name)(3, H, **options).train()
    ours.load_state_dict(theirs.state_dict())
    x, _ = make_input("padded", False)
    leaves_ours, leaves_theirs = [x, *ours.parameters()], [x, *theirs.parameters()]
    torch.manual_seed(3)
    outs_ours, grads_ours = run(ours, x, None, leaves_ours)
    torch.manual_seed(3)
    outs_theirs, grads_theirs = run(theirs, x, None, leaves_theirs)
    assert_same(outs_ours, outs_theirs, ["output", "h_n", "c_n"][: len(outs_ours)])
    assert_same(grads_ours, grads_theirs, ["grad"] * len(grads_ours))
    ours.eval()  # and none in evaluation
    assert torch.equal(ours(x)[0], ours(x)[0])


def test_float32_on_the_compiled_gru_is_close_to_torch():
    theirs = torch.nn.GRU(3, 16, num_layers=2, batch_first=True)
    ours = rnn.GRU(3, 16, num_layers=2, batch_first=True)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 20, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], atol=1e-5, rtol=1e-5)


def test_report():
    """The largest difference measured above (run with -s to see it); it must stay within 1e-10."""
    print(f"\nrecurra.nn, float64, against torch.nn and the cells: worst |difference| {worst[0]:.3g}")
    assert worst[0] <= 1e-10
