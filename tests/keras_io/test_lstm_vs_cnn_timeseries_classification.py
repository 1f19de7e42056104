"""keras-io ``examples/timeseries/lstm_vs_cnn_timeseries_classification.py`` ("Timeseries Classification with
LSTM and CNN Models"): two ``Sequential`` classifiers of univariate series, a two-layer LSTM (with ``dropout``
and ``recurrent_dropout``) and a 1-D CNN (``Conv1D``, ``BatchNormalization``, ``MaxPooling1D``, ``Dropout``,
``GlobalAveragePooling1D``), trained alike with ``ModelCheckpoint(save_best_only=True)`` to a ``.keras`` file and
``EarlyStopping(restore_best_weights=True)``, the best model loaded back with ``keras.models.load_model`` and
evaluated. (The closest keras-io example to "LSTM versus CNN"; it covers what
``timeseries_classification_from_scratch.py`` does with the CNN, and the LSTM besides.)

Changed besides the imports (``import keras`` -> ``import recurra as keras``) and the data:

- data: the FordA engine-noise series (a download of UCR TSV files) replaced by generated series of the same
  form (``readucr`` returns series and labels in {-1, 1}): noisy sines, slow for one class and fast for the
  other, 96 training and 32 test series of 64 steps instead of 3601 and 1320 of 500;
- layer sizes divided by 4 (LSTM 64/32 -> 16/8, Conv1D 64/128 -> 16/32), ``epochs`` 100 -> 3;
- the plots (matplotlib) left out; the history keys they read are asserted instead.
"""

from __future__ import annotations

import numpy as np

import recurra as keras
from recurra import layers

epochs = 3
batch_size = 32


def readucr(rng: np.random.Generator, n: int, length: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Series and labels in {-1, 1}, as the example's reader returns FordA's."""
    y = rng.choice([-1, 1], size=n)
    t = np.linspace(0.0, 1.0, length)
    frequency = np.where(y == 1, 6.0, 2.0)[:, None]
    x = np.sin(2 * np.pi * frequency * t + rng.uniform(0, 2 * np.pi, size=(n, 1))) + 0.3 * rng.normal(size=(n, length))
    return x.astype(np.float32), y


def build_lstm_model(input_shape, num_classes):
    """Build an LSTM-based model for timeseries classification."""
    model = keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.LSTM(16, return_sequences=True, dropout=0.3, recurrent_dropout=0.3),
            layers.LSTM(8, dropout=0.3, recurrent_dropout=0.3),
            layers.Dense(16, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    return model


def build_cnn_model(input_shape, num_classes):
    """Build a 1D CNN-based model for timeseries classification."""
    model = keras.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Conv1D(filters=16, kernel_size=7, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(pool_size=2),
            layers.Dropout(0.3),
            layers.Conv1D(filters=32, kernel_size=5, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling1D(pool_size=2),
            layers.Dropout(0.3),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )
    return model


def train_model(model, model_name, x_train, y_train, x_test, y_test):
    """Train and evaluate a model, return history and test metrics."""
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])

    history = model.fit(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_split=0.2,
        callbacks=[
            keras.callbacks.ModelCheckpoint(f"best_{model_name}_model.keras", save_best_only=True, monitor="val_loss"),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=20, restore_best_weights=True),
        ],
        verbose=1,
    )

    # Load best model for evaluation
    best_model = keras.models.load_model(f"best_{model_name}_model.keras")
    test_loss, test_acc = best_model.evaluate(x_test, y_test, verbose=0)
    print(f"{model_name} Test Accuracy: {test_acc:.4f}, Loss: {test_loss:.4f}")

    # added: the file holds the best epoch's weights, which EarlyStopping restored into the model
    best = int(np.argmin(history.history["val_loss"]))
    np.testing.assert_allclose(model.evaluate(x_test, y_test, verbose=0), [test_loss, test_acc], rtol=1e-5)
    np.testing.assert_allclose(best_model.predict(x_test), model.predict(x_test), atol=1e-6)
    assert 0 <= best < epochs
    return history, test_acc, test_loss


def test_lstm_and_cnn_classify_series_and_reload_their_best_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    x_train, y_train = readucr(rng, 96)
    x_test, y_test = readucr(rng, 32)

    x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
    x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

    y_train = np.where(y_train == -1, 0, y_train)
    y_test = np.where(y_test == -1, 0, y_test)

    idx = np.random.permutation(len(x_train))
    x_train = x_train[idx]
    y_train = y_train[idx]

    num_classes = len(np.unique(y_train))

    input_shape = x_train.shape[1:]
    lstm_model = build_lstm_model(input_shape, num_classes)
    cnn_model = build_cnn_model(input_shape, num_classes)

    lstm_history, lstm_test_acc, lstm_test_loss = train_model(lstm_model, "LSTM", x_train, y_train, x_test, y_test)
    cnn_history, cnn_test_acc, cnn_test_loss = train_model(cnn_model, "CNN", x_train, y_train, x_test, y_test)

    for history in (lstm_history, cnn_history):  # what the example's plot reads
        for key in ("sparse_categorical_accuracy", "val_sparse_categorical_accuracy", "loss", "val_loss"):
            assert len(history.history[key]) == epochs and np.all(np.isfinite(history.history[key]))
    for acc, loss in ((lstm_test_acc, lstm_test_loss), (cnn_test_acc, cnn_test_loss)):
        assert 0.0 <= acc <= 1.0 and np.isfinite(loss)
    cnn_loss = cnn_history.history["loss"]
    assert cnn_loss[-1] < cnn_loss[0]  # the CNN learns the frequencies within 3 epochs
    assert lstm_model.predict(x_test).shape == cnn_model.predict(x_test).shape == (32, num_classes)
