"""A REST resource as a declaration: where it lives, how its answers are wrapped, how it pages,
how it filters changes and how writes are encoded.

A connector's object table is a list of these (plus its :class:`~syncengine.connector.ObjectSpec`);
:class:`~syncengine.rest.client.RestClient` does the HTTP for all of them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from syncengine.rest.encode import BodyEncoding, Json
from syncengine.rest.filters import ChangeFilter, NoFilter
from syncengine.rest.paginate import Paginator, Params, StartingAfter
from syncengine.rest.select import Select

__all__ = ["Resource"]


@dataclass(frozen=True, slots=True)
class Resource:
    """One collection of an API. Paths may name ``{id}`` and any value the client's
    ``path_values`` supplies (an account id discovered at run time)."""

    name: str
    #: the list path (and the create path unless ``create_path`` says otherwise).
    path: str
    #: one record's path; defaults to ``<path>/{id}``.
    item_path: str | None = None
    create_path: str | None = None
    #: the records of a list answer.
    rows: Select = field(default_factory=lambda: Select("data"))
    #: the record of a single answer (a get, or a write's answer).
    item: Select = field(default_factory=Select)
    #: writes send ``{wrap: fields}`` rather than the fields themselves (FreshBooks' ``{"client": ...}``).
    wrap: str | None = None
    key: str = "id"
    paginator: Paginator = field(default_factory=StartingAfter)
    changes: ChangeFilter = field(default_factory=NoFilter)
    encoding: BodyEncoding = field(default_factory=Json)
    update_method: str = "PUT"
    #: query parameters on every list call (includes, expands, filters).
    list_params: Params = field(default_factory=list)
    #: query parameters on every single-record call.
    item_params: Params = field(default_factory=list)

    @property
    def one(self) -> str:
        return self.item_path or f"{self.path}/{{id}}"
