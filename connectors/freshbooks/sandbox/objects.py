"""Every FreshBooks object the sandbox serves, declared as data.

One :class:`ObjectSpec` per object says where it lives (URL family and path), how it is wrapped
(singular and plural keys), its id field, writable fields and their kinds, required fields, the
filters and includes it understands, how it is deleted, and the webhook resource name. The
handlers (``accounting.py``, ``projects.py``) and the write rules (``writes.py``) are generic over
these specs; only genuinely object-specific arithmetic lives in hooks (``billing.py``).

Sandbox choices (UNCONFIRMED upstream, see README): invoices and estimates show ``lines`` only with
``include[]=lines``; estimates are soft-deleted by HTTP DELETE (vis_state 1) like invoices; taxes are
hard-deleted; a client needs at least one of organization/fname/lname/email; list defaults are
15 per page on accounting lists and 30 on project-like lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from . import billing
from .fields import Kind
from .store import Book, Record

Derive = Callable[[Book, Record, Record, Record | None, str], list[billing.Event]]
AfterWrite = Callable[[Book, Record, str], list[billing.Event]]


class Match(StrEnum):
    EQ = "eq"        # search[f]=v (case-insensitive for text)
    IN = "in"        # search[fs][]=v1&search[fs][]=v2
    LIKE = "like"    # search[f_like]=v (substring, case-insensitive)
    MIN = "min"      # search[f_min]=v (>=)
    MAX = "max"      # search[f_max]=v (<, "less than" per the docs)
    BOOL = "bool"    # &f=true (plain parameter) or search[f]=true


@dataclass(frozen=True)
class Filter:
    match: Match
    field: str       # the record field compared
    money: bool = False


class Delete(StrEnum):
    NONE = "none"    # only PUT vis_state=1 deletes
    SOFT = "soft"    # HTTP DELETE sets vis_state=1 (and PUT vis_state=1 works too)
    HARD = "hard"    # HTTP DELETE removes the record
    GONE = "gone"    # project-like: HTTP DELETE -> 204; time entries are kept as soft-deleted


def _no_currency(book: Book, record: Record) -> str:
    return str(record.get("currency_code") or book.base_currency)


@dataclass(frozen=True)
class ObjectSpec:
    collection: str
    family: str                         # "accounting" | "projects" | "timetracking"
    path: str                           # accounting: "<group>/<resource>"
    single: str
    plural: str
    id_field: str
    label: str
    fields: Mapping[str, Kind]
    defaults: Callable[[Book, datetime], Record]
    required: tuple[str, ...] = ()
    event: str | None = None
    delete: Delete = Delete.NONE
    vis_state: bool = True
    read_only: bool = False
    filters: Mapping[str, Filter] = field(default_factory=dict)
    includes: frozenset[str] = frozenset()
    derive: Derive | None = None
    after_write: AfterWrite | None = None
    currency: Callable[[Book, Record], str] = _no_currency
    per_page: int = 15

    @property
    def accounting(self) -> bool:
        return self.family == "accounting"


def _id_filters(id_field: str) -> dict[str, Filter]:
    return {id_field: Filter(Match.EQ, "id"), f"{id_field}s": Filter(Match.IN, "id"),
            "id": Filter(Match.EQ, "id"), "ids": Filter(Match.IN, "id")}


ADDRESS = {k: Kind.STR for k in ("p_street", "p_street2", "p_city", "p_code", "p_country", "p_province")}


def _client_defaults(book: Book, now: datetime) -> Record:
    return {
        "email": "", "fname": "", "lname": "", "organization": "", "currency_code": book.base_currency,
        "p_street": "", "p_street2": "", "p_city": "", "p_code": "", "p_country": "", "p_province": "",
        "bus_phone": "", "home_phone": "", "mob_phone": "", "fax": "", "note": None, "language": "en",
        "vat_name": None, "vat_number": "", "company_industry": None, "company_size": None,
        "accounting_systemid": book.account_id, "allow_late_fees": True, "allow_late_notifications": True,
        "has_retainer": None, "retainer_id": None, "level": 0, "num_logins": 0, "pref_email": True,
        "pref_gmail": False, "role": "client", "statement": False, "subdomain": None, "username": "",
        "vis_state": 0, "last_activity": None, "last_login": None,
    }


def _document_defaults(kind: str) -> Callable[[Book, datetime], Record]:
    def make(book: Book, now: datetime) -> Record:
        record: Record = {
            "accountid": book.account_id, "accounting_systemid": book.account_id,
            "customerid": None, "create_date": now.date().isoformat(), "currency_code": None,
            "discount_value": "0", "notes": "", "terms": "", "po_number": None, "language": "en",
            "fname": "", "lname": "", "organization": "", "address": "", "ownerid": 1, "parent": 0,
            "vis_state": 0, "lines": [], "template": "clean-grouped", "street": "", "city": "",
            "province": "", "code": "", "country": "",
        }
        if kind == "invoice":
            record.update({"due_offset_days": 0, "estimateid": 0, "basecampid": 0, "sentid": 1,
                           "date_paid": None, "auto_bill": False, "deposit_amount": None,
                           "generation_date": None, "return_uri": None, "invoice_number": ""})
        else:
            record.update({"estimate_number": "", "ui_status": "draft", "status": 1, "accepted": False,
                           "invoiced": False, "reply_status": None})
        return record
    return make


DOCUMENT_FIELDS: dict[str, Kind] = {
    "customerid": Kind.INT, "create_date": Kind.DATE, "currency_code": Kind.CURRENCY, "lines": Kind.ANY,
    "notes": Kind.STR, "terms": Kind.STR, "po_number": Kind.STR, "discount_value": Kind.DECIMAL,
    "language": Kind.STR, "fname": Kind.STR, "lname": Kind.STR, "organization": Kind.STR,
    "address": Kind.STR, "street": Kind.STR, "city": Kind.STR, "province": Kind.STR, "code": Kind.STR,
    "country": Kind.STR, "template": Kind.STR, "ownerid": Kind.INT,
}
DOCUMENT_FILTERS: dict[str, Filter] = {
    "customerid": Filter(Match.EQ, "customerid"), "customerids": Filter(Match.IN, "customerid"),
    "currency_code": Filter(Match.EQ, "currency_code"), "notes": Filter(Match.LIKE, "notes"),
    "notes_like": Filter(Match.LIKE, "notes"), "statusid": Filter(Match.EQ, "status"),
    "statusids": Filter(Match.IN, "status"), "status": Filter(Match.EQ, "status"),
    "date_min": Filter(Match.MIN, "create_date"), "date_max": Filter(Match.MAX, "create_date"),
    "create_date_min": Filter(Match.MIN, "create_date"), "create_date_max": Filter(Match.MAX, "create_date"),
    "organization_like": Filter(Match.LIKE, "organization"),
}

CLIENTS = ObjectSpec(
    collection="clients", family="accounting", path="users/clients", single="client", plural="clients",
    id_field="userid", label="Client", event="client",
    fields={"email": Kind.EMAIL, "fname": Kind.STR, "lname": Kind.STR, "organization": Kind.STR,
            "currency_code": Kind.CURRENCY, "bus_phone": Kind.STR, "home_phone": Kind.STR,
            "mob_phone": Kind.STR, "fax": Kind.STR, "note": Kind.STR, "language": Kind.STR,
            "vat_name": Kind.STR, "vat_number": Kind.STR, "company_industry": Kind.STR,
            "company_size": Kind.STR, "username": Kind.STR, **ADDRESS},
    defaults=_client_defaults,
    filters={**_id_filters("userid"), "email": Filter(Match.EQ, "email"),
             "email_like": Filter(Match.LIKE, "email"), "fname_like": Filter(Match.LIKE, "fname"),
             "lname_like": Filter(Match.LIKE, "lname"), "organization_like": Filter(Match.LIKE, "organization"),
             "address_like": Filter(Match.LIKE, "p_street"), "phone_like": Filter(Match.LIKE, "bus_phone"),
             "note_like": Filter(Match.LIKE, "note"), "currency_code": Filter(Match.EQ, "currency_code"),
             "fname": Filter(Match.EQ, "fname"), "lname": Filter(Match.EQ, "lname"),
             "organization": Filter(Match.EQ, "organization")},
    includes=frozenset({"outstanding_balance", "credit_balance", "draft_balance", "overdue_balance",
                        "grand_total_balance", "last_activity", "late_reminders", "late_fee"}),
)

ESTIMATES = ObjectSpec(
    collection="estimates", family="accounting", path="estimates/estimates", single="estimate",
    plural="estimates", id_field="estimateid", label="Estimate", event="estimate", delete=Delete.SOFT,
    fields={**DOCUMENT_FIELDS, "estimate_number": Kind.STR},
    defaults=_document_defaults("estimate"), required=("customerid",),
    filters={**_id_filters("estimateid"), **DOCUMENT_FILTERS,
             "estimate_number": Filter(Match.EQ, "estimate_number"),
             "estimate_number_like": Filter(Match.LIKE, "estimate_number")},
    includes=frozenset({"lines", "audit_logs", "comments", "contacts", "direct_links", "owner",
                        "presentation", "project", "invoices", "system"}),
    derive=billing.derive_estimate,
)

INVOICES = ObjectSpec(
    collection="invoices", family="accounting", path="invoices/invoices", single="invoice",
    plural="invoices", id_field="invoiceid", label="Invoice", event="invoice", delete=Delete.SOFT,
    fields={**DOCUMENT_FIELDS, "invoice_number": Kind.STR, "due_offset_days": Kind.INT,
            "estimateid": Kind.INT, "deposit_amount": Kind.ANY, "auto_bill": Kind.BOOL},
    defaults=_document_defaults("invoice"), required=("customerid",),
    filters={**_id_filters("invoiceid"), **DOCUMENT_FILTERS,
             "invoice_number": Filter(Match.EQ, "invoice_number"),
             "invoice_number_like": Filter(Match.LIKE, "invoice_number"),
             "v3_status": Filter(Match.EQ, "v3_status"), "payment_status": Filter(Match.EQ, "payment_status"),
             "due_date_min": Filter(Match.MIN, "due_date"), "due_date_max": Filter(Match.MAX, "due_date"),
             "amount_min": Filter(Match.MIN, "amount", money=True),
             "amount_max": Filter(Match.MAX, "amount", money=True)},
    includes=frozenset({"lines", "presentation", "allowed_gateways", "direct_links", "owner", "contacts"}),
    derive=billing.derive_invoice,
)

EXPENSES = ObjectSpec(
    collection="expenses", family="accounting", path="expenses/expenses", single="expense",
    plural="expenses", id_field="expenseid", label="Expense", event="expense",
    fields={"amount": Kind.MONEY, "categoryid": Kind.INT, "date": Kind.DATE, "staffid": Kind.INT,
            "clientid": Kind.INT, "projectid": Kind.INT, "vendor": Kind.STR, "notes": Kind.STR,
            "status": Kind.INT, "taxName1": Kind.STR, "taxPercent1": Kind.PERCENT, "taxAmount1": Kind.MONEY,
            "taxName2": Kind.STR, "taxPercent2": Kind.PERCENT, "taxAmount2": Kind.MONEY,
            "markup_percent": Kind.PERCENT, "invoiceid": Kind.INT},
    defaults=lambda book, now: {
        "amount": None, "categoryid": None, "date": now.date().isoformat(), "staffid": 1, "clientid": 0,
        "projectid": 0, "vendor": "", "notes": "", "status": 0, "taxName1": None, "taxPercent1": None,
        "taxAmount1": None, "taxName2": None, "taxPercent2": None, "taxAmount2": None,
        "markup_percent": "0", "invoiceid": None, "accountid": None, "account_name": None,
        "bank_name": "", "has_receipt": False, "is_cogs": False, "transactionid": None, "vis_state": 0,
        "ext_systemid": 0, "ext_invoiceid": 0, "ext_accountid": None, "profileid": None,
        "compounded_tax": False,
    },
    required=("amount", "categoryid"),
    filters={**_id_filters("expenseid"), "clientid": Filter(Match.EQ, "clientid"),
             "clientids": Filter(Match.IN, "clientid"), "categoryid": Filter(Match.EQ, "categoryid"),
             "categoryids": Filter(Match.IN, "categoryid"), "staffid": Filter(Match.EQ, "staffid"),
             "staffids": Filter(Match.IN, "staffid"), "projectid": Filter(Match.EQ, "projectid"),
             "projectids": Filter(Match.IN, "projectid"), "vendor_like": Filter(Match.LIKE, "vendor"),
             "notes_like": Filter(Match.LIKE, "notes"), "date_min": Filter(Match.MIN, "date"),
             "date_max": Filter(Match.MAX, "date"), "status": Filter(Match.EQ, "status")},
    includes=frozenset({"attachment", "category", "expense_profile", "project", "account"}),
    derive=billing.derive_expense,
)

EXPENSE_CATEGORIES = ObjectSpec(
    collection="expense_categories", family="accounting", path="expenses/categories", single="category",
    plural="categories", id_field="categoryid", label="Category", read_only=True, fields={},
    defaults=lambda book, now: {},
    filters={**_id_filters("categoryid"), "category_like": Filter(Match.LIKE, "category")},
)

ITEMS = ObjectSpec(
    collection="items", family="accounting", path="items/items", single="item", plural="items",
    id_field="itemid", label="Item", event="item",
    fields={"name": Kind.STR, "description": Kind.STR, "qty": Kind.DECIMAL, "inventory": Kind.DECIMAL,
            "sku": Kind.STR, "unit_cost": Kind.MONEY, "tax1": Kind.INT, "tax2": Kind.INT},
    defaults=lambda book, now: {
        "name": "", "description": "", "qty": "1", "inventory": None, "sku": None,
        "unit_cost": {"amount": "0.00", "code": book.base_currency}, "tax1": 0, "tax2": 0,
        "accounting_systemid": book.account_id, "vis_state": 0,
    },
    required=("name",),
    filters={**_id_filters("itemid"), "sku": Filter(Match.EQ, "sku"), "name": Filter(Match.EQ, "name"),
             "name_like": Filter(Match.LIKE, "name"), "description": Filter(Match.LIKE, "description"),
             "description_like": Filter(Match.LIKE, "description"),
             "unit_cost_min": Filter(Match.MIN, "unit_cost", money=True),
             "unit_cost_max": Filter(Match.MAX, "unit_cost", money=True),
             "inventory_min": Filter(Match.MIN, "inventory"), "inventory_max": Filter(Match.MAX, "inventory"),
             "qty_min": Filter(Match.MIN, "qty"), "qty_max": Filter(Match.MAX, "qty")},
)

PAYMENTS = ObjectSpec(
    collection="payments", family="accounting", path="payments/payments", single="payment",
    plural="payments", id_field="logid", label="Payment", event="payment",
    fields={"invoiceid": Kind.INT, "amount": Kind.MONEY, "date": Kind.DATE, "type": Kind.STR,
            "note": Kind.STR, "transactionid": Kind.STR, "orderid": Kind.INT, "gateway": Kind.STR,
            "send_client_notification": Kind.BOOL},
    defaults=lambda book, now: {
        "invoiceid": None, "amount": None, "date": now.date().isoformat(), "type": "Other", "note": "",
        "transactionid": None, "orderid": None, "gateway": None, "clientid": None, "creditid": None,
        "overpaymentid": None, "from_credit": False, "bulk_paymentid": None, "accounting_systemid":
        book.account_id, "vis_state": 0,
    },
    required=("invoiceid", "amount"),
    filters={**_id_filters("logid"), "invoiceid": Filter(Match.EQ, "invoiceid"),
             "invoiceids": Filter(Match.IN, "invoiceid"), "clientid": Filter(Match.EQ, "clientid"),
             "clientids": Filter(Match.IN, "clientid"), "customerid": Filter(Match.EQ, "clientid"),
             "customerids": Filter(Match.IN, "clientid"), "type": Filter(Match.EQ, "type"),
             "date_min": Filter(Match.MIN, "date"), "date_max": Filter(Match.MAX, "date"),
             "amount_min": Filter(Match.MIN, "amount", money=True),
             "amount_max": Filter(Match.MAX, "amount", money=True),
             "notes": Filter(Match.LIKE, "note"), "note_like": Filter(Match.LIKE, "note"),
             "from_credit": Filter(Match.BOOL, "from_credit")},
    includes=frozenset({"client", "invoice", "credit_note", "order", "gateway"}),
    derive=billing.derive_payment, after_write=billing.after_payment_write,
    currency=billing.payment_currency,
)

TAXES = ObjectSpec(
    collection="taxes", family="accounting", path="taxes/taxes", single="tax", plural="taxes",
    id_field="taxid", label="Tax", event="tax", delete=Delete.HARD, vis_state=False,
    fields={"name": Kind.STR, "number": Kind.STR, "amount": Kind.PERCENT, "compound": Kind.BOOL},
    defaults=lambda book, now: {"name": "", "number": None, "amount": "0", "compound": False,
                                "accounting_systemid": book.account_id},
    required=("name",),
    filters={**_id_filters("taxid"), "name": Filter(Match.LIKE, "name"), "name_like": Filter(Match.LIKE, "name"),
             "number": Filter(Match.LIKE, "number"), "compound": Filter(Match.BOOL, "compound")},
)

TASKS = ObjectSpec(
    collection="tasks", family="accounting", path="projects/tasks", single="task", plural="tasks",
    id_field="taskid", label="Task", event="service",
    fields={"name": Kind.STR, "description": Kind.STR, "billable": Kind.BOOL, "rate": Kind.MONEY,
            "tax1": Kind.INT, "tax2": Kind.INT},
    defaults=lambda book, now: {"name": "", "description": "", "billable": True,
                                "rate": {"amount": "0.00", "code": book.base_currency}, "tax1": 0,
                                "tax2": 0, "vis_state": 0},
    required=("name",),
    filters={**_id_filters("taskid"), "billable": Filter(Match.BOOL, "billable"),
             "rate_min": Filter(Match.MIN, "rate", money=True), "rate_max": Filter(Match.MAX, "rate", money=True),
             "name_like": Filter(Match.LIKE, "name")},
    includes=frozenset({"projects"}),
)

PROJECTS = ObjectSpec(
    collection="projects", family="projects", path="projects", single="project", plural="projects",
    id_field="id", label="Project", event="project", delete=Delete.GONE, vis_state=False, per_page=30,
    fields={"title": Kind.STR, "description": Kind.STR, "due_date": Kind.DATE, "client_id": Kind.INT,
            "internal": Kind.BOOL, "budget": Kind.INT, "fixed_price": Kind.DECIMAL, "rate": Kind.DECIMAL,
            "billing_method": Kind.STR, "project_type": Kind.STR, "active": Kind.BOOL, "complete": Kind.BOOL,
            "expense_markup": Kind.INT, "retainer_id": Kind.INT, "project_manager_id": Kind.INT},
    defaults=lambda book, now: {
        "title": "", "description": "", "due_date": None, "client_id": None, "internal": False,
        "budget": None, "fixed_price": None, "rate": None, "billing_method": "project_rate",
        "project_type": "hourly_rate", "active": True, "complete": False, "sample": False,
        "billed_amount": "0.00", "billed_status": "unbilled", "retainer_id": None, "expense_markup": 0,
        "project_manager_id": None, "services": [], "group_id": None, "logged_duration": None,
    },
    required=("title",),
    filters={"active": Filter(Match.BOOL, "active"), "complete": Filter(Match.BOOL, "complete"),
             "client_id": Filter(Match.EQ, "client_id"), "internal": Filter(Match.BOOL, "internal")},
    includes=frozenset({"include_logged_duration"}),
)

TIME_ENTRIES = ObjectSpec(
    collection="time_entries", family="timetracking", path="time_entries", single="time_entry",
    plural="time_entries", id_field="id", label="Time entry", event="time_entry", delete=Delete.GONE,
    vis_state=False, per_page=30,
    fields={"started_at": Kind.DATETIME, "duration": Kind.INT, "is_logged": Kind.BOOL, "note": Kind.STR,
            "client_id": Kind.INT, "project_id": Kind.INT, "service_id": Kind.INT, "task_id": Kind.INT,
            "billable": Kind.BOOL, "billed": Kind.BOOL, "internal": Kind.BOOL, "identity_id": Kind.INT,
            "retainer_id": Kind.INT, "timer": Kind.ANY},
    defaults=lambda book, now: {
        "identity_id": None, "is_logged": True, "started_at": None, "duration": None, "note": None,
        "client_id": None, "project_id": None, "service_id": None, "task_id": None,
        "pending_client": None, "pending_project": None, "pending_task": None, "active": True,
        "billable": True, "billed": False, "internal": False, "retainer_id": None, "timer": None,
    },
    required=("started_at", "duration"),
    filters={"billable": Filter(Match.BOOL, "billable"), "billed": Filter(Match.BOOL, "billed"),
             "client_id": Filter(Match.EQ, "client_id"), "project_id": Filter(Match.EQ, "project_id"),
             "task_id": Filter(Match.EQ, "task_id"), "service_id": Filter(Match.EQ, "service_id"),
             "identity_id": Filter(Match.EQ, "identity_id"), "is_logged": Filter(Match.BOOL, "is_logged"),
             "started_from": Filter(Match.MIN, "started_at"), "started_to": Filter(Match.MAX, "started_at")},
)

ACCOUNTING_OBJECTS: Mapping[str, ObjectSpec] = MappingProxyType({
    spec.path: spec
    for spec in (CLIENTS, ESTIMATES, INVOICES, EXPENSES, EXPENSE_CATEGORIES, ITEMS, PAYMENTS, TAXES, TASKS)
})
ALL_OBJECTS: Mapping[str, ObjectSpec] = MappingProxyType({
    spec.collection: spec for spec in (*ACCOUNTING_OBJECTS.values(), PROJECTS, TIME_ENTRIES)
})
WEBHOOK_RESOURCES = frozenset(
    {"bill", "bill_vendor", "category", "client", "credit_note", "estimate", "expense", "invoice", "item",
     "payment", "project", "recurring", "service", "tax", "time_entry", "callback"}
)
