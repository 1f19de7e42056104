"""Checks of setting values, written once and named in every message.

Each check is a small object called as ``check(name, value)``; it raises ``ConfigError`` with the name,
what was expected and what was found, and never changes the value (an estimator stores its settings
as given). ``describe()`` gives the expectation in words, for help texts.

>>> Integer(minimum=1, maximum=8)("units", 3)
>>> Integer(minimum=1, maximum=8)("units", "3")
Traceback (most recent call last):
...
recurra.errors.ConfigError: expected units to be an integer in [1, 8], got '3'
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .errors import ConfigError


class Check:
    """Base of the checks: ``__call__(name, value)`` raises ``ConfigError``; ``describe()`` says what passes."""

    optional = False  # None passes too

    def __call__(self, name: str, value: Any) -> None:
        if value is None and self.optional:
            return
        if not self.accepts(value):
            raise ConfigError(f"expected {name} to be {self.describe()}, got {value!r}")

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _range(minimum: Any, maximum: Any, open_min: bool = False, open_max: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f"in {'(' if open_min else '['}{minimum}, {maximum}{')' if open_max else ']'}"
    if minimum is not None:
        return f"{'>' if open_min else '>='} {minimum}"
    if maximum is not None:
        return f"{'<' if open_max else '<='} {maximum}"
    return ""


class Integer(Check):
    """An integer (Python or numpy, never a bool or a string) within ``[minimum, maximum]``."""

    def __init__(self, minimum: int | None = None, maximum: int | None = None, *, optional: bool = False):
        self.minimum, self.maximum, self.optional = minimum, maximum, optional

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            return False
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)

    def describe(self) -> str:
        text = " ".join(filter(None, ["an integer", _range(self.minimum, self.maximum)]))
        return text + (" or None" if self.optional else "")


class Number(Check):
    """A finite real number (not a bool or a string) within the given bounds (``open_*``: excluded)."""

    def __init__(self, minimum: float | None = None, maximum: float | None = None, *, open_min: bool = False,
                 open_max: bool = False, optional: bool = False):  # fmt: skip
        self.minimum, self.maximum, self.open_min, self.open_max = minimum, maximum, open_min, open_max
        self.optional = optional

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
            return False
        if self.minimum is not None and (value <= self.minimum if self.open_min else value < self.minimum):
            return False
        return self.maximum is None or (value < self.maximum if self.open_max else value <= self.maximum)

    def describe(self) -> str:
        text = " ".join(filter(None, ["a number", _range(self.minimum, self.maximum, self.open_min, self.open_max)]))
        return text + (" or None" if self.optional else "")


class OneOf(Check):
    """One of ``choices`` (compared with ``==``; strings are not lower-cased)."""

    def __init__(self, choices: Sequence[Any], *, optional: bool = False):
        self.choices, self.optional = tuple(choices), optional

    def accepts(self, value: Any) -> bool:
        return any(value == c and type(value) is type(c) for c in self.choices)

    def describe(self) -> str:
        listed = ", ".join(repr(c) for c in self.choices)
        return f"one of {listed}" + (" or None" if self.optional else "")


class Boolean(Check):
    """``True`` or ``False`` (not 0 / 1 / "yes")."""

    def __init__(self, *, optional: bool = False):
        self.optional = optional

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "True or False" + (" or None" if self.optional else "")


class Mapping(Check):
    """A dict with string keys (its values are the receiver's to check)."""

    def __init__(self, *, optional: bool = False):
        self.optional = optional

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict) and all(isinstance(k, str) for k in value)

    def describe(self) -> str:
        return "a dict with string keys" + (" or None" if self.optional else "")


class Satisfies(Check):
    """A value for which ``test(value)`` is true, described as ``description``."""

    def __init__(self, test: Any, description: str, *, optional: bool = False):
        self.test, self.description, self.optional = test, description, optional

    def accepts(self, value: Any) -> bool:
        return bool(self.test(value))

    def describe(self) -> str:
        return self.description + (" or None" if self.optional else "")


__all__ = ["Check", "Integer", "Number", "OneOf", "Boolean", "Mapping", "Satisfies"]
