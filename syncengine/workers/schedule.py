"""A pipeline's ``schedule:`` as a cron line for procrastinate's periodic tasks.

``30s``, ``5m``, ``1h``, ``1d`` are intervals; anything else must be a 5-field cron line (or
6 fields, the sixth being seconds, as croniter and procrastinate read it). An interval becomes
the cron line that fires on its multiples (``5m`` -> ``*/5 * * * *``), so it must divide the
next unit evenly: ``7m`` would drift at each hour and is refused with the nearest that fit.
"""

from __future__ import annotations

import re

from croniter import croniter  # type: ignore[import-untyped]

__all__ = ["ScheduleError", "to_cron"]

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 60, "m": 60, "h": 24}


class ScheduleError(ValueError):
    """A schedule that is neither an interval nor a cron line; the message says what fits."""


def _fits(unit: str) -> list[int]:
    return [n for n in range(1, _UNITS[unit] + 1) if _UNITS[unit] % n == 0]


def to_cron(schedule: str) -> str:
    """The cron line for ``schedule`` (``5m``, ``1h``, ``*/10 * * * *``)."""
    match = _INTERVAL.match(schedule)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if unit == "d":
            if count != 1:
                raise ScheduleError(f"schedule {schedule!r}: days other than 1d need a cron line (0 3 */{count} * *)")
            return "0 0 * * *"
        if count not in _fits(unit) or count == 0:
            raise ScheduleError(f"schedule {schedule!r}: an interval in {unit} must divide {_UNITS[unit]} "
                                f"(one of {', '.join(f'{n}{unit}' for n in _fits(unit))}); or write a cron line")
        every = "*" if count == 1 else f"*/{count}"
        if unit == "s":
            return f"* * * * * {every}"
        if unit == "m":
            return f"{every} * * * *"
        return f"0 {every} * * *"
    fields = schedule.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(schedule):
        raise ScheduleError(f"schedule {schedule!r} is neither an interval (30s, 5m, 1h, 1d) nor a cron line "
                            "(5 fields: minute hour day month weekday)")
    return " ".join(fields)
