"""The control surface: public names, fast start, throughput, thread-safe writes, multi-currency."""

from __future__ import annotations

import threading
import time

import httpx

import connectors.freshbooks.sandbox as sandbox_package
from connectors.freshbooks.sandbox import SandboxServer

from .conftest import accounting


def test_public_names_are_pinned() -> None:
    assert sandbox_package.__all__ == ["SIGNATURE_HEADER", "SandboxServer", "run_sandbox", "signature"]


def test_starts_fast_and_answers_quickly() -> None:
    started = time.monotonic()
    with SandboxServer(seed=20) as sb:
        assert time.monotonic() - started < 1.0
        assert sb.url.startswith("http://127.0.0.1:") and sb.port > 0
        token = sb.issue_tokens()["access_token"]
        with httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False) as http:
            http.get(accounting(sb, "users/clients"))
            began = time.monotonic()
            for _ in range(200):
                assert http.get(accounting(sb, "users/clients/1001")).status_code == 200
            # generous bound: catches per-response stalls (Nagle + delayed ACK cost ~40 ms each)
            assert time.monotonic() - began < 2.0
        assert sb.stats()["by_status"]["200"] == 201


def test_concurrent_writes_get_unique_ids(sb: SandboxServer, tokens: dict[str, str]) -> None:
    before = sb.state.count("clients")
    ids: list[int] = []
    lock = threading.Lock()

    def create(worker: int) -> None:
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        with httpx.Client(base_url=sb.url, headers=headers, trust_env=False) as http:
            for n in range(15):
                answer = http.post(accounting(sb, "users/clients"),
                                   json={"client": {"email": f"w{worker}.{n}@x.com"}})
                with lock:
                    ids.append(answer.json()["response"]["result"]["client"]["id"])

    workers = [threading.Thread(target=create, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(set(ids)) == 60 and sb.state.count("clients") == before + 60


def test_multi_currency_documents_follow_the_client(sb: SandboxServer, http: httpx.Client) -> None:
    client = http.post(accounting(sb, "users/clients"), json={"client": {"organization": "Maple",
                                                                         "currency_code": "CAD"}})
    client_id = client.json()["response"]["result"]["client"]["id"]
    invoice = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {
        "customerid": client_id, "lines": [{"name": "A", "qty": "1.5", "unit_cost": {"amount": "10"}}]}},
        params={"include[]": "lines"}).json()["response"]["result"]["invoice"]
    assert invoice["currency_code"] == "CAD" and invoice["amount"] == {"amount": "15.00", "code": "CAD"}
    assert invoice["lines"][0]["unit_cost"] == {"amount": "10.00", "code": "CAD"}
    wrong = http.post(accounting(sb, "payments/payments"), json={"payment": {
        "invoiceid": invoice["id"], "amount": {"amount": "5.00", "code": "USD"}}})
    assert wrong.status_code == 400 and wrong.json()["response"]["errors"][0]["field"] == "amount"
    http.put(accounting(sb, f"invoices/invoices/{invoice['id']}"), json={"invoice": {"action_mark_as_sent": True}})
    balances = http.get(accounting(sb, f"users/clients/{client_id}"),
                        params=[("include[]", "outstanding_balance"), ("include[]", "draft_balance")])
    shown = balances.json()["response"]["result"]["client"]
    assert shown["outstanding_balance"] == [{"amount": {"amount": "15.00", "code": "CAD"}}]
    assert shown["draft_balance"] == []
