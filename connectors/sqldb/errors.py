"""Driver and SQLAlchemy exceptions -> the engine's typed errors, with the column where known.

The engine must never see a raw driver exception: a dropped connection is a
:class:`~syncengine.errors.TransientError` worth retrying, a constraint violation is a
:class:`~syncengine.errors.ValidationError` naming the column so an operator can fix the data.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from syncengine.errors import ConnectorError, NotFoundError, TransientError, ValidationError

__all__ = ["column_of", "map_error"]

# SQLite: "UNIQUE constraint failed: clients.email", "NOT NULL constraint failed: clients.name"
_SQLITE_COLUMN = re.compile(r"constraint failed: (?:[\w\"]+\.)?\"?(\w+)")
# PostgreSQL detail: 'Key (email)=(a@b.c) already exists.'
_PG_KEY = re.compile(r"Key \(([^)]+)\)=")
_NOT_A_CONNECTION_PROBLEM = ("no such table", "no such column", "has no column", "syntax error")


def column_of(exc: sa.exc.DBAPIError) -> str | None:
    """The column a constraint or data error is about, if the driver says."""
    diag = getattr(exc.orig, "diag", None)
    if diag is not None:
        if getattr(diag, "column_name", None):
            return str(diag.column_name)
        match = _PG_KEY.search(getattr(diag, "message_detail", None) or "")
        if match:
            return match.group(1).split(",")[0].strip()
    match = _SQLITE_COLUMN.search(str(exc.orig))
    return match.group(1) if match else None


def map_error(exc: Exception, **context: Any) -> ConnectorError:
    """A typed error for any exception raised while talking to the database."""
    message = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sa.exc.IntegrityError | sa.exc.DataError):
        return ValidationError(message, field=column_of(exc), **context)
    if isinstance(exc, sa.exc.NoSuchTableError):
        return NotFoundError(
            f"table {exc} does not exist",
            hint="check 'table', or set 'create: true' with 'columns'",
            **context,
        )
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | sa.exc.TimeoutError):
        if any(text in message.lower() for text in _NOT_A_CONNECTION_PROBLEM):
            return ConnectorError(message, hint="does the table match the config?", **context)
        return TransientError(message, hint="is the database reachable?", **context)
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return TransientError(message, **context)
    return ConnectorError(f"{type(exc).__name__}: {message}", **context)
