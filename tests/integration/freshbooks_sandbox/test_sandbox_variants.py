"""The open-behaviour switches: listed with values/default/documented, set at run time and at start,
and each wired one changing what the API answers."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from connectors.freshbooks.sandbox import SandboxServer
from connectors.freshbooks.sandbox.variants import VARIANTS, parse_assignments

from .conftest import accounting

REQUIRED = {"retry_after", "lines_without_id", "cleared_text", "validation_status", "error_shape",
            "time_entry_delete", "project_delete", "token_after_refresh", "redirect_uri", "scopes",
            "jpy_fractional", "kwd"}


def test_every_open_behaviour_is_listed_with_the_least_forgiving_default(sb: SandboxServer,
                                                                         http: httpx.Client) -> None:
    listed = {v["name"]: v for v in http.get("/_sandbox/variants").json()["variants"]}
    assert set(listed) >= REQUIRED
    assert listed["retry_after"]["default"] == "none" and listed["retry_after"]["value"] == "none"
    assert listed["lines_without_id"]["default"] == "append"
    for variant in listed.values():
        assert variant["default"] in variant["values"] and len(variant["values"]) >= 2
        assert variant["documented"] in (None, *variant["values"])
    changed = http.post("/_sandbox/variants", json={"retry_after": "seconds"}).json()["variants"]
    assert {v["name"]: v["value"] for v in changed}["retry_after"] == "seconds"
    bad = http.post("/_sandbox/variants", json={"retry_after": "sometimes"})
    assert bad.status_code == 400 and "not one of" in bad.json()["response"]["errors"][0]["message"]


def test_variants_given_at_start_and_bad_ones_refused() -> None:
    assert parse_assignments(["kwd=accepted", "retry_after=seconds"]) == {"kwd": "accepted",
                                                                          "retry_after": "seconds"}
    for bad in (["kwd"], ["nope=1"], ["kwd=maybe"]):
        with pytest.raises(ValueError):
            parse_assignments(bad)
    with SandboxServer(seed=3, variants={"validation_status": "422"}) as sb:
        assert {v["name"]: v["value"] for v in sb.variants()}["validation_status"] == "422"
    assert len(VARIANTS) >= 12


def test_cli_refuses_a_bad_variant_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "syncengine", "sandbox", "freshbooks", "--port", "0",
                           "--variant", "retry_after=often"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "retry_after" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("mode", ["append", "replace"])
def test_lines_without_id_append_or_replace(sb: SandboxServer, http: httpx.Client, mode: str) -> None:
    sb.set_variants(lines_without_id=mode)
    path = accounting(sb, "invoices/invoices")
    line = {"name": "a", "qty": "1", "unit_cost": {"amount": "10.00", "code": "USD"}}
    made = http.post(path, params={"include[]": "lines"},
                     json={"invoice": {"customerid": 1001, "currency_code": "USD", "lines": [line]}}).json()
    invoice = made["response"]["result"]["invoice"]
    item = f"{path}/{invoice['id']}"
    again = http.put(item, params={"include[]": "lines"},
                     json={"invoice": {"lines": [{**line, "name": "b"}]}}).json()["response"]["result"]["invoice"]
    names = [x["name"] for x in again["lines"]]
    assert names == (["a", "b"] if mode == "append" else ["b"])
    # sent with its lineid, a line is updated in place under both readings; unnamed ones go
    lineid = again["lines"][-1]["lineid"]
    third = http.put(item, params={"include[]": "lines"},
                     json={"invoice": {"lines": [{**line, "lineid": lineid, "name": "c"}]}}).json()
    assert [x["name"] for x in third["response"]["result"]["invoice"]["lines"]] == ["c"]


@pytest.mark.parametrize("status", ["400", "422"])
def test_validation_status(sb: SandboxServer, http: httpx.Client, status: str) -> None:
    sb.set_variants(validation_status=status)
    answer = http.post(accounting(sb, "invoices/invoices"), json={"invoice": {}})
    assert answer.status_code == int(status)
    assert answer.json()["response"]["errors"][0]["field"] == "customerid"


def test_error_shapes(sb: SandboxServer, http: httpx.Client) -> None:
    path = accounting(sb, "invoices/invoices")
    sb.set_variants(error_shape="code_details")
    answer = http.post(path, json={"invoice": {}})
    detail = answer.json()["details"][0]
    assert answer.json()["code"] == 3 and detail["reason"] == "1001" and detail["metadata"]["field"] == "customerid"
    sb.set_variants(error_shape="http200_error")
    answer = http.post(path, json={"invoice": {}})
    assert answer.status_code == 200 and answer.json()["response"]["errors"][0]["errno"] == 1001
