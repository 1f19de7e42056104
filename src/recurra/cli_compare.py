"""Deprecated: ``recurra compare`` lives in ``recurra.cli.compare`` now."""

import warnings

warnings.warn("recurra.cli_compare is deprecated; import from recurra.cli.compare", DeprecationWarning, stacklevel=2)

from .cli.compare import compare_command  # noqa: E402

__all__ = ["compare_command"]
