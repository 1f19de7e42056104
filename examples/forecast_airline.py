"""Forecast the airline passengers a year ahead with an LSTM, scored on the last two years held out.

    python examples/forecast_airline.py            # the settings of docs/forecasting.md (~15 s)
    python examples/forecast_airline.py --quick    # a few epochs, to check that it runs
"""

from __future__ import annotations

import argparse

import torch

import recurra
from recurra.data.series import load_airline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="train for a few epochs only")
    parser.add_argument("--cell", default="lstm", help="lstm, gru, rnn, indrnn, mingru, minlstm or esn")
    parser.add_argument("--plot", default="airline_forecast.png", help="where to draw the held-out forecasts")
    args = parser.parse_args()
    torch.set_num_threads(1)  # a small network: one thread is fastest

    df = load_airline()  # 144 months, 1949-1960: columns month, passengers
    fc = recurra.Forecaster(
        args.cell,
        units=32,
        lookback=24,  # two years of history in
        horizon=12,  # one year out
        output="gaussian",  # a mean and a scale: 90% intervals, calibrated on held-out windows
        epochs=10 if args.quick else 200,
        batch_size=16,
        learning_rate=3e-3,
        seed=0,
    )
    fc.fit(df, time_col="month", target="passengers", holdout=24)  # 1949-1958 only
    result = fc.evaluate(df, holdout=24)  # forecasts of 1959 (from Dec 1958) and 1960 (from Dec 1959)
    print(result.metrics.round(3).to_string())
    m = result.metrics
    ratio = m.loc[fc.label, "MASE"] / m.loc["seasonal naive", "MASE"]
    print(f"held-out MASE / seasonal naive's: {ratio:.3f}")
    print(f"held-out 90% interval coverage: {m.loc[fc.label, 'coverage']:.3f}")
    result.plot(args.plot, last=48)

    fc.save("airline_model")  # config.json + scaler.json + weights.safetensors
    again = recurra.load_forecaster("airline_model")
    forecast = again.predict(df)  # 1961, from the whole series (the model read 1959-1960 only as inputs)
    print(forecast.round({"forecast": 1, "lower": 1, "upper": 1}).to_string(index=False))
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
