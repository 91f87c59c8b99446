"""Derived money on invoices, estimates, payments and client balances.

FreshBooks computes an invoice's ``amount``, ``paid`` and ``outstanding`` (and its status) from
its lines and the payments against it; a connector that writes a payment must see the invoice
change. These functions are the sandbox's single source of that arithmetic. They run under the
store lock and return the extra webhook events their side effects imply (a payment also updates
its invoice: ``invoice.update``).

Sandbox choices (UNCONFIRMED upstream): line tax = line amount x taxAmount% (non-compound);
``discount_value`` is a percent of the subtotal; an invoice is "paid" when outstanding <= 0.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .errors import DELETED_RESOURCE, UNKNOWN_RESOURCE, ApiError, invalid
from .fields import Kind, coerce
from .money import amount_of, money, to_decimal
from .store import Book, Record, is_deleted
from .variants import current

Event = tuple[str, int]
PAYMENT_TYPES = (
    "Check", "Credit", "Cash", "Bank Transfer", "Credit Card", "Debit", "PayPal", "2Checkout", "VISA",
    "MASTERCARD", "DISCOVER", "AMEX", "DINERS", "JCB", "ACH", "Other",
)
LINE_FIELDS: dict[str, Kind] = {
    "name": Kind.STR, "description": Kind.STR, "qty": Kind.DECIMAL, "unit_cost": Kind.MONEY,
    "taxName1": Kind.STR, "taxAmount1": Kind.PERCENT, "taxName2": Kind.STR, "taxAmount2": Kind.PERCENT,
    "type": Kind.INT, "expenseid": Kind.INT,
}


def client_for(book: Book, customerid: Any, obj: str) -> Record:
    """The client an invoice/estimate/expense names; unknown -> 1012, deleted -> 1011."""
    if customerid in (None, "", 0):
        raise ApiError(422, 1001, "This field is required.", field="customerid", object=obj)
    try:
        key = int(customerid)
    except (TypeError, ValueError):
        raise invalid("customerid", "Must be an integer.", customerid, obj) from None
    client = book.table("clients").get(key)
    if client is None:
        raise ApiError(422, UNKNOWN_RESOURCE, "Client not found.", field="customerid", object=obj,
                       value=str(customerid))
    if client.get("vis_state") == 1:
        raise ApiError(422, DELETED_RESOURCE, "Client is deleted.", field="customerid", object=obj,
                       value=str(customerid))
    return client


def build_lines(raw: Any, currency: str, obj: str, now: str, old: list[Record] | None = None) -> list[Record]:
    """The lines a write leaves stored: see the ``lines_without_id`` variant for ``old`` lines."""
    if not isinstance(raw, list):
        raise invalid("lines", "Lines must be a list.", None, obj)
    kept = {int(line["lineid"]): line for line in old or []}
    append = bool(kept) and current("lines_without_id") == "append"
    named = [item.get("lineid") for item in raw if isinstance(item, dict) and item.get("lineid")]
    lines: list[Record] = []
    if append and not named:
        lines = [dict(line) for line in old or []]  # nothing named: the sent lines are added
    next_id = max(kept, default=0) + 1 if append else 1
    for item in raw:
        if not isinstance(item, dict):
            raise invalid("lines", "Each line must be an object.", None, obj)
        wanted_id = _line_id(item.get("lineid"))
        base = kept.get(wanted_id) if append and wanted_id is not None else None
        number = int(base["lineid"]) if base is not None else next_id
        if base is None:
            next_id += 1
        line: Record = dict(base) if base is not None else {
            "lineid": number, "name": "", "description": "", "qty": "1",
            "unit_cost": money(Decimal(0), currency), "taxName1": None, "taxAmount1": None,
            "taxName2": None, "taxAmount2": None, "type": 0, "expenseid": 0,
            "compounded_tax": False, "updated": now}
        line["updated"] = now
        for key, kind in LINE_FIELDS.items():
            if key in item:
                line[key] = coerce(kind, item[key], key, obj, currency)
        if line["unit_cost"]["code"] != currency:
            raise invalid("unit_cost", "Line currency must match the invoice currency.", None, obj)
        qty = to_decimal(line["qty"], "qty", obj)
        line["amount"] = money(qty * amount_of(line["unit_cost"]), currency)
        lines.append(line)
    return lines


def _line_id(raw: Any) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def line_totals(record: Record) -> tuple[Decimal, Decimal]:
    subtotal = Decimal(0)
    tax = Decimal(0)
    for line in record.get("lines") or []:
        amount = amount_of(line["amount"])
        subtotal += amount
        for key in ("taxAmount1", "taxAmount2"):
            if line.get(key):
                tax += amount * Decimal(line[key]) / 100
    return subtotal, tax


def paid_by_invoice(book: Book) -> dict[int, Decimal]:
    """Every invoice's paid amount (non-deleted payments) in one pass over the payments."""
    sums: dict[int, Decimal] = defaultdict(Decimal)
    for payment in book.table("payments").values():
        if not is_deleted(payment):
            sums[int(payment["invoiceid"])] += amount_of(payment["amount"])
    return sums


def recompute_document(book: Book, record: Record, payments_key: str | None, paid: Decimal | None = None) -> None:
    """Totals (and, for invoices, paid/outstanding/status) from lines and payments; ``paid``, when
    given, is the invoice's precomputed payment sum (a bulk seed), else the payments are summed."""
    code = record["currency_code"]
    subtotal, tax = line_totals(record)
    discount = subtotal * Decimal(str(record.get("discount_value") or "0")) / 100
    total = subtotal - discount + tax
    record["amount"] = money(total, code)
    record["discount_total"] = money(-discount, code)
    if payments_key is None:
        return
    if paid is None:
        paid = sum(
            (amount_of(p["amount"]) for p in book.table("payments").values()
             if p.get("invoiceid") == record["id"] and not is_deleted(p)),
            Decimal(0),
        )
    outstanding = total - paid
    record["paid"] = money(paid, code)
    record["outstanding"] = money(max(outstanding, Decimal(0)), code)
    sent = bool(record.get("_sent"))
    if paid > 0 and outstanding <= 0:
        status, v3, payment_status = 4, "paid", "paid"
    elif paid > 0:
        status, v3, payment_status = 8, "partial", "partial"
    elif sent:
        status, v3, payment_status = 2, "sent", "unpaid"
    else:
        status, v3, payment_status = 1, "draft", "unpaid"
    record["status"] = status
    record["v3_status"] = v3
    record["display_status"] = v3
    record["payment_status"] = payment_status
    record["date_paid"] = record.get("date_paid") if status == 4 else None


def _document_client(book: Book, record: Record, old: Record | None, obj: str) -> Record:
    """The named client, validated when it is set or changed (an invoice of a since-deleted client
    can still be edited)."""
    if old is not None and record.get("customerid") == old.get("customerid"):
        return book.table("clients").get(int(record["customerid"])) or {}
    return client_for(book, record.get("customerid"), obj)


def derive_invoice(book: Book, record: Record, data: Record, old: Record | None, now: str) -> list[Event]:
    client = _document_client(book, record, old, "invoice")
    if old is None:
        for key, source in (("fname", "fname"), ("lname", "lname"), ("organization", "organization"),
                            ("street", "p_street"), ("city", "p_city"), ("code", "p_code"),
                            ("country", "p_country"), ("province", "p_province")):
            if not record.get(key):
                record[key] = client.get(source, "")
        if not data.get("currency_code"):
            record["currency_code"] = client.get("currency_code") or book.base_currency
        if not record.get("invoice_number"):
            record["invoice_number"] = f"{record['id'] - 100000:07d}"
    if "lines" in data or old is None:
        record["lines"] = build_lines(data.get("lines", []), record["currency_code"], "invoice", now,
                                      old.get("lines") if old else None)
    offset = int(record.get("due_offset_days") or 0)
    record["due_date"] = (date.fromisoformat(record["create_date"]) + timedelta(days=offset)).isoformat()
    recompute_document(book, record, "payments")
    return []


def derive_estimate(book: Book, record: Record, data: Record, old: Record | None, now: str) -> list[Event]:
    client = _document_client(book, record, old, "estimate")
    if old is None:
        for key in ("fname", "lname", "organization"):
            if not record.get(key):
                record[key] = client.get(key, "")
        if not data.get("currency_code"):
            record["currency_code"] = client.get("currency_code") or book.base_currency
        if not record.get("estimate_number"):
            record["estimate_number"] = f"{record['id'] - 30000:07d}"
    if "lines" in data or old is None:
        record["lines"] = build_lines(data.get("lines", []), record["currency_code"], "estimate", now,
                                      old.get("lines") if old else None)
    recompute_document(book, record, None)
    return []


def payment_invoice(book: Book, invoiceid: Any) -> Record:
    if invoiceid in (None, "", 0):
        raise ApiError(422, 1001, "This field is required.", field="invoiceid", object="payment")
    try:
        key = int(invoiceid)
    except (TypeError, ValueError):
        raise invalid("invoiceid", "Must be an integer.", invoiceid, "payment") from None
    invoice = book.table("invoices").get(key)
    if invoice is None:
        raise ApiError(422, UNKNOWN_RESOURCE, "Invoice not found.", field="invoiceid", object="payment",
                       value=str(invoiceid))
    if invoice.get("vis_state") == 1:
        raise ApiError(422, DELETED_RESOURCE, "Invoice is deleted.", field="invoiceid", object="payment",
                       value=str(invoiceid))
    return invoice


def payment_currency(book: Book, record: Record) -> str:
    invoice = book.table("invoices").get(int(record.get("invoiceid") or 0))
    return str(invoice["currency_code"]) if invoice else book.base_currency


def derive_payment(book: Book, record: Record, data: Record, old: Record | None, now: str) -> list[Event]:
    if old is not None:
        record["invoiceid"] = old["invoiceid"]  # a payment cannot move to another invoice
    invoice = payment_invoice(book, record.get("invoiceid"))
    if record["amount"]["code"] != invoice["currency_code"]:
        raise invalid("amount", "Payment currency must match the invoice currency.", None, "payment")
    if amount_of(record["amount"]) <= 0:
        raise invalid("amount", "Payment amount must be greater than zero.", record["amount"]["amount"],
                      "payment")
    if record.get("type") not in PAYMENT_TYPES:
        raise invalid("type", "Invalid payment type.", record.get("type"), "payment")
    record["clientid"] = invoice["customerid"]
    return []


def after_payment_write(book: Book, record: Record, now: str) -> list[Event]:
    """A stored (or deleted/restored) payment changes its invoice's paid, outstanding and status."""
    invoice = book.table("invoices").get(int(record.get("invoiceid") or 0))
    if invoice is None:
        return []
    before = (invoice.get("paid"), invoice.get("status"))
    recompute_document(book, invoice, "payments")
    if invoice["status"] == 4 and not invoice.get("date_paid"):
        invoice["date_paid"] = record.get("date") or now[:10]
    if (invoice.get("paid"), invoice.get("status")) == before:
        return []
    invoice["updated"] = now
    invoice["_updated"] = record.get("_updated")
    invoice["_day"] = record.get("_day")
    return [("invoice.update", int(invoice["id"]))]


def derive_expense(book: Book, record: Record, data: Record, old: Record | None, now: str) -> list[Event]:
    category = book.table("expense_categories").get(int(record.get("categoryid") or 0))
    if category is None:
        raise ApiError(422, UNKNOWN_RESOURCE, "Category not found.", field="categoryid", object="expense",
                       value=str(record.get("categoryid")))
    if record.get("clientid") and (old is None or record["clientid"] != old.get("clientid")):
        client_for(book, record["clientid"], "expense")
    return []


def balances(book: Book, client_ids: set[int], today: str) -> dict[int, dict[str, list[Record]]]:
    """Per client, the include[] balance lists: one ``{"amount": Money}`` entry per currency."""
    sums: dict[int, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for invoice in book.table("invoices").values():
        cid = invoice.get("customerid")
        if cid not in client_ids or is_deleted(invoice):
            continue
        code = invoice["currency_code"]
        bucket = sums[cid]
        bucket["grand_total_balance"][code] += amount_of(invoice["amount"])
        if invoice.get("status") == 1:
            bucket["draft_balance"][code] += amount_of(invoice["amount"])
            continue
        outstanding = amount_of(invoice.get("outstanding"))
        if outstanding > 0:
            bucket["outstanding_balance"][code] += outstanding
            if invoice.get("due_date", today) < today:
                bucket["overdue_balance"][code] += outstanding
    result: dict[int, dict[str, list[Record]]] = {}
    for cid in client_ids:
        result[cid] = {
            name: [{"amount": money(total, code)} for code, total in sorted(sums[cid][name].items())]
            for name in ("outstanding_balance", "draft_balance", "overdue_balance", "grand_total_balance")
        }
        result[cid]["credit_balance"] = []
    return result
