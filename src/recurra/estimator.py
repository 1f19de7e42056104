"""The one contract every application object follows: scikit-learn's estimator, with its settings
written once as dataclass fields.

An application estimator (``Forecaster``, ``LanguageModel``, ``SequenceClassifier`` ...) is a dataclass
whose fields are its settings, each declared with ``setting(default, why, check)``: the one-line *why*
is its documentation (and the command line's help), the *check* validates it. Then:

- ``__init__`` (generated) stores every setting **as given**; ``validate()`` checks them all, in one
  place, when the estimator is made and whenever ``set_params`` changes them;
- ``get_params()`` / ``set_params(**settings)`` / ``clone()`` as in scikit-learn, and a ``repr`` that
  shows the settings that differ from their defaults;
- learned state exists only after ``fit``, in attributes whose names end in ``_`` (``network_``,
  ``vocab_`` ...); ``fitted`` says whether it does, and methods that need it raise ``NotBuiltError``;
- ``fit`` returns ``self``; ``predict``, ``evaluate``, ``save(path)`` and ``load(path)`` (a class
  method; ``recurra.load`` opens any saved estimator by the format its ``config.json`` records).

A new application needs its network, its data reader and its metrics; this contract, the training
engine (``recurra.train``) and the files (``recurra.io``) are shared.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar

from .checks import Check
from .errors import ConfigError, NotBuiltError, RecurraWarning


def setting(default: Any, why: str, check: Check | None = None, *, kw_only: bool = True) -> Any:
    """A settings field: its default, one line on what it is for, and the check its values must pass."""
    return dataclasses.field(default=default, kw_only=kw_only, metadata={"why": why, "check": check})


class Estimator:
    """Base of the application estimators (see the module docstring); subclasses are dataclasses."""

    fitted_attribute: ClassVar[str] = "network_"  # the learned attribute whose presence means "fitted"
    renamed: ClassVar[dict[str, str]] = {}  # earlier public names of learned attributes -> their names now

    def __post_init__(self) -> None:
        self.validate()

    # -- settings ---------------------------------------------------------------------------------
    @classmethod
    def settings(cls) -> tuple[dataclasses.Field, ...]:
        """The settings fields, in declaration order."""
        return dataclasses.fields(cls)

    @classmethod
    def why(cls, name: str) -> str:
        """The one-line description of the setting ``name`` (the command line's help text)."""
        for f in cls.settings():
            if f.name == name:
                return f.metadata.get("why", "")
        raise ConfigError(f"{cls.__name__} has no setting {name!r}")

    def validate(self) -> None:
        """Check every setting (each field's check, then ``check_together`` for rules across fields)."""
        for f in self.settings():
            check = f.metadata.get("check")
            if check is not None:
                check(f.name, getattr(self, f.name))
        self.check_together()

    def check_together(self) -> None:
        """Rules that involve several settings (``window >= bptt`` ...); subclasses override it."""

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings, by name, as given to ``__init__`` or ``set_params``."""
        return {f.name: getattr(self, f.name) for f in self.settings()}

    def set_params(self, **settings: Any) -> Estimator:
        """Change settings (checked together before any is kept); returns ``self``. A fitted estimator
        keeps what it learned until it is fitted again."""
        known = {f.name for f in self.settings()}
        unknown = sorted(set(settings) - known)
        if unknown:
            listed = ", ".join(map(repr, unknown))
            raise ConfigError(f"{type(self).__name__} has no setting {listed}; its settings: {', '.join(sorted(known))}")
        trial = dataclasses.replace(self, **settings)  # validates the whole new set first
        for name in settings:
            object.__setattr__(self, name, getattr(trial, name))
        return self

    def clone(self) -> Estimator:
        """An unfitted estimator with the same settings."""
        return type(self)(**self.get_params())

    def __repr__(self) -> str:
        changed = [
            f"{f.name}={getattr(self, f.name)!r}" for f in self.settings() if not _same(getattr(self, f.name), f.default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- learned state ----------------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        """Whether ``fit`` (or ``load``) has given the estimator its learned state."""
        return getattr(self, self.fitted_attribute, None) is not None

    def _require_fitted(self, what: str) -> None:
        if not self.fitted:
            name = type(self).__name__
            raise NotBuiltError(f"{name} is not fitted: {what} needs fit(...) (or {name}.load(path)) first")

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: earlier names of learned attributes, with a warning
        renamed = type(self).renamed
        if name in renamed:
            warnings.warn(f"{type(self).__name__}.{name} is deprecated; use .{renamed[name]}", RecurraWarning, stacklevel=2)
            return getattr(self, renamed[name])
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        renamed = type(self).renamed
        if name in renamed:
            warnings.warn(f"{type(self).__name__}.{name} is deprecated; use .{renamed[name]}", RecurraWarning, stacklevel=2)
            name = renamed[name]
        object.__setattr__(self, name, value)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):  # arrays and the like
        return a is b


__all__ = ["Estimator", "setting"]
