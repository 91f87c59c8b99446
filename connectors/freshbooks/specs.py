"""Every FreshBooks object as one row of data: its ObjectSpec plus where and how it lives on the wire.

A :class:`Resource` is the Singer-style stream declaration: path templates, envelope keys, which
change filter the API offers, which time zone its naive timestamps are in, how a delete is done
and how a delete is *seen*. The connector is generic over this table; no object has a class.
Its ``family`` (:mod:`.families`) and names make its :class:`syncengine.rest.Resource` (``rest``):
envelope selectors, page numbers, includes, write wrap and change filter.

How changes and deletes are detected, per family (reference §1.6, §3):

* accounting objects (clients, estimates, expenses, invoices, items, payments, tasks):
  ``search[updated_min]=<Eastern day of the watermark minus one>``; deletes are soft
  (vis_state 1) and listed by a second pass with ``search[vis_state]=1``.
* taxes: deleted by HTTP DELETE, which removes them; nothing lists a deleted tax, so every pull
  is a full listing (taxes are few) marked ``Page.full`` and the engine infers deletes by absence.
* projects: ``updated_since=<UTC>``; HTTP DELETE removes them and no listing shows a deletion, so
  deletes are seen by absence: on a full pull by the engine, and on every incremental pull by an
  id-only listing (100 a page) compared with the ids the cursor holds (``connector._absent``).
* time entries: ``updated_since=<UTC>`` with ``include_deleted=true``; a deleted entry kept by the
  API comes back with ``active: false`` and becomes ``Record(deleted=True)``; one deleted hard
  (FreshBooks does not say which) is found by the id-only listing, as a project is, until an
  ``active: false`` entry shows that the account keeps them (then the listing is skipped).
* reports and identity (account, accounts, balance_sheet, cash_flow): re-read whole every pull.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from connectors.freshbooks import families
from connectors.freshbooks.families import CHANGE_FILTERS, Family
from connectors.freshbooks.wire import TimeZoneRule
from syncengine.connector import READ_ONLY, Capability, FieldSpec, FieldType, ObjectSpec
from syncengine.rest import Resource as RestResource
from syncengine.rest import Select

__all__ = ["RESOURCES", "Resource"]

ChangeFilter = Literal["updated_min", "updated_since", "full"]
DeleteStyle = Literal["vis_state", "http"]
DeleteSignal = Literal["vis_state", "include_deleted", "absence", "none"]


@dataclass(frozen=True, slots=True)
class Resource:
    spec: ObjectSpec
    family: Family
    #: list path (and create path unless ``create_path``); templates take {account_id},
    #: {business_id}, {business_uuid}.
    path: str
    #: one record's path, with {id}.
    item_path: str | None = None
    create_path: str | None = None
    single: str | None = None
    plural: str | None = None
    changes: ChangeFilter = "full"
    zone: TimeZoneRule = "eastern"
    updated_field: str | None = None
    delete: DeleteStyle | None = None
    #: how a deleted record shows up in ``changes``.
    deleted_by: DeleteSignal = "none"
    #: deletes may also leave no trace (a hard delete, where FreshBooks does not say which it
    #: does): an id-only listing on each pull is compared with the ids the cursor holds as well.
    absence_too: bool = False
    #: archive by ``vis_state: 2`` (accounting) or ``active: false`` (projects).
    archive: Literal["vis_state", "active"] | None = None
    includes: tuple[str, ...] = ()
    #: naive date-times of this object that are UTC despite the family's Eastern convention.
    utc_fields: frozenset[str] = frozenset()
    #: the object's own id field (``userid``, ``invoiceid``): an alias of ``id``, never written.
    alias: str | None = None
    #: the object as a REST-layer resource: its family's envelopes, paging and includes, its filter.
    rest: RestResource = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fam = self.family
        includes = fam.includes(self.includes)
        object.__setattr__(self, "rest", RestResource(
            self.spec.name,
            self.path,
            item_path=self.item_path,
            create_path=self.create_path,
            rows=Select(fam.rows.format(plural=self.plural or self.spec.name)),
            item=Select(fam.item.format(single=self.single or self.spec.name)),
            wrap=(self.single or self.spec.name) if fam.wraps_writes else None,
            paginator=fam.paging,
            changes=CHANGE_FILTERS[self.changes],
            list_params=includes,
            item_params=includes,
        ))

    @property
    def name(self) -> str:
        return self.spec.name


def F(
    name: str,
    type: FieldType = "string",
    description: str = "",
    *,
    ro: bool = False,
    req: bool = False,
    fields: Mapping[str, FieldSpec] | None = None,
) -> FieldSpec:
    return FieldSpec(name, type, description, required=req, read_only=ro, fields=dict(fields or {}))


def table(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.name: s for s in specs}


WRITE = frozenset({Capability.CREATE, Capability.UPDATE, Capability.DELETE})
INCREMENTAL = frozenset({Capability.INCREMENTAL, Capability.DELETES_IN_CHANGES})

VIS_STATE = F("vis_state", "integer", "0 active, 1 deleted, 2 archived; set only by delete/archive", ro=True)
UPDATED = F("updated", "datetime", "last change (sent in US/Eastern, held as UTC)", ro=True)


def accounting_id(alias: str) -> tuple[FieldSpec, FieldSpec]:
    return F("id", "integer", "FreshBooks id", ro=True), F(alias, "integer", "the same id", ro=True)


ADDRESS = (
    F("p_street", description="primary address street"),
    F("p_street2", description="primary address second line"),
    F("p_city"),
    F("p_province"),
    F("p_code", description="postal code"),
    F("p_country"),
)

LINE = table(
    F("lineid", "integer", "line id", ro=True),
    F("name", description="line name (item name)"),
    F("description"),
    F("qty", "decimal", "quantity"),
    F("unit_cost", "money", "price of one unit"),
    F("amount", "money", "qty x unit_cost", ro=True),
    F("type", "integer", "0 normal, 1 rebilled expense"),
    F("expenseid", "integer", "rebilled expense id"),
    F("taxName1"),
    F("taxAmount1", "decimal", "tax percent"),
    F("taxName2"),
    F("taxAmount2", "decimal", "tax percent"),
    F("updated", "datetime", "line change time", ro=True),
)

DOCUMENT = (
    F("customerid", "integer", "client id", req=True),
    F("create_date", "date", "issue date"),
    F("currency_code", description="ISO currency of the amounts"),
    F("lines", "array", "line items (requested with include[]=lines)", fields=LINE),
    F("notes"),
    F("terms"),
    F("po_number", description="purchase order number"),
    F("discount_value", "decimal", "discount percent"),
    F("language"),
    F("fname", description="client first name on the document"),
    F("lname", description="client last name on the document"),
    F("organization", description="client organization on the document"),
    F("address"),
    F("street"),
    F("city"),
    F("province"),
    F("code", description="postal code"),
    F("country"),
    F("amount", "money", "total", ro=True),
    F("discount_total", "money", "discount amount", ro=True),
    F("status", "integer", "numeric status", ro=True),
    F("created_at", "datetime", "creation time", ro=True),
    F("accountid", description="account id", ro=True),
    F("ownerid", "integer", "owner identity", ro=True),
    VIS_STATE,
    UPDATED,
)


def _accounting(
    name: str,
    group_path: str,
    single: str,
    plural: str,
    alias: str,
    fields: tuple[FieldSpec, ...],
    description: str,
    *,
    delete: DeleteStyle = "vis_state",
    includes: tuple[str, ...] = (),
    utc_fields: frozenset[str] = frozenset(),
    find: bool = False,
) -> Resource:
    caps = READ_ONLY | WRITE | INCREMENTAL | {Capability.ARCHIVE}
    if find:
        caps |= {Capability.FIND}
    spec = ObjectSpec(
        name=name,
        key="id",
        capabilities=frozenset(caps),
        fields=table(*accounting_id(alias), *fields),
        cursor_field="updated",
        description=description,
    )
    base = f"/accounting/account/{{account_id}}/{group_path}"
    return Resource(
        spec=spec,
        family=families.ACCOUNTING,
        path=base,
        item_path=base + "/{id}",
        single=single,
        plural=plural,
        changes="updated_min",
        zone="eastern",
        updated_field="updated",
        delete=delete,
        deleted_by="vis_state",
        archive="vis_state",
        includes=includes,
        utc_fields=utc_fields,
        alias=alias,
    )


CLIENTS = _accounting(
    "clients",
    "users/clients",
    "client",
    "clients",
    "userid",
    (
        F("email", description="unique within a business"),
        F("fname", description="first name"),
        F("lname", description="last name"),
        F("organization"),
        F("currency_code", description="the client's default currency"),
        F("bus_phone"),
        F("home_phone"),
        F("mob_phone"),
        F("fax"),
        F("note"),
        F("language"),
        F("vat_name"),
        F("vat_number"),
        *ADDRESS,
        F("signup_date", "datetime", "sign-up time (sent in UTC)", ro=True),
        F("accounting_systemid", ro=True),
        VIS_STATE,
        UPDATED,
    ),
    "Clients (customers) of the business.",
    utc_fields=frozenset({"signup_date"}),
    find=True,
)

ESTIMATES = _accounting(
    "estimates",
    "estimates/estimates",
    "estimate",
    "estimates",
    "estimateid",
    (
        *DOCUMENT,
        F("estimate_number"),
        F("ui_status", description="created, draft, sent, viewed, replied, accepted, invoiced", ro=True),
    ),
    "Estimates (quotes), with their lines.",
    delete="http",
    includes=("lines",),
)

INVOICES = _accounting(
    "invoices",
    "invoices/invoices",
    "invoice",
    "invoices",
    "invoiceid",
    (
        *DOCUMENT,
        F("invoice_number"),
        F("due_offset_days", "integer", "days from create_date to due_date"),
        F("due_date", "date", "create_date + due_offset_days", ro=True),
        F("outstanding", "money", "amount still owed", ro=True),
        F("paid", "money", "amount paid", ro=True),
        F("v3_status", description="draft, sent, viewed, paid, partial, ...", ro=True),
        F("payment_status", description="unpaid, partial, paid", ro=True),
        F("display_status", ro=True),
        F("date_paid", "date", ro=True),
        F("estimateid", "integer", "estimate this invoice came from"),
    ),
    "Invoices, with their lines (include[]=lines). Created as drafts.",
    delete="http",
    includes=("lines",),
)

EXPENSES = _accounting(
    "expenses",
    "expenses/expenses",
    "expense",
    "expenses",
    "expenseid",
    (
        F("amount", "money", "expense amount", req=True),
        F("categoryid", "integer", "expense category", req=True),
        F("date", "date", "expense date"),
        F("staffid", "integer"),
        F("clientid", "integer", "client to rebill (0: none)"),
        F("projectid", "integer"),
        F("vendor"),
        F("notes"),
        F("status", "integer", "0 internal, 1 outstanding, 2 invoiced, 4 recouped"),
        F("taxName1"),
        F("taxPercent1", "decimal"),
        F("taxAmount1", "money"),
        F("taxName2"),
        F("taxPercent2", "decimal"),
        F("taxAmount2", "money"),
        F("markup_percent", "decimal"),
        F("invoiceid", "integer", "invoice it was rebilled on", ro=True),
        F("has_receipt", "boolean", ro=True),
        VIS_STATE,
        UPDATED,
    ),
    "Expenses.",
)

ITEMS = _accounting(
    "items",
    "items/items",
    "item",
    "items",
    "itemid",
    (
        F("name", req=True),
        F("description"),
        F("qty", "decimal", "default quantity"),
        F("inventory", "decimal", "stock on hand (null: not tracked)"),
        F("sku"),
        F("unit_cost", "money", "price of one unit"),
        F("tax1", "integer", "tax id"),
        F("tax2", "integer", "tax id"),
        F("accounting_systemid", ro=True),
        VIS_STATE,
        UPDATED,
    ),
    "Items (products and services) for invoice lines.",
)

PAYMENTS = _accounting(
    "payments",
    "payments/payments",
    "payment",
    "payments",
    "logid",
    (
        F("invoiceid", "integer", "invoice paid", req=True),
        F("amount", "money", "amount paid", req=True),
        F("date", "date", "payment date"),
        F("type", description="Check, Cash, Credit Card, Bank Transfer, ..."),
        F("note"),
        F("transactionid"),
        F("orderid", "integer"),
        F("gateway", ro=True),
        F("clientid", "integer", ro=True),
        F("creditid", "integer", ro=True),
        F("overpaymentid", "integer", ro=True),
        F("from_credit", "boolean", ro=True),
        VIS_STATE,
        UPDATED,
    ),
    "Payments against invoices.",
)

TASKS = _accounting(
    "tasks",
    "projects/tasks",
    "task",
    "tasks",
    "taskid",
    (
        F("name", req=True),
        F("description"),
        F("billable", "boolean"),
        F("rate", "money", "hourly rate"),
        F("tax1", "integer"),
        F("tax2", "integer"),
        F("tname", ro=True),
        F("tdesc", ro=True),
        VIS_STATE,
        UPDATED,
    ),
    "Tasks (billable services, mirrored with project services).",
)

TAXES = Resource(
    spec=ObjectSpec(
        name="taxes",
        key="id",
        capabilities=frozenset(READ_ONLY | WRITE),
        fields=table(
            *accounting_id("taxid"),
            F("name", req=True),
            F("number", description="registration number"),
            F("amount", "decimal", "percent, e.g. 13"),
            F("compound", "boolean"),
            F("accounting_systemid", ro=True),
            UPDATED,
        ),
        cursor_field=None,
        description="Taxes. Deleted for good by HTTP DELETE, so every pull lists them all.",
    ),
    family=families.ACCOUNTING,
    path="/accounting/account/{account_id}/taxes/taxes",
    item_path="/accounting/account/{account_id}/taxes/taxes/{id}",
    single="tax",
    plural="taxes",
    changes="full",
    updated_field="updated",
    delete="http",
    deleted_by="absence",
    alias="taxid",
)

PROJECTS = Resource(
    spec=ObjectSpec(
        name="projects",
        key="id",
        capabilities=frozenset(READ_ONLY | WRITE | INCREMENTAL | {Capability.ARCHIVE}),
        fields=table(
            F("id", "integer", "FreshBooks id", ro=True),
            F("title", req=True),
            F("description"),
            F("due_date", "date"),
            F("client_id", "integer"),
            F("internal", "boolean"),
            F("budget", "integer", "budget in minutes"),
            F("fixed_price", "decimal"),
            F("rate", "decimal", "hourly rate"),
            F("billing_method", description="project_rate, service_rate, team_member_rate, business_rate"),
            F("project_type", description="fixed_price or hourly_rate"),
            F("active", "boolean", "false: archived"),
            F("complete", "boolean"),
            F("billed_amount", "decimal", ro=True),
            F("billed_status", ro=True),
            F("services", "array", ro=True),
            F("group_id", "integer", ro=True),
            F("logged_duration", "integer", ro=True),
            F("created_at", "datetime", ro=True),
            F("updated_at", "datetime", "last change (UTC)", ro=True),
        ),
        cursor_field="updated_at",
        description="Projects. Deleted for good by HTTP DELETE: deletes are seen by an id-only listing.",
    ),
    family=families.PROJECTS,
    path="/projects/business/{business_id}/projects",
    create_path="/projects/business/{business_id}/project",
    item_path="/projects/business/{business_id}/project/{id}",
    single="project",
    plural="projects",
    changes="updated_since",
    zone="utc",
    updated_field="updated_at",
    delete="http",
    deleted_by="absence",
    archive="active",
)

TIME_ENTRIES = Resource(
    spec=ObjectSpec(
        name="time_entries",
        key="id",
        capabilities=frozenset(READ_ONLY | WRITE | INCREMENTAL),
        fields=table(
            F("id", "integer", "FreshBooks id", ro=True),
            F("started_at", "datetime", "start (UTC)", req=True),
            F("duration", "integer", "seconds", req=True),
            F("is_logged", "boolean", "false: a running timer"),
            F("note"),
            F("client_id", "integer"),
            F("project_id", "integer"),
            F("service_id", "integer"),
            F("task_id", "integer"),
            F("billable", "boolean"),
            F("billed", "boolean"),
            F("internal", "boolean"),
            F("identity_id", "integer", "who logged it"),
            F("retainer_id", "integer"),
            F("timer", "object"),
            F("active", "boolean", "false: deleted", ro=True),
            F("created_at", "datetime", ro=True),
        ),
        cursor_field=None,
        description="Time entries. No updated field is shown; updated_since filters on a hidden one.",
    ),
    family=families.TIMETRACKING,
    path="/timetracking/business/{business_id}/time_entries",
    item_path="/timetracking/business/{business_id}/time_entries/{id}",
    single="time_entry",
    plural="time_entries",
    changes="updated_since",
    zone="utc",
    delete="http",
    deleted_by="include_deleted",
    absence_too=True,
)

ACCOUNT = Resource(
    spec=ObjectSpec(
        name="account",
        key="business_id",
        capabilities=READ_ONLY,
        fields=table(
            F("business_id", "integer", ro=True),
            F("business_uuid", ro=True),
            F("account_id", ro=True),
            F("name", description="business name", ro=True),
            F("role", description="the user's role in the business", ro=True),
            F("date_format", ro=True),
            F("identity_id", "integer", ro=True),
            F("email", description="the authorized user's email", ro=True),
            F("first_name", ro=True),
            F("last_name", ro=True),
        ),
        description="The authorized identity and the business this connector works in.",
    ),
    family=families.IDENTITY,
    path="/auth/api/v1/users/me",
    zone="utc",
)

ACCOUNTS = Resource(
    spec=ObjectSpec(
        name="accounts",
        key="uuid",
        capabilities=READ_ONLY,
        fields=table(
            F("uuid", ro=True),
            F("name", ro=True),
            F("number", ro=True),
            F("description", ro=True),
            F("type", description="asset, liability, equity, income, expense", ro=True),
            F("sub_type", ro=True),
            F("system_account_name", ro=True),
            F("parent_account", description="parent account uuid", ro=True),
            F("sub_accounts", "array", "child account uuids", ro=True),
            F("auto_created", "boolean", ro=True),
            F("state", ro=True),
            F("updated_at", "datetime", ro=True),
        ),
        description="Ledger accounts (the chart of accounts).",
    ),
    family=families.LEDGER,
    path="/accounting/businesses/{business_uuid}/ledger_accounts/accounts",
    zone="utc",
    updated_field="updated_at",
)

BALANCE_SHEET = Resource(
    spec=ObjectSpec(
        name="balance_sheet",
        key="id",
        capabilities=READ_ONLY,
        fields=table(
            F("id", description="<date>:<currency>", ro=True),
            F("date", "date", ro=True),
            F("currency_code", ro=True),
            F("company_name", ro=True),
            F("assets_total", "money", ro=True),
            F("liabilities_total", "money", ro=True),
            F("equity_total", "money", ro=True),
            F("data", "array", "accounts by type with their balances", ro=True),
        ),
        description="Balance sheet for today, one per currency the business uses (or report_currency), re-read "
        "on every pull.",
    ),
    family=families.REPORT,
    path="/accounting/account/{account_id}/reports/accounting/balance_sheet",
    single="balance_sheet",
)

CASH_FLOW = Resource(
    spec=ObjectSpec(
        name="cash_flow",
        key="id",
        capabilities=READ_ONLY,
        fields=table(
            F("id", description="<start>..<end>:<currency>", ro=True),
            F("start_date", "date", ro=True),
            F("end_date", "date", ro=True),
            F("currency_code", ro=True),
            F("company_name", ro=True),
            F(
                "summary",
                "object",
                ro=True,
                fields=table(
                    F("starting_balance", "money", ro=True),
                    F("ending_balance", "money", ro=True),
                    F("gross_cash_inflow", "money", ro=True),
                    F("gross_cash_outflow", "money", ro=True),
                    F("net_cash_change", "money", ro=True),
                ),
            ),
            F("activities", "array", "operating, investing, financing details", ro=True),
        ),
        description="Cash flow from report_start to today, one per currency the business uses (or "
        "report_currency), re-read every pull.",
    ),
    family=families.REPORT,
    path="/accounting/businesses/{business_uuid}/reports/cash_flow",
    single="cash_flow",
)

RESOURCES: Mapping[str, Resource] = MappingProxyType(
    {
        r.name: r
        for r in (
            ACCOUNT,
            ACCOUNTS,
            BALANCE_SHEET,
            CASH_FLOW,
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
        )
    }
)
