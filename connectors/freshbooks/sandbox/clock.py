"""The sandbox's controllable clock and the three timestamp dialects FreshBooks speaks.

Tests must be able to make a change "today", "yesterday" or just across the US/Eastern midnight
(2026-03-10 23:30 Eastern is already 2026-03-11 03:30 UTC), so every timestamp the sandbox writes
comes from :class:`Clock`, never from ``datetime.now()``. The clock keeps running in real time from
whatever instant it was set to (``set_now`` moves it, ``advance`` jumps ahead); it never freezes,
so token lifetimes and retry back-offs still elapse naturally.

Formats (reference §1.7):
* accounting ``updated``/``created_at``: ``"YYYY-MM-DD HH:MM:SS"`` in US/Eastern, no zone marker;
* client ``signup_date``: the same shape but in UTC;
* project-like and identity timestamps: ISO 8601 UTC.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("US/Eastern")
_SPACED_OFFSET = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")
ACCOUNTING_FORMAT = "%Y-%m-%d %H:%M:%S"


class Clock:
    """Wall-clock time shifted by an adjustable offset; thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        if start is not None:
            self.set_now(start)

    def now(self) -> datetime:
        """The sandbox's current instant, timezone-aware UTC."""
        with self._lock:
            offset = self._offset
        return datetime.fromtimestamp(time.time() + offset, tz=UTC)

    def timestamp(self) -> float:
        """The sandbox's current instant as epoch seconds (for token expiry and budgets)."""
        with self._lock:
            return time.time() + self._offset

    def set_now(self, when: datetime) -> None:
        """Jump to ``when`` (naive datetimes are taken as UTC); the clock keeps ticking from there."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        with self._lock:
            self._offset = when.timestamp() - time.time()

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or back, with a negative value) by ``seconds``."""
        with self._lock:
            self._offset += seconds

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        with self._lock:
            self._offset = value


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 instant; a missing zone means UTC (as FreshBooks' project-like APIs do).

    The SDK puts ``datetime.isoformat()`` into query strings unencoded, so ``+00:00`` arrives as
    `` 00:00``; that space is read back as the plus sign it was.
    """
    text = _SPACED_OFFSET.sub(r"\1+\2", text.strip())
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def accounting_time(moment: datetime) -> str:
    """``"YYYY-MM-DD HH:MM:SS"`` in US/Eastern: the accounting family's ``updated``."""
    return moment.astimezone(EASTERN).strftime(ACCOUNTING_FORMAT)


def utc_accounting_time(moment: datetime) -> str:
    """``"YYYY-MM-DD HH:MM:SS"`` in UTC: client ``signup_date``."""
    return moment.astimezone(UTC).strftime(ACCOUNTING_FORMAT)


def iso_utc(moment: datetime, *, zone_marker: bool = True, micros: bool = False) -> str:
    """ISO 8601 UTC; projects omit the ``Z``, time entries and identity keep it."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if micros:
        text += f".{moment.microsecond:06d}"
    return text + ("Z" if zone_marker else "")


def eastern_date(moment: datetime) -> date:
    """The calendar day in US/Eastern, which ``search[updated_min]``/``[updated_max]`` compare on."""
    return moment.astimezone(EASTERN).date()


def eastern_today(moment: datetime) -> str:
    return eastern_date(moment).isoformat()
