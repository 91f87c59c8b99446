"""``GET /auth/api/v1/users/me``: who the token belongs to and which businesses they can use.

Connectors take account_id, business_id and business_uuid from ``business_memberships[].business``
(reference §3.1); a membership's own ``id`` is deliberately different from the business id.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .context import sandbox
from .store import Book, Store


def _business(book: Book) -> dict[str, Any]:
    return {
        "id": book.business_id, "business_uuid": book.business_uuid, "name": book.name,
        "account_id": book.account_id, "date_format": "mm/dd/yyyy", "active": True,
        "address": {"id": book.business_id, "street": "100 Main St", "city": "Toronto", "province": "Ontario",
                    "country": "Canada", "postal_code": "M5V 1A1"},
        "phone_number": {"id": book.business_id, "phone_number": "416-555-0100"},
        "business_clients": [], "timezone": "US/Eastern", "base_currency_code": book.base_currency,
    }


def identity_document(store: Store) -> dict[str, Any]:
    me = dict(store.identity)
    books = list(store.books.values())
    memberships = [{"id": 9000 + n, "role": "owner", "unacknowledged_change": False, "fasttrack_token": None,
                    "business": _business(book)} for n, book in enumerate(books, start=1)]
    return {
        **me,
        "id": me.get("identity_id"),
        "setup_complete": True, "language": "en", "phone_numbers": [], "addresses": [],
        "profile": {"setup_complete": True, "first_name": me.get("first_name"), "last_name": me.get("last_name")},
        "profession": {"id": 1, "business_id": books[0].business_id, "title": "Consultant",
                       "company": books[0].name, "designation": None},
        "links": {"me": "/service/auth/api/v1/users/me", "roles": "/service/auth/api/v1/users/role"},
        "permissions": {b.account_id: {"admin": {"allowed": True}} for b in books},
        "subscription_statuses": {b.account_id: "active" for b in books},
        "groups": [{"id": 5000 + n, "group_id": 6000 + n, "role": "owner", "identity_id": me.get("identity_id"),
                    "identity_uuid": me.get("identity_uuid"), "business_id": b.business_id, "active": True}
                   for n, b in enumerate(books, start=1)],
        "roles": [{"id": 7000 + n, "role": "admin", "systemid": 8000 + n, "userid": 1, "accountid": b.account_id,
                   "created_at": me.get("created_at"), "links": {"destroy": "/api/v1/users/role/1"}}
                  for n, b in enumerate(books, start=1)],
        "business_memberships": memberships,
        "identity_origin": "magnum",
    }


async def me(request: Request) -> Response:
    sb = sandbox(request)
    with sb.store.lock:
        return JSONResponse({"response": identity_document(sb.store)})
