"""Drop-ins for ``torch.nn``'s recurrent modules on recurra's kernels, and recurra's other cells in their form.

``recurra.nn.RNN``, ``LSTM`` and ``GRU`` take torch.nn's arguments, calls, outputs and ``state_dict``
(a ``torch.nn.LSTM``'s state dict loads into ``recurra.nn.LSTM`` and back); ``IndRNN``, ``MinGRU`` and
``MinLSTM`` follow the same convention. Each module's ``kernel`` names what its last call ran, and
``forward`` also takes ``lengths=`` or ``mask=`` for a padded batch. ``docs/pytorch.md`` lists what
differs from torch.nn.

>>> import torch
>>> from recurra import nn as rnn
>>> gru = rnn.GRU(3, 8, num_layers=2, batch_first=True)
>>> output, h_n = gru(torch.zeros(4, 10, 3))
>>> tuple(output.shape), tuple(h_n.shape)
((4, 10, 8), (2, 4, 8))
"""

from .base import RNNBase
from .elementwise import IndRNN, MinGRU, MinLSTM
from .gru import GRU
from .lstm import LSTM
from .rnn import RNN
from .serialization import register_safe_globals

register_safe_globals([RNN, LSTM, GRU, IndRNN, MinGRU, MinLSTM])

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "IndRNN", "MinGRU", "MinLSTM", "register_safe_globals"]
