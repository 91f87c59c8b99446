"""Declarative REST resources: path, envelope, key, paginator, change filter, write encoding.

A REST connector is mostly a table of :class:`Resource` values and a few vendor rules (its error
body, its money); :class:`RestClient` does the calls on the engine's HTTP layer.
"""

from syncengine.rest.client import ListPage, RestClient, loads
from syncengine.rest.encode import BodyEncoding, Form, Json, flatten_form
from syncengine.rest.filters import ChangeFilter, CreatedSince, NoFilter, UpdatedSince
from syncengine.rest.options import OptionsError, RestOptions, parse_options
from syncengine.rest.paginate import NoPagination, PageNumbers, Paginator, Params, StartingAfter
from syncengine.rest.resource import Resource
from syncengine.rest.select import Select

__all__ = [
    "BodyEncoding",
    "ChangeFilter",
    "CreatedSince",
    "Form",
    "Json",
    "ListPage",
    "NoFilter",
    "NoPagination",
    "OptionsError",
    "PageNumbers",
    "Paginator",
    "Params",
    "Resource",
    "RestClient",
    "RestOptions",
    "Select",
    "StartingAfter",
    "UpdatedSince",
    "flatten_form",
    "loads",
    "parse_options",
]
