"""Deprecated: ``recurra text`` lives in ``recurra.cli.text`` now, ``recurra classify`` in ``recurra.cli.classify``."""

import warnings

warnings.warn(
    "recurra.cli_text is deprecated; import from recurra.cli.text (classify_app and its commands: recurra.cli.classify)",
    DeprecationWarning,
    stacklevel=2,
)

from .cli.classify import classify_app, classify_predict, classify_train  # noqa: E402
from .cli.text import text_app, text_generate, text_suggest, text_train  # noqa: E402

__all__ = ["text_app", "text_train", "text_generate", "text_suggest", "classify_app", "classify_train", "classify_predict"]
