"""``python -m recurra.cli``: the same as the ``recurra`` command."""

from . import main

main()
