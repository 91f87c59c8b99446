"""syncengine: a two-way record sync engine."""

__version__ = "0.1.0"
