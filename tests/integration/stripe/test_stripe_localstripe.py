"""The Stripe connector against localstripe, an independent fake: customers, products, charges
and refunds, and the failures other Stripe tools are known for (issue 8's findings)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.stripe import REF_KEY, StripeConnector
from connectors.stripe.events import EventCursor
from syncengine.connector import Page
from syncengine.errors import AuthError, ConnectorError, NotFoundError, TransientError, ValidationError
from syncengine.records import Money

from .conftest import Boundary, json_answer
from .localstripe_peer import LocalStripe


def pull(connector: StripeConnector, obj: str, cursor: str | None) -> list[Page]:
    return list(connector.changes(obj, cursor))


def test_customers_two_way_with_address_and_back_reference(stripe: StripeConnector, boundary: Boundary) -> None:
    made = stripe.create("customers", {"name": "Ada", "email": "ada@example.com",
                                       "address": {"line1": "1 Main St", "city": "Paris", "country": "FR"}}, "key-ada")
    assert made.fields["address"]["city"] == "Paris"
    assert made.fields["metadata"][REF_KEY] == "key-ada"
    (sent,) = [r for r in boundary.requests if r.method == "POST"]
    assert sent.headers["Idempotency-Key"] == "key-ada"
    form = parse_qs(sent.content.decode())
    assert form["address[city]"] == ["Paris"] and form[f"metadata[{REF_KEY}]"] == ["key-ada"]
    updated = stripe.update("customers", made.key, {"phone": "+33 1 23"}, "key-upd")
    assert updated.fields["phone"] == "+33 1 23" and updated.fields["name"] == "Ada"
    assert boundary.requests[-1].headers["Idempotency-Key"] == "key-upd"


def test_a_create_replayed_after_a_crash_is_found_by_its_back_reference(
    stripe: StripeConnector, peer: LocalStripe
) -> None:
    """localstripe ignores Idempotency-Key (a second POST makes a second customer): the replayed
    create is still answered with the first record, found by its metadata back-reference in the
    pull the engine makes before replaying, by a fresh connector (a new process)."""
    first = stripe.create("customers", {"name": "Once", "email": "once@example.com"}, "crash-key")
    fresh = StripeConnector("stripe", stripe.options)
    try:
        pull(fresh, "customers", None)
        again = fresh.create("customers", {"name": "Once", "email": "once@example.com"}, "crash-key")
    finally:
        fresh.close()
    assert again.key == first.key
    live = [r for p in pull(stripe, "customers", None) for r in p.records if r.fields.get("name") == "Once"]
    assert len(live) == 1


def test_products_create_rename_archive(stripe: StripeConnector) -> None:
    made = stripe.create("products", {"name": "Widget", "description": "blue"}, "p-1")
    assert made.fields["active"] is True
    renamed = stripe.update("products", made.key, {"name": "Widget 2"}, "p-2")
    assert renamed.fields["name"] == "Widget 2" and renamed.fields["description"] == "blue"
    stripe.archive("products", made.key)
    assert stripe.get("products", [made.key]) == []
    listed = {r.key: r for p in pull(stripe, "products", None) for r in p.records}
    assert listed[made.key].deleted, "an archived product is gone for the engine"


def test_charges_and_refunds_read_in_minor_units_by_currency(stripe: StripeConnector, peer: LocalStripe) -> None:
    customer = peer.post("/v1/customers", {"name": "Payer"})
    card = peer.card(str(customer["id"]))
    yen = peer.post("/v1/charges", {"amount": "1050", "currency": "jpy", "customer": str(customer["id"]),
                                    "source": card})
    usd = peer.post("/v1/charges", {"amount": "1050", "currency": "usd", "customer": str(customer["id"]),
                                    "source": card})
    refund = peer.post("/v1/refunds", {"charge": str(usd["id"]), "amount": "250"})
    charges = {r.key: r for p in pull(stripe, "charges", None) for r in p.records}
    assert charges[str(yen["id"])].fields["amount"] == Money(Decimal("1050"), "JPY")
    assert charges[str(usd["id"])].fields["amount"] == Money(Decimal("10.50"), "USD")
    assert charges[str(usd["id"])].fields["amount_refunded"] == Money(Decimal("2.50"), "USD")
    refunds = {r.key: r for p in pull(stripe, "refunds", None) for r in p.records}
    assert refunds[str(refund["id"])].fields["amount"] == Money(Decimal("2.50"), "USD")
    assert refunds[str(refund["id"])].fields["charge"] == usd["id"]


# -- the findings of issue 8 -------------------------------------------------------------------

def _events_rewrite(change: object) -> object:
    def rewrite(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path != "/v1/events" or response.status_code != 200:
            return response
        body = response.json()
        body["data"] = change(body["data"])  # type: ignore[operator]
        return json_answer(response, body)
    return rewrite


def test_unknown_event_types_are_skipped_and_counted_not_a_failure(
    stripe: StripeConnector, boundary: Boundary
) -> None:
    made = stripe.create("customers", {"name": "Ada"}, "k")
    cursor = pull(stripe, "customers", None)[-1].cursor

    def add_unknown(events: list[dict[str, object]]) -> list[dict[str, object]]:
        stamp = int(datetime.now(UTC).timestamp())
        strange = {"id": "evt_unknown_1", "object": "event", "type": "customer.tax_id.created", "created": stamp,
                   "data": {"object": {"id": "txi_1", "object": "tax_id"}}}
        other = {**strange, "id": "evt_unknown_2", "type": "balance.available",
                 "data": {"object": {"object": "balance"}}}
        return [strange, other, *events]

    boundary.rewrites.append(_events_rewrite(add_unknown))  # type: ignore[arg-type]
    stripe.update("customers", made.key, {"name": "Ada L."}, "k2")
    pages = pull(stripe, "customers", cursor)
    assert sum(p.counts.get("events_unknown_type", 0) for p in pages) == 2
    assert [r.fields["name"] for p in pages for r in p.records] == ["Ada L."]


def test_duplicate_and_same_second_reordered_events_yield_the_current_record_once(
    stripe: StripeConnector, boundary: Boundary
) -> None:
    """Stripe never de-duplicates events and orders same-second ones arbitrarily: one sync engine
    applies events by ``created`` and leaves a paid invoice ``open``. We refetch each object once."""
    made = stripe.create("customers", {"name": "v1"}, "k")
    cursor = pull(stripe, "customers", None)[-1].cursor
    stripe.update("customers", made.key, {"name": "v2"}, "k2")
    stripe.update("customers", made.key, {"name": "v3"}, "k3")

    def shuffle(events: list[dict[str, object]]) -> list[dict[str, object]]:
        # every event in one second, the newest last (as if listed oldest first), each twice
        same = [{**e, "created": events[0]["created"]} for e in events]
        return list(reversed(same)) + same

    boundary.rewrites.append(_events_rewrite(shuffle))  # type: ignore[arg-type]
    pages = pull(stripe, "customers", cursor)
    records = [r for p in pages for r in p.records]
    assert [(r.key, r.fields["name"]) for r in records] == [(made.key, "v3")]
    assert sum(p.counts.get("events_duplicate", 0) for p in pages) >= 3
    resumed = pull(stripe, "customers", pages[-1].cursor)
    assert [r for p in resumed for r in p.records] == [], "events already seen in the cursor's second came back"


def test_a_cursor_past_the_events_window_falls_back_to_a_full_listing_reported_as_such(
    stripe: StripeConnector,
) -> None:
    """tap-stripe fails such a run, Airbyte silently refreshes: we list everything, and say so."""
    made = [stripe.create("customers", {"name": f"C{n}"}, f"k{n}") for n in range(4)]
    old = EventCursor(int((datetime.now(UTC) - timedelta(days=31)).timestamp())).encode()
    pages = pull(stripe, "customers", old)
    assert all(p.full for p in pages), "the fallback is a full listing (absence then proves deletion)"
    assert {r.key for p in pages for r in p.records} == {m.key for m in made}
    assert sum(p.counts.get("events_window_expired_full_listing", 0) for p in pages) == 1
    assert EventCursor.decode(pages[-1].cursor) is not None
    assert stripe.counters["events_window_expired_full_listing"] == 1


@pytest.mark.parametrize(("status", "error"), [(400, ValidationError), (403, AuthError), (404, NotFoundError)])
def test_400_403_404_answers_are_typed_errors_never_skipped(
    stripe: StripeConnector, boundary: Boundary, status: int, error: type[Exception]
) -> None:
    """Airbyte's source skips these silently and the records vanish; here the pull fails loudly."""
    stripe.create("customers", {"name": "A"}, "k")

    def refuse(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path == "/v1/customers" and request.method == "GET":
            body = {"error": {"type": "invalid_request_error", "code": "x", "message": f"refused {status}"}}
            return json_answer(response, body, status)
        return response

    boundary.rewrites.append(refuse)
    with pytest.raises(error, match=f"refused {status}"):
        pull(stripe, "customers", None)


def test_stripe_should_retry_false_stops_a_keyed_post_at_once(stripe: StripeConnector, boundary: Boundary) -> None:
    def fail(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.method == "POST":
            answer = json_answer(response, {"error": {"type": "api_error", "message": "no"}}, 500)
            answer.headers["Stripe-Should-Retry"] = "false"
            return answer
        return response

    boundary.rewrites.append(fail)
    with pytest.raises(TransientError, match="no"):
        stripe.create("customers", {"name": "A"}, "k")
    assert len([r for r in boundary.requests if r.method == "POST"]) == 1


def test_amounts_are_checked_against_the_currency_before_any_request(
    stripe: StripeConnector, boundary: Boundary
) -> None:
    for bad in (Money(Decimal("5.124"), "KWD"), Money(Decimal("10.505"), "USD"), Money(Decimal("10.5"), "JPY")):
        with pytest.raises(ValidationError) as caught:
            stripe.create("products", {"name": "P", "price": bad}, f"p-{bad}")
        assert caught.value.field == "price"
    assert [r for r in boundary.requests if r.method == "POST"] == []


def test_a_cursor_that_is_not_ours_is_a_typed_error(stripe: StripeConnector) -> None:
    with pytest.raises(ConnectorError, match="sync --full"):
        pull(stripe, "customers", '{"updated_at": "2026-01-01T00:00:00+00:00", "key": "1"}')
