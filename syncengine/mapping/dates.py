"""The ``date`` and ``datetime`` transforms: formats and time zones per side.

The common value is a ``date``, or a timezone-aware ``datetime`` in UTC. Each side names its
format: ``native`` (the default: date/datetime objects, ISO strings accepted on read), ``iso``
(ISO 8601 text), ``unix`` (seconds), ``unix_ms`` (milliseconds) or a strftime pattern; and
``<side>_tz``, the IANA zone its naive values are in (UTC if not given).

Normalisation: the common datetime is truncated to the *coarsest* precision of the two sides
(``unix`` keeps seconds, a pattern without ``%S`` keeps minutes), so a side holding
``12:00:00.250`` and a side that can only say ``12:00:00`` agree instead of flip-flopping.

Daylight saving: a naive local time that happens twice (01:30 on the autumn change) is read as
the first occurrence (``fold=0``), a local time that never happens (02:30 on the spring change)
as the offset before the change. Writing the second occurrence to a naive-local side therefore
loses an hour; that is the format's limit, not ours. Projection stays idempotent either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syncengine.mapping.errors import RecordMappingError
from syncengine.mapping.transforms import SIDES, BuildContext, Converter, RefResolver, Side, Transform

__all__ = ["DateTimeTransform", "DateTransform", "SideFormat", "build_date", "build_datetime"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KEYWORDS = ("native", "iso", "unix", "unix_ms")
_MICRO = timedelta(microseconds=1)
_MILLI = timedelta(milliseconds=1)
_SECOND = timedelta(seconds=1)
_SAMPLE = datetime(2001, 2, 3, 4, 5, 6, 789000)


_NUMERIC = {"Y": r"\d{4}", "m": r"\d{1,2}", "d": r"\d{1,2}", "H": r"\d{1,2}", "M": r"\d{1,2}", "S": r"\d{1,2}"}


def _fast_parser(pattern: str) -> Callable[[str], datetime] | None:
    """A regex parser for patterns made only of %Y %m %d %H %M %S and literal text.

    ``datetime.strptime`` costs several microseconds a call, which dominates ``project`` for
    the most common patterns; the regex does the same job in a fraction. Anything else (names
    of months, %z, %f, ...) returns None and keeps strptime, so the semantics never differ."""
    regex = ""
    seen: set[str] = set()
    for part in re.split(r"(%.)", pattern):
        if len(part) == 2 and part[0] == "%":
            code = part[1]
            if code == "%":
                regex += "%"
                continue
            if code not in _NUMERIC or code in seen:
                return None
            seen.add(code)
            regex += f"(?P<{code}>{_NUMERIC[code]})"
        else:
            regex += re.escape(part)
    compiled = re.compile(regex)

    def parse(text: str) -> datetime:
        found = compiled.fullmatch(text)
        if found is None:
            raise ValueError(f"{text!r} does not match {pattern!r}")
        get = found.groupdict()
        return datetime(
            int(get.get("Y") or 1900), int(get.get("m") or 1), int(get.get("d") or 1),
            int(get.get("H") or 0), int(get.get("M") or 0), int(get.get("S") or 0),
        )

    return parse


class SideFormat:
    """How one side writes dates: a keyword or a strftime pattern, and its zone."""

    def __init__(self, fmt: str, tz: tzinfo | None) -> None:
        self.fmt = fmt
        self.pattern = fmt if fmt not in KEYWORDS else None
        self.tz = tz
        self.zone = tz or UTC
        pattern = self.pattern
        fast = _fast_parser(pattern) if pattern is not None else None
        if fast is not None:
            self.strptime: Callable[[str], datetime] = fast
        elif pattern is not None:
            self.strptime = lambda text: datetime.strptime(text, pattern)

    @property
    def precision(self) -> timedelta:
        """The finest step this format can express."""
        if self.fmt == "unix":
            return timedelta(seconds=1)
        if self.fmt == "unix_ms":
            return timedelta(milliseconds=1)
        if self.pattern is None:
            return _MICRO
        codes = set(re.findall(r"%(.)", self.pattern.replace("%%", "")))
        if "f" in codes:
            return _MICRO
        if codes & {"S", "T", "X", "c", "s"}:
            return timedelta(seconds=1)
        if codes & {"M", "R"}:
            return timedelta(minutes=1)
        if codes & {"H", "I"}:
            return timedelta(hours=1)
        return timedelta(days=1)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise RecordMappingError(f"timestamp {value!r} is not a number")
    try:
        return Decimal(value if isinstance(value, int | Decimal) else str(value).strip())
    except InvalidOperation:
        raise RecordMappingError(f"timestamp {value!r} is not a number") from None


def _parse_datetime(value: Any, side: SideFormat) -> datetime:
    """Any accepted input of the side -> an aware datetime (naive values are in the side's zone)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif side.fmt in ("unix", "unix_ms"):
        seconds = _number(value)
        if side.fmt == "unix_ms":
            seconds = seconds / 1000
        whole = int(seconds.to_integral_value(rounding="ROUND_FLOOR"))
        micros = int(((seconds - whole) * 1_000_000).to_integral_value(rounding="ROUND_FLOOR"))
        return EPOCH + timedelta(seconds=whole, microseconds=micros)
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = side.strptime(text) if side.pattern is not None else datetime.fromisoformat(text)
        except ValueError:
            expected = side.pattern or "ISO 8601"
            raise RecordMappingError(f"{value!r} is not a date-time in the format {expected!r}") from None
    else:
        raise RecordMappingError(f"expected a date-time, got {type(value).__name__} {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=side.zone)
    return parsed


def _truncate(value: datetime, step: timedelta) -> datetime:
    """Cut a UTC datetime down to ``step`` (replace() is several times faster than modulo)."""
    if step == _MICRO:
        return value
    if step == _SECOND:
        return value.replace(microsecond=0) if value.microsecond else value
    if step == _MILLI:
        return value.replace(microsecond=value.microsecond - value.microsecond % 1000)
    return value - ((value - EPOCH) % step)


class DateTimeTransform(Transform):
    """A moment in time; common value: aware UTC datetime at the pair's shared precision."""

    name = "datetime"

    def __init__(self, formats: Mapping[Side, SideFormat]) -> None:
        self.formats = dict(formats)
        self.step = max(f.precision for f in self.formats.values())

    def to_common_fn(self, side: Side) -> Converter:
        fmt, step = self.formats[side], self.step

        def datetime_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None or value == "":
                return None
            return _truncate(_parse_datetime(value, fmt).astimezone(UTC), step)

        return datetime_to_common

    def from_common_fn(self, side: Side) -> Converter:
        fmt = self.formats[side]

        def common_to_datetime(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None:
                return None
            moment = _parse_datetime(value, SideFormat("native", None))
            if fmt.fmt == "unix":
                return (moment - EPOCH) // timedelta(seconds=1)
            if fmt.fmt == "unix_ms":
                return (moment - EPOCH) // timedelta(milliseconds=1)
            local = moment.astimezone(fmt.zone)
            if fmt.fmt == "native":
                return local
            if fmt.fmt == "iso":
                return local.isoformat()
            assert fmt.pattern is not None
            return local.strftime(fmt.pattern)

        return common_to_datetime


def _to_date(value: Any, side: SideFormat) -> date:
    if isinstance(value, datetime):
        moment: datetime = value.astimezone(side.zone) if value.tzinfo is not None else value
        return moment.date()
    if isinstance(value, date):
        return value
    if side.fmt in ("unix", "unix_ms") or side.pattern is not None:
        return _to_date(_parse_datetime(value, side), side)
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return _to_date(_parse_datetime(value, side), side)


class DateTransform(Transform):
    """A calendar day; common value: ``date``. ``unix`` sides hold midnight in their zone."""

    name = "date"

    def __init__(self, formats: Mapping[Side, SideFormat]) -> None:
        self.formats = dict(formats)

    def to_common_fn(self, side: Side) -> Converter:
        fmt = self.formats[side]

        def date_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None or value == "":
                return None
            return _to_date(value, fmt)

        return date_to_common

    def from_common_fn(self, side: Side) -> Converter:
        fmt = self.formats[side]

        def common_to_date(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None:
                return None
            day = _to_date(value, SideFormat("native", None))
            if fmt.fmt == "native":
                return day
            if fmt.fmt == "iso":
                return day.isoformat()
            midnight = datetime(day.year, day.month, day.day, tzinfo=fmt.zone)
            if fmt.fmt == "unix":
                return (midnight - EPOCH) // timedelta(seconds=1)
            if fmt.fmt == "unix_ms":
                return (midnight - EPOCH) // timedelta(milliseconds=1)
            assert fmt.pattern is not None
            return midnight.strftime(fmt.pattern)

        return common_to_date


_ARGS = frozenset({"left", "right", "left_format", "right_format", "left_tz", "right_tz"})


def _side_formats(args: Any, ctx: BuildContext, kind: str) -> dict[Side, SideFormat] | None:
    from syncengine.mapping.diagnostics import did_you_mean

    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        ctx.report((), f"{kind} takes a mapping like {{left: iso, right: unix, left_tz: Europe/Paris}}")
        return None
    ok = True
    for key in args:
        if key not in _ARGS:
            ctx.report((key,), f"unknown {kind} option {key!r}{did_you_mean(str(key), _ARGS)}", at_key=True)
            ok = False
    formats: dict[Side, SideFormat] = {}
    for side in SIDES:
        if side in args and f"{side}_format" in args:
            ctx.report((f"{side}_format",), f"give {side} or {side}_format, not both", at_key=True)
            ok = False
        key = f"{side}_format" if f"{side}_format" in args else side
        fmt = args.get(key, "native")
        if not isinstance(fmt, str) or not fmt:
            ctx.report((key,), f"{key} must be a format: {', '.join(KEYWORDS)} or a strftime pattern")
            ok = False
            continue
        if fmt not in KEYWORDS:
            if "%" not in fmt:
                ctx.report(
                    (key,),
                    f"unknown {kind} format {fmt!r}{did_you_mean(fmt, KEYWORDS)}",
                    hint=f"use one of {', '.join(KEYWORDS)} or a strftime pattern like '%Y-%m-%d'",
                )
                ok = False
                continue
            try:
                sample = _SAMPLE.replace(tzinfo=UTC) if "%z" in fmt or "%Z" in fmt else _SAMPLE
                datetime.strptime(sample.strftime(fmt), fmt)
            except ValueError as exc:
                ctx.report((key,), f"bad {kind} format {fmt!r}: {exc}")
                ok = False
                continue
        zone: tzinfo | None = None
        tz_key = f"{side}_tz"
        if tz_key in args:
            name = args[tz_key]
            try:
                if not isinstance(name, str) or not name:
                    raise ValueError(name)
                zone = ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                hint = did_you_mean(str(name), _common_zones())
                ctx.report(
                    (tz_key,),
                    f"unknown time zone {name!r}{hint}",
                    hint="use an IANA name like America/New_York or UTC",
                )
                ok = False
        formats[side] = SideFormat(fmt, zone)
    return formats if ok else None


def _common_zones() -> set[str]:
    import zoneinfo

    return zoneinfo.available_timezones()


def build_datetime(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    formats = _side_formats(args, ctx, "datetime")
    return DateTimeTransform(formats) if formats is not None else None


def build_date(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    formats = _side_formats(args, ctx, "date")
    return DateTransform(formats) if formats is not None else None
