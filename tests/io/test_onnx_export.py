"""ONNX export of every recurrent layer and of whole models, run by onnxruntime at two sequence lengths
other than the one traced, with and without masks; the command ``recurra export``."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from typer.testing import CliRunner

import recurra
from recurra import layers
from recurra.cli import app
from recurra.io.onnx_export import check_onnx, export_onnx

TOLERANCE = 1e-5


def _user_cell():
    class Minimal(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

        def call(self, inputs, states):
            h = torch.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
            return h, [h]

    return Minimal(5)


LAYERS = {
    "SimpleRNN": lambda seq: layers.SimpleRNN(5, return_sequences=seq),
    "SimpleRNN-complete": lambda seq: layers.SimpleRNN(5, feedback="complete", output_units=2, return_sequences=seq),
    "SimpleRNN-direct": lambda seq: layers.SimpleRNN(5, feedback="direct", return_sequences=seq),
    "LSTM": lambda seq: layers.LSTM(5, return_sequences=seq),
    "GRU": lambda seq: layers.GRU(5, return_sequences=seq),
    "GRU-reset-before": lambda seq: layers.GRU(5, reset_after=False, return_sequences=seq),
    "IndRNN": lambda seq: layers.IndRNN(5, return_sequences=seq),
    "MinGRU": lambda seq: layers.MinGRU(5, return_sequences=seq),
    "MinLSTM": lambda seq: layers.MinLSTM(5, return_sequences=seq),
    "Bidirectional-LSTM": lambda seq: layers.Bidirectional(layers.LSTM(5, return_sequences=seq)),
    "RNN-user-cell": lambda seq: layers.RNN(_user_cell(), return_sequences=seq),
    "Reservoir": lambda seq: layers.Reservoir(20, return_sequences=seq),
}


def _run(path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_0": x})[0]


def _padded(B: int, T: int, seed: int) -> np.ndarray:
    """Sequences of features with trailing all-zero steps (padding a Masking layer masks)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, 3)).astype(np.float32)
    for b, length in enumerate(rng.integers(1, T + 1, size=B)):
        x[b, length:] = 0.0
    return x


@pytest.mark.parametrize(("return_sequences", "masked"), [(False, False), (True, False), (False, True), (True, True)],
                         ids=["last", "sequences", "last-masked", "sequences-masked"])  # fmt: skip
@pytest.mark.parametrize("name", list(LAYERS))
def test_every_recurrent_layer_exports_with_free_batch_and_time(tmp_path, name, return_sequences, masked):
    torch.manual_seed(0)
    recurrent = LAYERS[name](return_sequences)
    model = recurra.Sequential([layers.Input((None, 3)), *([layers.Masking()] if masked else []), recurrent])
    path = export_onnx(model, tmp_path / "m.onnx")
    for B, T in ((3, 4), (2, 11)):  # traced with (2, 5)
        x = _padded(B, T, seed=T) if masked else np.random.default_rng(T).normal(size=(B, T, 3)).astype(np.float32)
        np.testing.assert_allclose(_run(path, x), model.predict(x), rtol=0, atol=TOLERANCE)
    operators = {node.op_type for node in onnx.load(str(path)).graph.node}
    native = {"LSTM": "LSTM", "GRU": "GRU", "Bidirectional-LSTM": "LSTM"}.get(name) if not (return_sequences or masked) else None
    assert (native in operators) if native else ("Scan" in operators)  # ONNX's own operator, or one Scan


def test_a_text_model_with_an_embedding_mask_exports(tmp_path):
    torch.manual_seed(0)
    model = recurra.Sequential([layers.Input((None,), dtype="int64"), layers.Embedding(40, 6, mask_zero=True),
                                layers.LSTM(8, return_sequences=True), layers.GRU(4), layers.Dense(2)])  # fmt: skip
    path = export_onnx(model, tmp_path / "text.onnx")
    ids = np.random.default_rng(1).integers(1, 40, size=(3, 12))
    ids[0, 7:] = 0
    ids[2, 2:] = 0
    np.testing.assert_allclose(_run(path, ids), model.predict(ids), rtol=0, atol=TOLERANCE)
    assert check_onnx(model, path) <= TOLERANCE


def test_a_functional_encoder_decoder_exports_with_two_inputs_and_outputs(tmp_path):
    torch.manual_seed(0)
    source, target = layers.Input((None, 3)), layers.Input((None, 2))
    _, h, c = layers.LSTM(4, return_state=True)(source)
    decoded = layers.LSTM(4, return_sequences=True)(target, initial_state=[h, c])
    model = recurra.Model([source, target], [layers.Dense(1)(decoded), h])
    path = export_onnx(model, tmp_path / "seq2seq.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    xs, xt = torch.randn(2, 9, 3), torch.randn(2, 6, 2)
    got = session.run(None, {"input_0": xs.numpy(), "input_1": xt.numpy()})
    for ours, theirs in zip(got, model.predict([xs, xt])):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE)


def test_export_needs_an_input_shape(tmp_path):
    with pytest.raises(recurra.errors.NotBuiltError, match="export needs the input shape of the Sequential"):
        export_onnx(recurra.Sequential([layers.LSTM(3)]), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_the_export_command_writes_and_checks_a_saved_model(tmp_path):
    model = recurra.Sequential([layers.Input((None, 3)), layers.GRU(6), layers.Dense(1)])
    model.save(tmp_path / "model")
    result = CliRunner().invoke(app, ["export", str(tmp_path / "model"), str(tmp_path / "model.onnx")])
    assert result.exit_code == 0, result.output
    assert "checked with onnxruntime at two sequence lengths: largest difference" in result.output
    x = np.random.default_rng(0).normal(size=(2, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(_run(tmp_path / "model.onnx", x), model.predict(x), rtol=0, atol=TOLERANCE)
    refused = CliRunner().invoke(app, ["export", str(tmp_path / "model"), str(tmp_path / "m.tf"), "--format", "tflite"])
    assert refused.exit_code != 0 and "expected --format onnx, got 'tflite'" in refused.output


@pytest.mark.parametrize(("kind", "num_layers", "bidirectional"),
                         [("LSTM", 2, False), ("LSTM", 1, True), ("GRU", 2, True), ("RNN", 2, True)])  # fmt: skip
def test_recurra_nn_modules_export_with_free_time_and_batch(tmp_path, kind, num_layers, bidirectional):
    """``torch.onnx.export`` of a ``recurra.nn`` module: each layer and direction becomes one Scan over the
    cells' step, the time and batch axes free. (A two-layer bidirectional LSTM traces with its batch axis
    fixed in torch 2.13: docs/pytorch.md.)"""
    torch.manual_seed(0)
    module = getattr(recurra.nn, kind)(3, 5, num_layers=num_layers, bidirectional=bidirectional).eval()
    dims = {0: torch.export.Dim("time"), 1: torch.export.Dim("batch")}
    torch.onnx.export(module, (torch.randn(6, 2, 3),), tmp_path / "m.onnx", dynamo=True, dynamic_shapes=(dims,),
                      input_names=["input_0"])  # fmt: skip
    for T, B in ((4, 3), (11, 1)):
        x = torch.randn(T, B, 3)
        output, h_n = module(x)
        session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
        got = session.run(None, {"input_0": x.numpy()})
        np.testing.assert_allclose(got[0], output.detach().numpy(), rtol=0, atol=TOLERANCE)
        expected_h = h_n[0] if kind == "LSTM" else h_n
        np.testing.assert_allclose(got[1], expected_h.detach().numpy(), rtol=0, atol=TOLERANCE)


class _WithLengths(torch.nn.Module):
    def __init__(self, module: torch.nn.Module, use_mask: bool):
        super().__init__()
        self.module, self.use_mask = module, use_mask

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        if self.use_mask:
            output, h_n = self.module(x, mask=torch.arange(x.shape[0])[:, None] < lengths[None, :])  # (T, B)
        else:
            output, h_n = self.module(x, lengths=lengths)
        return output, (h_n[0] if isinstance(h_n, tuple) else h_n)


@pytest.mark.parametrize(("kind", "num_layers", "bidirectional", "use_mask"),
                         [("GRU", 2, True, False), ("LSTM", 1, True, True), ("RNN", 2, False, False), ("LSTM", 2, False, False)],
                         ids=["GRU-2-bi-lengths", "LSTM-bi-mask", "RNN-2-lengths", "LSTM-2-lengths"])  # fmt: skip
def test_recurra_nn_modules_export_with_lengths_or_a_mask(tmp_path, kind, num_layers, bidirectional, use_mask):
    """Exported with ``lengths=`` / ``mask=``, each layer and direction is one Scan masked after each row's length
    (the reverse direction reads each row reversed within its length); batch, time and lengths are inputs."""
    torch.manual_seed(0)
    model = _WithLengths(getattr(recurra.nn, kind)(3, 5, num_layers, bidirectional=bidirectional), use_mask).eval()
    time, batch = torch.export.Dim("time"), torch.export.Dim("batch")
    torch.onnx.export(model, (torch.randn(6, 2, 3), torch.tensor([6, 3])), tmp_path / "m.onnx", dynamo=True,
                      dynamic_shapes=({0: time, 1: batch}, {0: batch}), input_names=["x", "lengths"])  # fmt: skip
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for T, B in ((4, 3), (11, 1), (9, 4)):
        x, lengths = torch.randn(T, B, 3), torch.tensor([T, 2, 1, T - 1][:B])
        got = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
        for ours, theirs in zip(got, model(x, lengths)):
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=TOLERANCE)


CONV_LSTMS = {
    "ConvLSTM1D": (lambda seq: layers.ConvLSTM1D(3, 3, return_sequences=seq), (8, 2)),
    "ConvLSTM2D": (lambda seq: layers.ConvLSTM2D(3, 3, padding="same", return_sequences=seq), (5, 6, 2)),
    "ConvLSTM3D": (lambda seq: layers.ConvLSTM3D(2, 2, strides=2, return_sequences=seq), (4, 5, 4, 1)),
}


@pytest.mark.parametrize("return_sequences", [False, True], ids=["last", "sequences"])
@pytest.mark.parametrize("name", list(CONV_LSTMS))
def test_conv_lstms_export_with_free_batch_and_time(tmp_path, name, return_sequences):
    """The convolutional LSTMs' steps as one Scan: the time axis stays free (it was fixed at the traced length)."""
    torch.manual_seed(0)
    make, step_shape = CONV_LSTMS[name]
    model = recurra.Sequential([layers.Input((None, *step_shape)), make(return_sequences)])
    path = export_onnx(model, tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[:2] == ["batch", "time"]
    assert "Scan" in {node.op_type for node in onnx.load(str(path)).graph.node}
    for B, T in ((3, 4), (2, 9)):  # traced with (2, 5)
        x = np.random.default_rng(T).normal(size=(B, T, *step_shape)).astype(np.float32)
        np.testing.assert_allclose(_run(path, x), model.predict(x), rtol=0, atol=TOLERANCE)


class _ConvWithLengths(torch.nn.Module):
    def __init__(self, layer: torch.nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        return self.layer(x, lengths=lengths)


@pytest.mark.parametrize("zero_output_for_mask", [False, True], ids=["held", "zeros"])
def test_a_conv_lstm_exports_with_lengths_and_go_backwards(tmp_path, zero_output_for_mask):
    torch.manual_seed(0)
    layer = layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True, go_backwards=True,
                              zero_output_for_mask=zero_output_for_mask)  # fmt: skip
    model = _ConvWithLengths(layer).eval()
    x, lengths = torch.randn(2, 5, 4, 4, 2), torch.tensor([5, 3])
    model(x, lengths)
    batch, time = torch.export.Dim("batch"), torch.export.Dim("time")
    torch.onnx.export(model, (x, lengths), tmp_path / "m.onnx", dynamo=True, input_names=["x", "lengths"],
                      dynamic_shapes=({0: batch, 1: time}, {0: batch}))  # fmt: skip
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for B, T in ((3, 4), (1, 9)):
        x, lengths = torch.randn(B, T, 4, 4, 2), torch.tensor([T, 2, 1][:B])
        got = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
        with torch.no_grad():
            expected = model(x, lengths)
        for ours, theirs in zip(got, expected):
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=0, atol=TOLERANCE)
