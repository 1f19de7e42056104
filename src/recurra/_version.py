"""The version of recurra (written into every saved config.json)."""

__version__ = "0.1.0"
