"""Stripe subjects for the connector contract, against localstripe (an independent Stripe fake).

Customers only: they are the one localstripe object with every event the contract's cursor tests
need (created, updated, deleted). Claims, and why some are not:

* ``INCREMENTAL`` and ``DELETES_IN_CHANGES`` through ``/v1/events`` (a deleted customer's
  refetch answers 404 on localstripe, ``deleted: true`` on Stripe: both read as a deletion);
* ``idempotent_create``: localstripe ignores ``Idempotency-Key``, so this proves the connector's
  own guard, the ``metadata[syncengine_ref]`` back-reference;
* no ``FIND``: localstripe's customer list takes no ``email`` filter;
* no ``settable_change_time``: Stripe stamps every change with its own clock.

When the Stripe sandbox (connectors/stripe/sandbox/) is on main, a second subject runs the same
suite against it for every writable object.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from connectors.stripe import StripeConnector, StripeOptions
from syncengine.connector import Capability, Connector
from syncengine.http import RetryPolicy
from syncengine.records import Record
from tests.integration.stripe.localstripe_peer import API_KEY, LocalStripe, localstripe

from .subjects import PAGE, ContractSubject, SubjectEnv, register

FAST_RETRY = RetryPolicy(max_attempts=3, backoff_base=0.05, deadline=5.0)
CAPABILITIES = frozenset({Capability.LIST, Capability.GET, Capability.CREATE, Capability.UPDATE, Capability.DELETE,
                          Capability.INCREMENTAL, Capability.DELETES_IN_CHANGES})


def localstripe_options(url: str, **extra: Any) -> StripeOptions:
    """Options for a connector on localstripe: no wildcard event filter, no prices, no pacing."""
    return StripeOptions(base_url=url, api_key=API_KEY, event_filter="none", expand_default_price=False,
                         rate_limit_per_second=None, **extra)


_peers: dict[int, LocalStripe] = {}


@contextmanager
def _make(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    with localstripe(env.tmp_path) as peer:
        connector = StripeConnector("stripe", localstripe_options(peer.url, page_size=PAGE), retry=FAST_RETRY)
        _peers[id(connector)] = peer
        try:
            yield connector, "customers"
        finally:
            _peers.pop(id(connector), None)
            connector.close()


@contextmanager
def _unreachable(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    from tests.conftest import free_port

    connector = StripeConnector("stripe", localstripe_options(f"http://127.0.0.1:{free_port()}"), retry=FAST_RETRY)
    try:
        yield connector, "customers"
    finally:
        connector.close()


def _sample(n: int) -> dict[str, Any]:
    return {"email": f"client{n}@example.com", "name": f"Client {n}", "phone": f"+1 555 010{n:02d}"}


def _changed(record: Record) -> dict[str, Any]:
    return {"name": f"{record.fields.get('name') or ''} (edited)".strip()}


def _edit(connector: Connector, obj: str, key: str, at: datetime | None) -> Mapping[str, Any]:
    """Another program (the Stripe dashboard, a script) renames the customer."""
    peer = _peers[id(connector)]
    changed = {"name": f"edited outside {key}"}
    peer.post(f"/v1/customers/{key}", changed)
    return changed


register(
    ContractSubject(
        id="stripe-localstripe-customers",
        make=_make,
        sample_fields=_sample,
        changed_fields=_changed,
        # a field Stripe's customers do not have: refused before any request, naming the field
        invalid_fields=lambda: {"name": "Bad", "balance_due": "12.00"},
        external_edit=_edit,
        capabilities=CAPABILITIES,
        unreachable=_unreachable,
        idempotent_create=True,
    )
)


# -- the Stripe sandbox (connectors/stripe/sandbox/), once it is installed ------------------------

try:
    from connectors.stripe.sandbox import SandboxServer
except ImportError:  # the sandbox lands separately; until then only localstripe is a subject
    SandboxServer = None

if SandboxServer is not None:
    from decimal import Decimal

    import httpx

    from syncengine.records import Money

    _sandboxes: dict[int, Any] = {}

    def _sandbox_make(obj: str) -> Any:
        @contextmanager
        def make(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
            with SandboxServer(seed=0, port=0) as sb:
                options = StripeOptions(base_url=sb.url, api_key=sb.api_key, page_size=PAGE,
                                        rate_limit_per_second=None)
                connector = StripeConnector("stripe", options, retry=FAST_RETRY)
                _sandboxes[id(connector)] = sb
                try:
                    yield connector, obj
                finally:
                    _sandboxes.pop(id(connector), None)
                    connector.close()

        return make

    def _sandbox_edit(connector: Connector, obj: str, key: str, at: datetime | None) -> Mapping[str, Any]:
        sb = _sandboxes[id(connector)]
        changed = {"name": f"edited outside {key}"}
        httpx.post(f"{sb.url}/v1/{obj}/{key}", data=changed,
                   headers={"Authorization": f"Bearer {sb.api_key}"}).raise_for_status()
        return changed

    register(
        ContractSubject(
            id="stripe-sandbox-customers",
            make=_sandbox_make("customers"),
            sample_fields=_sample,
            changed_fields=_changed,
            invalid_fields=lambda: {"name": "Bad", "balance_due": "12.00"},
            external_edit=_sandbox_edit,
            capabilities=CAPABILITIES | {Capability.FIND},
            unreachable=_unreachable,
            idempotent_create=True,
        )
    )
    register(
        ContractSubject(
            id="stripe-sandbox-products",
            make=_sandbox_make("products"),
            sample_fields=lambda n: {"name": f"Product {n}", "description": f"thing {n}"},
            changed_fields=_changed,
            # 5.124 KWD: Stripe takes three-decimal currencies in steps of 0.010; refused before sending
            invalid_fields=lambda: {"name": "Bad", "price": Money(Decimal("5.124"), "KWD")},
            external_edit=_sandbox_edit,
            capabilities=CAPABILITIES | {Capability.ARCHIVE},
            idempotent_create=True,
            managed_fields=frozenset({"updated"}),
        )
    )
