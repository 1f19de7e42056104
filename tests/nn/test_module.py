"""recurra.nn's modules as torch.nn code uses them: state_dict both ways, introspection, errors,
lengths and masks, saving whole models, and a training loop with the module swapped."""

from __future__ import annotations

import io

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from recurra import nn as rnn
from recurra.errors import ConfigError, InputValueError, RecurraWarning, ShapeError, UnknownNameError

ALL = [rnn.RNN, rnn.LSTM, rnn.GRU, rnn.IndRNN, rnn.MinGRU, rnn.MinLSTM]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_state_dict_loads_from_torch_and_back(name):
    options = dict(num_layers=2, bidirectional=True, **({"proj_size": 3} if name == "LSTM" else {}))
    theirs = getattr(torch.nn, name)(5, 6, **options)
    ours = getattr(rnn, name)(5, 6, **options)
    ours.load_state_dict(theirs.state_dict())  # strict: the same keys and shapes
    back = getattr(torch.nn, name)(5, 6, **options)
    back.load_state_dict(ours.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == [
        [tuple(w.shape) for w in ws] for ws in theirs.all_weights
    ]
    assert all(a is b for a, b in zip(ours._flat_weights, ours.parameters()))
    assert ours.flatten_parameters() is None
    assert ours.extra_repr() == theirs.extra_repr()
    assert ours.mode == theirs.mode
    for attribute in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)


def test_the_constructors_take_torchs_positional_arguments():
    assert rnn.RNN(3, 4, 2, "relu", False, True, 0.0, True).nonlinearity == "relu"
    lstm = rnn.LSTM(3, 4, 2, False, True, 0.5, True, 2)
    assert (lstm.bias, lstm.batch_first, lstm.dropout, lstm.bidirectional, lstm.proj_size) == (False, True, 0.5, True, 2)
    assert rnn.GRU(3, 4, device="cpu", dtype=torch.float64).weight_ih_l0.dtype == torch.float64
    assert rnn.MinGRU(3, 4, 1, True, True).batch_first


@pytest.mark.parametrize("name,options", [("RNN", {"nonlinearity": "relu"}), ("LSTM", {"proj_size": 2}), ("GRU", {})])
def test_the_same_seed_draws_the_same_parameters_as_torch(name, options):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 4, 2, bidirectional=True, **options)
    torch.manual_seed(0)
    ours = getattr(rnn, name)(3, 4, 2, bidirectional=True, **options)
    assert all(torch.equal(a, b) for a, b in zip(ours.parameters(), theirs.parameters()))
    assert repr(ours) == repr(theirs)


def test_wrong_feature_size_names_expected_and_found():
    for cls in ALL:
        module = cls(3, 4, batch_first=True)
        with pytest.raises(ShapeError, match=r"expected input with 3 features \(input_size=3\) as \(batch, time, features\), "
                                            r"got 4 features: input of shape \(2, 5, 4\)"):  # fmt: skip
            module(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="expected input with 3 features"):  # a ValueError, for code that catches those
        rnn.LSTM(3, 4)(pack_padded_sequence(torch.zeros(5, 2, 2), torch.tensor([5, 3])))
    with pytest.raises(ShapeError, match=r"\(time, batch, features\) or \(time, features\) unbatched, got \(5,\)"):
        rnn.GRU(3, 4)(torch.zeros(5))


def test_wrong_states_and_dtypes_are_named():
    lstm = rnn.LSTM(3, 4, num_layers=2)
    x = torch.zeros(5, 2, 3)
    with pytest.raises(ShapeError, match=r"expected c_0 of shape \(2, 2, 4\) for batched 3-D input .* got \(1, 2, 4\)"):
        lstm(x, (torch.zeros(2, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match=r"expected h_0 of shape \(2, 2, 4\) for batched 3-D input"):
        lstm(x, (torch.zeros(2, 4), torch.zeros(2, 4)))
    with pytest.raises(InputValueError, match=r"expected hx to be a tuple \(h_0, c_0\), got 1 tensors"):
        lstm(x, torch.zeros(2, 2, 4))
    with pytest.raises(ShapeError, match=r"expected h_0 of shape \(1, 4\) for unbatched 2-D input"):
        rnn.GRU(3, 4)(torch.zeros(5, 3), torch.zeros(1, 1, 4))
    with pytest.raises(InputValueError, match="expected input of dtype torch.float32 .* got torch.float64"):
        rnn.GRU(3, 4)(torch.zeros(5, 2, 3, dtype=torch.float64))
    with pytest.raises(InputValueError, match="expected floating-point input, got dtype torch.int64"):
        rnn.GRU(3, 4)(torch.zeros(5, 2, 3, dtype=torch.int64))


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ConfigError, match="proj_size smaller than hidden_size=4, got proj_size=4"):
        rnn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ConfigError, match="dropout to be a number in"):
        rnn.GRU(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(UnknownNameError, match="unknown nonlinearity 'sigmoid'"):
        rnn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ConfigError, match="hidden_size to be a positive integer, got 0"):
        rnn.GRU(3, 0)
    with pytest.raises(UnknownNameError):
        rnn.MinGRU(3, 4, activation="softmax")
    with pytest.warns(RecurraWarning, match="with num_layers=1 it does nothing"):
        rnn.LSTM(3, 4, dropout=0.2)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_and_masks_run_each_row_to_its_length(cls, batch_first):
    module = cls(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=torch.float64)
    lengths = torch.tensor([2, 5, 3])
    x = torch.randn(*((3, 5) if batch_first else (5, 3)), 3, dtype=torch.float64)
    packed_out, packed_h = module(pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False))
    expected = pad_packed_sequence(packed_out, batch_first=batch_first, total_length=5)[0]
    out, h = module(x, lengths=lengths)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    for a, b in zip(h if isinstance(h, tuple) else (h,), packed_h if isinstance(packed_h, tuple) else (packed_h,)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    time = torch.arange(5)
    mask = time[None, :] < lengths[:, None]  # (B, T)
    out_masked, _ = module(x, mask=mask if batch_first else mask.T)
    torch.testing.assert_close(out_masked, out, rtol=0, atol=0)
    assert float(((out if batch_first else out.transpose(0, 1))[~mask]).detach().abs().max()) == 0.0  # zeros after each length


def test_masks_must_be_right_padded_and_lengths_in_range():
    gru = rnn.GRU(3, 4, batch_first=True)
    x = torch.zeros(2, 4, 3)
    with pytest.raises(InputValueError, match=r"right-padded mask .* row 1 is \[0, 1, 1, 1\]"):
        gru(x, mask=torch.tensor([[True, True, False, False], [False, True, True, True]]))
    with pytest.raises(ShapeError, match=r"expected mask of shape \(batch, time\) = \(2, 4\), got \(4, 2\)"):
        gru(x, mask=torch.ones(4, 2, dtype=torch.bool))
    with pytest.raises(InputValueError, match=r"lengths between 1 and 4"):
        gru(x, lengths=torch.tensor([0, 4]))
    with pytest.raises(ConfigError, match="a PackedSequence carries its own lengths"):
        gru(pack_padded_sequence(x, torch.tensor([4, 2]), batch_first=True), lengths=torch.tensor([4, 2]))


def test_kernel_names_the_path():
    gru = rnn.GRU(3, 4)
    gru(torch.zeros(5, 2, 3))
    assert gru.kernel == "compiled"
    gru.to(torch.bfloat16)(torch.zeros(5, 2, 3, dtype=torch.bfloat16))
    assert gru.kernel == "torch.gru"
    minlstm = rnn.MinLSTM(3, 4).to(torch.bfloat16)
    minlstm(torch.zeros(5, 2, 3, dtype=torch.bfloat16))
    assert minlstm.kernel == "elementwise"


class _Model(torch.nn.Module):
    """The word_language_model's shape: embedding, a recurrent module, a decoder."""

    def __init__(self, recurrent: type, vocabulary: int = 11, width: int = 6):
        super().__init__()
        self.encoder = torch.nn.Embedding(vocabulary, width)
        self.rnn = recurrent(width, width, 2, dropout=0.2)
        self.decoder = torch.nn.Linear(width, vocabulary)

    def forward(self, tokens, hidden=None):
        output, hidden = self.rnn(self.encoder(tokens), hidden)
        return self.decoder(output), hidden


def test_a_whole_module_saves_and_loads_with_torchs_default_load():
    for cls in ALL:
        module = cls(3, 4, num_layers=2, bidirectional=True)
        f = io.BytesIO()
        torch.save(module, f)
        f.seek(0)
        loaded = torch.load(f)  # weights_only=True, torch's default
        assert type(loaded) is cls
        x = torch.randn(5, 2, 3)
        torch.testing.assert_close(loaded(x)[0], module(x)[0], rtol=0, atol=0)


def test_a_model_around_them_loads_once_its_own_classes_are_allowed():
    model = _Model(rnn.LSTM)
    f = io.BytesIO()
    torch.save(model, f)
    f.seek(0)
    with pytest.raises(Exception, match="_Model"):  # torch refuses the classes recurra does not own
        torch.load(f)
    f.seek(0)
    with torch.serialization.safe_globals([_Model, torch.nn.Embedding, torch.nn.Linear]):
        loaded = torch.load(f)
    tokens = torch.randint(0, 11, (7, 2))
    torch.testing.assert_close(loaded.eval()(tokens)[0], model.eval()(tokens)[0], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_training_with_the_module_swapped_follows_torch(name):
    """A few SGD steps of the same model with torch.nn's module and recurra.nn's (dropout included):
    the same losses, float64, from the same seed."""
    losses = {}
    torch.manual_seed(0)
    start = {k: v.clone() for k, v in _Model(getattr(torch.nn, name)).double().state_dict().items()}
    for source in (torch.nn, rnn):
        model = _Model(getattr(source, name)).double()
        model.load_state_dict(start)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        torch.manual_seed(1)
        tokens = torch.randint(0, 11, (9, 4))  # (T, B)
        run = []
        for _ in range(4):
            logits, _ = model(tokens[:-1])
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 11), tokens[1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses[source.__name__] = run
    theirs, ours = losses.values()
    assert max(abs(a - b) for a, b in zip(ours, theirs)) <= 1e-10
