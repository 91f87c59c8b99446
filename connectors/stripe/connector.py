"""The Stripe connector: the object table of :mod:`.resources` on the shared REST layer.

* **Changes** come from ``/v1/events`` (:mod:`.events`): each event names an object, which is
  refetched (once per pull), so event order never decides a record's content. Event types no
  object knows are skipped and counted (``events_unknown_type`` in the run's counts). A first
  pull (no cursor) lists every object and then resumes from the newest event; a cursor older
  than the events window (30 days) falls back to such a full listing, compared by hash by the
  engine, and the run counts it as ``events_window_expired_full_listing`` and logs a warning.
* **Writes**: every POST carries ``Idempotency-Key`` from the write's intent (a multi-step write
  suffixes it per step), and every create carries ``metadata[syncengine_ref]`` = that key: a
  create interrupted by a crash is answered by Stripe's idempotency store when replayed, and
  found again by its back-reference among the records the connector has read (the engine pulls
  the target side before it replays), never made twice.
* **Errors**: 429, 5xx and ``Stripe-Should-Retry`` go through the engine's HTTP layer; every
  other failure is a typed error (400 ValidationError naming the field, 401/403 AuthError, 404
  NotFoundError), never an empty page.
* **Money** is checked against the currency's minor unit before any request (:mod:`.money`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import httpx
import structlog
from pydantic import Field

from connectors.stripe.errors import parse_error
from connectors.stripe.events import EventCursor, order_events, paged_with_cursors
from connectors.stripe.money import from_minor, to_minor
from connectors.stripe.resources import KNOWN_EVENT_TYPES, OBJECTS, StripeObject
from syncengine.connector import BaseConnector, Capability, ObjectSpec, Page
from syncengine.errors import ConfigError, ConnectorError, NotFoundError, ValidationError
from syncengine.http import RateLimit, RetryPolicy, make_client
from syncengine.records import Money, Record
from syncengine.rest import Resource, RestClient, RestOptions, StartingAfter, parse_options

__all__ = ["API_VERSION", "REF_KEY", "StripeConnector", "StripeOptions"]

_log = structlog.get_logger("syncengine.connectors.stripe")

#: the API version the pinned ``stripe`` library speaks (16.1.0); answers are read in its shapes.
API_VERSION = "2026-10-28.endive"
#: the metadata key holding the engine's back-reference (the create's idempotency key).
REF_KEY = "syncengine_ref"
EVENTS = Resource("events", "/v1/events", paginator=StartingAfter())
#: a cursor this close to the end of the window is already treated as expired (the listing
#: takes time, and the oldest events fall out meanwhile).
WINDOW_MARGIN = timedelta(hours=1)


class StripeOptions(RestOptions):
    """``type: stripe`` in config.yaml."""

    base_url: str = "https://api.stripe.com"
    api_key: str | None = Field(None, description="sk_... (default: $STRIPE_API_KEY)")
    api_version: str = API_VERSION
    page_size: int = Field(100, ge=1, le=100)
    rate_limit_per_second: float | None = Field(20.0, gt=0)
    #: ``wildcard`` asks Stripe for ``type=<object>.*``; ``none`` lists every event and filters
    #: here (for peers without wildcards, such as localstripe).
    event_filter: Literal["wildcard", "none"] = "wildcard"
    events_window_days: int = Field(30, ge=1)
    #: read products with their default price expanded (off for peers without prices).
    expand_default_price: bool = True


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _unix(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, 12, tzinfo=UTC).timestamp())
    return int(value)


class StripeConnector(BaseConnector):
    def __init__(
        self,
        name: str,
        options: StripeOptions,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        clock: Any = _utcnow,
    ) -> None:
        self.name = name
        self.options = options
        api_key = options.api_key or os.environ.get("STRIPE_API_KEY")
        if not api_key:
            raise ConfigError(f"connector {name!r}: a Stripe api_key is needed", hint="set api_key or STRIPE_API_KEY")
        policy = retry or RetryPolicy(max_attempts=options.max_attempts)
        if policy.retry_hint_header is None:
            policy = replace(policy, retry_hint_header="Stripe-Should-Retry")
        self.http = make_client(
            options.base_url.rstrip("/"),
            rate_limit=RateLimit.per_second(options.rate_limit_per_second) if options.rate_limit_per_second else None,
            retry=policy,
            timeout=options.timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "Stripe-Version": options.api_version},
        )
        self.rest = RestClient(self.http, connector=name, parse_error=parse_error, page_size=options.page_size,
                               auth_hint="check the Stripe api_key (a restricted key needs read/write on this object)")
        self._clock = clock
        #: back-references seen: idempotency key -> (object, id).
        self._refs: dict[str, tuple[str, str]] = {}
        #: what the pulls counted (events skipped, fallbacks), also handed to the run in Page.counts.
        self.counters: Counter[str] = Counter()

    @classmethod
    def from_config(cls, name: str, options: Mapping[str, Any]) -> StripeConnector:
        return cls(name, parse_options(StripeOptions, options, connector=name))

    @property
    def calls(self) -> Counter[str]:
        return self.rest.calls

    def check_key(self) -> str:
        """``syncengine validate --online``: one page of one customer, so a key Stripe refuses (401)
        or a restricted key without read access to customers (403) is said before a sync."""
        self.rest.call("GET", "/v1/customers", obj="customers", params=[("limit", "1")])
        key = str(self.options.api_key or os.environ.get("STRIPE_API_KEY") or "")
        return "the API key is accepted" + (" (test mode)" if key.startswith(("sk_test_", "rk_test_")) else "")

    # -- description --------------------------------------------------------------------------
    def objects(self) -> Mapping[str, ObjectSpec]:
        return {name: o.spec for name, o in OBJECTS.items()}

    def _object(self, obj: str, capability: Capability | None = None) -> StripeObject:
        if capability is None:
            self.spec(obj)
        else:
            self.require(obj, capability)
        return OBJECTS[obj]

    # -- reading ------------------------------------------------------------------------------
    def _list_params(self, o: StripeObject, *, listing: bool) -> list[tuple[str, str]]:
        if o.name == "products" and self.options.expand_default_price:
            return [("expand[]", "data.default_price" if listing else "default_price")]
        return []

    def _record(self, o: StripeObject, raw: Mapping[str, Any]) -> Record:
        key = str(raw["id"])
        if raw.get("deleted") is True:
            return Record(key, {"id": key}, None, deleted=True)
        fields = self._decode(o, raw)
        ref = (raw.get("metadata") or {}).get(REF_KEY) if isinstance(raw.get("metadata"), Mapping) else None
        if ref:
            self._refs[str(ref)] = (o.name, key)
        deleted = o.inactive_is_deleted and fields.get("active") is False
        if o.name == "invoice_payments":
            # Only a paid invoice payment with something kept is a payment: an open attempt (a
            # declined card) or a canceled one is none, and a fully refunded one is gone (FreshBooks
            # refuses a payment of 0, so a refund to nothing removes it).
            net = fields.get("net_amount")
            deleted = fields.get("status") != "paid" or net is None or net.amount <= 0
        return Record(key, fields, _time(raw.get("updated") or raw.get("created")), deleted=deleted)

    def _decode(self, o: StripeObject, raw: Mapping[str, Any]) -> dict[str, Any]:
        currency = str(raw.get("currency") or "")
        out: dict[str, Any] = {}
        for name, spec in o.spec.fields.items():
            value = raw.get(name)
            if spec.type == "money":
                out[name] = from_minor(value, currency) if not isinstance(value, Mapping) else None
            elif spec.type == "datetime":
                out[name] = _time(value)
            elif spec.type == "date":
                moment = _time(value)
                out[name] = moment.date() if moment else None
            elif name == "currency":
                out[name] = value.upper() if isinstance(value, str) and value else None
            elif spec.type == "boolean" and isinstance(value, str):
                out[name] = value.lower() == "true"  # a peer that echoes form text (localstripe)
            elif name == "metadata":
                out[name] = dict(value) if isinstance(value, Mapping) else {}
            elif isinstance(value, Mapping) and "id" in value and spec.type == "string":
                out[name] = str(value["id"])  # an expanded reference reads as its id
            else:
                out[name] = value
        if o.name == "products":
            price = raw.get("default_price")
            if isinstance(price, Mapping):
                out["default_price"] = str(price.get("id"))
                out["price"] = from_minor(price.get("unit_amount"), str(price.get("currency") or ""))
            else:
                out["price"] = None
        elif o.name == "invoices":
            out["lines"] = self._lines(raw)
        elif o.name == "invoice_payments":
            self._payment_fields(raw, out)
        if "address" in out and isinstance(out["address"], Mapping):
            out["address"] = {k: out["address"].get(k) for k in ("line1", "line2", "city", "state", "postal_code",
                                                                 "country")}
        return out

    def _lines(self, raw: Mapping[str, Any]) -> list[dict[str, Any]]:
        listing = raw.get("lines") if isinstance(raw.get("lines"), Mapping) else {}
        rows = list(listing.get("data") or []) if isinstance(listing, Mapping) else []
        if isinstance(listing, Mapping) and listing.get("has_more"):
            lines = Resource("invoices", f"/v1/invoices/{raw['id']}/lines", paginator=StartingAfter())
            rows = [row for page in self.rest.pages(lines) for row in page.rows]
        out = []
        for line in rows:
            currency = str(line.get("currency") or raw.get("currency") or "")
            pricing = line.get("pricing") if isinstance(line.get("pricing"), Mapping) else {}
            unit = pricing.get("unit_amount_decimal") if isinstance(pricing, Mapping) else None
            quantity = line.get("quantity") or 1
            if unit is None and line.get("amount") is not None:
                unit = int(line["amount"]) // int(quantity)
            out.append({
                "description": line.get("description"),
                "quantity": quantity,
                "unit_amount": from_minor(unit, currency),
                "amount": from_minor(line.get("amount"), currency),
            })
        return out

    def _payment_fields(self, raw: Mapping[str, Any], out: dict[str, Any]) -> None:
        currency = str(raw.get("currency") or "")
        transitions = raw.get("status_transitions") if isinstance(raw.get("status_transitions"), Mapping) else {}
        out["paid_at"] = _time(transitions.get("paid_at")) if isinstance(transitions, Mapping) else None
        payment = raw.get("payment") if isinstance(raw.get("payment"), Mapping) else {}
        assert isinstance(payment, Mapping)
        intent = payment.get("payment_intent")
        charge = payment.get("charge")
        intent_id = intent.get("id") if isinstance(intent, Mapping) else intent
        charge_id = charge.get("id") if isinstance(charge, Mapping) else charge
        refunded = 0
        if intent_id and not charge_id:
            found = self.rest.fetch(OBJECTS["payment_intents"].rest, str(intent_id))
            latest = found.get("latest_charge")
            charge_id = latest.get("id") if isinstance(latest, Mapping) else latest
        if charge_id:
            charge_raw = self.rest.fetch(OBJECTS["charges"].rest, str(charge_id))
            refunded = int(charge_raw.get("amount_refunded") or 0)
        out["payment_intent"] = str(intent_id) if intent_id else None
        out["charge"] = str(charge_id) if charge_id else None
        paid = int(raw.get("amount_paid") or 0)
        out["amount_refunded"] = from_minor(refunded, currency)
        out["net_amount"] = from_minor(max(0, paid - refunded), currency)

    def _listing(self, o: StripeObject, *, cursor_at_end: str | None, counts: dict[str, int]) -> Iterator[Page]:
        """Every record of ``o``, newest first; only the last page carries the resume cursor."""
        params = self._list_params(o, listing=True)
        pending: list[Record] | None = None
        for page in self.rest.pages(o.rest, params):
            if pending is not None:
                yield Page(pending, cursor=None, full=True)
            pending = [self._record(o, row) for row in page.rows]
        yield Page(pending or [], cursor=cursor_at_end, full=True, counts=dict(counts))

    def _newest_event(self, o: StripeObject) -> EventCursor:
        """Where the event feed stands now: the newest event's second, read again in full."""
        params = [("limit", "1"), *self._type_filter(o)]
        body = self.rest.call("GET", EVENTS.path, obj=o.name, params=params)
        rows = EVENTS.rows.rows(body)
        if rows:
            return EventCursor(int(rows[0].get("created") or 0))
        # no event yet: start a little before now (our clock may run ahead of Stripe's)
        return EventCursor(int((self._clock() - timedelta(minutes=5)).timestamp()))

    def _type_filter(self, o: StripeObject) -> list[tuple[str, str]]:
        if self.options.event_filter == "none":
            return []
        if o.related_events:
            # several families: name them (``types[]`` takes up to 20)
            return [("types[]", t) for t in sorted(o.events | o.related_events)][:20]
        return [("type", f"{o.event_prefix}.*")]

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        o = self._object(obj, Capability.LIST)
        try:
            position = EventCursor.decode(cursor)
        except (ValueError, TypeError) as exc:
            raise ConnectorError(f"unreadable Stripe cursor {cursor!r}: {exc}", connector=self.name, obj=obj,
                                 hint="run `syncengine sync --full` to list everything afresh") from None
        if position is None:
            start = self._newest_event(o)
            yield from self._listing(o, cursor_at_end=start.encode(), counts={})
            return
        window_start = self._clock() - timedelta(days=self.options.events_window_days) + WINDOW_MARGIN
        if position.created < window_start.timestamp():
            _log.warning("stripe.events.window_expired", connector=self.name, obj=obj,
                         cursor_created=_time(position.created), note="full listing, compared by hash")
            self.counters["events_window_expired_full_listing"] += 1
            start = self._newest_event(o)
            yield from self._listing(o, cursor_at_end=start.encode(),
                                     counts={"events_window_expired_full_listing": 1})
            return
        yield from self._from_events(o, position)

    def _from_events(self, o: StripeObject, position: EventCursor) -> Iterator[Page]:
        params = [("created[gte]", str(position.created)), *self._type_filter(o)]
        raw = [row for page in self.rest.pages(EVENTS, params) for row in page.rows]
        events = order_events(raw, position)
        counts: Counter[str] = Counter()
        counts["events_duplicate"] += len(raw) - len({str(r.get("id")) for r in raw})
        fetched: set[str] = set()
        emitted = False
        for page_events, after in paged_with_cursors(events, position, self.options.page_size):
            wanted: list[str] = []
            for event in page_events:
                if event.type in o.events and event.object_type in (o.kind, None) and event.object_id:
                    if event.object_id not in fetched and event.object_id not in wanted:
                        wanted.append(event.object_id)
                elif event.type in o.related_events and event.payment_intent:
                    for key in self._payments_of_intent(o, event.payment_intent):
                        if key not in fetched and key not in wanted:
                            wanted.append(key)
                elif event.type not in KNOWN_EVENT_TYPES:
                    counts["events_unknown_type"] += 1
                    _log.info("stripe.events.unknown_type", connector=self.name, obj=o.name, type=event.type,
                              event_id=event.id)
            records = []
            for key in wanted:
                fetched.add(key)
                records.append(self._refetch(o, key))
            page_counts = {k: v for k, v in counts.items() if v}
            self.counters.update(page_counts)
            counts.clear()
            emitted = True
            yield Page(records, cursor=after.encode(), counts=page_counts)
        if not emitted:
            yield Page([], cursor=position.encode(), counts={k: v for k, v in counts.items() if v})

    def _payments_of_intent(self, o: StripeObject, intent: str) -> list[str]:
        """The invoice payments made through this payment intent."""
        params = [("payment[type]", "payment_intent"), ("payment[payment_intent]", intent)]
        return [str(row["id"]) for page in self.rest.pages(o.rest, params) for row in page.rows]

    def _refetch(self, o: StripeObject, key: str) -> Record:
        """The object as it is now; gone (404, or a ``deleted`` answer) is a deletion."""
        try:
            raw = self.rest.fetch(o.rest, key, self._list_params(o, listing=False))
        except NotFoundError:
            return Record(key, {"id": key}, None, deleted=True)
        return self._record(o, raw)

    def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        o = self._object(obj, Capability.GET)
        found: list[Record] = []
        for key in keys:
            record = self._refetch(o, str(key))
            if not record.deleted:
                found.append(record)
        return found

    def find(self, obj: str, field: str, values: Sequence[Any]) -> list[Record]:
        o = self._object(obj)
        if not o.spec.can(Capability.FIND) or field != "email":
            return []
        found: list[Record] = []
        for value in values:
            for page in self.rest.pages(o.rest, [("email", str(value))]):
                found.extend(r for r in (self._record(o, row) for row in page.rows)
                             if r.fields.get("email") == value and not r.deleted)
        return found

    # -- writing ------------------------------------------------------------------------------
    def _headers(self, idempotency_key: str, step: str = "") -> dict[str, str]:
        return {"Idempotency-Key": f"{idempotency_key}/{step}" if step else idempotency_key}

    def _body(self, o: StripeObject, fields: Mapping[str, Any], allowed: frozenset[str], key: str | None,
              currency: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for name, value in fields.items():
            spec = o.spec.fields.get(name)
            if spec is None or name not in allowed:
                if spec is not None and spec.read_only:
                    continue  # Stripe computes it
                raise ValidationError(f"{o.name} has no writable field {name!r}", connector=self.name, obj=o.name,
                                      key=key, field=name)
            if spec.type == "money":
                body[name] = None if value is None else to_minor(value, currency, field=name, obj=o.name,
                                                                 connector=self.name, key=key)
            elif spec.type in ("date", "datetime"):
                body[name] = _unix(value)
            elif name == "currency":
                body[name] = str(value).lower() if value else None
            elif name == "metadata":
                body[name] = {str(k): "" if v is None else str(v) for k, v in (value or {}).items()}
            elif name == "address" and isinstance(value, Mapping):
                body[name] = {k: "" if v is None else str(v) for k, v in value.items()}
            else:
                body[name] = value
        return body

    def _currency_of(self, fields: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> str | None:
        value = fields.get("currency") or (current or {}).get("currency")
        if value:
            return str(value)
        for item in fields.values():
            if isinstance(item, Money):
                return item.currency
        return None

    def _existing(self, o: StripeObject, idempotency_key: str) -> Record | None:
        """The record an earlier create under this key made, if we have seen its back-reference."""
        seen = self._refs.get(idempotency_key)
        if seen is None or seen[0] != o.name:
            return None
        record = self._refetch(o, seen[1])
        return None if record.deleted else record

    def create(self, obj: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        o = self._object(obj, Capability.CREATE)
        again = self._existing(o, idempotency_key)
        if again is not None:
            return self._finish_invoice(o, again, fields, idempotency_key) if o.name == "invoices" else again
        missing = [n for n, s in o.spec.fields.items() if s.required and fields.get(n) in (None, "")]
        if missing:
            raise ValidationError(f"{obj} needs {', '.join(missing)}", connector=self.name, obj=obj, field=missing[0])
        data = dict(fields)
        metadata = {**(data.pop("metadata", None) or {}), REF_KEY: idempotency_key}
        if o.name == "products":
            return self._create_product(o, data, metadata, idempotency_key)
        if o.name == "invoices":
            return self._create_invoice(o, data, metadata, idempotency_key)
        body = self._body(o, {**data, "metadata": metadata}, o.create, None, self._currency_of(data))
        raw = self.rest.create(o.rest, body, headers=self._headers(idempotency_key))
        return self._after_write(o, raw)

    def _after_write(self, o: StripeObject, raw: Mapping[str, Any]) -> Record:
        if o.name in ("products", "invoices"):
            return self._refetch(o, str(raw["id"]))  # with the default price / every line
        return self._record(o, raw)

    def _create_product(self, o: StripeObject, data: dict[str, Any], metadata: dict[str, str],
                        idempotency_key: str) -> Record:
        price = data.pop("price", None)
        body = self._body(o, {**data, "metadata": metadata}, o.create, None, None)
        if price is not None:
            if not isinstance(price, Money):
                raise ValidationError("price must be an amount with its currency", connector=self.name, obj=o.name,
                                      field="price")
            body["default_price_data"] = {
                "currency": price.currency.lower(),
                "unit_amount": to_minor(price, None, field="price", obj=o.name, connector=self.name),
            }
        raw = self.rest.create(o.rest, body, headers=self._headers(idempotency_key))
        return self._after_write(o, raw)

    def _create_invoice(self, o: StripeObject, data: dict[str, Any], metadata: dict[str, str],
                        idempotency_key: str) -> Record:
        lines = data.pop("lines", None) or []
        status = data.pop("status", None)
        currency = self._currency_of(data)
        body = self._body(o, {**data, "metadata": metadata}, o.create, None, currency)
        body["auto_advance"] = False
        if body.get("due_date") and not body.get("collection_method"):
            body["collection_method"] = "send_invoice"  # Stripe takes a due date only for sent invoices
        body.setdefault("pending_invoice_items_behavior", "exclude")
        raw = self.rest.create(o.rest, body, headers=self._headers(idempotency_key, "invoice"))
        key = str(raw["id"])
        self._add_lines(o, key, str(raw.get("customer") or data.get("customer")), currency, lines, idempotency_key)
        if status not in (None, "", "draft"):
            self._move_status(o, key, "draft", str(status), idempotency_key)
        return self._refetch(o, key)

    def _finish_invoice(self, o: StripeObject, made: Record, fields: Mapping[str, Any],
                        idempotency_key: str) -> Record:
        """An invoice an interrupted create made, found again by its back-reference: a create is
        several requests (the invoice, a line each, finalize), so the crash may have come between
        them. The lines it had not added yet and the status it had not reached are done now, with
        the keys the uninterrupted create would have used, so the rerun ends where it would have
        (returned as it was, a draft with one line of three would be linked as the finished create
        and never completed)."""
        current = self.rest.fetch(o.rest, made.key)
        status = str(current.get("status") or "draft")
        lines = list(fields.get("lines") or [])
        added = len(made.fields.get("lines") or [])  # lines go in one by one, in order
        if status == "draft" and added < len(lines):
            currency = self._currency_of(fields, current)
            self._add_lines(o, made.key, str(current.get("customer")), currency, lines[added:], idempotency_key,
                            first=added)
        wanted = fields.get("status")
        if wanted not in (None, "", "draft"):
            self._move_status(o, made.key, status, str(wanted), idempotency_key)
        return self._refetch(o, made.key)

    def _add_lines(self, o: StripeObject, invoice: str, customer: str, currency: str | None,
                   lines: Sequence[Mapping[str, Any]], idempotency_key: str, first: int = 0) -> None:
        items = Resource("invoiceitems", "/v1/invoiceitems", encoding=o.rest.encoding, update_method="POST")
        for index, line in enumerate(lines, start=first):
            unit = line.get("unit_amount")
            quantity = line.get("quantity") or 1
            if isinstance(quantity, str) or int(quantity) != quantity:
                raise ValidationError(f"line {index + 1}: quantity must be a whole number", connector=self.name,
                                      obj=o.name, key=invoice, field=f"lines.{index}.quantity")
            minor = to_minor(unit, currency, field=f"lines.{index}.unit_amount", obj=o.name, connector=self.name,
                             key=invoice)
            body = {"invoice": invoice, "customer": customer, "currency": (currency or "").lower(),
                    "description": line.get("description") or "", "quantity": int(quantity),
                    "unit_amount_decimal": str(minor)}
            self.rest.create(items, body, headers=self._headers(idempotency_key, f"line-{index}"))

    def _move_status(self, o: StripeObject, key: str, current: str, wanted: str, idempotency_key: str) -> None:
        if wanted == current or (wanted == "open" and current == "paid"):
            # A paid invoice was open; it got paid in Stripe, and its payments carry that back.
            return
        steps = {
            ("draft", "open"): ["finalize"],
            ("draft", "paid"): ["finalize", "pay"],
            ("draft", "void"): ["finalize", "void"],
            ("draft", "uncollectible"): ["finalize", "mark_uncollectible"],
            ("open", "paid"): ["pay"],
            ("open", "void"): ["void"],
            ("open", "uncollectible"): ["mark_uncollectible"],
            ("uncollectible", "paid"): ["pay"],
            ("uncollectible", "void"): ["void"],
        }.get((current, wanted))
        if steps is None:
            raise ValidationError(f"an invoice cannot go from {current} to {wanted}", connector=self.name,
                                  obj=o.name, key=key, field="status")
        for step in steps:
            body = {"paid_out_of_band": True} if step == "pay" else ({"auto_advance": False}
                                                                     if step == "finalize" else {})
            self.rest.call("POST", f"{o.rest.path}/{key}/{step}", obj=o.name, key=key, body=body,
                           encoding=o.rest.encoding, headers=self._headers(idempotency_key, step))

    def update(self, obj: str, key: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        o = self._object(obj, Capability.UPDATE)
        data = dict(fields)
        if o.name == "invoices":
            return self._update_invoice(o, key, data, idempotency_key)
        if o.name in ("products", "prices"):
            current = self.rest.fetch(o.rest, key, self._list_params(o, listing=False))
            if o.name == "prices" and ("unit_amount" in data or "currency" in data):
                return self._replace_price(o, key, current, data, idempotency_key)
            if o.name == "products" and "price" in data:
                self._set_product_price(o, key, current, data.pop("price"), idempotency_key)
                if not data:
                    return self._refetch(o, key)
        body = self._body(o, data, o.update, key, self._currency_of(data))
        if not body:
            return self._refetch_live(o, key)
        raw = self.rest.update(o.rest, key, body, headers=self._headers(idempotency_key))
        return self._after_write(o, raw)

    def _refetch_live(self, o: StripeObject, key: str) -> Record:
        record = self._refetch(o, key)
        if record.deleted and not o.inactive_is_deleted:
            raise NotFoundError(f"no {o.name} {key}", connector=self.name, obj=o.name, key=key)
        return record

    def _replace_price(self, o: StripeObject, key: str, current: Mapping[str, Any], data: dict[str, Any],
                       idempotency_key: str) -> Record:
        """Prices are immutable in amount and currency: make the new one, then archive the old."""
        currency = str(data.get("currency") or current.get("currency") or "")
        unit = data.get("unit_amount", from_minor(current.get("unit_amount"), currency))
        body = {
            "product": str(data.get("product") or current.get("product")),
            "currency": currency.lower(),
            "unit_amount": to_minor(unit, currency, field="unit_amount", obj=o.name, connector=self.name, key=key),
            "nickname": data.get("nickname", current.get("nickname")) or "",
            "metadata": {**(current.get("metadata") or {}), **(data.get("metadata") or {}),
                         REF_KEY: idempotency_key, "replaces": key},
        }
        raw = self.rest.create(o.rest, body, headers=self._headers(idempotency_key, "new-price"))
        self.rest.update(o.rest, key, {"active": False}, headers=self._headers(idempotency_key, "archive-old"))
        return self._record(o, raw)

    def _set_product_price(self, o: StripeObject, key: str, current: Mapping[str, Any], price: Any,
                           idempotency_key: str) -> None:
        old = current.get("default_price")
        old_id = old.get("id") if isinstance(old, Mapping) else old
        old_amount = from_minor(old.get("unit_amount"), str(old.get("currency") or "")) \
            if isinstance(old, Mapping) else None
        if price == old_amount:
            return
        prices = OBJECTS["prices"].rest
        if price is None:
            self.rest.update(o.rest, key, {"default_price": ""}, headers=self._headers(idempotency_key, "no-price"))
        else:
            if not isinstance(price, Money):
                raise ValidationError("price must be an amount with its currency", connector=self.name, obj=o.name,
                                      key=key, field="price")
            new = self.rest.create(prices, {
                "product": key, "currency": price.currency.lower(),
                "unit_amount": to_minor(price, None, field="price", obj=o.name, connector=self.name, key=key),
                "metadata": {REF_KEY: idempotency_key, **({"replaces": str(old_id)} if old_id else {})},
            }, headers=self._headers(idempotency_key, "new-price"))
            self.rest.update(o.rest, key, {"default_price": str(new["id"])},
                             headers=self._headers(idempotency_key, "default-price"))
        if old_id:
            self.rest.update(prices, str(old_id), {"active": False}, headers=self._headers(idempotency_key, "archive"))
        self._archive_strays(key, None if price is None else str(new["id"]), idempotency_key)

    def _archive_strays(self, product: str, keep: str | None, idempotency_key: str) -> None:
        """Any other active price of ``product`` that this engine made (it carries our
        back-reference): left by an earlier price change cut by a crash between its requests (a
        new price made, the old one not yet archived) under another key. Prices a person made in
        Stripe (another billing period, say) are theirs and stay. The one window this cannot reach
        is a crash after the default price moved and before the old one was archived, when no
        later change comes: its new price says ``replaces``."""
        prices = OBJECTS["prices"].rest
        for page in self.rest.pages(prices, [("product", product), ("active", "true")]):
            for row in page.rows:
                ours = isinstance(row.get("metadata"), Mapping) and REF_KEY in row["metadata"]
                if ours and str(row["id"]) != keep:
                    self.rest.update(prices, str(row["id"]), {"active": False},
                                     headers=self._headers(idempotency_key, f"archive-{row['id']}"))

    def _update_invoice(self, o: StripeObject, key: str, data: dict[str, Any], idempotency_key: str) -> Record:
        current = self.rest.fetch(o.rest, key)
        status = str(current.get("status") or "draft")
        wanted = data.pop("status", None)
        lines = data.pop("lines", None)
        if status != "draft" and (data or lines is not None):
            changing = sorted(data) + (["lines"] if lines is not None else [])
            # an open invoice takes only a few fields: metadata and description
            if set(changing) - {"metadata", "description"}:
                raise ValidationError(f"invoice {key} is {status}: only a draft can change "
                                      f"{', '.join(changing)}", connector=self.name, obj=o.name, key=key,
                                      field=changing[0])
        currency = self._currency_of(data, current)
        body = self._body(o, data, o.update, key, currency)
        if body:
            self.rest.update(o.rest, key, body, headers=self._headers(idempotency_key, "fields"))
        if lines is not None:
            self._replace_lines(o, key, current, currency, lines, idempotency_key)
        if wanted not in (None, ""):
            self._move_status(o, key, status, str(wanted), idempotency_key)
        return self._refetch_live(o, key)

    def _replace_lines(self, o: StripeObject, key: str, current: Mapping[str, Any], currency: str | None,
                       lines: Sequence[Mapping[str, Any]], idempotency_key: str) -> None:
        listing = current.get("lines") if isinstance(current.get("lines"), Mapping) else {}
        rows = list(listing.get("data") or []) if isinstance(listing, Mapping) else []
        if isinstance(listing, Mapping) and listing.get("has_more"):
            every = Resource("invoices", f"/v1/invoices/{key}/lines", paginator=StartingAfter())
            rows = [row for page in self.rest.pages(every) for row in page.rows]
        for row in rows:
            parent = row.get("parent") if isinstance(row.get("parent"), Mapping) else {}
            details = parent.get("invoice_item_details") if isinstance(parent, Mapping) else None
            item = details.get("invoice_item") if isinstance(details, Mapping) else row.get("invoice_item")
            if item:
                self.rest.call("DELETE", f"/v1/invoiceitems/{item}", obj=o.name, key=key)
        self._add_lines(o, key, str(current.get("customer")), currency, lines, f"{idempotency_key}/lines")

    def delete(self, obj: str, key: str) -> None:
        o = self._object(obj, Capability.DELETE)
        if o.name == "invoices":
            current = self.rest.fetch(o.rest, key)
            if current.get("status") != "draft":
                self._move_status(o, key, str(current.get("status")), "void", f"delete:{key}")
                return
        self.rest.delete(o.rest, key)

    def archive(self, obj: str, key: str) -> None:
        o = self._object(obj, Capability.ARCHIVE)
        self.rest.update(o.rest, key, {"active": False}, headers=self._headers(f"archive:{key}"))

    def close(self) -> None:
        self.http.close()
