"""The seeds' Keras example with only the import changed: a SimpleRNN classifies sequences.

Task (many to one, generated): x is standard normal noise of shape (timesteps, features); the label is 1
when the first five values of feature 0 sum to more than zero. Run: ``python examples/keras_seed_example.py``.
"""

from recurra import Dense, Sequential, SimpleRNN, set_seed
from recurra.data import sign_of_early_sum

set_seed(0)
timesteps, features = 20, 3
x, y = sign_of_early_sum(1200, timesteps, features, seed=0)
x_train, y_train, x_test, y_test = x[:1000], y[:1000], x[1000:], y[1000:]

model = Sequential()
model.add(SimpleRNN(64, input_shape=(timesteps, features)))
model.add(Dense(1, activation="sigmoid"))
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.summary()

model.fit(x_train, y_train, epochs=6, batch_size=32, validation_split=0.1, verbose=2)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"held-out accuracy: {accuracy:.3f} (chance: 0.5)")
