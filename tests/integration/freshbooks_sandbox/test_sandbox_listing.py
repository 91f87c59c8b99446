"""Paging, vis_state, the Eastern-day updated window, updated_since and sort, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.freshbooks.sandbox import SandboxServer

from .conftest import accounting


def _clients(http: httpx.Client, sb: SandboxServer, **params: Any) -> dict[str, Any]:
    answer = http.get(accounting(sb, "users/clients"), params=params)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()["response"]["result"]
    return result


def _create_client(http: httpx.Client, sb: SandboxServer, email: str) -> int:
    answer = http.post(accounting(sb, "users/clients"), json={"client": {"email": email, "fname": "T"}})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["response"]["result"]["client"]["id"])


def test_paging_caps_and_edges(sb: SandboxServer, http: httpx.Client) -> None:
    total = sb.state.count("clients")
    first = _clients(http, sb)
    assert (first["page"], first["per_page"], first["total"]) == (1, 15, total)
    assert first["pages"] == -(-total // 15)
    assert _clients(http, sb, per_page=1000)["per_page"] == 100
    assert _clients(http, sb, page=0, per_page=3)["clients"] == _clients(http, sb, page=1, per_page=3)["clients"]
    past = _clients(http, sb, page=99, per_page=10)
    assert past["clients"] == [] and past["total"] == total
    empty = _clients(http, sb, **{"search[email]": "nobody@nowhere.test"})
    assert (empty["total"], empty["pages"], empty["page"]) == (0, 0, 1)
    # walking every page gives every client once, in id order
    seen: list[int] = []
    page = 1
    while True:
        chunk = _clients(http, sb, page=page, per_page=7)
        seen += [c["id"] for c in chunk["clients"]]
        if page >= chunk["pages"]:
            break
        page += 1
    assert seen == sorted(seen) and len(seen) == total
    bad = http.get(accounting(sb, "users/clients"), params={"page": "abc"})
    assert bad.status_code == 400
    assert bad.json()["response"]["errors"][0]["errno"] == 1014
    bad_size = http.get(accounting(sb, "users/clients"), params={"per_page": "-2"})
    assert bad_size.json()["response"]["errors"][0]["errno"] == 1013


def test_vis_state_semantics(sb: SandboxServer, http: httpx.Client) -> None:
    deleted, archived = _create_client(http, sb, "d@x.com"), _create_client(http, sb, "a@x.com")
    path = accounting(sb, "users/clients")
    answer = http.put(f"{path}/{deleted}", json={"client": {"vis_state": 1, "organization": "Ignored"}})
    assert answer.json()["response"]["result"]["client"]["vis_state"] == 1
    assert sb.state.get("clients", deleted)["organization"] == ""  # type: ignore[index]
    http.put(f"{path}/{archived}", json={"client": {"vis_state": 2}})
    listed = {c["id"] for c in _clients(http, sb, per_page=100)["clients"]}
    assert archived in listed and deleted not in listed
    only_deleted = _clients(http, sb, **{"search[vis_state]": 1})["clients"]
    assert [c["id"] for c in only_deleted] == [deleted]
    only_archived = _clients(http, sb, **{"search[vis_state]": 2})["clients"]
    assert [c["id"] for c in only_archived] == [archived]
    assert http.get(f"{path}/{deleted}").json()["response"]["result"]["client"]["vis_state"] == 1
    http.put(f"{path}/{deleted}", json={"client": {"vis_state": 0}})
    assert deleted in {c["id"] for c in _clients(http, sb, per_page=100)["clients"]}


def test_updated_window_uses_eastern_days(sb: SandboxServer, http: httpx.Client) -> None:
    # 2026-03-10 23:30 US/Eastern (EDT since 8 March) is 2026-03-11 03:30 UTC.
    sb.set_now(datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    late = _create_client(http, sb, "late@x.com")
    record = sb.state.get("clients", late)
    assert record is not None and record["updated"].startswith("2026-03-10 23:3")
    assert record["signup_date"].startswith("2026-03-11 03:3")
    sb.set_now(datetime(2026, 3, 11, 15, 0, tzinfo=UTC))
    noon = _create_client(http, sb, "noon@x.com")

    def ids(**params: str) -> set[int]:
        return {c["id"] for c in _clients(http, sb, per_page=100, **params)["clients"]}

    assert ids(**{"search[updated_min]": "2026-03-10", "search[updated_max]": "2026-03-11"}) == {late}
    assert ids(**{"search[updated_min]": "2026-03-11"}) == {noon}
    assert ids(**{"search[updated_min]": "2026-03-10"}) == {late, noon}
    assert ids(**{"search[updated_max]": "2026-03-10"}).isdisjoint({late, noon})
    bad = http.get(accounting(sb, "users/clients"), params={"search[updated_min]": "yesterday"})
    assert bad.status_code == 400 and bad.json()["response"]["errors"][0]["field"] == "updated_min"


def test_updates_bump_updated_and_search_filters(sb: SandboxServer, http: httpx.Client) -> None:
    sb.set_now(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    cid = _create_client(http, sb, "first@x.com")
    before = sb.state.get("clients", cid)["updated"]  # type: ignore[index]
    sb.advance(3600)
    http.put(f"{accounting(sb, 'users/clients')}/{cid}", json={"client": {"lname": "Zed-Unique"}})
    after = sb.state.get("clients", cid)["updated"]  # type: ignore[index]
    assert (before, after) == ("2026-05-01 08:00:00", "2026-05-01 09:00:00")
    assert [c["id"] for c in _clients(http, sb, **{"search[lname_like]": "zed-uni"})["clients"]] == [cid]
    assert [c["id"] for c in _clients(http, sb, **{"search[email]": "FIRST@x.com"})["clients"]] == [cid]
    some = [c["id"] for c in _clients(http, sb, per_page=3)["clients"]]
    by_in = _clients(http, sb, **{"search[userids][]": some[:2]})["clients"]
    assert [c["id"] for c in by_in] == some[:2]
    newest = _clients(http, sb, sort="updated_desc", per_page=1)["clients"]
    assert newest[0]["id"] == cid


def test_updated_since_on_projects_and_time_entries(sb: SandboxServer, http: httpx.Client) -> None:
    sb.set_variants(time_entry_delete="inactive")  # the deleted entry is listed with include_deleted
    sb.set_now(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    base = f"/timetracking/business/{sb.business_id}/time_entries"
    made = http.post(base, json={"time_entry": {"started_at": "2026-06-01T10:00:00Z", "duration": 60,
                                                "is_logged": True}}).json()["time_entry"]
    assert "updated_at" not in made and made["created_at"] == "2026-06-01T12:00:00Z"
    since = {"updated_since": "2026-06-01T11:59:00Z"}
    assert [e["id"] for e in http.get(base, params=since).json()["time_entries"]] == [made["id"]]
    assert http.get(base, params={"updated_since": "2026-06-01T12:01:00"}).json()["time_entries"] == []
    sb.advance(600)
    http.put(f"{base}/{made['id']}", json={"time_entry": {"note": "edited"}})
    later = http.get(base, params={"updated_since": "2026-06-01T12:05:00Z"}).json()
    assert [e["id"] for e in later["time_entries"]] == [made["id"]]
    assert later["meta"]["total"] == 1 and later["meta"]["per_page"] == 30
    assert http.delete(f"{base}/{made['id']}").status_code == 204
    assert http.get(base, params=since).json()["time_entries"] == []
    with_deleted = http.get(base, params={**since, "include_deleted": "true"}).json()["time_entries"]
    assert [(e["id"], e["active"]) for e in with_deleted] == [(made["id"], False)]

    projects = f"/projects/business/{sb.business_id}"
    project = http.post(f"{projects}/project", json={"project": {"title": "P"}}).json()["project"]
    assert project["updated_at"] == "2026-06-01T12:10:00"
    listed = http.get(f"{projects}/projects", params={"updated_since": "2026-06-01T12:10:00Z"}).json()
    assert [p["id"] for p in listed["projects"]] == [project["id"]]
    assert "response" not in listed and listed["meta"]["pages"] == 1
