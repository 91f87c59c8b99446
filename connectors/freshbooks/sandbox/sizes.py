"""Named data-set sizes with exact record counts: ``business`` is the size of a real business.

``--seed N`` grows every object in proportion to N clients (about 1.5 invoices each). A benchmark
needs exact counts instead: ``business`` is 10,000 clients, 50,000 invoices with lines, 50,000
payments and 20,000 time entries, plus the projects, estimates, expenses, items, taxes and tasks
such a business has. ``scale`` shrinks every count by one factor (tests use 0.01), so a test can
check the shape cheaply.

Records go through the same write rules as API requests (``writes.create``), except the invoice
arithmetic after payments: FreshBooks' "paid" is a sum over the invoice's payments, which the
generic path recomputes by scanning every payment after each one (quadratic: hours at 50,000).
Here the payments are stored first and each invoice is recomputed once from a precomputed sum,
with the same result and the same ``updated`` stamp (the last payment's moment).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from .billing import paid_by_invoice, recompute_document
from .objects import ESTIMATES, INVOICES, PAYMENTS
from .seed import _lines, _moment, _put, add_client, add_expense, add_project, add_time_entry, populate_catalog
from .store import Book, Record


@dataclass(frozen=True)
class Size:
    """Exact counts of the records a sized seed creates in the primary business."""

    clients: int
    invoices: int
    payments: int
    time_entries: int
    projects: int
    estimates: int
    expenses: int
    items: int = 40

    def scaled(self, factor: float) -> Size:
        """Every count times ``factor`` (at least 1 client; items stay a catalogue)."""
        if not 0 < factor <= 1:
            raise ValueError(f"scale must be in (0, 1], not {factor}")
        counts = {f.name: max(1 if f.name == "clients" else 0, round(getattr(self, f.name) * factor))
                  for f in dataclasses.fields(self) if f.name != "items"}
        return Size(**counts, items=self.items)


SIZES: dict[str, Size] = {
    "business": Size(clients=10_000, invoices=50_000, payments=50_000, time_entries=20_000,
                     projects=500, estimates=2_500, expenses=5_000),
}


def size_named(name: str, scale: float = 1.0) -> Size:
    """The size called ``name`` (ValueError lists the known ones), scaled."""
    try:
        size = SIZES[name]
    except KeyError:
        raise ValueError(f"unknown size {name!r}; known: {', '.join(sorted(SIZES))}") from None
    return size if scale == 1.0 else size.scaled(scale)


def populate_sized(book: Book, rng: random.Random, size: Size, now: datetime, identity_id: int = 1) -> None:
    """Fill ``book`` with exactly ``size``'s records, deterministically from ``rng``."""
    populate_catalog(book, rng, now, size.items)
    client_ids = [add_client(book, rng, index, now) for index in range(size.clients)]
    invoices = _invoices(book, rng, client_ids, size.invoices, now)
    if size.payments > 3 * sum(1 for invoice in invoices if invoice.get("_sent")):
        raise ValueError(f"{size.payments} payments need at least {size.payments // 3} sent invoices")
    _payments(book, rng, invoices, size.payments, now)
    for index in range(size.estimates):
        cid, currency = client_ids[index % len(client_ids)]
        moment = _moment(rng, now)
        _put(book, ESTIMATES, {"customerid": cid, "create_date": moment.date().isoformat(),
                               "lines": _lines(rng, currency)}, moment)
    category_ids = sorted(book.table("expense_categories"))
    for _ in range(size.expenses):
        moment = _moment(rng, now)
        client = rng.choice(client_ids)[0] if rng.random() < 0.3 else 0
        add_expense(book, rng, moment, client, category_ids)
    _time_entries(book, rng, client_ids, size, now, identity_id)


def _invoices(book: Book, rng: random.Random, client_ids: list[tuple[int, str]], count: int,
              now: datetime) -> list[Record]:
    """``count`` invoices, each client's share even to within one; 90% sent, the rest drafts."""
    invoices: list[Record] = []
    for index in range(count):
        cid, currency = client_ids[index % len(client_ids)]
        moment = _moment(rng, now, 365)
        invoice = _put(book, INVOICES, {
            "customerid": cid, "create_date": moment.date().isoformat(),
            "due_offset_days": rng.choice((0, 15, 30)), "lines": _lines(rng, currency),
            "notes": "Thank you for your business.",
        }, moment)
        if rng.random() < 0.9:
            invoice["_sent"] = True
            recompute_document(book, invoice, "payments", paid=Decimal(0))
        invoices.append(invoice)
    return invoices


def _payments(book: Book, rng: random.Random, invoices: list[Record], count: int, now: datetime) -> None:
    """``count`` payments over sent invoices: one, two or three instalments each, most paid in full."""
    sent = [invoice for invoice in invoices if invoice.get("_sent")]
    rng.shuffle(sent)
    paid_invoices = sent[: min(len(sent), max(count * 2 // 3, -(-count // 3)))]
    instalments = [1] * len(paid_invoices)
    extra = count - len(paid_invoices)
    position = 0
    while extra > 0:
        if instalments[position % len(instalments)] < 3:
            instalments[position % len(instalments)] += 1
            extra -= 1
        position += 1
    bare_payments = dataclasses.replace(PAYMENTS, after_write=None)  # invoices recomputed once, below
    touched: dict[int, Record] = {}
    for invoice, parts in zip(paid_invoices, instalments, strict=True):
        total = Decimal(invoice["amount"]["amount"])
        full = rng.random() < 0.75
        share = (total / (parts if full else parts + 1)).quantize(Decimal("0.01"))
        created = datetime.fromisoformat(invoice["create_date"]).replace(tzinfo=now.tzinfo)
        for part in range(parts):
            amount = total - share * (parts - 1) if full and part == parts - 1 else share
            paid_on = created + timedelta(days=rng.randint(1, 20) + 15 * part, hours=12)
            moment = min(now - timedelta(hours=1), paid_on)
            payment = _put(book, bare_payments, {
                "invoiceid": invoice["id"], "amount": {"amount": str(amount), "code": invoice["currency_code"]},
                "date": moment.date().isoformat(),
                "type": rng.choice(("Check", "Credit Card", "Bank Transfer", "Cash", "ACH"))}, moment)
            touched[int(invoice["id"])] = payment
    sums = paid_by_invoice(book)
    for invoice_id, last_payment in touched.items():
        invoice = book.table("invoices")[invoice_id]
        recompute_document(book, invoice, "payments", paid=sums.get(invoice_id, Decimal(0)))
        if invoice["status"] == 4:
            invoice["date_paid"] = last_payment["date"]
        # as after_payment_write does: the invoice changed when its last payment was recorded
        invoice["updated"] = last_payment["updated"]
        invoice["_updated"] = last_payment["_updated"]
        invoice["_day"] = last_payment["_day"]


def _time_entries(book: Book, rng: random.Random, client_ids: list[tuple[int, str]], size: Size,
                  now: datetime, identity_id: int) -> None:
    project_ids: list[tuple[int, int]] = []
    for index in range(size.projects):
        cid = client_ids[index % len(client_ids)][0]
        project_ids.append((add_project(book, rng, index, cid, now), cid))
    task_ids = sorted(book.table("tasks"))
    for index in range(size.time_entries):
        pid, cid = project_ids[index % len(project_ids)] if project_ids else (None, client_ids[0][0])
        moment = _moment(rng, now, 120)
        add_time_entry(book, rng, moment, identity_id, pid, cid, task_ids)
