"""A CSV file as a table of records: see :class:`CsvConnector`."""

from .config import CsvObjectConfig
from .connector import CsvConnector

__all__ = ["CsvConnector", "CsvObjectConfig"]
