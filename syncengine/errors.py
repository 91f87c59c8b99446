"""The engine's typed errors. Connectors raise these, never a bare httpx or driver error.

Every error carries context (connector, object, record key, field, file:line:col) and, where we
know one, a hint for the fix, because the person reading it is an operator at 3 a.m.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthError",
    "BusyError",
    "ConfigError",
    "ConfigErrors",
    "ConflictError",
    "ConnectorError",
    "NotFoundError",
    "RateLimitedError",
    "RecordError",
    "SyncEngineError",
    "TransientError",
    "UnsupportedError",
    "ValidationError",
    "WriteBlockedError",
]


class SyncEngineError(Exception):
    """Base of every error the engine raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConnectorError(SyncEngineError):
    """A call to an outside system failed. ``retryable`` says whether trying again may help."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        connector: str | None = None,
        obj: str | None = None,
        key: str | None = None,
        field: str | None = None,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.connector = connector
        self.obj = obj
        self.key = key
        self.field = field
        self.status = status
        self.code = code

    def __str__(self) -> str:
        where = [p for p in (self.connector, self.obj, self.key) if p]
        prefix = f"[{'/'.join(where)}] " if where else ""
        field = f" (field {self.field!r})" if self.field else ""
        return f"{prefix}{super().__str__()}{field}"


class AuthError(ConnectorError):
    """Credentials are missing, expired beyond refresh, or revoked: a person must authorize again."""


class WriteBlockedError(ConnectorError):
    """What a write needs is out of reach for every record of the run alike: a file another process
    keeps locked (:class:`BusyError`), a file whose mode forbids writing. Nothing was written; the
    run stops with this one error (the CLI exits 2) and its records are retried next run."""


class BusyError(WriteBlockedError):
    """Another process held what a write needs (a file's lock) for longer than the wait allowed."""


class NotFoundError(ConnectorError):
    """The record does not exist (or no longer does)."""


class ValidationError(ConnectorError):
    """The outside system rejected the record's data; ``field`` names the culprit where known."""


class NeedsDecisionError(ValidationError):
    """The target refused the record under a rule only a person can settle (a payment in another
    currency than its invoice). The engine parks it as a conflict with this reason: nothing is
    written, nothing converted, nothing dropped."""


class ConflictError(ConnectorError):
    """The outside system refused because of a concurrent change (HTTP 409 and the like)."""

    retryable = True


class UnsupportedError(ConnectorError):
    """The object does not support this operation (a report cannot be written)."""


class TransientError(ConnectorError):
    """A failure that may pass: 5xx, timeout, dropped connection."""

    retryable = True


class RateLimitedError(TransientError):
    """HTTP 429 or an equivalent; ``retry_after`` in seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record a connector could not read (a malformed CSV row): reported, skipped, left untouched."""

    message: str
    key: str | None = None
    line: int | None = None
    field: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, f"key {self.key!r}" if self.key else "", self.message) if p]
        text = ": ".join(parts)
        return f"{text} (field {self.field!r})" if self.field else text


class ConfigError(SyncEngineError):
    """A mistake in a config or mapping file, named by file, line and column (1-based)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.file = file
        self.line = line
        self.column = column

    @property
    def location(self) -> str:
        parts = [self.file or "<config>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigErrors(SyncEngineError):
    """Several config mistakes at once, so the operator can fix them all in one pass."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors
