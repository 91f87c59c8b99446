"""Each URL family answers errors in its own shape, and the SDK reads them as FreshBooks' own."""

from __future__ import annotations

import freshbooks
import httpx
import pytest
from freshbooks.errors import FreshBooksError

from connectors.freshbooks.sandbox import SandboxServer

from .conftest import accounting


def test_accounting_not_found_and_validation(sb: SandboxServer, http: httpx.Client) -> None:
    missing = http.get(accounting(sb, "users/clients/999999"))
    assert missing.status_code == 404
    assert missing.json() == {"response": {"errors": [{"errno": 1012, "field": "userid",
                                                       "message": "Client not found.", "object": "client",
                                                       "value": "999999"}]}}
    no_customer = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {"create_date": "2026-01-01"}})
    assert no_customer.status_code == 400  # validation_status variant default
    error = no_customer.json()["response"]["errors"][0]
    assert (error["errno"], error["field"]) == (1001, "customerid")
    bad_email = http.post(accounting(sb, "users/clients"), json={"client": {"email": "not-an-email"}})
    assert bad_email.json()["response"]["errors"][0] | {"message": ""} == {
        "errno": 1004, "field": "email", "message": "", "object": "client", "value": "not-an-email"}
    bad_percent = http.post(accounting(sb, "taxes/taxes"), json={"tax": {"name": "T", "amount": 13}})
    assert bad_percent.json()["response"]["errors"][0]["errno"] == 1018
    bad_money = http.post(accounting(sb, "items/items"), json={"item": {"name": "I", "unit_cost": {"amount": "x"}}})
    assert bad_money.json()["response"]["errors"][0]["field"] == "unit_cost"
    unknown_invoice = http.post(accounting(sb, "payments/payments"),
                                json={"payment": {"invoiceid": 1, "amount": {"amount": "1.00", "code": "USD"}}})
    assert unknown_invoice.json()["response"]["errors"][0]["field"] == "invoiceid"
    not_json = http.post(accounting(sb, "users/clients"), content=b"{oops",
                         headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["response"]["errors"][0]["errno"] == 1005
    wrong_method = http.delete(accounting(sb, "users/clients/1001"))
    assert wrong_method.status_code == 405 and "response" in wrong_method.json()


def test_projects_family_errors(sb: SandboxServer, http: httpx.Client) -> None:
    base = f"/projects/business/{sb.business_id}"
    missing = http.get(f"{base}/project/424242")
    assert (missing.status_code, missing.json()) == (404, {"error": "Requested resource could not be found."})
    untitled = http.post(f"{base}/project", json={"project": {"description": "no title"}})
    assert (untitled.status_code, untitled.json()) == (422, {"errno": 2001, "error": {"title": "field required"}})
    entry = http.post(f"/timetracking/business/{sb.business_id}/time_entries",
                      json={"time_entry": {"duration": 5}})
    assert entry.status_code == 422 and entry.json()["error"] == {"started_at": "field required"}


def test_events_ledger_and_identity_errors(sb: SandboxServer, http: httpx.Client) -> None:
    callbacks = f"/events/account/{sb.account_id}/events/callbacks"
    bad = http.post(callbacks, json={"callback": {"event": "nonsense.thing", "uri": "ftp://x"}})
    assert bad.status_code == 400
    assert bad.json() == {"errno": 422, "message": "Invalid data in this request.",
                          "details": ["event: Value error, Unrecognized event.", "uri: Value error, Invalid URL."]}
    assert http.get(f"{callbacks}/77").json() == {"errno": 404, "message": "Requested resource could not be found."}

    accounts = f"/accounting/businesses/{sb.business_uuid}/ledger_accounts/accounts"
    invalid = http.post(accounts, json={"sub_type": "Cash & Bank"})
    assert invalid.status_code == 400
    body = invalid.json()["errors"]
    assert body["status"] == 400 and body["details"][0]["metadata"]["field"] == "name"
    assert body["details"][0]["reason"] == "name: This field is required."
    assert http.get(f"{accounts}/00000000-0000-4000-8000-000000000000").status_code == 404

    anonymous = httpx.get(f"{sb.url}/auth/api/v1/users/me", trust_env=False)
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthenticated")


def test_sdk_reads_each_error_shape(sb: SandboxServer, fb: freshbooks.Client) -> None:
    with pytest.raises(FreshBooksError) as accounting_error:
        fb.clients.get(sb.account_id, 999999)
    assert (accounting_error.value.error_code, str(accounting_error.value)) == (1012, "Client not found.")
    with pytest.raises(FreshBooksError) as project_error:
        fb.projects.create(sb.business_id, {})
    assert project_error.value.status_code == 422 and project_error.value.error_code == 2001
    with pytest.raises(FreshBooksError) as event_error:
        fb.callbacks.create(sb.account_id, {"event": "bogus", "uri": "https://example.com"})
    assert event_error.value.error_code == 422
    with pytest.raises(FreshBooksError) as ledger_error:
        fb.ledger_accounts.create(sb.business_uuid, {"name": "X"})
    assert ledger_error.value.status_code == 400 and "sub_type" in str(ledger_error.value)


def test_references_are_checked_when_set_not_on_every_edit(sb: SandboxServer, http: httpx.Client) -> None:
    client_id = http.post(accounting(sb, "users/clients"), json={"client": {"organization": "Gone"}}).json()[
        "response"]["result"]["client"]["id"]
    invoice_id = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {"customerid": client_id}}).json()[
        "response"]["result"]["invoice"]["id"]
    http.put(accounting(sb, f"users/clients/{client_id}"), json={"client": {"vis_state": 1}})
    edited = http.put(accounting(sb, f"invoices/invoices/{invoice_id}"), json={"invoice": {"notes": "still editable"}})
    assert edited.status_code == 200
    again = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {"customerid": client_id}})
    assert again.status_code == 400 and again.json()["response"]["errors"][0]["errno"] == 1011
