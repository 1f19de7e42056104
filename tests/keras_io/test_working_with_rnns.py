"""keras-io ``guides/working_with_rnns.py`` ("Working with RNNs"), section by section: the built-in
``SimpleRNN``, ``GRU`` and ``LSTM`` in ``Sequential`` models, outputs and states (``return_sequences``,
``return_state``, ``initial_state``), cross-batch statefulness (``stateful=True``, ``reset_states``, reusing
``layer.states``), ``Bidirectional``, the cuDNN comparison (``LSTM`` versus ``RNN(LSTMCell)`` with the same
weights) and a custom cell with nested inputs and states.

Changed besides the imports (``import keras`` / ``from keras import layers`` -> ``import recurra as keras`` /
``from recurra import layers, ops``) and the data:

- the cuDNN section: MNIST (a download) replaced by 128 + 32 random 28x28 "digits"; ``tf.device("CPU:0")``
  (TensorFlow) left out, ``tf.argmax`` / ``tf.expand_dims`` -> ``ops.argmax`` / ``ops.expand_dims``;
  matplotlib left out;
- the nested cell: ``tf.TensorShape([n])`` -> ``(n,)`` (a tuple of ints is a shape in a ``state_size``),
  ``tf.nest.flatten`` -> ``keras.tree.flatten``, ``tf.matmul`` / ``tf.einsum`` -> ``ops.matmul`` /
  ``ops.einsum``; sizes made small. (Keras 3.15 itself, on its torch backend, fails this section: its ``RNN``
  passes the cell's ``build`` the first input's shape only.)
- assertions added throughout on the shapes, the parameter counts (Keras's) and the values;
- beyond the guide's code, for what its prose says: ``use_cudnn=False`` is accepted and changes nothing, and
  a masked ``LSTM`` gives one answer whether the padding is on the right or on the left.
"""

# ruff: noqa: F841, UP031 (the example's code, kept as it is written)

from __future__ import annotations

import numpy as np
import torch

import recurra as keras
from recurra import layers, ops


def test_built_in_rnn_layers_a_simple_example():
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.LSTM(128))
    model.add(layers.Dense(10))

    unbuilt = model.summary()
    assert "? " in unbuilt and "0 (unbuilt)" in unbuilt  # as Keras prints a model with no input shape yet

    # added: once the model has seen data, Keras's shapes and counts
    assert model.predict(np.random.randint(0, 1000, size=(3, 7))).shape == (3, 10)
    table = model.summary()
    # Keras's counts: 1000 * 64; 4 * (128 * (64 + 128) + 128); 128 * 10 + 10
    assert "64,000" in table and "98,816" in table and "1,290" in table and "(None, 10)" in table


def test_outputs_and_states():
    model = keras.Sequential()
    model.add(layers.Embedding(input_dim=1000, output_dim=64))
    model.add(layers.GRU(256, return_sequences=True))
    model.add(layers.SimpleRNN(128))
    model.add(layers.Dense(10))

    model.summary()

    assert model.predict(np.random.randint(0, 1000, size=(3, 7))).shape == (3, 10)  # added, as above
    table = model.summary()
    # Keras's GRU (reset_after=True): 3 * (256 * (64 + 256) + 2 * 256); SimpleRNN: 128 * (256 + 128) + 128
    assert "(None, None, 256)" in table and "(None, 128)" in table and "247,296" in table and "49,280" in table

    encoder_vocab = 1000
    decoder_vocab = 2000

    encoder_input = layers.Input(shape=(None,))
    encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=64)(encoder_input)

    output, state_h, state_c = layers.LSTM(64, return_state=True, name="encoder")(encoder_embedded)
    encoder_state = [state_h, state_c]

    decoder_input = layers.Input(shape=(None,))
    decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=64)(decoder_input)

    decoder_output = layers.LSTM(64, name="decoder")(decoder_embedded, initial_state=encoder_state)
    output = layers.Dense(10)(decoder_output)

    model = keras.Model([encoder_input, decoder_input], output)
    table = model.summary()
    assert "encoder (LSTM)" in table and "decoder (LSTM)" in table and "encoder[1], encoder[2]" in table

    encoder_ids = np.random.randint(0, encoder_vocab, size=(4, 6)).astype("float32")  # Input(shape=(None,)) is float
    decoder_ids = np.random.randint(0, decoder_vocab, size=(4, 3)).astype("float32")
    assert model.predict([encoder_ids, decoder_ids]).shape == (4, 10)
    # the decoder starts from the encoder's final state: other encoder inputs, other outputs
    other = np.random.randint(0, encoder_vocab, size=(4, 6)).astype("float32")
    assert not np.allclose(model.predict([other, decoder_ids]), model.predict([encoder_ids, decoder_ids]))


def _paragraphs() -> list[torch.Tensor]:
    paragraph1 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph2 = np.random.random((20, 10, 50)).astype(np.float32)
    paragraph3 = np.random.random((20, 10, 50)).astype(np.float32)
    return [paragraph1, paragraph2, paragraph3]


def test_cross_batch_statefulness():
    paragraph1, paragraph2, paragraph3 = _paragraphs()

    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    first = output
    output = lstm_layer(paragraph2)
    output = lstm_layer(paragraph3)
    assert tuple(output.shape) == (20, 64)

    # reset_states() will reset the cached state to the original initial_state.
    lstm_layer.reset_states()

    assert torch.equal(lstm_layer(paragraph1), first)  # from zeros again, as at the first call
    lstm_layer.reset_states()
    lstm_layer(paragraph2)
    assert not torch.allclose(lstm_layer(paragraph3), output)  # the state carried: paragraph 1 mattered


def test_rnn_state_reuse():
    paragraph1, paragraph2, paragraph3 = _paragraphs()

    lstm_layer = layers.LSTM(64, stateful=True)
    output = lstm_layer(paragraph1)
    output = lstm_layer(paragraph2)

    existing_state = lstm_layer.states

    new_lstm_layer = layers.LSTM(64)
    new_output = new_lstm_layer(paragraph3, initial_state=existing_state)

    assert [tuple(s.shape) for s in existing_state] == [(20, 64), (20, 64)] and tuple(new_output.shape) == (20, 64)
    # with the same weights, the new layer started from those states continues the stateful one
    new_lstm_layer.set_weights(lstm_layer.get_weights())
    torch.testing.assert_close(new_lstm_layer(paragraph3, initial_state=existing_state), lstm_layer(paragraph3))


def test_bidirectional_rnns():
    model = keras.Sequential()

    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))

    table = model.summary()
    # Keras's counts: 2 * 4 * (64 * (10 + 64) + 64); 2 * 4 * (32 * (128 + 32) + 32); 64 * 10 + 10
    assert "(None, 5, 128)" in table and "38,400" in table and "41,216" in table and "650" in table
    assert model.predict(np.random.random((3, 5, 10)).astype(np.float32)).shape == (3, 10)


batch_size = 64
# Each MNIST image batch is a tensor of shape (batch_size, 28, 28).
# Each input sequence will be of size (28, 28) (height is treated like time).
input_dim = 28

units = 64
output_size = 10  # labels are from 0 to 9


# Build the RNN model
def build_model(allow_cudnn_kernel=True):
    # CuDNN is only available at the layer level, and not at the cell level.
    # This means `LSTM(units)` will use the CuDNN kernel,
    # while RNN(LSTMCell(units)) will run on non-CuDNN kernel.
    if allow_cudnn_kernel:
        # The LSTM layer with default options uses CuDNN.
        lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
    else:
        # Wrapping a LSTMCell in a RNN layer will not use CuDNN.
        lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units), input_shape=(None, input_dim))
    model = keras.models.Sequential(
        [
            lstm_layer,
            keras.layers.BatchNormalization(),
            keras.layers.Dense(output_size),
        ]
    )
    return model


def test_cudnn_kernels_and_the_cell_level_model_agree():
    rng = np.random.default_rng(0)
    (x_train, y_train), (x_test, y_test) = [
        (rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)) for n in (128, 32)
    ]
    x_train, x_test = x_train / 255.0, x_test / 255.0
    sample, sample_label = x_train[0], y_train[0]

    model = build_model(allow_cudnn_kernel=True)

    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )

    history = model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1)
    assert np.isfinite(history.history["loss"][0]) and 0.0 <= history.history["val_accuracy"][0] <= 1.0

    noncudnn_model = build_model(allow_cudnn_kernel=False)
    noncudnn_model.set_weights(model.get_weights())
    # added: the same weights give the same predictions, through the fused layer and the cell loop
    np.testing.assert_allclose(noncudnn_model.predict(x_test), model.predict(x_test), atol=1e-5)
    noncudnn_model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    history = noncudnn_model.fit(x_train, y_train, validation_data=(x_test, y_test), batch_size=batch_size, epochs=1)
    assert np.isfinite(history.history["loss"][0])

    cpu_model = build_model(allow_cudnn_kernel=True)
    cpu_model.set_weights(model.get_weights())
    result = ops.argmax(cpu_model.predict_on_batch(ops.expand_dims(sample, 0)), axis=1)
    print("Predicted result is: %s, target result is: %s" % (result.numpy(), sample_label))
    assert result.numpy().tolist() == np.argmax(model.predict(x_train[:1]), axis=1).tolist()

    # beyond the guide's code: Keras 3's use_cudnn is accepted and changes nothing computed
    no_cudnn = keras.models.Sequential(
        [keras.layers.LSTM(units, input_shape=(None, input_dim), use_cudnn=False), keras.layers.BatchNormalization(),
         keras.layers.Dense(output_size)]
    )  # fmt: skip
    no_cudnn.set_weights(model.get_weights())
    np.testing.assert_allclose(no_cudnn.predict(x_test), model.predict(x_test), atol=1e-6)


def test_masking_right_or_left_padding_gives_one_answer():
    """Beyond the guide's code: its prose on masked inputs ("not strictly right padded")."""
    model = keras.Sequential([layers.Embedding(input_dim=50, output_dim=8, mask_zero=True), layers.LSTM(16)])
    right = np.array([[5, 6, 7, 0, 0], [8, 9, 0, 0, 0]])
    left = np.array([[0, 0, 5, 6, 7], [0, 0, 0, 8, 9]])
    np.testing.assert_allclose(model.predict(right), model.predict(left), atol=1e-6)
    np.testing.assert_allclose(model.predict(right[:1, :3]), model.predict(right)[:1], atol=1e-6)


# -- RNNs with list/dict inputs, or nested inputs --------------------------------------------------------

unit_1 = 3
unit_2 = 4
unit_3 = 5

i1 = 6
i2 = 3
i3 = 2
timestep = 7


@keras.saving.register_keras_serializable()
class NestedCell(keras.layers.Layer):
    def __init__(self, unit_1, unit_2, unit_3, **kwargs):
        self.unit_1 = unit_1
        self.unit_2 = unit_2
        self.unit_3 = unit_3
        self.state_size = [(unit_1,), (unit_2, unit_3)]
        self.output_size = [(unit_1,), (unit_2, unit_3)]
        super().__init__(**kwargs)

    def build(self, input_shapes):
        # expect input_shape to contain 2 items, [(batch, i1), (batch, i2, i3)]
        i1 = input_shapes[0][1]
        i2 = input_shapes[1][1]
        i3 = input_shapes[1][2]

        self.kernel_1 = self.add_weight(shape=(i1, self.unit_1), initializer="uniform", name="kernel_1")
        self.kernel_2_3 = self.add_weight(shape=(i2, i3, self.unit_2, self.unit_3), initializer="uniform", name="kernel_2_3")

    def call(self, inputs, states):
        # inputs should be in [(batch, input_1), (batch, input_2, input_3)]
        # state should be in shape [(batch, unit_1), (batch, unit_2, unit_3)]
        input_1, input_2 = keras.tree.flatten(inputs)
        s1, s2 = states

        output_1 = ops.matmul(input_1, self.kernel_1)
        output_2_3 = ops.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        state_1 = s1 + output_1
        state_2_3 = s2 + output_2_3

        output = (output_1, output_2_3)
        new_states = (state_1, state_2_3)

        return output, new_states

    def get_config(self):
        return {"unit_1": self.unit_1, "unit_2": unit_2, "unit_3": self.unit_3}


def test_rnn_with_the_guides_nested_cell():
    cell = NestedCell(unit_1, unit_2, unit_3)
    rnn = keras.layers.RNN(cell)

    input_1 = keras.Input((None, i1))
    input_2 = keras.Input((None, i2, i3))

    outputs = rnn((input_1, input_2))

    model = keras.models.Model([input_1, input_2], outputs)

    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])

    batch_size = 8
    num_batches = 4

    input_1_data = np.random.random((batch_size * num_batches, timestep, i1))
    input_2_data = np.random.random((batch_size * num_batches, timestep, i2, i3))
    target_1_data = np.random.random((batch_size * num_batches, unit_1))
    target_2_data = np.random.random((batch_size * num_batches, unit_2, unit_3))
    input_data = [input_1_data, input_2_data]
    target_data = [target_1_data, target_2_data]

    history = model.fit(input_data, target_data, batch_size=batch_size)
    assert np.isfinite(history.history["loss"][0])

    # the guide's words: the states sum each step's products, the output is the last step's products
    assert [tuple(t.shape) for t in outputs] == [(None, unit_1), (None, unit_2, unit_3)]
    kernel_1, kernel_2_3 = cell.get_weights()
    x1, x2 = input_1_data[:2].astype(np.float32), input_2_data[:2].astype(np.float32)
    out_1, out_2_3 = model.predict([input_1_data[:2], input_2_data[:2]])
    np.testing.assert_allclose(out_1, x1[:, -1] @ kernel_1, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out_2_3, np.einsum("bij,ijkl->bkl", x2[:, -1], kernel_2_3), rtol=1e-4, atol=1e-5)
    _, state_1, state_2_3 = keras.layers.RNN(cell, return_state=True)((x1, x2))
    np.testing.assert_allclose(state_1.detach().numpy(), (x1 @ kernel_1).sum(1), rtol=1e-4, atol=1e-5)
    assert tuple(state_2_3.shape) == (2, unit_2, unit_3)
