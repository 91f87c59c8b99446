"""How stored records are shown: hidden keys removed, includes added, lines only when asked.

Sandbox choice (UNCONFIRMED upstream): invoice and estimate ``lines`` appear only with
``include[]=lines`` (on get, list, create and update alike), matching what integrations send.
Client balance includes (``outstanding_balance`` & co) are lists with one entry per currency.
"""

from __future__ import annotations

from .billing import balances
from .objects import ObjectSpec
from .store import Book, Record, public

BALANCE_INCLUDES = ("outstanding_balance", "credit_balance", "draft_balance", "overdue_balance",
                    "grand_total_balance")


def render(book: Book, spec: ObjectSpec, rows: list[Record], wanted: frozenset[str], today: str,
           *, single: bool = False) -> list[Record]:
    """Public copies of ``rows`` with the requested includes."""
    shown = [public(r) for r in rows]
    if spec.collection in ("invoices", "estimates") and "lines" not in wanted:
        for item in shown:
            item.pop("lines", None)
    if spec.collection == "invoices":
        for item in shown:
            item.setdefault("invoiceid", item["id"])
    if spec.collection == "clients" and wanted & set(BALANCE_INCLUDES):
        sums = balances(book, {int(r["id"]) for r in shown}, today)
        for item in shown:
            for name in BALANCE_INCLUDES:
                if name in wanted:
                    item[name] = sums[int(item["id"])][name]
    if spec.collection == "expenses" and "category" in wanted:
        categories = book.table("expense_categories")
        for item in shown:
            category = categories.get(int(item.get("categoryid") or 0))
            item["category"] = public(category) if category else None
    if spec.collection == "payments" and "invoice" in wanted:
        invoices = book.table("invoices")
        for item in shown:
            invoice = invoices.get(int(item.get("invoiceid") or 0))
            item["invoice"] = public(invoice) if invoice else None
            if item["invoice"]:
                item["invoice"].pop("lines", None)
    if spec.collection == "payments" and "client" in wanted:
        clients = book.table("clients")
        for item in shown:
            client = clients.get(int(item.get("clientid") or 0))
            item["client"] = public(client) if client else None
    if spec.collection == "projects":
        _project_view(book, shown, wanted, single)
    return shown


def _project_view(book: Book, shown: list[Record], wanted: frozenset[str], single: bool) -> None:
    logged: dict[int, int] = {}
    if "include_logged_duration" in wanted:
        for entry in book.table("time_entries").values():
            if entry.get("project_id") and not entry.get("_deleted") and entry.get("is_logged"):
                pid = int(entry["project_id"])
                logged[pid] = logged.get(pid, 0) + int(entry.get("duration") or 0)
    for item in shown:
        pid = int(item["id"])
        item["logged_duration"] = logged.get(pid, 0) if "include_logged_duration" in wanted else None
        group_id = item.get("group_id")
        if single:
            item.pop("group_id", None)
            item["group"] = {"id": group_id, "members": [
                {"id": 1, "identity_id": 1, "role": "owner", "first_name": "Sandbox", "last_name": "Owner",
                 "email": "owner@sandbox.test", "company": book.name, "active": True}],
                "pending_invitations": []}


ABILITIES = [
    {"name": "edit_project", "value": True}, {"name": "delete_project", "value": True},
    {"name": "view_budget", "value": True}, {"name": "log_time", "value": True},
]
