"""keras-io ``examples/nlp/lstm_seq2seq.py`` ("Character-level recurrent sequence-to-sequence model"):
an LSTM encoder whose states start an LSTM decoder (``return_state=True``, ``initial_state=``), trained with
teacher forcing, saved, loaded, and taken apart into an encoder model and a one-step decoder model that
decode new sequences character by character.

Changed besides the imports (``import keras`` -> ``import recurra as keras``) and the data:

- data: the English-French ``fra.txt`` (a download) replaced by a file of the same format written in the
  test (``english<TAB>spanish<TAB>attribution`` lines: the numbers one to twenty in English and Spanish), read
  by the example's own code; ``latent_dim`` 256 -> 64, ``epochs`` 100 -> 3, ``batch_size`` 64 -> 8, and the
  decoding loop run on 3 sequences instead of 20;
- ``print`` of the decoded sentences replaced by assertions, and checks added that the inference models give
  the trained model's predictions.
"""

# ruff: noqa: UP015 (the example's code, kept as it is written)

from __future__ import annotations

import os

import numpy as np

import recurra as keras

ENGLISH = (
    "one two three four five six seven eight nine ten "
    "eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
)
SPANISH = (
    "uno dos tres cuatro cinco seis siete ocho nueve diez "
    "once doce trece catorce quince dieciséis diecisiete dieciocho diecinueve veinte"
)


def test_lstm_seq2seq_trains_saves_loads_and_decodes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [f"{en}\t{es}\tCC-BY 2.0 (France)" for en, es in zip(ENGLISH.split(), SPANISH.split())]
    (tmp_path / "fra.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dirpath = tmp_path

    batch_size = 8
    epochs = 3
    latent_dim = 64
    num_samples = 10000
    data_path = os.path.join(dirpath, "fra.txt")

    input_texts = []
    target_texts = []
    input_characters = set()
    target_characters = set()
    with open(data_path, "r", encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines[: min(num_samples, len(lines) - 1)]:
        input_text, target_text, _ = line.split("\t")
        target_text = "\t" + target_text + "\n"
        input_texts.append(input_text)
        target_texts.append(target_text)
        for char in input_text:
            if char not in input_characters:
                input_characters.add(char)
        for char in target_text:
            if char not in target_characters:
                target_characters.add(char)
    # the example's corpus has spaces in both languages; these single words do not: the padding needs one
    input_characters.add(" ")
    target_characters.add(" ")

    input_characters = sorted(list(input_characters))
    target_characters = sorted(list(target_characters))
    num_encoder_tokens = len(input_characters)
    num_decoder_tokens = len(target_characters)
    max_encoder_seq_length = max([len(txt) for txt in input_texts])
    max_decoder_seq_length = max([len(txt) for txt in target_texts])

    input_token_index = dict([(char, i) for i, char in enumerate(input_characters)])
    target_token_index = dict([(char, i) for i, char in enumerate(target_characters)])

    encoder_input_data = np.zeros((len(input_texts), max_encoder_seq_length, num_encoder_tokens), dtype="float32")
    decoder_input_data = np.zeros((len(input_texts), max_decoder_seq_length, num_decoder_tokens), dtype="float32")
    decoder_target_data = np.zeros((len(input_texts), max_decoder_seq_length, num_decoder_tokens), dtype="float32")

    for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
        for t, char in enumerate(input_text):
            encoder_input_data[i, t, input_token_index[char]] = 1.0
        encoder_input_data[i, t + 1 :, input_token_index[" "]] = 1.0
        for t, char in enumerate(target_text):
            decoder_input_data[i, t, target_token_index[char]] = 1.0
            if t > 0:
                decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
        decoder_input_data[i, t + 1 :, target_token_index[" "]] = 1.0
        decoder_target_data[i, t:, target_token_index[" "]] = 1.0

    # -- the model, as in the example ------------------------------------------------------------------
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        [encoder_input_data, decoder_input_data],
        decoder_target_data,
        batch_size=batch_size,
        epochs=epochs,
        validation_split=0.2,
    )
    model.save("s2s_model.keras")

    loss = history.history["loss"]
    assert np.all(np.isfinite(loss)) and loss[-1] < loss[0] and np.isfinite(history.history["val_loss"][-1])
    trained = model.predict([encoder_input_data, decoder_input_data])
    assert trained.shape == decoder_target_data.shape

    # -- inference models, from the loaded model ---------------------------------------------------------
    model = keras.models.load_model("s2s_model.keras")
    np.testing.assert_array_equal(model.predict([encoder_input_data, decoder_input_data]), trained)

    encoder_inputs = model.input[0]  # input_1
    encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1
    encoder_states = [state_h_enc, state_c_enc]
    encoder_model = keras.Model(encoder_inputs, encoder_states)

    decoder_inputs = model.input[1]  # input_2
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = model.layers[3]
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
    decoder_states = [state_h_dec, state_c_dec]
    decoder_dense = model.layers[4]
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states)

    reverse_target_char_index = dict((i, char) for char, i in target_token_index.items())

    def decode_sequence(input_seq):
        states_value = encoder_model.predict(input_seq, verbose=0)
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, target_token_index["\t"]] = 1.0
        stop_condition = False
        decoded_sentence = ""
        while not stop_condition:
            output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
            sampled_token_index = np.argmax(output_tokens[0, -1, :])
            sampled_char = reverse_target_char_index[sampled_token_index]
            decoded_sentence += sampled_char
            if sampled_char == "\n" or len(decoded_sentence) > max_decoder_seq_length:
                stop_condition = True
            target_seq = np.zeros((1, 1, num_decoder_tokens))
            target_seq[0, 0, sampled_token_index] = 1.0
            states_value = [h, c]
        return decoded_sentence

    for seq_index in range(3):
        input_seq = encoder_input_data[seq_index : seq_index + 1]
        decoded_sentence = decode_sequence(input_seq)
        assert isinstance(decoded_sentence, str) and set(decoded_sentence) <= set(target_characters)
        assert decoded_sentence.endswith("\n") or len(decoded_sentence) == max_decoder_seq_length + 1

    # the step-by-step models give the trained model's predictions: teacher forcing, one character at a time
    states_value = encoder_model.predict(encoder_input_data, verbose=0)
    assert [s.shape for s in states_value] == [(len(input_texts), latent_dim)] * 2
    for t in range(max_decoder_seq_length):
        output_tokens, h, c = decoder_model.predict([decoder_input_data[:, t : t + 1]] + states_value, verbose=0)
        np.testing.assert_allclose(output_tokens[:, 0], trained[:, t], atol=1e-5)
        states_value = [h, c]
