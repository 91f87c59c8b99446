"""List queries: paging, ``search[...]`` filters, ``updated`` windows, vis_state, sort.

Paging (reference §1.4): ``per_page`` is capped at 100 silently, ``page=0`` means page 1, a page
past the end is an empty list, ``pages`` is 0 when nothing matches, and a page or per_page that is
not a positive integer is errno 1014 / 1013. Results are always ordered by id underneath any
requested sort, so paging is stable.

``search[updated_min]``/``[updated_max]`` have day granularity: the record's last change is turned
into a calendar day in **US/Eastern** (the zone accounting timestamps are written in) and compared
with the given ``YYYY-MM-DD``; min is inclusive, max exclusive. A date-time value is cut to its
date part. The Eastern day is a sandbox choice (UNCONFIRMED upstream; see README).

Project-like lists take ``updated_since`` (an ISO UTC instant; at-or-after) as a plain parameter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import QueryParams

from .clock import eastern_date, parse_utc
from .errors import INVALID_PAGE, INVALID_PER_PAGE, ApiError, invalid
from .money import amount_of
from .objects import Filter, Match, ObjectSpec
from .store import Record

MAX_PER_PAGE = 100
SEARCH_KEY = re.compile(r"^search\[([^\]]+)\](\[\])?$")
Predicate = Callable[[Record], bool]
TRUE_WORDS = ("true", "1", "yes")


def paging(params: QueryParams, default_per_page: int) -> tuple[int, int]:
    """(page, per_page) after FreshBooks' forgiving rules; non-integers are errors."""
    page = _positive(params.get("page"), 1, INVALID_PAGE, "page")
    per_page = _positive(params.get("per_page"), default_per_page, INVALID_PER_PAGE, "per_page")
    if per_page == 0:
        raise ApiError(400, INVALID_PER_PAGE, "per_page must be a positive integer.", field="per_page",
                       value="0")
    return max(page, 1), min(per_page, MAX_PER_PAGE)


def _positive(raw: str | None, default: int, errno: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, errno, f"{name} must be a positive integer.", field=name, value=raw) from None
    if value < 0:
        raise ApiError(400, errno, f"{name} must be a positive integer.", field=name, value=raw)
    return value


def page_of(rows: list[Record], page: int, per_page: int) -> tuple[list[Record], dict[str, int]]:
    total = len(rows)
    pages = math.ceil(total / per_page) if total else 0
    start = (page - 1) * per_page
    return rows[start:start + per_page], {"page": page, "pages": pages, "per_page": per_page, "total": total}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _comparable(value: Any, money: bool) -> Any:
    if money and isinstance(value, dict):
        return amount_of(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def _bound(value: str) -> Any:
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def predicate(flt: Filter, values: list[str]) -> Predicate:
    field = flt.field
    if flt.match is Match.EQ:
        wanted = values[-1].lower()
        return lambda r: _text(r.get(field)).lower() == wanted
    if flt.match is Match.IN:
        wanted_set = {v.lower() for v in values}
        return lambda r: _text(r.get(field)).lower() in wanted_set
    if flt.match is Match.LIKE:
        needle = values[-1].lower()
        return lambda r: needle in _text(r.get(field)).lower()
    if flt.match is Match.BOOL:
        flag = values[-1].lower() in TRUE_WORDS
        return lambda r: bool(r.get(field)) is flag
    bound = _bound(values[-1])

    def compare(record: Record) -> bool:
        value = _comparable(record.get(field), flt.money)
        if value is None:
            return False
        try:
            return bool(value >= bound) if flt.match is Match.MIN else bool(value < bound)
        except TypeError:
            return str(value) >= str(bound) if flt.match is Match.MIN else str(value) < str(bound)
    return compare


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise invalid(name, "Must be a date (YYYY-MM-DD).", value) from None


def record_day(record: Record) -> str:
    """The US/Eastern calendar day of the record's last change, as YYYY-MM-DD."""
    day = record.get("_day")
    return str(day) if day else eastern_date(parse_utc(record["_updated"])).isoformat()


def accounting_query(spec: ObjectSpec, params: QueryParams) -> tuple[list[Predicate], int | None]:
    """Predicates for ``search[...]`` (and plain boolean) parameters, plus the vis_state asked for."""
    grouped: dict[str, list[str]] = {}
    for key, value in params.multi_items():
        match = SEARCH_KEY.match(key)
        if match:
            grouped.setdefault(match.group(1), []).append(value)
        elif key in spec.filters and spec.filters[key].match is Match.BOOL:
            grouped.setdefault(key, []).append(value)
    predicates: list[Predicate] = []
    vis_state: int | None = None
    for name, values in grouped.items():
        if name in ("updated_min", "updated_max"):
            predicates.append(_updated_window(name, _day(values[-1], name)))
        elif name == "vis_state":
            try:
                vis_state = int(values[-1])
            except ValueError:
                raise invalid("vis_state", "vis_state must be 0, 1 or 2.", values[-1]) from None
        elif name in spec.filters:
            predicates.append(predicate(spec.filters[name], values))
    return predicates, vis_state


def _updated_window(name: str, bound: date) -> Predicate:
    day = bound.isoformat()
    if name == "updated_min":
        return lambda r: record_day(r) >= day
    return lambda r: record_day(r) < day


def _since(moment: datetime, field: str, upper: bool = False) -> Predicate:
    def check(record: Record) -> bool:
        value = record.get(field)
        if not value:
            return False
        instant = parse_utc(str(value))
        return instant <= moment if upper else instant >= moment
    return check


def project_query(spec: ObjectSpec, params: QueryParams) -> list[Predicate]:
    predicates: list[Predicate] = []
    for name, value in params.items():
        if name == "updated_since":
            try:
                since = parse_utc(value)
            except ValueError:
                raise invalid("updated_since", "Not a valid datetime.", value) from None
            predicates.append(_since(since, "_updated"))
        elif name in ("started_from", "started_to"):
            try:
                moment = parse_utc(value)
            except ValueError:
                raise invalid(name, "Not a valid datetime.", value) from None
            predicates.append(_since(moment, "started_at", upper=name == "started_to"))
        elif name in spec.filters:
            predicates.append(predicate(spec.filters[name], [value]))
    return predicates


def sort_rows(rows: list[Record], raw: str | None, accounting: bool) -> list[Record]:
    """Sort by the requested field (``f_asc``/``f_desc`` or ``f``/``-f``), ties by id."""
    rows = sorted(rows, key=lambda r: int(r["id"]))
    if not raw:
        return rows
    if accounting:
        field, _, direction = raw.rpartition("_")
        if direction not in ("asc", "desc") or not field:
            field, direction = raw, "asc"
        descending = direction == "desc"
    else:
        descending = raw.startswith("-")
        field = raw.lstrip("-+")
    if field == "updated" or field == "updated_at":
        field = "_updated"
    present = [r for r in rows if r.get(field) is not None]
    missing = [r for r in rows if r.get(field) is None]
    present.sort(key=lambda r: _sort_key(r.get(field)), reverse=descending)
    return present + missing


def _sort_key(value: Any) -> Any:
    if isinstance(value, dict):
        return (0, amount_of(value), "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, Decimal(str(value)), "")
    return (1, Decimal(0), str(value).lower())


def includes(params: QueryParams, spec: ObjectSpec) -> frozenset[str]:
    """Accounting ``include[]=x``; project-like ``x=true`` for the names the object knows."""
    found = set(params.getlist("include[]")) | set(params.getlist("include"))
    for name in spec.includes:
        if params.get(name, "").lower() in TRUE_WORDS:
            found.add(name)
    return frozenset(found)


def select(rows: Iterable[Record], predicates: list[Predicate]) -> list[Record]:
    selected = list(rows)
    for check in predicates:
        selected = [r for r in selected if check(r)]
    return selected
