"""The FreshBooks connector: the generic engine over the object table in :mod:`.specs`.

Everything object-specific is data in :data:`RESOURCES`, and each URL family's envelopes,
paging, includes and change filters are REST-layer strategies (:mod:`.families`,
:mod:`syncengine.rest`); this module knows the read-ahead, the two delete passes and the write
rules:

* an update sends only the given fields, and never ``vis_state`` together with data fields:
  FreshBooks runs only the vis_state *phase* of such a PUT and silently drops the data
  (reference §1.6), so a vis_state change goes in its own PUT, after the data;
* after a write we return the record as stored, re-reading it when the write's answer lacks an
  include we need (invoice and estimate lines);
* ids, computed totals and timestamps are read-only and never sent;
* FreshBooks takes no idempotency key, so a create is sent once: the HTTP layer does not retry a
  POST that timed out or lost its connection, and the engine's intent log decides what to do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from difflib import get_close_matches
from typing import Any

import httpx
import structlog

from connectors.freshbooks.currency import AmountError
from connectors.freshbooks.discovery import Business, choose_business
from connectors.freshbooks.errors import parse_error
from connectors.freshbooks.idset import IdSet
from connectors.freshbooks.readahead import ReadAhead
from connectors.freshbooks.scopes import MissingScopeError, needed_scope, scope_named
from connectors.freshbooks.specs import RESOURCES, Resource
from connectors.freshbooks.wire import EASTERN, decode_fields, encode_fields, loads
from syncengine.connector import BaseConnector, Capability, ObjectSpec, Page
from syncengine.currencies import is_iso_currency
from syncengine.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    NeedsDecisionError,
    NotFoundError,
    RecordError,
    TransientError,
    UnsupportedError,
    ValidationError,
)
from syncengine.http import OAuth2RefreshAuth, RateLimit, RetryPolicy, make_client
from syncengine.incremental import Watermark, advance, decode_cursor, encode_cursor
from syncengine.records import Money, Record
from syncengine.rest import RestClient
from syncengine.tokens import TokenStore

__all__ = ["CONFIG_KEYS", "FreshBooksConnector"]

_log = structlog.get_logger("syncengine.connectors.freshbooks")

#: FreshBooks' rate limit is per minute and its 429 carries no documented Retry-After: wait a window.
RATE_LIMIT_WINDOW = 60.0
REAUTHORIZE = "run `syncengine auth freshbooks` to authorize again"

#: pages a listing reads ahead of the engine (100 records each; see readahead.py) ...
READ_AHEAD_PAGES = 10
#: ... with this many requests out at once: one runs at most 1/latency pages a second, and the
#: rate limiter paces them anyway (4 keep 600 a minute up to a 400 ms round trip).
READ_AHEAD_REQUESTS = 4
#: records handed to the engine per page of changes: it commits once per page, and FreshBooks'
#: 100-record pages would make it pay that (a ledger and a database transaction) 1,400 times
#: for a business's data.
RECORDS_PER_BATCH = 1000
#: the id-only listing of objects whose deletes are not listed: FreshBooks' largest page.
ID_PAGE_SIZE = 100
#: candidates for a delete by absence confirmed (read by id, a 404 is a delete) per pull.
ABSENCE_CONFIRMATIONS = 100

CONFIG_KEYS = frozenset(
    {
        "type",
        "base_url",
        "client_id",
        "client_secret",
        "redirect_uri",
        "token_name",
        "business_id",
        "rate_limit_per_minute",
        "page_size",
        "report_currency",
        "report_start",
        "timeout",
        "auth_url",
        "scopes",
    }
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class FreshBooksConnector(BaseConnector):
    """FreshBooks over its REST API, authorized by OAuth 2.0 (see :mod:`connectors.freshbooks.auth`)."""

    def __init__(
        self,
        name: str,
        *,
        base_url: str = "https://api.freshbooks.com",
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        store: TokenStore,
        token_name: str = "freshbooks",
        business_id: int | None = None,
        rate_limit_per_minute: int | None = None,
        transport: httpx.BaseTransport | None = None,
        page_size: int = 100,
        report_currency: str | None = None,
        report_start: date | str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], None] = time.sleep,
        records_per_batch: int = RECORDS_PER_BATCH,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.business_id = int(business_id) if business_id is not None else None
        self.page_size = max(1, min(int(page_size), 100))  # FreshBooks caps per_page at 100 silently
        self.records_per_batch = max(1, records_per_batch)
        #: reports in this currency only; None: one per currency the business uses (see report_currencies)
        self.report_currency = report_currency.upper() if report_currency else None
        self.report_start = date.fromisoformat(report_start) if isinstance(report_start, str) else report_start
        self._clock = clock
        self.auth = OAuth2RefreshAuth(
            f"{self.base_url}/auth/oauth/token",
            client_id,
            client_secret,
            redirect_uri,
            store,
            token_name,
            reauthorize_hint=REAUTHORIZE,
            transport=transport,
        )
        self.http = make_client(
            self.base_url,
            auth=self.auth,
            rate_limit=RateLimit.per_minute(rate_limit_per_minute) if rate_limit_per_minute else None,
            retry=retry or RetryPolicy(rate_limit_window=RATE_LIMIT_WINDOW, deadline=RATE_LIMIT_WINDOW * 3),
            timeout=timeout,
            transport=transport,
            sleep=sleep,
            user_agent=f"syncengine/0.1 (FreshBooks client_id {client_id})",
        )
        self._business: Business | None = None
        self.rest = RestClient(self.http, connector=name, parse_error=parse_error, auth_hint=REAUTHORIZE,
                               page_size=self.page_size, path_values=self._business_ids)
        #: currencies met on the records this connector read (clients, invoices, estimates)
        self._currencies_seen: set[str] = set()
        #: the currencies of every client as of a moment: the last full listing of the clients
        #: (the clients pull's or the reports' own), reused by the next report pulled
        self._currency_scan: tuple[Watermark, frozenset[str]] | None = None
        #: API calls made, by object (for the API-cost benchmark and tests).
        self.calls = self.rest.calls

    @classmethod
    def from_config(cls, name: str, config: Mapping[str, Any], store: TokenStore) -> FreshBooksConnector:
        """Build from a config.yaml section; client id/secret may come from the environment."""
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            hints = [f"{k} -> {m[0]}" for k in unknown if (m := get_close_matches(k, CONFIG_KEYS, 1))]
            raise ConfigError(
                f"connector {name!r}: unknown FreshBooks settings: {', '.join(unknown)}",
                hint=("did you mean " + ", ".join(hints)) if hints else f"known: {', '.join(sorted(CONFIG_KEYS))}",
            )
        client_id = config.get("client_id") or os.environ.get("FRESHBOOKS_CLIENT_ID")
        client_secret = config.get("client_secret") or os.environ.get("FRESHBOOKS_CLIENT_SECRET")
        if not client_id or not client_secret:
            raise ConfigError(
                f"connector {name!r}: FreshBooks client_id and client_secret are required",
                hint="set them in config or in FRESHBOOKS_CLIENT_ID / FRESHBOOKS_CLIENT_SECRET",
            )
        if not config.get("redirect_uri"):
            raise ConfigError(
                f"connector {name!r}: redirect_uri is required (the one registered with the FreshBooks app)"
            )
        report_currency = config.get("report_currency")
        if report_currency not in (None, "") and not is_iso_currency(str(report_currency)):
            raise ConfigError(
                f"connector {name!r}: report_currency {report_currency!r} is not an ISO 4217 currency code",
                hint="write a code like USD or EUR, or leave it out for a report per currency the business uses",
            )
        rate = config.get("rate_limit_per_minute")
        business_id = config.get("business_id")
        return cls(
            name,
            base_url=str(config.get("base_url") or "https://api.freshbooks.com"),
            client_id=str(client_id),
            client_secret=str(client_secret),
            redirect_uri=str(config["redirect_uri"]),
            store=store,
            token_name=str(config.get("token_name") or "freshbooks"),
            business_id=int(business_id) if business_id is not None else None,
            rate_limit_per_minute=int(rate) if rate else None,
            page_size=int(config.get("page_size") or 100),
            report_currency=str(config["report_currency"]) if config.get("report_currency") else None,
            report_start=config.get("report_start"),
            timeout=float(config.get("timeout") or 30.0),
        )

    # -- description --------------------------------------------------------------------------
    def objects(self) -> Mapping[str, ObjectSpec]:
        return {name: r.spec for name, r in RESOURCES.items()}

    def _resource(self, obj: str, capability: Capability | None = None) -> Resource:
        if capability is None:
            self.spec(obj)
        else:
            self.require(obj, capability)
        return RESOURCES[obj]

    # -- HTTP ----------------------------------------------------------------------------------
    def business(self) -> Business:
        """The business in use, discovered once from the identity endpoint."""
        if self._business is None:
            identity = self._call("account", "GET", "/auth/api/v1/users/me")
            if not isinstance(identity, Mapping):
                raise ConnectorError("identity endpoint returned no object", connector=self.name)
            body = identity.get("response", identity)
            self._business = choose_business(body, self.business_id, connector=self.name)
        return self._business

    def _business_ids(self) -> dict[str, Any]:
        """The values path templates name, from the business in use."""
        b = self.business()
        return {"account_id": b.account_id, "business_id": b.business_id, "business_uuid": b.business_uuid}

    def _path(self, template: str, key: str | None = None) -> str:
        return self.rest.path(template, key)

    def _call(
        self,
        obj: str,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> Any:
        try:
            response = self.rest.request(method, path, obj=obj, key=key, params=params or (), body=body)
        except AuthError as exc:
            missing = self._missing_scope(obj, method, exc) if exc.status == 403 else None
            if missing is not None:
                raise MissingScopeError(missing, connector=self.name, obj=obj, key=key, method=method) from exc
            raise
        return loads(response.content)

    def _missing_scope(self, obj: str, method: str, error: AuthError) -> str | None:
        """The scope a 403 is about: the one the answer names, else the one the call needs, if the
        stored token does not hold it (a token that holds it was refused for another reason)."""
        scope = scope_named(error.message) or needed_scope(obj, method)
        if scope is None:
            return None
        token = self.auth.store.load_token(self.auth.token_name) or {}
        granted = str(token.get("scope") or "").split()
        return None if scope in granted else scope

    def api(
        self,
        method: str,
        template: str,
        *,
        obj: str = "api",
        key: str | None = None,
        params: Sequence[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """One call outside the object table (webhook callbacks, ...): ``template`` may name
        {account_id}, {business_id}, {business_uuid}; errors are typed as everywhere else."""
        return self._call(obj, method, self._path(template), params=params, body=body, key=key)

    # -- reading -------------------------------------------------------------------------------
    def _list_pages(self, res: Resource, params: list[tuple[str, str]]) -> Iterator[list[Mapping[str, Any]]]:
        """Raw records, one list per API page; after the first, pages are read ahead on helper
        threads (:mod:`.readahead`) while the caller works on the ones before."""

        def fetch(page: int) -> tuple[list[Mapping[str, Any]], int]:
            query = [*params, *res.rest.list_params, *res.family.paging.page(page, self.page_size)]
            return self._unwrap_list(res, self._call(res.name, "GET", self._path(res.path), params=query))

        rows, pages = fetch(1)
        if pages <= 1 or not rows:
            yield rows
            return
        rest = ReadAhead(fetch, 2, pages, depth=READ_AHEAD_PAGES, workers=READ_AHEAD_REQUESTS,
                         name=f"freshbooks-{res.name}-pages")
        try:
            yield rows
            yield from rest
        finally:
            rest.close()

    def _unwrap_list(self, res: Resource, body: Any) -> tuple[list[Mapping[str, Any]], int]:
        """A list answer's records and page count (1 when the envelope gives none)."""
        return res.rest.rows.rows(body), res.family.paging.page_count(body) or 1

    def _unwrap_single(self, res: Resource, body: Any) -> Mapping[str, Any]:
        if not isinstance(body, Mapping):
            raise ConnectorError(f"empty answer for one {res.single}", connector=self.name, obj=res.name)
        item = res.rest.item(body)
        if not isinstance(item, Mapping):
            raise ConnectorError(f"answer holds no {res.single}", connector=self.name, obj=res.name)
        return item

    def _record(self, res: Resource, raw: Mapping[str, Any], *, deleted: bool | None = None) -> Record:
        data = dict(raw)
        data.pop("abilities", None)
        if res.name == "projects" and isinstance(data.get("group"), Mapping):
            # a single project shows its group; listings show group_id: keep one shape
            data["group_id"] = data.pop("group").get("id")
        fields = decode_fields(res.spec.fields, data, res.zone, None, res.utc_fields)
        code = fields.get("currency_code")
        if code and isinstance(code, str):
            self._currencies_seen.add(code.upper())
        key = fields.get(res.spec.key)
        updated = fields.get(res.updated_field) if res.updated_field else None
        if deleted is None:
            if res.deleted_by == "include_deleted":
                deleted = fields.get("active") is False
            else:
                deleted = fields.get("vis_state") == 1
        return Record(
            key=str(key),
            fields=fields,
            updated_at=updated if isinstance(updated, datetime) else None,
            deleted=deleted,
        )

    def changes(self, obj: str, cursor: str | None) -> Iterator[Page]:
        """Pages changed since ``cursor``; intermediate pages keep the old cursor, the last the new one.

        Listings are not sorted by update time, so a watermark taken from a page in the middle
        could skip an older change on a later page; the new watermark is only handed out on the
        pull's last page (resuming from an earlier page repeats, never skips).

        A full pull (no cursor) lists every live record and says so (``Page.full``), so absence
        tells deletes and the deletion pass is skipped. For day-granular ``updated_min`` objects
        a completed pull moves the watermark up to the pull's start even when nothing changed:
        the next filter day is that day minus one, so clock skew below a day cannot hide a
        change, and a quiet account does not keep re-reading an old day's records.
        """
        res = self._resource(obj, Capability.LIST)
        started_at = self._clock()
        if res.family.reading == "reports":
            yield self._reports(res, cursor)
            return
        if res.family.reading in ("identity", "listing"):
            yield Page(self._read_whole(res), cursor=None, full=True)
            return
        mark, extra = decode_cursor(cursor)
        params: list[tuple[str, str]] = []
        full = mark is None or res.changes == "full"
        if not full and mark is not None:
            params = self._change_filter(res, mark)
        #: deletes not listed by the API: ids compared with those the cursor holds (see _absent)
        #: a deleted record listed as such proves this account keeps its deletes visible: the id
        #: listing that finds hard deletes is then skipped for good (kept in the cursor as "kept")
        kept_deletes = res.absence_too and extra.get("kept") == "1"
        tracks_ids = (res.deleted_by == "absence" or res.absence_too) and res.changes != "full" and not kept_deletes
        listed_live: set[int] = set()
        listed_deleted: set[int] = set()
        seen_mark = mark
        pending: Page | None = None

        def passes() -> Iterator[Page]:
            nonlocal seen_mark
            prefix = [("search[vis_state]", "1")] if res.deleted_by == "vis_state" and not full else []
            main = [*params, ("include_deleted", "true")] if res.deleted_by == "include_deleted" else params
            for rows in self._list_pages(res, main):
                records = [self._record(res, row) for row in rows]
                seen_mark = advance(seen_mark, records, started_at=started_at)
                if tracks_ids:
                    listed_live.update(int(r.key) for r in records if not r.deleted and r.key.isdigit())
                if res.absence_too:
                    listed_deleted.update(int(r.key) for r in records if r.deleted and r.key.isdigit())
                yield Page(records, cursor=cursor, full=full)
            if prefix:
                for rows in self._list_pages(res, [*params, *prefix]):
                    records = [self._record(res, row, deleted=True) for row in rows]
                    seen_mark = advance(seen_mark, records, started_at=started_at)
                    yield Page(records, cursor=cursor, full=full)

        batch: list[Record] = []  # API pages joined up to records_per_batch: one engine batch
        for page in passes():
            batch.extend(page.records)
            if len(batch) >= self.records_per_batch:
                if pending is not None:
                    yield pending
                pending, batch = Page(batch, cursor=cursor, full=full), []
        if batch:
            if pending is not None:
                yield pending
            pending = Page(batch, cursor=cursor, full=full)
        cursor_extra: dict[str, str] = {}
        if res.absence_too and (kept_deletes or listed_deleted):
            cursor_extra["kept"] = "1"
        counts: dict[str, int] = {}
        if tracks_ids:
            ids, deleted, present = self._absent(res, full, extra.get("ids"), listed_live, counts, listed_deleted)
            if ids is not None:
                cursor_extra["ids"] = ids.encode()
            if deleted:
                if pending is not None:
                    yield pending
                pending = Page(deleted, cursor=cursor, full=False)
            if present is not None:
                if pending is None:
                    pending = Page([], cursor=cursor, full=full)
                pending.present = frozenset(str(key) for key in present)
        final = seen_mark
        if res.changes == "updated_min" or (res.updated_field is None and res.changes == "updated_since"):
            # (time entries show no change time: everything before the pull's start was listed)
            floor = Watermark(started_at.astimezone(UTC))
            final = floor if final is None or final < floor else final
        new_cursor = encode_cursor(final, **cursor_extra)
        if pending is None:
            pending = Page([], cursor=new_cursor, full=full)
        pending.cursor = new_cursor
        pending.counts.update(counts)
        if full and res.name == "clients":
            # every client was listed (and read, so _currencies_seen holds their currencies): the
            # reports of this run need not list them again
            self._currency_scan = (Watermark(started_at.astimezone(UTC)), frozenset(self._currencies_seen))
        yield pending

    def _absent(
        self, res: Resource, full: bool, stored: str | None, listed_live: set[int], counts: dict[str, int],
        listed_deleted: frozenset[int] | set[int] = frozenset(),
    ) -> tuple[IdSet | None, list[Record], set[int] | None]:
        """Deletes of an object whose API lists none (projects, time entries deleted hard): the ids
        to keep in the cursor and the records found deleted, by an id-only listing compared with
        the ids stored last time (those the change pass already showed deleted are not repeated).

        A full pull lists every live record: its ids are the new set, and the engine infers the
        deletes itself. An incremental pull lists every id again (a page per 100, no includes),
        and an id stored last time and listed neither now nor by the change pass is a candidate.
        A listing that fails or comes back short (fewer ids than its ``total``, an empty page
        before the last) proves nothing: no delete is inferred and the old ids are kept. A page
        can still shift under a delete made while we list (a record moves to the page we already
        read), so each candidate is confirmed by reading it: only a 404 is a delete. At most
        :data:`ABSENCE_CONFIRMATIONS` are read per pull; the rest stay in the set for the next."""
        if full:
            return IdSet(listed_live), [], None
        previous: IdSet | None = None
        if stored:
            try:
                previous = IdSet.decode(stored)
            except ValueError:
                _log.warning("freshbooks.ids.unreadable", obj=res.name)
        listed, pages, complete = self._list_ids(res)
        counts["id_listing_pages"] = pages
        counts["deleted_by_absence"] = 0
        if not complete:
            counts["id_listing_incomplete"] = 1
            _log.warning("freshbooks.ids.incomplete", obj=res.name, pages=pages, ids=len(listed))
            # without an earlier set, a partial one would hide the unlisted ids' deletes for good
            return (previous.union(listed | listed_live) if previous is not None else None), [], None
        now = listed | listed_live
        if previous is None:
            return IdSet(now), [], now
        candidates = [key for key in previous.missing_from(now) if key not in listed_deleted]
        deleted: list[Record] = []
        kept: list[int] = []
        for index, key in enumerate(candidates):
            if index >= ABSENCE_CONFIRMATIONS:
                kept.append(key)
                continue
            try:
                record = self._get_one(res, str(key))
            except NotFoundError:
                deleted.append(Record(str(key), {}, None, deleted=True))
                continue
            except TransientError:
                kept.append(key)
                continue
            if record.deleted:
                deleted.append(Record(str(key), {}, None, deleted=True))
            else:
                kept.append(key)  # there after all: the listing shifted under a concurrent change
        counts["deleted_by_absence"] = len(deleted)
        return IdSet(now).union(kept), deleted, now | set(kept)

    def _list_ids(self, res: Resource) -> tuple[set[int], int, bool]:
        """Every id of ``res``, by its plain listing at 100 a page without includes or filters:
        (ids, pages read, whether the listing is known complete)."""
        ids: set[int] = set()
        page = read = 0
        totals: set[int] = set()
        try:
            while True:
                page += 1
                query = res.family.paging.page(page, ID_PAGE_SIZE)
                body = self._call(res.name, "GET", self._path(res.path), params=query)
                read += 1
                rows, pages = self._unwrap_list(res, body)
                total = res.family.paging.record_count(body)
                if total is not None:
                    totals.add(total)
                for row in rows:
                    key = row.get("id")
                    if key is not None and str(key).isdigit():
                        ids.add(int(key))
                if page >= pages:
                    break
                if not rows:
                    return ids, read, False  # more pages promised and none given
        except TransientError as exc:
            _log.warning("freshbooks.ids.failed", obj=res.name, page=page, error=str(exc))
            return ids, read, False
        # the total moved while we listed (a record came or went), or ids are missing: not sure
        complete = len(totals) <= 1 and all(len(ids) >= t for t in totals)
        return ids, read, complete

    def _change_filter(self, res: Resource, mark: Watermark) -> list[tuple[str, str]]:
        """The object's change filter (:mod:`.families`) for records changed since ``mark``."""
        return list(res.rest.changes.params(mark))

    def _read_whole(self, res: Resource) -> list[Record]:
        if res.family.reading == "identity":
            b = self.business()
            ident = b.identity
            fields = {
                "business_id": b.business_id,
                "business_uuid": b.business_uuid,
                "account_id": b.account_id,
                "name": b.name,
                "role": b.role,
                "date_format": b.raw.get("date_format"),
                "identity_id": ident.get("identity_id") or ident.get("id"),
                "email": ident.get("email"),
                "first_name": ident.get("first_name"),
                "last_name": ident.get("last_name"),
            }
            return [Record(str(b.business_id), fields)]
        if res.family.reading == "listing":
            return [self._record(res, row, deleted=False) for rows in self._list_pages(res, []) for row in rows]
        raise UnsupportedError(f"{res.name} is read per currency", connector=self.name, obj=res.name)

    def _reports(self, res: Resource, cursor: str | None) -> Page:
        """One report per currency the business uses (or ``report_currency`` only). A currency the
        report endpoint refuses is a read error of that report, and the page is then not taken as
        a full listing, so its earlier report is never taken for deleted."""
        currencies, new_cursor = self.report_currencies(res.name, cursor)
        records: list[Record] = []
        errors: list[RecordError] = []
        for currency in currencies:
            try:
                records.append(self._read_report(res, currency))
            except ValidationError as exc:
                errors.append(RecordError(f"no {res.name} in {currency}: {exc.message}", field="currency_code",
                                          source=f"{self.name}/{res.name}"))
        return Page(records, cursor=new_cursor, errors=errors, full=not errors,
                    counts={"report_currencies": len(currencies)})

    def report_currencies(self, obj: str, cursor: str | None) -> tuple[list[str], str | None]:
        """The currencies to pull reports in, and the cursor that remembers them.

        FreshBooks names no endpoint listing a business's currencies; every client has a
        ``currency_code`` (the default of its invoices), and the identity endpoint shows the
        business's ``base_currency_code``. So: the base currency, the clients' currencies and those
        met on records already read, kept in the report's cursor (a set that only grows: a
        currency once used keeps its report). After the first pull (one listing of the clients,
        100 a page, no includes) only the clients changed since are listed, like any incremental
        pull: usually one call. A listing made earlier by this connector (a full pull of the
        clients, or the other report's) is reused, not repeated: the cursor then remembers that
        listing's moment, so a client added since is found by the next run. ``report_currency``
        restricts it to that one, with no listing."""
        if self.report_currency:
            return [self.report_currency], cursor
        mark, extra = decode_cursor(cursor)
        known = {code for code in extra.get("currencies", "").split(",") if code}
        base = self.business().raw.get("base_currency_code")
        if isinstance(base, str) and base:
            known.add(base.upper())
        scan = self._currency_scan
        if scan is not None and (mark is None or scan[0] >= mark):
            # the clients were listed (whole, or changed since) up to scan's moment in this run
            known |= scan[1] | self._currencies_seen
            final = scan[0] if mark is None else max(scan[0], mark)
            return sorted(known), encode_cursor(final, currencies=",".join(sorted(known)))
        clients = RESOURCES["clients"]
        started_at = self._clock()
        params = self._change_filter(clients, mark) if mark is not None else []
        seen = mark
        page = 0
        while True:
            page += 1
            query = [*params, *clients.family.paging.page(page, ID_PAGE_SIZE)]
            rows, pages = self._unwrap_list(clients, self._call(obj, "GET", self._path(clients.path), params=query))
            records = [self._record(clients, row) for row in rows]
            known.update(str(r.fields["currency_code"]).upper() for r in records if r.fields.get("currency_code"))
            seen = advance(seen, records, started_at=started_at)
            if page >= pages or not rows:
                break
        known |= self._currencies_seen
        floor = Watermark(started_at.astimezone(UTC))
        final = floor if seen is None or seen < floor else seen
        self._currency_scan = (final, frozenset(known))
        return sorted(known), encode_cursor(final, currencies=",".join(sorted(known)))

    def _read_report(self, res: Resource, currency: str) -> Record:
        today = self._clock().astimezone(EASTERN).date()
        if res.name == "balance_sheet":
            params = [("dates[]", today.isoformat()), ("currency_code", currency)]
        else:
            start = self.report_start or date(today.year, 1, 1)
            params = [
                ("start_date", start.isoformat()),
                ("end_date", today.isoformat()),
                ("currency_code", currency),
            ]
        body = self._call(res.name, "GET", self._path(res.path), params=params)
        report = self._unwrap_single(res, body)
        return self._report_record(res, report, today, currency)

    def _report_record(self, res: Resource, report: Mapping[str, Any], today: date, asked: str) -> Record:
        currency = str(report.get("currency_code") or asked)
        data = dict(report)
        data.pop("download_token", None)
        if res.name == "balance_sheet":
            for name, value in list(data.items()):
                # totals come as [{balance: Money, date}] per requested date; we ask for one date
                if name.endswith("_total") and isinstance(value, list):
                    data[name] = value[0].get("balance") if value and isinstance(value[0], Mapping) else None
            data["date"] = today.isoformat()
            data["id"] = f"{today.isoformat()}:{currency}"
        else:
            data["id"] = f"{data.get('start_date')}..{data.get('end_date')}:{currency}"
        fields = decode_fields(res.spec.fields, data, res.zone, currency)
        return Record(str(data["id"]), fields)

    def get(self, obj: str, keys: Sequence[str]) -> list[Record]:
        """The live records with these keys (soft-deleted ones are absent; archived ones are not)."""
        res = self._resource(obj, Capability.GET)
        if res.family.reading == "reports":
            # a report's key ends in its currency: read just those
            wanted = set(keys)
            named = sorted({k.rpartition(":")[2].upper() for k in keys if ":" in k})
            allowed = [c for c in named if self.report_currency in (None, c)]
            reports: list[Record] = []
            for currency in allowed:
                try:
                    reports.append(self._read_report(res, currency))
                except ValidationError:
                    continue  # a currency the report refuses has no such record
            return [r for r in reports if r.key in wanted]
        if res.item_path is None:
            wanted = set(keys)
            return [r for r in self._read_whole(res) if r.key in wanted]
        integer_keys = res.spec.fields[res.spec.key].type == "integer"
        found: list[Record] = []
        for key in keys:
            if integer_keys and not str(key).isdigit():
                continue  # cannot exist; FreshBooks would answer a validation error, not a 404
            try:
                record = self._get_one(res, key)
            except NotFoundError:
                continue
            if not record.deleted:  # a soft-deleted record is gone for the engine
                found.append(record)
        return found

    def _get_one(self, res: Resource, key: str) -> Record:
        assert res.item_path is not None
        body = self._call(res.name, "GET", self._path(res.item_path, key), params=res.rest.item_params, key=key)
        return self._record(res, self._unwrap_single(res, body))

    def find(self, obj: str, field: str, values: Sequence[Any]) -> list[Record]:
        res = self._resource(obj)
        if not res.spec.can(Capability.FIND) or res.family.search_param is None or not values:
            return []
        found: list[Record] = []
        for value in values:
            for rows in self._list_pages(res, res.family.search(field, str(value)) or []):
                found.extend(r for r in (self._record(res, row) for row in rows) if r.fields.get(field) == value)
        return found

    # -- writing -------------------------------------------------------------------------------
    def _wire_body(
        self, res: Resource, fields: Mapping[str, Any], currency: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        specs = res.spec.fields
        unknown = [k for k in fields if k not in specs]
        writable = {
            k: _strip_read_only(specs[k].fields, v) if specs[k].fields else v
            for k, v in fields.items()
            if k in specs and not specs[k].read_only
        }
        if unknown:
            _log.debug("freshbooks.write.unknown_fields_sent", obj=res.name, fields=unknown)
            writable.update({k: fields[k] for k in unknown})
        record_currency = fields.get("currency_code") or currency
        try:
            return encode_fields(specs, writable, res.zone, str(record_currency) if record_currency else None)
        except AmountError as exc:
            raise ValidationError(str(exc), connector=self.name, obj=res.name, key=key, field=exc.field) from None

    def _send(self, res: Resource, method: str, path: str, wire: Mapping[str, Any], key: str | None) -> Any:
        """One write; a validation error about a currency names the currency the record is in."""
        try:
            return self._call(res.name, method, path, params=res.rest.item_params, body=self._envelope(res, wire),
                              key=key)
        except ValidationError as exc:
            if isinstance(exc, NeedsDecisionError):
                raise  # "payment currency must match the invoice's": parked for a person, not refused
            refused = _currency_refused(exc, wire)
            if refused is None:
                raise
            raise ValidationError(
                f"FreshBooks refused the {res.single} in {refused}: {exc.message}", connector=self.name,
                obj=res.name, key=key, field=exc.field or "currency_code", status=exc.status, code=exc.code,
                hint=f"this FreshBooks does not take {refused}; give the record a currency it takes",
            ) from None

    def _envelope(self, res: Resource, data: Mapping[str, Any]) -> dict[str, Any]:
        """A write's body: ``{single: fields}``, or the fields bare where the family takes them so."""
        return {res.rest.wrap: dict(data)} if res.rest.wrap else dict(data)

    def _after_write(self, res: Resource, body: Any, key: str | None) -> Record:
        try:
            raw = self._unwrap_single(res, body) if body else None
        except ConnectorError:
            raw = None
        if raw is not None and not ("lines" in res.includes and "lines" not in raw):
            return self._record(res, raw)
        # the answer lacks the record or an include we asked for: read it back as stored
        record_key = key if key is not None else (str(raw["id"]) if raw and "id" in raw else None)
        if record_key is None:
            raise ConnectorError("write answer holds no record id", connector=self.name, obj=res.name)
        return self._get_one(res, record_key)

    def create(self, obj: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        res = self._resource(obj, Capability.CREATE)
        _check_required(self.name, res, fields)
        path = self._path(res.create_path or res.path)
        body = self._send(res, "POST", path, self._wire_body(res, fields), None)
        return self._after_write(res, body, None)

    def update(self, obj: str, key: str, fields: Mapping[str, Any], idempotency_key: str) -> Record:
        res = self._resource(obj, Capability.UPDATE)
        assert res.item_path is not None
        data = dict(fields)
        vis_state = data.pop("vis_state", None)  # never in the same PUT as data (update phases)
        if vis_state is not None and res.deleted_by != "vis_state":
            raise ValidationError(f"{obj} has no vis_state", connector=self.name, obj=obj, key=key, field="vis_state")
        body: Any = None
        path = self._path(res.item_path, key)
        stored: Record | None = None
        if ("lines" in data and "lines" in res.includes) or _needs_stored_currency(res, data):
            # lines are matched to the stored ones; a bare amount is in the stored currency
            stored = self._get_one(res, key)
        wire = self._wire_body(res, data, _currency_of(stored) if stored is not None else None, key)
        if "lines" in wire and stored is not None:
            wire["lines"] = self._lines_in_place(stored, wire["lines"])
        if wire:
            body = self._send(res, "PUT", path, wire, key)
        if vis_state is not None:
            body = self._call(
                obj,
                "PUT",
                path,
                params=res.rest.item_params,
                body=self._envelope(res, {"vis_state": int(vis_state)}),
                key=key,
            )
        if body is None:
            return self._get_one(res, key)
        return self._after_write(res, body, key)

    def _lines_in_place(self, record: Record, wanted: Any) -> Any:
        """Give each line we send the ``lineid`` of a stored line, so an edit updates lines in place.

        FreshBooks does not document whether lines sent without ``lineid`` replace the stored ones
        or are appended to them (the sandbox's ``lines_without_id`` variant). Sent with ids, both
        readings agree: a named line is updated, and the stored lines left unnamed are removed.
        A line that already names a stored id keeps it; the others take the unused ids in order."""
        if not isinstance(wanted, list):
            return wanted
        current = record.fields.get("lines") or []
        stored = [int(line["lineid"]) for line in current if isinstance(line, Mapping) and line.get("lineid")]
        named = {int(line["lineid"]) for line in wanted
                 if isinstance(line, Mapping) and str(line.get("lineid") or "").isdigit()}
        free = iter([i for i in stored if i not in named])
        out: list[Any] = []
        for line in wanted:
            if isinstance(line, Mapping) and not line.get("lineid"):
                lineid = next(free, None)
                line = {**line, "lineid": lineid} if lineid is not None else dict(line)
            out.append(line)
        return out

    def delete(self, obj: str, key: str) -> None:
        res = self._resource(obj, Capability.DELETE)
        assert res.item_path is not None
        path = self._path(res.item_path, key)
        if res.delete == "http":
            self._call(obj, "DELETE", path, key=key)
        else:
            self._call(obj, "PUT", path, body=self._envelope(res, {"vis_state": 1}), key=key)

    def archive(self, obj: str, key: str) -> None:
        res = self._resource(obj)
        if res.archive is None or res.item_path is None:
            raise UnsupportedError(f"{obj} cannot be archived", connector=self.name, obj=obj, key=key)
        change: dict[str, Any] = {"vis_state": 2} if res.archive == "vis_state" else {"active": False}
        self._call(obj, "PUT", self._path(res.item_path, key), body=self._envelope(res, change), key=key)

    def close(self) -> None:
        self.http.close()


def _needs_stored_currency(res: Resource, data: Mapping[str, Any]) -> bool:
    """An update carrying a bare amount in a money field without the record's currency_code."""
    if data.get("currency_code"):
        return False
    return any(
        name in data and data[name] not in (None, "") and not isinstance(data[name], Money)
        for name, spec in res.spec.fields.items()
        if spec.type == "money" and not spec.read_only
    )


def _currency_of(record: Record) -> str | None:
    """A stored record's currency: its ``currency_code``, else that of its first amount (an
    expense or an item holds its currency only in its Money values)."""
    code = record.fields.get("currency_code")
    if code:
        return str(code)
    return next((v.currency for v in record.fields.values() if isinstance(v, Money)), None)


def _currency_refused(exc: ValidationError, wire: Mapping[str, Any]) -> str | None:
    """The currency a validation error is about, when it is one: an error on ``currency_code``
    or whose message speaks of a currency, for a record in a currency that is then named."""
    about_currency = exc.field == "currency_code" or "currenc" in exc.message.lower()
    if not about_currency:
        return None
    codes = _codes_in(wire)
    return ", ".join(sorted(codes)) if codes else None


def _codes_in(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        found = {str(value["currency_code"]).upper()} if value.get("currency_code") else set()
        if "amount" in value and value.get("code"):
            found.add(str(value["code"]).upper())
        for inner in value.values():
            if isinstance(inner, Mapping | list):
                found |= _codes_in(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_codes_in(v) for v in value)) if value else set()
    return set()


def _strip_read_only(specs: Mapping[str, Any], value: Any) -> Any:
    """Drop read-only sub-fields (a line's computed ``amount``) from nested values."""
    if isinstance(value, list):
        return [_strip_read_only(specs, v) for v in value]
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if not (k in specs and specs[k].read_only)}
    return value


def _check_required(connector: str, res: Resource, fields: Mapping[str, Any]) -> None:
    missing = [n for n, s in res.spec.fields.items() if s.required and fields.get(n) in (None, "")]
    if missing:
        raise ValidationError(
            f"{res.name} needs {', '.join(missing)}", connector=connector, obj=res.name, field=missing[0]
        )
