"""The recurrent family by name: the one table every application, the CLI and comparisons read.

>>> sorted(CELLS)
['gru', 'indrnn', 'lstm', 'mingru', 'minlstm', 'rnn']
>>> type(recurrent_layer("gru", 8)).__name__
'GRU'
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .indrnn import IndRNN
from .minimal import MinGRU, MinLSTM
from .recurrent import Recurrent
from .rnn import GRU, LSTM, SimpleRNN

CELLS: dict[str, type[Recurrent]] = {
    "lstm": LSTM,
    "gru": GRU,
    "rnn": SimpleRNN,
    "indrnn": IndRNN,
    "mingru": MinGRU,
    "minlstm": MinLSTM,
}


def check_cell(cell: Any, *, also: tuple[str, ...] = (), key: str = "cell") -> str:
    """``cell`` lower-cased when it names a member of the family (or one of ``also``, such as ``"esn"``);
    otherwise a ``ConfigError`` listing the names."""
    names = (*CELLS, *also)
    if not isinstance(cell, str) or cell.lower() not in names:
        raise ConfigError(f"expected {key} in {', '.join(names)}, got {cell!r}")
    return cell.lower()


def recurrent_layer(cell: str, units: int, **options: Any) -> Recurrent:
    """A recurrent layer of the named family member, ``units`` wide, with the layer's own ``options``."""
    return CELLS[check_cell(cell)](units, **options)


__all__ = ["CELLS", "check_cell", "recurrent_layer"]
