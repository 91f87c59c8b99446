"""Deterministic, realistic starting data: the same seed gives the same businesses and records.

``build_store(clients=N, rng_seed=S, now=...)`` creates one business (two with
``second_business=True``) holding N clients with unique emails, organisations and currencies
(USD/CAD/EUR/GBP), invoices with lines (most sent, some drafts), payments (full and partial),
estimates, expenses in fixed categories, items, taxes, tasks, projects and time entries. Records
are written through the same write rules as API requests, so totals and statuses are consistent,
and their change timestamps are spread over the 120 days before ``now``.
"""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import writes
from .billing import recompute_document
from .clock import iso_utc
from .ledger import seed_chart
from .oauth import AppCredentials
from .objects import (
    CLIENTS,
    ESTIMATES,
    EXPENSES,
    INVOICES,
    ITEMS,
    PAYMENTS,
    PROJECTS,
    TASKS,
    TAXES,
    TIME_ENTRIES,
    ObjectSpec,
)
from .store import Book, Record, Store

if TYPE_CHECKING:
    from .sizes import Size

FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Keiko", "Liam",
         "Maya", "Nico", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wes", "Yara")
LAST = ("Abbott", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
        "Kowalski", "Lopez", "Murphy", "Nguyen", "Okafor", "Patel", "Quintero", "Rossi", "Schmidt", "Tanaka")
ORG_A = ("North", "Blue", "Silver", "Maple", "Harbor", "Summit", "Cedar", "Bright", "Iron", "Golden", "River",
         "Granite", "Atlas", "Lumen", "Orchard")
ORG_B = ("Analytics", "Design", "Logistics", "Foods", "Studios", "Consulting", "Robotics", "Dental", "Legal",
         "Media", "Energy", "Outfitters", "Labs", "Builders", "Travel")
ORG_C = ("Inc.", "Ltd.", "LLC", "Co.", "GmbH", "Group", "Partners")
PLACES = (("Toronto", "Ontario", "Canada", "CAD"), ("Vancouver", "British Columbia", "Canada", "CAD"),
          ("Boston", "Massachusetts", "United States", "USD"), ("Austin", "Texas", "United States", "USD"),
          ("Denver", "Colorado", "United States", "USD"), ("London", "", "United Kingdom", "GBP"),
          ("Berlin", "", "Germany", "EUR"), ("Lyon", "", "France", "EUR"),
          ("Chicago", "Illinois", "United States", "USD"))
SERVICES = (("Consulting", "Advisory hours", "150.00"), ("Design", "Design work", "95.00"),
            ("Development", "Software development", "120.00"), ("Support", "Monthly support plan", "400.00"),
            ("Training", "On-site training day", "1200.00"), ("Hosting", "Managed hosting", "49.00"),
            ("Audit", "Annual audit", "2500.00"), ("Workshop", "Half-day workshop", "650.00"))
CATEGORIES = ("Advertising", "Car & Truck Expenses", "Contractors", "Education and Training", "Insurance",
              "Meals and Entertainment", "Office Supplies", "Rent or Lease", "Travel", "Utilities")
VENDORS = ("Staples", "Delta Air Lines", "WeWork", "Amazon Web Services", "Uber", "Hydro One", "Shell",
           "Best Buy", "Hilton", "Comcast")
TAXES_SEED = (("GST", "5", "RT0001"), ("HST", "13", "RT0002"), ("VAT", "20", None))


def _moment(rng: random.Random, now: datetime, days: int = 120) -> datetime:
    return now - timedelta(seconds=rng.randint(3600, days * 86400))


def _put(book: Book, spec: ObjectSpec, data: Record, moment: datetime) -> Record:
    record, _ = writes.create(book, spec, data, moment)
    return record


def _account_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(6))


def _book(rng: random.Random, name: str, now: datetime) -> Book:
    book = Book(account_id=_account_id(rng), business_id=rng.randint(100000, 999999),
                business_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), name=name)
    seed_chart(book, rng, now)
    return book


def populate_catalog(book: Book, rng: random.Random, now: datetime, items: int) -> None:
    """Expense categories, taxes, tasks and ``items`` items: what invoices and expenses refer to."""
    start = now - timedelta(days=400)
    for number, category in enumerate(CATEGORIES, start=1):
        key = book.new_id("expense_categories")
        book.table("expense_categories")[key] = {
            "id": key, "categoryid": key, "category": category, "parentid": None, "is_cogs": False,
            "is_editable": False, "vis_state": 0, "created_at": iso_utc(start, zone_marker=False).replace("T", " "),
            "updated_at": iso_utc(start, zone_marker=False).replace("T", " "), "_updated": iso_utc(start),
            "transaction_posted": False, "number": number,
        }
    for name, percent, tax_number in TAXES_SEED:
        _put(book, TAXES, {"name": name, "amount": percent, "number": tax_number}, _moment(rng, now))
    for name, description, rate in SERVICES[:6]:
        _put(book, TASKS, {"name": name, "description": description, "rate": {"amount": rate, "code": "USD"}},
             _moment(rng, now))
    for index in range(items):
        name, description, rate = SERVICES[index % len(SERVICES)]
        suffix = "" if index < len(SERVICES) else f" {index // len(SERVICES) + 1}"
        _put(book, ITEMS, {"name": f"{name}{suffix}", "description": description, "qty": "1",
                           "sku": f"SKU-{index + 1:04d}", "unit_cost": {"amount": rate, "code": "USD"},
                           "inventory": str(rng.randint(0, 500)) if index % 3 == 0 else None},
             _moment(rng, now))


def add_client(book: Book, rng: random.Random, index: int, now: datetime) -> tuple[int, str]:
    """One generated client (the ``index``-th: its email is unique); its id and currency."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    org = f"{rng.choice(ORG_A)} {rng.choice(ORG_B)} {rng.choice(ORG_C)}"
    city, province, country, local = rng.choice(PLACES)
    currency = rng.choices(("USD", local, "EUR", "GBP"), weights=(50, 25, 15, 10))[0]
    domain = org.split()[0].lower() + org.split()[1].lower() + ".example.com"
    record = _put(book, CLIENTS, {
        "fname": first, "lname": last, "organization": org, "currency_code": currency,
        "email": f"{first.lower()}.{last.lower()}.{index + 1}@{domain}",
        "p_street": f"{rng.randint(1, 999)} {rng.choice(LAST)} St", "p_city": city, "p_province": province,
        "p_country": country, "p_code": f"{rng.randint(10000, 99999)}",
        "bus_phone": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
    }, _moment(rng, now))
    return int(record["id"]), currency


def add_expense(book: Book, rng: random.Random, moment: datetime, client: int,
                category_ids: Sequence[int | str]) -> None:
    """One generated expense at ``moment``, billed to ``client`` (0: none)."""
    _put(book, EXPENSES, {"amount": {"amount": f"{rng.randint(500, 250000) / 100:.2f}", "code": "USD"},
                          "categoryid": rng.choice(category_ids), "date": moment.date().isoformat(),
                          "vendor": rng.choice(VENDORS), "notes": "", "clientid": client}, moment)


def add_project(book: Book, rng: random.Random, index: int, client_id: int, now: datetime) -> int:
    """The ``index``-th generated project, for ``client_id``; its id."""
    project = _put(book, PROJECTS, {
        "title": f"{rng.choice(SERVICES)[0]} project {index + 1}", "client_id": client_id,
        "project_type": rng.choice(("fixed_price", "hourly_rate")), "fixed_price": "5000.00",
        "rate": "120.00", "due_date": (now + timedelta(days=rng.randint(10, 90))).date().isoformat(),
    }, _moment(rng, now))
    return int(project["id"])


def add_time_entry(book: Book, rng: random.Random, moment: datetime, identity_id: int, project_id: int | None,
                   client_id: int, task_ids: Sequence[int | str]) -> None:
    """One generated time entry, started two hours before ``moment``, logged by ``identity_id``."""
    _put(book, TIME_ENTRIES, {
        "started_at": iso_utc(moment - timedelta(hours=2)), "duration": rng.choice((900, 1800, 3600, 5400, 7200)),
        "is_logged": True, "identity_id": identity_id, "project_id": project_id, "client_id": client_id,
        "task_id": rng.choice(task_ids),
        "note": rng.choice(("Planning", "Implementation", "Review", "Call with client", "Fixes")),
    }, moment)


def populate(book: Book, rng: random.Random, clients: int, now: datetime, identity_id: int = 1) -> None:
    """Fill ``book`` with ``clients`` clients and proportionate related records."""
    populate_catalog(book, rng, now, max(5, min(clients, 40)))
    client_ids = [add_client(book, rng, index, now) for index in range(clients)]
    invoices: list[Record] = []
    for cid, currency in client_ids:
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            moment = _moment(rng, now)
            invoice = _put(book, INVOICES, {
                "customerid": cid, "create_date": moment.date().isoformat(),
                "due_offset_days": rng.choice((0, 15, 30)), "lines": _lines(rng, currency),
                "notes": "Thank you for your business.",
            }, moment)
            if rng.random() < 0.85:
                invoice["_sent"] = True
                recompute_document(book, invoice, "payments")
            invoices.append(invoice)
    for invoice in invoices:
        if not invoice.get("_sent") or rng.random() > 0.6:
            continue
        total = Decimal(invoice["amount"]["amount"])
        amount = total if rng.random() < 0.7 else (total / 2).quantize(Decimal("0.01"))
        if amount <= 0:
            continue
        paid_on = datetime.fromisoformat(invoice["create_date"]) + timedelta(days=rng.randint(0, 20))
        moment = min(now - timedelta(hours=1), paid_on.replace(tzinfo=now.tzinfo) + timedelta(hours=12))
        _put(book, PAYMENTS, {"invoiceid": invoice["id"], "amount": {"amount": str(amount),
                              "code": invoice["currency_code"]}, "date": moment.date().isoformat(),
                              "type": rng.choice(("Check", "Credit Card", "Bank Transfer", "Cash", "ACH"))},
             moment)
    for cid, currency in client_ids[: max(1, clients // 4)] if clients else []:
        moment = _moment(rng, now)
        _put(book, ESTIMATES, {"customerid": cid, "create_date": moment.date().isoformat(),
                               "lines": _lines(rng, currency)}, moment)
    category_ids = sorted(book.table("expense_categories"))
    for _ in range(clients // 2):
        moment = _moment(rng, now)
        client = rng.choice(client_ids)[0] if client_ids and rng.random() < 0.3 else 0
        add_expense(book, rng, moment, client, category_ids)
    project_ids: list[tuple[int, int]] = []
    for index in range(max(1, clients // 10) if clients else 0):
        cid = client_ids[index % len(client_ids)][0]
        project_ids.append((add_project(book, rng, index, cid, now), cid))
    task_ids = sorted(book.table("tasks"))
    for _ in range(clients // 2 if project_ids else 0):
        pid, cid = rng.choice(project_ids)
        moment = _moment(rng, now, 60)
        add_time_entry(book, rng, moment, identity_id, pid, cid, task_ids)


def _lines(rng: random.Random, currency: str) -> list[dict[str, Any]]:
    lines = []
    for _ in range(rng.randint(1, 3)):
        name, description, rate = rng.choice(SERVICES)
        line: dict[str, Any] = {"name": name, "description": description, "qty": str(rng.randint(1, 10)),
                                "unit_cost": {"amount": rate, "code": currency}}
        if rng.random() < 0.3:
            line.update(taxName1="HST", taxAmount1="13")
        lines.append(line)
    return lines


def credentials(rng_seed: int) -> AppCredentials:
    rng = random.Random(f"credentials-{rng_seed}")
    return AppCredentials(client_id=f"sbx_{rng.getrandbits(96):024x}", client_secret=f"{rng.getrandbits(160):040x}",
                          redirect_uri="https://localhost/freshbooks/oauth/callback")


def build_store(clients: int, rng_seed: int, now: datetime, second_business: bool = False,
                size: Size | None = None) -> Store:
    """A fresh store: the primary business with ``clients`` clients (or exactly ``size``'s
    records), optionally a second one."""
    rng = random.Random(rng_seed)
    identity_id = 1000 + rng_seed % 9000
    primary = _book(rng, "Sandbox Consulting Ltd.", now)
    if size is None:
        populate(primary, rng, clients, now, identity_id)
    else:
        from .sizes import populate_sized  # sizes builds on this module's helpers

        populate_sized(primary, rng, size, now, identity_id)
    books = [primary]
    if second_business:
        other_rng = random.Random(rng_seed + 7919)
        second = _book(other_rng, "Second Venture Inc.", now)
        second.base_currency = "CAD"
        populate(second, other_rng, min(clients, 5), now, identity_id)
        books.append(second)
    store = Store(books)
    store.identity = {
        "identity_id": identity_id, "identity_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "first_name": "Avery", "last_name": "Morgan", "email": "avery.morgan@sandbox.example.com",
        "confirmed_at": iso_utc(now - timedelta(days=800)), "created_at": iso_utc(now - timedelta(days=800)),
    }
    return store
