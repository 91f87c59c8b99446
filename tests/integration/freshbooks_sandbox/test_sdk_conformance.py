"""The official freshbooks-sdk, pointed at the sandbox, works end to end: the wire format matches."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import freshbooks
import httpx
import pytest
from freshbooks import FilterBuilder, IncludesBuilder, PaginateBuilder
from freshbooks.errors import FreshBooksError

from connectors.freshbooks.sandbox import SandboxServer


def test_oauth_code_exchange_refresh_and_identity(sb: SandboxServer, sdk_env: None) -> None:
    client = freshbooks.Client(client_id=sb.client_id, client_secret=sb.client_secret, redirect_uri=sb.redirect_uri)
    auth_url = client.get_auth_request_url(scopes=["user:profile:read", "user:clients:read"])
    assert auth_url.startswith(f"{sb.url}/oauth/authorize?")
    answer = httpx.get(auth_url + "&state=xyz", follow_redirects=False, trust_env=False)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == sb.redirect_uri
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]

    token = client.get_access_token(query["code"][0])
    assert token.access_token and token.refresh_token
    assert token.access_token_expires_at > sb.now()
    me = client.current_user()
    business = me.business_memberships[0].business
    assert (business.account_id, business.id, business.business_uuid) == (
        sb.account_id, sb.business_id, sb.business_uuid)
    assert me.identity_id == sb.state.identity["identity_id"]

    first_refresh = token.refresh_token
    refreshed = client.refresh_access_token()
    assert refreshed.refresh_token != first_refresh
    assert client.current_user().identity_id == me.identity_id
    with pytest.raises(FreshBooksError) as failure:  # the old refresh token was used up
        client.refresh_access_token(first_refresh)
    assert failure.value.status_code == 400
    with pytest.raises(FreshBooksError):  # and the code was single-use
        client.get_access_token(query["code"][0])


def test_clients_list_get_create_update_delete(sb: SandboxServer, fb: freshbooks.Client) -> None:
    page = fb.clients.list(sb.account_id, builders=[PaginateBuilder(1, 5)])
    assert len(page) == 5
    assert page.pages.total == sb.state.count("clients")
    assert page.pages.per_page == 5

    created = fb.clients.create(sb.account_id, {"email": "new.person@example.com", "organization": "New Co",
                                                 "currency_code": "CAD"})
    assert created.userid == created.id and created.organization == "New Co"
    assert created.currency_code == "CAD" and created.vis_state == 0
    assert isinstance(created.updated, datetime) and isinstance(created.signup_date, datetime)

    found = fb.clients.list(sb.account_id, builders=[FilterBuilder().equals("email", "new.person@example.com")])
    assert [c.id for c in found] == [created.id]
    like = fb.clients.list(sb.account_id, builders=[FilterBuilder().like("organization_like", "new c")])
    assert created.id in [c.id for c in like]

    updated = fb.clients.update(sb.account_id, created.id, {"organization": "Renamed Co"})
    assert updated.organization == "Renamed Co" and updated.email == "new.person@example.com"
    assert fb.clients.get(sb.account_id, created.id).organization == "Renamed Co"

    fb.clients.delete(sb.account_id, created.id)
    assert sb.state.get("clients", created.id)["vis_state"] == 1  # type: ignore[index]
    assert created.id not in [c.id for c in fb.clients.list(sb.account_id, builders=[PaginateBuilder(1, 100)])]
    deleted = fb.clients.list(sb.account_id, builders=[FilterBuilder().equals("vis_state", 1)])
    assert created.id in [c.id for c in deleted]


def test_invoices_with_lines_payments_and_delete(sb: SandboxServer, fb: freshbooks.Client) -> None:
    client_id = sb.state.list("clients")[0]["id"]
    lines = IncludesBuilder().include("lines")
    invoice = fb.invoices.create(sb.account_id, {
        "customerid": client_id, "create_date": "2026-03-01", "due_offset_days": 5, "currency_code": "EUR",
        "lines": [{"name": "Work", "qty": 3, "unit_cost": {"amount": "27.50", "code": "EUR"}},
                  {"name": "More", "qty": "1", "unit_cost": {"amount": "10.00", "code": "EUR"},
                   "taxName1": "VAT", "taxAmount1": "20"}],
    }, includes=lines)
    assert invoice.amount.amount == "94.50"  # 82.50 + 10.00 + 20% of 10.00
    assert invoice.amount.code == "EUR" and invoice.outstanding.amount == "94.50"
    assert invoice.due_date.isoformat() == "2026-03-06"
    assert [line.name for line in invoice.lines] == ["Work", "More"]
    assert "lines" not in fb.invoices.get(sb.account_id, invoice.id).data
    assert len(fb.invoices.get(sb.account_id, invoice.id, includes=lines).lines) == 2

    fb.invoices.update(sb.account_id, invoice.id, {"action_mark_as_sent": True})
    payment = fb.payments.create(sb.account_id, {"invoiceid": invoice.id, "amount": {"amount": "50.00",
                                                 "code": "EUR"}, "date": "2026-03-02", "type": "Cash"})
    assert payment.logid == payment.id and payment.clientid == client_id
    after = fb.invoices.get(sb.account_id, invoice.id)
    assert (after.paid.amount, after.outstanding.amount, after.v3_status) == ("50.00", "44.50",
                                                                              "partial")
    listed = fb.payments.list(sb.account_id, builders=[FilterBuilder().equals("invoiceid", invoice.id)])
    assert [p.id for p in listed] == [payment.id]
    fb.payments.update(sb.account_id, payment.id, {"amount": {"amount": "94.50", "code": "EUR"}})
    assert fb.invoices.get(sb.account_id, invoice.id).v3_status == "paid"
    fb.payments.delete(sb.account_id, payment.id)
    assert fb.invoices.get(sb.account_id, invoice.id).outstanding.amount == "94.50"

    fb.invoices.delete(sb.account_id, invoice.id)  # the SDK uses HTTP DELETE for invoices
    assert fb.invoices.get(sb.account_id, invoice.id).vis_state == 1
    ids = [i.id for i in fb.invoices.list(sb.account_id, builders=[PaginateBuilder(1, 100)])]
    assert invoice.id not in ids


def test_expenses_items_taxes_and_categories(sb: SandboxServer, fb: freshbooks.Client) -> None:
    categories = fb.expenses_categories.list(sb.account_id)
    category = fb.expenses_categories.get(sb.account_id, categories[0].id)
    assert category.category == categories[0].category

    expense = fb.expenses.create(sb.account_id, {"amount": {"amount": "12.34", "code": "USD"},
                                                 "categoryid": category.id, "date": "2026-03-03",
                                                 "vendor": "Staples"})
    assert expense.expenseid == expense.id and expense.amount.amount == "12.34"
    with_category = fb.expenses.get(sb.account_id, expense.id, includes=IncludesBuilder().include("category"))
    assert with_category.category.category == category.category
    assert fb.expenses.update(sb.account_id, expense.id, {"vendor": "Amazon"}).vendor == "Amazon"
    fb.expenses.delete(sb.account_id, expense.id)
    assert fb.expenses.get(sb.account_id, expense.id).vis_state == 1

    item = fb.items.create(sb.account_id, {"name": "Widget", "unit_cost": {"amount": "3.10", "code": "USD"},
                                           "qty": "4"})
    assert item.itemid == item.id and item.unit_cost.amount == "3.10"
    assert fb.items.update(sb.account_id, item.id, {"sku": "W-1"}).sku == "W-1"
    assert [i.id for i in fb.items.list(sb.account_id, builders=[FilterBuilder().equals("sku", "W-1")])] == [item.id]
    fb.items.delete(sb.account_id, item.id)
    assert sb.state.get("items", item.id)["vis_state"] == 1  # type: ignore[index]

    tax = fb.taxes.create(sb.account_id, {"name": "PST", "amount": "7", "number": "PST-1"})
    assert tax.taxid == tax.id and tax.amount == "7"
    assert fb.taxes.update(sb.account_id, tax.id, {"amount": "8"}).amount == "8"
    assert fb.taxes.delete(sb.account_id, tax.id).data == {}
    assert sb.state.get("taxes", tax.id) is None  # taxes are hard-deleted
    with pytest.raises(FreshBooksError) as missing:
        fb.taxes.get(sb.account_id, tax.id)
    assert (missing.value.status_code, missing.value.error_code) == (404, 1012)


def test_projects_and_time_entries(sb: SandboxServer, fb: freshbooks.Client) -> None:
    sb.set_variants(time_entry_delete="inactive")  # the deleted entry is kept hidden, as asserted below
    client_id = sb.state.list("clients")[0]["id"]
    project = fb.projects.create(sb.business_id, {"title": "Website", "client_id": client_id,
                                                  "project_type": "fixed_price", "fixed_price": "600"})
    assert project.title == "Website" and project.active is True
    assert isinstance(project.updated_at, datetime)
    got = fb.projects.get(sb.business_id, project.id)
    assert got.client_id == client_id and got.data["group"]["members"]
    assert fb.projects.update(sb.business_id, project.id, {"complete": True}).complete is True
    listed = fb.projects.list(sb.business_id, builders=[FilterBuilder().boolean("complete", True)])
    assert [p.id for p in listed] == [project.id]
    assert listed.pages.total == 1

    entry = fb.time_entries.create(sb.business_id, {"is_logged": True, "duration": 3600, "note": "Build",
                                                    "started_at": "2026-03-04T15:00:00Z", "project_id": project.id,
                                                    "client_id": client_id})
    assert entry.duration == 3600 and entry.project_id == project.id
    assert entry.identity_id == fb.current_user().identity_id
    assert fb.time_entries.update(sb.business_id, entry.id, {"note": "Built"}).note == "Built"
    assert fb.time_entries.get(sb.business_id, entry.id).note == "Built"
    entries = fb.time_entries.list(sb.business_id, builders=[FilterBuilder().equals("project_id", project.id)])
    assert [e.id for e in entries] == [entry.id]
    recent = FilterBuilder().date_time("updated_since", sb.now() - timedelta(minutes=1))  # "+00:00" unencoded
    assert entry.id in [e.id for e in fb.time_entries.list(sb.business_id, builders=[recent])]
    later = FilterBuilder().date_time("updated_since", sb.now() + timedelta(minutes=1))
    assert len(fb.time_entries.list(sb.business_id, builders=[later])) == 0
    with_logged = fb.projects.get(sb.business_id, project.id,
                                  includes=IncludesBuilder().include("include_logged_duration"))
    assert with_logged.logged_duration == 3600

    fb.time_entries.delete(sb.business_id, entry.id)
    with pytest.raises(FreshBooksError) as gone:
        fb.time_entries.get(sb.business_id, entry.id)
    assert gone.value.status_code == 404
    assert sb.state.raw("time_entries", entry.id)["_deleted"] is True  # type: ignore[index]
    fb.projects.delete(sb.business_id, project.id)
    assert sb.state.get("projects", project.id) is None


def test_tasks_ledger_accounts_and_callbacks(sb: SandboxServer, fb: freshbooks.Client) -> None:
    task = fb.tasks.create(sb.account_id, {"name": "Copywriting", "rate": {"amount": "80.00", "code": "USD"}})
    assert task.taskid == task.id and task.tname == "Copywriting"
    fb.tasks.delete(sb.account_id, task.id)
    assert fb.tasks.get(sb.account_id, task.id).vis_state == 1

    accounts = fb.ledger_accounts.list(sb.business_uuid)
    cash = next(a for a in accounts if a.system_account_name == "cash")
    assert fb.ledger_accounts.get(sb.business_uuid, cash.uuid).name == "Cash"
    created = fb.ledger_accounts.create(sb.business_uuid, {"name": "Petty Cash", "sub_type": "Cash & Bank",
                                                           "parent_account": cash.parent_account})
    assert created.type == "asset"
    assert fb.ledger_accounts.update(sb.business_uuid, created.uuid, {"name": "Till"}).name == "Till"

    callback = fb.callbacks.create(sb.account_id, {"event": "invoice.create", "uri": "https://example.com/hook"})
    assert callback.verified is False and callback.event == "invoice.create"
    assert [c.callbackid for c in fb.callbacks.list(sb.account_id)] == [callback.callbackid]
    assert fb.callbacks.get(sb.account_id, callback.callbackid).uri == "https://example.com/hook"
    assert fb.callbacks.resend_verification(sb.account_id, callback.callbackid).verified is False
    verifier = sb.state.raw("callbacks", callback.callbackid)["_verifier"]  # type: ignore[index]
    assert fb.callbacks.verify(sb.account_id, callback.callbackid, verifier).verified is True
    fb.callbacks.delete(sb.account_id, callback.callbackid)
    assert len(fb.callbacks.list(sb.account_id)) == 0


def test_estimates(sb: SandboxServer, fb: freshbooks.Client) -> None:
    client = sb.state.list("clients")[1]
    estimate = fb.estimates.create(sb.account_id, {"customerid": client["id"], "create_date": "2026-02-01",
                                                   "lines": [{"name": "Quote", "qty": 2,
                                                              "unit_cost": {"amount": "40.00"}}]})
    assert estimate.estimateid == estimate.id and estimate.amount.amount == "80.00"
    assert estimate.amount.code == client["currency_code"] and estimate.organization == client["organization"]
    listed = fb.estimates.list(sb.account_id, builders=[FilterBuilder().equals("customerid", client["id"]),
                                                        IncludesBuilder().include("lines")])
    assert estimate.id in [e.id for e in listed] and all("lines" in e.data for e in listed)
    fb.estimates.delete(sb.account_id, estimate.id)
    assert fb.estimates.get(sb.account_id, estimate.id).vis_state == 1
