"""keras-io ``examples/timeseries/timeseries_weather_forecasting.py`` ("Timeseries forecasting for weather
prediction"): windows of 7 normalised weather features (one step an hour over 5 days) predicting the
temperature 12 hours later with ``LSTM(32)``, trained with ``EarlyStopping`` and ``ModelCheckpoint``.

Changed besides the imports (``from tensorflow import keras`` -> ``import recurra as keras``; ``tensorflow``
itself is not imported) and the data:

- data: the Jena climate CSV (a download) replaced by a generated DataFrame with the same 15 columns (the
  date and 14 features: daily cycles plus noise, one row every 10 minutes, 1200 rows), read by the example's
  own code; ``past`` 720 -> 120, ``future`` 72 -> 12, ``batch_size`` 256 -> 64, ``epochs`` 10 -> 2; the plots
  (matplotlib) left out;
- the checkpoint ``model_checkpoint.h5`` -> ``model_checkpoint.safetensors``: with ``save_weights_only=True``
  Keras 3 wants a ``.weights.h5`` name (it refuses ``model_checkpoint.h5`` too), and recurra refuses every
  ``.h5`` name (it writes weights as safetensors);
- assertions added on the batches' shapes, the losses, the checkpoint and the predictions.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

import recurra as keras

feature_keys = [
    "p (mbar)",
    "T (degC)",
    "Tpot (K)",
    "Tdew (degC)",
    "rh (%)",
    "VPmax (mbar)",
    "VPact (mbar)",
    "VPdef (mbar)",
    "sh (g/kg)",
    "H2OC (mmol/mol)",
    "rho (g/m**3)",
    "wv (m/s)",
    "max. wv (m/s)",
    "wd (deg)",
]
date_time_key = "Date Time"


def _jena_like_csv(path: str, rows: int = 1200) -> None:
    """A CSV shaped like ``jena_climate_2009_2016.csv``: a reading every 10 minutes of 14 features."""
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    day = np.sin(2 * np.pi * t / 144)  # 144 readings a day
    columns = {
        key: 10.0 * (i + 1) + (i + 1) * np.roll(day, 6 * i) + 0.1 * rng.normal(size=rows) for i, key in enumerate(feature_keys)
    }
    df = pd.DataFrame(columns)
    df.insert(0, date_time_key, pd.date_range("2009-01-01 00:10", periods=rows, freq="10min").strftime("%d.%m.%Y %H:%M:%S"))
    df.to_csv(path, index=False)


def test_weather_forecasting_with_an_lstm_and_callbacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv_path = "jena_climate_2009_2016.csv"
    _jena_like_csv(csv_path)
    df = pd.read_csv(csv_path)

    split_fraction = 0.715
    train_split = int(split_fraction * int(df.shape[0]))
    step = 6

    past = 120
    future = 12
    learning_rate = 0.001
    batch_size = 64
    epochs = 2

    def normalize(data, train_split):
        data_mean = data[:train_split].mean(axis=0)
        data_std = data[:train_split].std(axis=0)
        return (data - data_mean) / data_std

    selected_features = [feature_keys[i] for i in [0, 1, 5, 7, 8, 10, 11]]
    features = df[selected_features]
    features.index = df[date_time_key]

    features = normalize(features.values, train_split)
    features = pd.DataFrame(features)

    train_data = features.loc[0 : train_split - 1]
    val_data = features.loc[train_split:]

    start = past + future
    end = start + train_split

    x_train = train_data[[i for i in range(7)]].values
    y_train = features.iloc[start:end][[1]]

    sequence_length = int(past / step)

    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train,
        y_train,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    x_end = len(val_data) - past - future
    label_start = train_split + past + future

    x_val = val_data.iloc[:x_end][[i for i in range(7)]].values
    y_val = features.iloc[label_start:][[1]]

    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val,
        y_val,
        sequence_length=sequence_length,
        sampling_rate=step,
        batch_size=batch_size,
    )

    for batch in dataset_train.take(1):
        inputs, targets = batch

    assert inputs.numpy().shape == (batch_size, sequence_length, 7)
    assert targets.numpy().shape == (batch_size, 1)
    # the first window's target is the temperature `past + future` rows after its start, as the example intends
    assert targets[0, 0] == features.iloc[start, 1] and inputs[0, 1, 1] == features.iloc[step, 1]

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    assert "5,120" in model.summary()  # Keras's count for LSTM(32) on 7 features: 4 * (32 * (7 + 32) + 32)

    # recurra differs: a weights checkpoint is a .safetensors file (Keras 3: .weights.h5; recurra refuses .h5)
    path_checkpoint = "model_checkpoint.safetensors"
    es_callback = keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5)

    modelckpt_callback = keras.callbacks.ModelCheckpoint(
        monitor="val_loss",
        filepath=path_checkpoint,
        verbose=1,
        save_weights_only=True,
        save_best_only=True,
    )

    history = model.fit(
        dataset_train,
        epochs=epochs,
        validation_data=dataset_val,
        callbacks=[es_callback, modelckpt_callback],
    )

    loss = history.history["loss"]
    val_loss = history.history["val_loss"]
    assert len(loss) == len(val_loss) == epochs and np.all(np.isfinite(loss + val_loss))
    assert loss[1] < loss[0] and val_loss[1] < val_loss[0]

    # the checkpoint holds the best epoch's weights: the last one here, the model as it is now
    assert os.path.isfile(path_checkpoint)
    restored = keras.Model(inputs=inputs, outputs=keras.layers.Dense(1)(keras.layers.LSTM(32)(inputs)))
    restored.load_weights(path_checkpoint)

    for x, y in dataset_val.take(5):
        plot_data = [x[0][:, 1].numpy(), y[0].numpy(), model.predict(x)[0]]
        assert [a.shape for a in plot_data] == [(sequence_length,), (1,), (1,)]
        np.testing.assert_allclose(restored.predict(x), model.predict(x), atol=1e-6)
