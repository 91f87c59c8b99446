"""FreshBooks' URL families as REST-layer strategies, so the connector never branches on a family.

FreshBooks is several APIs under one host (reference §1): accounting wraps everything in
``response.result`` with ``page``/``pages``/``total`` beside the list and asks for includes as
``include[]=lines``; projects and time tracking answer bare keys with a ``meta`` block and take
includes as ``include_x=true``; the ledger answers ``data`` + ``meta`` and takes unwrapped
writes; identity and reports are read whole. Each :class:`Family` says so once, as data; the
object table (:mod:`.specs`) turns a family plus an object's names into a
:class:`syncengine.rest.Resource`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from connectors.freshbooks.wire import EASTERN
from syncengine.incremental import Watermark
from syncengine.rest import ChangeFilter, NoFilter, PageNumbers, Params, Select, UpdatedSince

__all__ = [
    "ACCOUNTING",
    "CHANGE_FILTERS",
    "IDENTITY",
    "LEDGER",
    "PROJECTS",
    "REPORT",
    "TIMETRACKING",
    "UPDATED_SINCE_OVERLAP",
    "EasternDaySince",
    "Family",
    "Reading",
]

#: how ``changes`` reads an object: filtered listings, the whole listing, the identity, reports.
Reading = Literal["changes", "listing", "identity", "reports"]


@dataclass(frozen=True, slots=True)
class EasternDaySince:
    """``search[updated_min]=<Eastern day of the watermark minus one>``: accounting filters are
    day-granular in US/Eastern, and one day of overlap covers the day boundary and clock skew."""

    param: str = "search[updated_min]"
    incremental: bool = True

    def params(self, mark: Watermark | None) -> Params:
        if mark is None:
            return []
        day = mark.updated_at.astimezone(EASTERN).date() - timedelta(days=1)
        return [(self.param, day.isoformat())]


#: ``updated_since`` look-back for project-like objects (clock skew, same-second writes).
UPDATED_SINCE_OVERLAP = timedelta(minutes=10)

#: the change filter each object's ``changes`` names: project-like ``updated_since`` is UTC.
CHANGE_FILTERS: dict[str, ChangeFilter] = {
    "updated_min": EasternDaySince(),
    "updated_since": UpdatedSince("updated_since", "%Y-%m-%dT%H:%M:%SZ", UPDATED_SINCE_OVERLAP),
    "full": NoFilter(),
}


@dataclass(frozen=True, slots=True)
class Family:
    """Where a family's answers hold records and counts, how it takes includes and writes."""

    name: str
    #: dotted paths of a list's records and of one record; ``{plural}``/``{single}`` are the object's.
    rows: str
    item: str
    paging: PageNumbers
    #: writes send ``{single: fields}`` (False: the fields themselves).
    wraps_writes: bool = True
    #: includes as ``include[]=<name>`` (this parameter), or as ``<name>=true`` (None).
    include_param: str | None = None
    #: the list filter ``find`` uses, ``{field}`` the field (None: this family cannot search).
    search_param: str | None = None
    reading: Reading = "changes"

    def includes(self, names: tuple[str, ...]) -> Params:
        if self.include_param is not None:
            return [(self.include_param, name) for name in names]
        return [(name, "true") for name in names]

    def search(self, field: str, value: str) -> Params | None:
        return None if self.search_param is None else [(self.search_param.format(field=field), value)]


def _paging(envelope: str) -> PageNumbers:
    return PageNumbers(pages=Select(f"{envelope}.pages"), total=Select(f"{envelope}.total"))


ACCOUNTING = Family(
    "accounting", rows="response.result.{plural}", item="response.result.{single}",
    paging=_paging("response.result"), include_param="include[]", search_param="search[{field}]",
)
PROJECTS = Family("projects", rows="{plural}", item="{single}", paging=_paging("meta"))
TIMETRACKING = Family("timetracking", rows="{plural}", item="{single}", paging=_paging("meta"))
LEDGER = Family("ledger", rows="data", item="data", paging=_paging("meta"), wraps_writes=False, reading="listing")
IDENTITY = Family("identity", rows="response", item="response", paging=_paging("meta"), reading="identity")
REPORT = Family(
    "report", rows="response.result.{plural}", item="response.result.{single}", paging=_paging("response.result"),
    reading="reports",
)
