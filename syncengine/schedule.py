"""A pipeline's ``schedule``: an interval (``30s``, ``5m``, ``2h``, ``1d``) or a five-field cron line.

Checked when the config loads, so a typo is a file:line error before the daemon starts, and
turned into an APScheduler trigger by the daemon.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

__all__ = ["ScheduleError", "parse_schedule", "schedule_trigger"]

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class ScheduleError(ValueError):
    """The text is neither an interval nor a cron line."""


def parse_schedule(text: str) -> timedelta | str:
    """The interval, or the cron line unchanged once APScheduler accepts it."""
    match = _INTERVAL.match(text)
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise ScheduleError(f"schedule {text!r}: an interval must be more than zero")
        return timedelta(**{_UNITS[match.group(2)]: amount})
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"schedule {text!r} is neither an interval (30s, 5m, 2h, 1d) nor a cron line of five fields"
        )
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(text, timezone="UTC")
    except ValueError as exc:
        raise ScheduleError(f"schedule {text!r}: {exc}") from None
    return text


def schedule_trigger(text: str) -> Any:
    """The APScheduler trigger for a valid schedule."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    parsed = parse_schedule(text)
    if isinstance(parsed, timedelta):
        return IntervalTrigger(seconds=parsed.total_seconds(), timezone="UTC")
    return CronTrigger.from_crontab(parsed, timezone="UTC")
