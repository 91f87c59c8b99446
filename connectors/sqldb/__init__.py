"""Any SQLAlchemy database table as an object: see :class:`SqlConnector`."""

from .config import SqlObjectConfig
from .connector import SqlConnector

__all__ = ["SqlConnector", "SqlObjectConfig"]
