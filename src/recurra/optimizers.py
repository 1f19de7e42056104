"""``recurra.optimizers``: Keras's ``keras.optimizers`` names over torch's optimisers, with Keras 3's
defaults (``Adam(learning_rate=1e-3)`` ...); see ``recurra.train.optimizers``."""

from .train.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, Optimizer, RMSprop

__all__ = ["Optimizer", "Adam", "AdamW", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"]
