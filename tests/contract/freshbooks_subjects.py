"""FreshBooks subjects for the connector contract: one per writable object, each on its own sandbox.

Every subject starts a fresh sandbox with no clients (``seed=0``; the sandbox still seeds its
fixed items, taxes, tasks and expense categories) and creates, through the connector itself,
whatever its object needs to exist first (a client for invoices, a USD invoice for payments).
Edits "behind the engine's back" go through a second connector, as another program would.

Claims, and why some are not:

* ``INCREMENTAL`` and ``DELETES_IN_CHANGES`` where the object has them (see connectors/freshbooks/specs.py);
  taxes are always listed in full; projects' deletes are seen by absence (an id-only listing
  compared with the ids the cursor holds).
* ``FIND`` for clients (by email).
* ``ARCHIVE`` is not claimed: in FreshBooks an archived record (vis_state 2) stays listed and
  readable, while the contract expects archive to hide it. The connector reports archived
  records as live with ``vis_state: 2`` so a mapping can see them.
* ``settable_change_time`` through the sandbox's clock: an edit "made three days ago" is made
  with the sandbox's clock set back, as if it had happened then.
* no ``idempotent_create``: FreshBooks takes no idempotency key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connectors.freshbooks.connector import FreshBooksConnector
from connectors.freshbooks.sandbox import SandboxServer
from syncengine.connector import Capability, Connector
from syncengine.http import RetryPolicy, normalize_token_response
from syncengine.records import Money, Record
from syncengine.tokens import MemoryTokenStore

from .subjects import PAGE, ContractSubject, Made, SubjectEnv, register

BASE = frozenset({Capability.LIST, Capability.GET, Capability.CREATE, Capability.UPDATE, Capability.DELETE})
INCREMENTAL = frozenset({Capability.INCREMENTAL, Capability.DELETES_IN_CHANGES})
FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.05, deadline=5.0)

#: per object: what must exist first -> fields the samples need (a client id, an invoice id, ...)
Prepare = Callable[[FreshBooksConnector, SandboxServer], dict[str, Any]]


def _connector(sb: SandboxServer, store: MemoryTokenStore) -> FreshBooksConnector:
    return FreshBooksConnector(
        "freshbooks",
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        redirect_uri=sb.redirect_uri,
        store=store,
        page_size=PAGE,
        records_per_batch=PAGE,  # a page of changes per API page: pulls span several pages
        retry=FAST_RETRY,
        clock=sb.now,
    )


def _make(obj: str, prepare: Prepare | None, holder: dict[str, Any],
          variants: Mapping[str, str] | None = None) -> Callable[[SubjectEnv], Made]:
    """A fresh sandbox per test (under ``variants``, else the strict defaults); ``holder`` receives
    the ids the samples need (a client's, ...)."""

    @contextmanager
    def make(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
        with SandboxServer(seed=0, port=0, variants=dict(variants or {})) as sb:
            store = MemoryTokenStore({"freshbooks": normalize_token_response(sb.issue_tokens(), now=time.time())})
            connector = _connector(sb, store)
            try:
                holder.clear()
                holder.update(prepare(connector, sb) if prepare else {})
                holder["_sandbox"] = sb
                yield connector, obj
            finally:
                connector.close()

    return make


@contextmanager
def _unreachable(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    from tests.conftest import free_port

    store = MemoryTokenStore({"freshbooks": {"access_token": "a", "refresh_token": "r", "expires_at": 4e9}})
    connector = FreshBooksConnector(
        "freshbooks",
        base_url=f"http://127.0.0.1:{free_port()}",
        client_id="id",
        client_secret="secret",
        redirect_uri="http://127.0.0.1/cb",
        store=store,
        retry=FAST_RETRY,
    )
    try:
        yield connector, "clients"
    finally:
        connector.close()


def _external_edit(
    fields: Callable[[Record], dict[str, Any]], holder: dict[str, Any]
) -> Callable[..., Mapping[str, Any]]:
    """Another program changes the record: a second connector on the same sandbox and token store.
    An edit ``at`` a past time is made with the sandbox's clock set back to it."""

    def edit(connector: Connector, obj: str, key: str, at: datetime | None) -> Mapping[str, Any]:
        assert isinstance(connector, FreshBooksConnector)
        other = FreshBooksConnector(
            "another-program",
            base_url=connector.base_url,
            client_id=connector.auth.client_id,
            client_secret=connector.auth.client_secret,
            redirect_uri=connector.auth.redirect_uri,
            store=connector.auth.store,
            clock=connector._clock,
        )
        sandbox: SandboxServer = holder["_sandbox"]
        try:
            (current,) = other.get(obj, [key])
            changed = fields(current)
            if at is not None:
                sandbox.set_now(at)
            other.update(obj, key, changed, f"external-{key}")
            return changed
        finally:
            if at is not None:
                sandbox.set_now(datetime.now(UTC))
            other.close()

    return edit


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def _a_client(connector: FreshBooksConnector, sb: SandboxServer) -> dict[str, Any]:
    client = connector.create("clients", {"organization": "Contract Co.", "currency_code": "USD"}, "prep-client")
    return {"client": int(client.key)}


def _an_invoice(connector: FreshBooksConnector, sb: SandboxServer) -> dict[str, Any]:
    ctx = _a_client(connector, sb)
    invoice = connector.create(
        "invoices",
        {
            "customerid": ctx["client"],
            "create_date": date(2026, 1, 5),
            "currency_code": "USD",
            "lines": [{"name": "Retainer", "qty": Decimal("1"), "unit_cost": usd("100000.00")}],
        },
        "prep-invoice",
    )
    return {**ctx, "invoice": int(invoice.key)}


def _a_category(connector: FreshBooksConnector, sb: SandboxServer) -> dict[str, Any]:
    return {"category": int(sb.state.list("expense_categories")[0]["id"])}


def _subject(
    obj: str,
    sample: Callable[[dict[str, Any], int], dict[str, Any]],
    change: Callable[[Record], dict[str, Any]],
    invalid: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    prepare: Prepare | None = None,
    extra: frozenset[Capability] = INCREMENTAL,
    managed: frozenset[str] = frozenset({"updated"}),
    variants: Mapping[str, str] | None = None,
    label: str | None = None,
) -> ContractSubject:
    if variants is None:  # kept, so the variant matrix below can make the same subject again
        _DEFINED[obj] = lambda chosen, name=None: _subject(obj, sample, change, invalid, prepare=prepare,
                                                           extra=extra, managed=managed, variants=chosen,
                                                           label=name)
    # The suite calls sample_fields(n) without the connector, so the ids a subject's samples
    # need (created in make) are kept here, per subject; tests of one subject run one at a time.
    holder: dict[str, Any] = {}
    suffix = f"[{label or ','.join(f'{k}={v}' for k, v in variants.items())}]" if variants else ""
    return ContractSubject(
        id=f"freshbooks-{obj}{suffix}",
        make=_make(obj, prepare, holder, variants),
        sample_fields=lambda n: sample(holder, n),
        changed_fields=change,
        invalid_fields=lambda: invalid(holder),
        external_edit=_external_edit(change, holder),
        capabilities=BASE | extra,
        unreachable=_unreachable if obj == "clients" else None,
        managed_fields=managed,
        settable_change_time=True,
        marks=(pytest.mark.variants,) if variants else (),
    )


_DEFINED: dict[str, Callable[..., ContractSubject]] = {}


def _edited(name: str) -> Callable[[Record], dict[str, Any]]:
    return lambda record: {name: f"{record.fields.get(name) or ''} (edited)".strip()}


for subject in (
    _subject(
        "clients",
        lambda ctx, n: {"email": f"client{n}@example.com", "organization": f"Client {n}", "fname": f"F{n}"},
        _edited("organization"),
        lambda ctx: {"organization": "Bad", "email": "not-an-email"},
        extra=INCREMENTAL | {Capability.FIND},
    ),
    _subject(
        "items",
        lambda ctx, n: {"name": f"Item {n}", "unit_cost": usd(f"{n}.10"), "qty": Decimal(n)},
        lambda r: {"unit_cost": Money(r.fields["unit_cost"].amount + Decimal("1.01"), "USD")},
        lambda ctx: {"name": "Bad", "qty": "lots"},
    ),
    _subject(
        "taxes",
        lambda ctx, n: {"name": f"Tax {n}", "amount": Decimal(n)},
        _edited("number"),
        lambda ctx: {"name": "Bad", "amount": "much"},
        extra=frozenset(),
    ),
    _subject(
        "tasks",
        lambda ctx, n: {"name": f"Task {n}", "rate": usd(f"{n}0.00"), "billable": True},
        _edited("description"),
        lambda ctx: {"name": "Bad", "rate": {"amount": "a lot", "code": "USD"}},
        managed=frozenset({"updated", "tname", "tdesc"}),  # FreshBooks' mirrors of name/description
    ),
    _subject(
        "invoices",
        lambda ctx, n: {
            "customerid": ctx["client"],
            "create_date": date(2026, 2, n),
            "currency_code": "USD",
            "notes": f"Invoice {n}",
        },
        _edited("notes"),
        lambda ctx: {"customerid": 999999999, "create_date": "2026-02-01"},
        prepare=_a_client,
    ),
    _subject(
        "estimates",
        lambda ctx, n: {
            "customerid": ctx["client"],
            "create_date": date(2026, 2, n),
            "currency_code": "USD",
            "terms": f"Estimate {n}",
        },
        _edited("terms"),
        lambda ctx: {"customerid": 999999999, "create_date": "2026-02-01"},
        prepare=_a_client,
    ),
    _subject(
        "payments",
        lambda ctx, n: {
            "invoiceid": ctx["invoice"],
            "amount": usd(f"{n}.25"),
            "date": date(2026, 2, n),
            "type": "Cash",
        },
        _edited("note"),
        lambda ctx: {"invoiceid": 999999999, "amount": usd("1.00")},
        prepare=_an_invoice,
    ),
    _subject(
        "expenses",
        lambda ctx, n: {
            "amount": usd(f"{n}.75"),
            "categoryid": ctx["category"],
            "date": date(2026, 2, n),
            "vendor": f"V{n}",
        },
        _edited("vendor"),
        lambda ctx: {"amount": usd("1.00"), "categoryid": 999999999},
        prepare=_a_category,
    ),
    _subject(
        "projects",
        lambda ctx, n: {"title": f"Project {n}", "client_id": ctx["client"]},
        _edited("description"),
        lambda ctx: {"title": "", "description": "no title"},
        prepare=_a_client,
        extra=INCREMENTAL,
        managed=frozenset({"updated_at"}),
    ),
    _subject(
        "time_entries",
        lambda ctx, n: {
            "started_at": datetime(2026, 2, 1, 9, tzinfo=UTC) + timedelta(hours=n),
            "duration": 600 * n,
            "is_logged": True,
            "note": f"Entry {n}",
        },
        _edited("note"),
        lambda ctx: {"started_at": "not a time", "duration": 60},
        managed=frozenset(),
    ),
):
    register(subject)


#: The variant matrix (marker ``variants``): subjects again under the non-default answer of each open
#: behaviour the contract can see, one object each where the variant is about that object; the
#: answers no contract test can tell apart (tokens, redirect URI, scopes, JPY, KWD, Retry-After
#: without a budget, cleared text) share one all-lenient clients subject. The defaults above are the
#: strict answers, so this is the other half of the matrix, kept small for CI.
LENIENT = {"retry_after": "seconds", "cleared_text": "empty_string", "validation_status": "422",
           "token_after_refresh": "valid", "redirect_uri": "any_loopback", "scopes": "ignored",
           "jpy_fractional": "accepted", "kwd": "accepted"}
for obj, chosen, name in (
    ("clients", {"error_shape": "code_details"}, None),
    ("clients", {"error_shape": "http200_error"}, None),
    ("invoices", {"validation_status": "422", "lines_without_id": "replace"}, None),
    ("time_entries", {"time_entry_delete": "inactive"}, None),
    ("projects", {"project_delete": "soft"}, None),
    ("clients", LENIENT, "lenient"),
):
    register(_DEFINED[obj](chosen, name))
