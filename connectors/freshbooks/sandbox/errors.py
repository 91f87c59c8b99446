"""FreshBooks' error bodies, one shape per URL family (reference §1.8, §1.9).

Handlers raise :class:`ApiError` with the accounting errno vocabulary (1001 required field,
1004 invalid value, 1012 not found, 1013/1014 bad paging, ...); :func:`error_body` renders it in the
shape of the family the request went to, because that is what each SDK parses:

* accounting / reports: ``{"response": {"errors": [{errno, field, message, object, value}]}}``
* events (callbacks):   ``{"errno": ..., "message": ..., "details": [...]}``
* projects / time entries: ``{"error": "..."}``, ``{"message": "..."}`` (401) or
  ``{"errno": 2001, "error": {field: message}}`` (422)
* ledger accounts (``/accounting/businesses``): ``{"errors": {message, status, details}}``
* identity and OAuth:   ``{"error": ..., "error_description": ...}``

Sandbox choice (UNCONFIRMED upstream): accounting validation errors answer HTTP 422.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Family(StrEnum):
    ACCOUNTING = "accounting"
    BUSINESS = "business"
    EVENTS = "events"
    PROJECTS = "projects"
    IDENTITY = "identity"
    OAUTH = "oauth"
    ADMIN = "admin"


def family_of(path: str) -> Family:
    """Which family's conventions a request path follows."""
    if path.startswith("/_sandbox"):
        return Family.ADMIN
    if path.startswith("/accounting/businesses/"):
        return Family.BUSINESS
    if path.startswith("/accounting/"):
        return Family.ACCOUNTING
    if path.startswith("/events/"):
        return Family.EVENTS
    if path.startswith(("/projects/", "/timetracking/", "/comments/")):
        return Family.PROJECTS
    if path.startswith("/auth/api/"):
        return Family.IDENTITY
    return Family.OAUTH


# Errno values used by the sandbox (subset of reference §1.9).
REQUIRED_FIELD = 1001
ACCESS_DENIED = 1003
INVALID_VALUE = 1004
PARSE_ERROR = 1005
DELETED_RESOURCE = 1011
UNKNOWN_RESOURCE = 1012
INVALID_PER_PAGE = 1013
INVALID_PAGE = 1014
INVALID_PERCENT = 1018
PROJECT_FIELD_REQUIRED = 2001

UNAUTHORIZED_TEXT = (
    "The server could not verify that you are authorized to access the URL requested. You either "
    "supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to "
    "supply the credentials required."
)
NOT_FOUND_TEXT = "Requested resource could not be found."


@dataclass
class ApiError(Exception):
    """An error answer; rendered per family by :func:`error_body`."""

    status: int
    errno: int
    message: str
    field: str | None = None
    object: str | None = None
    value: Any = None
    oauth_error: str = "invalid_request"
    details: list[str] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def not_found(obj: str, id_field: str, value: Any, label: str | None = None) -> ApiError:
    text = f"{label or obj.replace('_', ' ').capitalize()} not found."
    return ApiError(404, UNKNOWN_RESOURCE, text, field=id_field, object=obj, value=str(value))


def invalid(field_name: str, message: str, value: Any = None, obj: str | None = None,
            errno: int = INVALID_VALUE) -> ApiError:
    return ApiError(422, errno, message, field=field_name, object=obj, value=value)


def required(field_name: str, obj: str | None = None) -> ApiError:
    return ApiError(422, REQUIRED_FIELD, "This field is required.", field=field_name, object=obj)


def error_body(family: Family, err: ApiError) -> dict[str, Any]:
    """The JSON body FreshBooks would send for ``err`` on a path of ``family``."""
    if family in (Family.ACCOUNTING, Family.ADMIN):
        return {"response": {"errors": [{
            "errno": err.errno, "field": err.field, "message": err.message,
            "object": err.object, "value": None if err.value is None else str(err.value),
        }]}}
    if family is Family.EVENTS:
        if err.status == 404:
            return {"errno": 404, "message": NOT_FOUND_TEXT}
        if err.status == 401:
            return {"errno": 401, "message": f"invalid_token: {err.message}"}
        if err.errno in (REQUIRED_FIELD, INVALID_VALUE):
            reasons = err.details or [f"{err.field}: {err.message}"]
            return {"errno": 422, "message": "Invalid data in this request.", "details": reasons}
        return {"errno": err.errno, "message": err.message, "details": err.details}
    if family is Family.PROJECTS:
        if err.status == 404:
            return {"error": NOT_FOUND_TEXT}
        if err.status == 401:
            return {"message": UNAUTHORIZED_TEXT}
        if err.errno in (REQUIRED_FIELD, PROJECT_FIELD_REQUIRED, INVALID_VALUE, INVALID_PAGE,
                         INVALID_PER_PAGE):
            if err.errno in (REQUIRED_FIELD, PROJECT_FIELD_REQUIRED):
                return {"errno": PROJECT_FIELD_REQUIRED, "error": {err.field or "request": "field required"}}
            return {"errno": err.errno, "error": {err.field or "request": err.message}}
        return {"errno": err.errno, "error": err.message}
    if family is Family.BUSINESS:
        details: list[Any] = []
        if err.field:
            details.append({"reason": f"{err.field}: {err.message}",
                            "metadata": {"message": err.message, "field": err.field}})
        elif err.status not in (401, 429, 500, 503):
            details.append({"reason": err.message, "metadata": {"message": err.message}})
        return {"errors": {"message": f"Request failed with status code {err.status}",
                           "status": err.status, "details": details}}
    # identity and OAuth
    return {"error": err.oauth_error, "error_description": err.message}


def unauthorized(family: Family) -> ApiError:
    """A missing, unknown or expired bearer token, in each family's words."""
    if family is Family.IDENTITY:
        return ApiError(401, 401, "This action requires authentication to continue.",
                        oauth_error="unauthenticated")
    if family is Family.EVENTS:
        return ApiError(401, 401, "The access token is invalid")
    return ApiError(401, ACCESS_DENIED, UNAUTHORIZED_TEXT)


def server_error(status: int) -> ApiError:
    text = "Service Unavailable" if status == 503 else "An unexpected error occurred."
    return ApiError(status, 500 if status >= 500 else status, text, oauth_error="server_error")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, 429, "Too many requests. Please slow down and retry later.",
                    oauth_error="rate_limited", headers={"Retry-After": str(retry_after)})
