"""keras-io ``examples/vision/conv_lstm.py`` ("Next-Frame Video Prediction with Convolutional LSTMs"): three
``ConvLSTM2D`` layers with ``BatchNormalization`` and a ``Conv3D`` predicting each next frame of a movie,
trained with ``EarlyStopping`` and ``ReduceLROnPlateau``, then extending a movie frame by frame.

Changed besides the imports (``from tensorflow import keras``, ``from tensorflow.keras import layers`` ->
``import recurra as keras``, ``from recurra import layers``; ``tensorflow``, ``imageio``, ``IPython`` and
``ipywidgets`` are not imported) and the data:

- data: Moving MNIST (a download) replaced by generated movies of the same layout (frames of 0-255 grey
  levels, ``(movies, frames, height, width)``): a 3x3 white square bouncing in a black 12x12 frame, 12 movies
  of 8 frames instead of 1000 of 20 frames of 64x64, read by the example's own code; ``epochs`` 20 -> 2; the
  movie is extended by 4 predicted frames from its first 4 instead of 10 from 10;
- the figures and GIFs (matplotlib, imageio, ipywidgets) left out; assertions added on the losses and the
  predicted frames.
"""

from __future__ import annotations

import numpy as np

import recurra as keras
from recurra import layers


def _moving_squares(rng: np.random.Generator, movies: int, frames: int = 8, size: int = 12) -> np.ndarray:
    data = np.zeros((movies, frames, size, size), dtype=np.uint8)
    for i in range(movies):
        r, c = rng.integers(0, size - 3, size=2)
        dr, dc = rng.choice([-1, 1], size=2)
        for f in range(frames):
            data[i, f, r : r + 3, c : c + 3] = 255
            if not 0 <= r + dr <= size - 3:
                dr = -dr
            if not 0 <= c + dc <= size - 3:
                dc = -dc
            r, c = r + dr, c + dc
    return data


def create_shifted_frames(data):
    x = data[:, 0 : data.shape[1] - 1, :, :]
    y = data[:, 1 : data.shape[1], :, :]
    return x, y


def test_conv_lstm_predicts_next_frames():
    dataset = _moving_squares(np.random.default_rng(0), 12)

    # We'll pick out 1000 of the 10000 total examples and use those.
    dataset = dataset[:1000, ...]
    # Add a channel dimension since the images are grayscale.
    dataset = np.expand_dims(dataset, axis=-1)

    indexes = np.arange(dataset.shape[0])
    np.random.shuffle(indexes)
    train_index = indexes[: int(0.9 * dataset.shape[0])]
    val_index = indexes[int(0.9 * dataset.shape[0]) :]
    train_dataset = dataset[train_index]
    val_dataset = dataset[val_index]

    train_dataset = train_dataset / 255
    val_dataset = val_dataset / 255

    x_train, y_train = create_shifted_frames(train_dataset)
    x_val, y_val = create_shifted_frames(val_dataset)
    assert x_train.shape == y_train.shape == (10, 7, 12, 12, 1) and x_val.shape == (2, 7, 12, 12, 1)

    inp = layers.Input(shape=(None, *x_train.shape[2:]))

    x = layers.ConvLSTM2D(
        filters=64,
        kernel_size=(5, 5),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=64,
        kernel_size=(3, 3),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=64,
        kernel_size=(1, 1),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)

    model = keras.models.Model(inp, x)
    model.compile(
        loss=keras.losses.binary_crossentropy,
        optimizer=keras.optimizers.Adam(),
    )

    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
    reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

    epochs = 2
    batch_size = 5

    history = model.fit(
        x_train,
        y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[early_stopping, reduce_lr],
    )
    loss = history.history["loss"]
    assert np.all(np.isfinite(loss + history.history["val_loss"])) and loss[1] < loss[0]

    example = val_dataset[np.random.choice(range(len(val_dataset)), size=1)[0]]

    frames = example[:4, ...]
    original_frames = example[4:, ...]

    for _ in range(4):
        new_prediction = model.predict(np.expand_dims(frames, axis=0))
        new_prediction = np.squeeze(new_prediction, axis=0)
        predicted_frame = np.expand_dims(new_prediction[-1, ...], axis=0)

        frames = np.concatenate((frames, predicted_frame), axis=0)

    new_frames = frames[4:, ...]
    assert new_frames.shape == original_frames.shape == (4, 12, 12, 1)
    assert np.all((new_frames > 0) & (new_frames < 1))  # a sigmoid's grey levels
