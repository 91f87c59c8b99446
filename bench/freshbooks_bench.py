"""FreshBooks -> SQLite at the size of a real business: API calls, the rate limit's floor, memory.

The sandbox runs in its own process (``serve`` below) seeded with ``--size business``: 10,000
clients, 50,000 invoices with lines, 50,000 payments, 20,000 time entries and what they need. Its
records were last changed 3 to 120 days before now (a quiet spell before the run), so an
incremental sync's changes are exactly the edits this bench makes.

Phases, each a ``syncengine sync`` child process of the ready ``freshbooks-sqldb`` mapping
(``examples/freshbooks-sqldb.yaml`` as shipped, pointed at the sandbox and at files under
bench/work-freshbooks/):
  1. the first sync into an empty SQLite database;
  2. a second sync with nothing changed (the database side re-reads once the rows the first sync
     wrote, since its cursor is capped at that pull's start: the engine's cost, not FreshBooks');
  3. 100 edits in FreshBooks (40 clients, 30 invoices, 20 payments, 10 time entries, through the
     API), then an incremental sync.
For each: wall time, peak RSS of the sync process, the API calls by the sandbox's own counters,
the minimum pages the data needs (records to read / 100 a page, at least one page an object)
and the rate limit's floor (calls / the client's rate: ``rate_limit_per_minute``, 600 in the
example config; FreshBooks publishes no number). Writes bench/results/freshbooks-<stamp>.md and
freshbooks-latest.json.

``--latency-ms`` adds that delay to every sandbox answer (its latency fault), to stand for the
round trip to the real API.

Usage: python -m bench.freshbooks_bench [--scale 0.1] [--rate 600] [--latency-ms 150]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work-freshbooks"
RESULTS = HERE / "results"
CONFIG = ROOT / "examples" / "freshbooks-sqldb.yaml"
PAGE = 100  # FreshBooks' per_page cap (the sandbox's listing.MAX_PER_PAGE)
QUIET_DAYS = 3
EDITS = {"clients": 40, "invoices": 30, "payments": 20, "time_entries": 10}

# connector object -> sandbox collection, for objects read by listing (pages of 100)
LISTED = {"clients": "clients", "taxes": "taxes", "items": "items", "tasks": "tasks", "invoices": "invoices",
          "estimates": "estimates", "payments": "payments", "expenses": "expenses", "projects": "projects",
          "time_entries": "time_entries", "accounts": "ledger_accounts"}
SINGLE_READS = ("account", "balance_sheet", "cash_flow")  # one call each: identity, two reports
# objects whose deletes the API shows only in a second listing (search[vis_state]=1): accounting ones
DELETE_PASS = ("clients", "items", "tasks", "invoices", "estimates", "payments", "expenses")
# objects whose deletes only an id-only listing finds (connectors/freshbooks/idset.py)
ID_LISTED = ("projects", "time_entries")


# -- the sandbox process ---------------------------------------------------------------------------
def serve(port: int, scale: float, rng_seed: int) -> None:
    """Seed, print one JSON line describing the sandbox, serve until SIGTERM."""
    from connectors.freshbooks.sandbox import SandboxServer

    now = datetime.now(UTC)
    started = time.perf_counter()
    server = SandboxServer(size="business", scale=scale, port=port, rng_seed=rng_seed,
                           now=now - timedelta(days=QUIET_DAYS),
                           # `auth` listens on a free port chosen later, not the registered URI
                           variants={"redirect_uri": "any_loopback"})
    seed_seconds = time.perf_counter() - started
    server.start()
    server.set_now(datetime.now(UTC))  # the seeded data ends QUIET_DAYS ago; the clock is real time again
    counts = {name: server.state.count(collection) for name, collection in LISTED.items()}
    currencies = len({str(r["currency_code"]).upper() for r in server.state.list("clients")})
    with server.state.lock:  # the records to edit, spread evenly (listing them through the API costs minutes)
        edit_ids = {name: [int(r["id"]) for r in list(server.state.rows(name))[:: max(1, counts[name] // wanted)]]
                    [:wanted] for name, wanted in EDITS.items()}
    stop = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, request_stop)
    print(json.dumps({"url": server.url, "client_id": server.client_id, "client_secret": server.client_secret,
                      "account_id": server.account_id, "business_id": server.business_id,
                      "seed_seconds": round(seed_seconds, 2), "rss_mb": _rss_mb(os.getpid()), "counts": counts,
                      "currencies": currencies, "edit_ids": edit_ids}),
          flush=True)
    try:
        while not stop:
            time.sleep(0.2)
    finally:
        server.stop()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# -- the driver --------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _syncengine() -> str:
    return shutil.which("syncengine", path=os.path.dirname(sys.executable)) or "syncengine"


def _authorize(env: dict[str, str], port: int) -> None:
    """`syncengine auth freshbooks`, with this function as the browser (the sandbox approves at once)."""
    proc = subprocess.Popen([_syncengine(), "auth", "freshbooks", "-c", str(CONFIG), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    url = next((line.strip() for line in proc.stdout if line.startswith("http")), "")
    httpx.get(url, follow_redirects=True, timeout=30, trust_env=False)
    rest, _ = proc.communicate(timeout=60)
    if proc.returncode != 0:
        raise SystemExit(f"syncengine auth freshbooks failed:\n{rest}")


def _sync(env: dict[str, str], label: str, profile: Path | None = None) -> dict[str, Any]:
    """One `syncengine sync` child: wall time and peak RSS from wait4's rusage; with ``profile``,
    py-spy samples it from outside (collapsed stacks in that file)."""
    print(f"  {label} ...", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen([_syncengine(), "--log-level", "error", "sync", "-c", str(CONFIG)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    spy = None
    if profile is not None:
        spy = subprocess.Popen([shutil.which("py-spy", path=os.path.dirname(sys.executable)) or "py-spy",
                                "record", "-p", str(proc.pid), "-r", "50", "-f", "raw", "-o", str(profile)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if spy is not None:
        spy.wait(timeout=60)
    code = os.waitstatus_to_exitcode(status)
    result: dict[str, Any] = {"label": label, "wall_s": round(time.perf_counter() - started, 1),
                              "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
                              "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "exit_code": code}
    if code != 0:
        result["output_tail"] = output[-3000:]
        print(output[-3000:])
    return result


def _stats(api: httpx.Client) -> dict[str, Any]:
    return dict(api.get("/_sandbox/stats").json())


def _calls(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """API calls between two stats snapshots, by object (the path's last resource segment)."""
    by_object: dict[str, int] = {}
    for path, count in after["by_path"].items():
        delta = count - before["by_path"].get(path, 0)
        if delta and not path.startswith("/_sandbox"):
            by_object[_object_of(path)] = by_object.get(_object_of(path), 0) + delta
    return {"total": sum(by_object.values()), "by_object": dict(sorted(by_object.items())),
            "rate_limited": after["rate_limited"] - before["rate_limited"]}


def _object_of(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    while parts and parts[-1].isdigit():
        parts.pop()
    name = parts[-1] if parts else path
    return "account" if name == "me" else name  # the identity call: business discovery and `account`


def minimum_pages(records: dict[str, int], currencies: int = 1) -> dict[str, int]:
    """Pages the data needs: every listed object's records at 100 a page (an empty one still takes
    a page to learn so), plus one call for each single read: the identity, and each report once
    per currency the business uses (its clients' currencies)."""
    pages = {name: max(1, math.ceil(count / PAGE)) for name, count in records.items()}
    pages.update({name: 1 if name == "account" else currencies for name in SINGLE_READS})
    return pages


def floor_seconds(calls: int, per_minute: float) -> float:
    """The least wall time ``calls`` can take at ``per_minute`` requests a minute."""
    return calls * 60.0 / per_minute


def _edit(api: httpx.Client, token: str, ready: dict[str, Any]) -> dict[str, list[int]]:
    """EDITS through the API: records spread evenly over each collection, one PUT each."""
    headers = {"Authorization": f"Bearer {token}"}
    account, business = ready["account_id"], ready["business_id"]
    done: dict[str, list[int]] = {}
    paths = {"clients": (f"/accounting/account/{account}/users/clients", "client", "organization"),
             "invoices": (f"/accounting/account/{account}/invoices/invoices", "invoice", "notes"),
             "payments": (f"/accounting/account/{account}/payments/payments", "payment", "note"),
             "time_entries": (f"/timetracking/business/{business}/time_entries", "time_entry", "note")}
    for name in EDITS:
        path, single, field = paths[name]
        ids: list[int] = ready["edit_ids"][name]
        for number, key in enumerate(ids):
            api.put(f"{path}/{key}", json={single: {field: f"Edited by the bench {number}"}},
                    headers=headers).raise_for_status()
        done[name] = ids
    return done


def _phase(result: dict[str, Any], calls: dict[str, Any], needed: dict[str, int], rate: float) -> dict[str, Any]:
    minimum = sum(needed.values())
    floor = floor_seconds(calls["total"], rate)
    return {**result, "calls": calls, "minimum_pages": minimum, "minimum_by_object": needed,
            "calls_over_minimum": round(calls["total"] / minimum - 1, 3),
            "rate_floor_s": round(floor, 1),
            "wall_over_floor": round(result["wall_s"] / floor - 1, 3) if floor else None}


def _profile(args: argparse.Namespace, phase: str) -> Path | None:
    return WORK / f"profile-{phase}.txt" if args.profile else None


def _with_delete_listings(phase: dict[str, Any], ready: dict[str, Any]) -> dict[str, Any]:
    """An incremental pull must also ask for deletes: a ``search[vis_state]=1`` page per accounting
    object, and the id listings of what the API lists no deletes of: projects, and time entries
    while the account shows none deleted as ``active: false`` (the sandbox's strict default,
    ``time_entry_delete=hard``: then only an id listing finds a deleted entry)."""
    pages = len(DELETE_PASS) + sum(max(1, math.ceil(ready["counts"][name] / PAGE)) for name in ID_LISTED)
    phase["delete_listing_pages"] = pages
    phase["minimum_with_delete_listings"] = phase["minimum_pages"] + pages
    phase["calls_over_minimum_with_delete_listings"] = round(
        phase["calls"]["total"] / phase["minimum_with_delete_listings"] - 1, 3)
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the business size (default 1)")
    parser.add_argument("--rate", type=float, default=600, help="client requests per minute (default 600)")
    parser.add_argument("--rng-seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every sandbox answer (default 0)")
    parser.add_argument("--profile", action="store_true",
                        help="sample each sync with py-spy (pip install py-spy) into bench/work-freshbooks/")
    args, rest = parser.parse_known_args()
    if rest[:1] == ["serve"]:
        serve(int(rest[1]), args.scale, args.rng_seed)
        return

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    RESULTS.mkdir(exist_ok=True)
    port = _free_port()
    print(f"seeding the sandbox at {args.scale:g} x business size ...", flush=True)
    started = time.perf_counter()
    sandbox = subprocess.Popen([sys.executable, "-m", "bench.freshbooks_bench", "--scale", str(args.scale),
                                "--rng-seed", str(args.rng_seed), "serve", str(port)],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert sandbox.stdout is not None
        ready = json.loads(sandbox.stdout.readline())
        ready_seconds = time.perf_counter() - started
        print(f"  seeded in {ready['seed_seconds']} s (process ready in {ready_seconds:.1f} s), "
              f"{ready['rss_mb']} MB: {ready['counts']}", flush=True)
        report = _run(args, ready, round(ready_seconds, 1))
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(timeout=30)
    _write(report)


def _run(args: argparse.Namespace, ready: dict[str, Any], ready_seconds: float) -> dict[str, Any]:
    redirect_port = _free_port()
    env = {**os.environ, "FRESHBOOKS_API_URL": ready["url"], "FRESHBOOKS_AUTH_URL": ready["url"],
           "FRESHBOOKS_CLIENT_ID": ready["client_id"], "FRESHBOOKS_CLIENT_SECRET": ready["client_secret"],
           "FRESHBOOKS_REDIRECT_URI": f"http://127.0.0.1:{redirect_port}/callback",
           "FRESHBOOKS_RATE_LIMIT": str(int(args.rate)), "FRESHBOOKS_TIMEOUT": "60",
           "SYNCENGINE_LEDGER_URL": f"sqlite:///{WORK / 'ledger.db'}",
           "FRESHBOOKS_DB_URL": f"sqlite:///{WORK / 'freshbooks.db'}",
           "SYNCENGINE_SECRET_KEY_FILE": str(WORK / "secret.key"), "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("SYNCENGINE_SECRET_KEY", None)
    with httpx.Client(base_url=ready["url"], timeout=60, trust_env=False) as api:
        _authorize(env, redirect_port)
        if args.latency_ms:
            api.post("/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()
        phases = []
        before = _stats(api)
        first = _sync(env, "first sync into an empty SQLite database", _profile(args, "first"))
        whole = minimum_pages(ready["counts"], ready["currencies"])
        phases.append(_phase(first, _calls(before, _stats(api)), whole, args.rate))
        _print(phases[-1])
        if first["exit_code"] != 0:
            raise SystemExit("the first sync failed")
        quiet = minimum_pages({name: 0 for name in LISTED}, ready["currencies"])
        quiet["taxes"] = max(1, math.ceil(ready["counts"]["taxes"] / PAGE))
        quiet["accounts"] = max(1, math.ceil(ready["counts"]["accounts"] / PAGE))
        before = _stats(api)
        second = _sync(env, "second sync, nothing changed", _profile(args, "second"))
        phases.append(_with_delete_listings(_phase(second, _calls(before, _stats(api)), quiet, args.rate), ready))
        _print(phases[-1])

        token = api.post("/_sandbox/tokens", json={}).json()["access_token"]
        edited = _edit(api, token, ready)
        changed = {name: len(edited.get(name, [])) for name in LISTED}
        # the changed records, plus the listings FreshBooks makes unavoidable: taxes and the chart of
        # accounts have no change filter (read whole), and projects' deletes are seen by their ids
        needed = minimum_pages(changed, ready["currencies"])
        needed["taxes"] = max(1, math.ceil(ready["counts"]["taxes"] / PAGE))
        needed["accounts"] = max(1, math.ceil(ready["counts"]["accounts"] / PAGE))
        before = _stats(api)
        incremental = _sync(env, f"incremental sync after {sum(changed.values())} edits in FreshBooks",
                            _profile(args, "incremental"))
        phase = _with_delete_listings(_phase(incremental, _calls(before, _stats(api)), needed, args.rate), ready)
        phase["edits"] = changed
        phases.append(phase)
        _print(phases[-1])
    return {"when": datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ"), "scale": args.scale,
            "rate_per_minute": args.rate, "latency_ms": args.latency_ms, "profiled": args.profile,
            "records": ready["counts"],
            "seed_seconds": ready["seed_seconds"],
            "sandbox_ready_seconds": ready_seconds, "sandbox_rss_mb": ready["rss_mb"],
            "load_average": os.getloadavg(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "phases": phases}


def _print(phase: dict[str, Any]) -> None:
    print(f"    {phase['wall_s']} s, CPU {phase['cpu_s']} s (floor {phase['rate_floor_s']} s), "
          f"{phase['peak_rss_mb']} MB, "
          f"{phase['calls']['total']} calls (minimum {phase['minimum_pages']}), "
          f"{phase['calls']['rate_limited']} x 429, exit {phase['exit_code']}", flush=True)


def _write(report: dict[str, Any]) -> None:
    stamp = report["when"]
    (RESULTS / "freshbooks-latest.json").write_text(json.dumps(report, indent=2) + "\n")
    total = sum(report["records"].values())
    profiled = " (profiled with py-spy)" if report.get("profiled") else ""
    lines = [f"# FreshBooks -> SQLite at {report['scale']:g} x business size ({stamp}){profiled}", "",
             f"{total:,} records ({', '.join(f'{v:,} {k}' for k, v in report['records'].items())}); "
             f"sandbox seeded in {report['seed_seconds']} s ({report['sandbox_rss_mb']} MB); client rate "
             f"{report['rate_per_minute']:g}/min; sandbox latency {report['latency_ms']} ms; "
             f"load average {', '.join(f'{x:.2f}' for x in report['load_average'])} "
             f"({report['machine']['cpus']} CPUs).", "",
             "| phase | wall (s) | CPU (s) | rate floor (s) | wall / floor | API calls | minimum pages "
             "| calls / minimum | 429s | peak RSS (MB) | exit |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in report["phases"]:
        ratio = f"{p['wall_s'] / p['rate_floor_s']:.2f}" if p["rate_floor_s"] else "-"
        lines.append(f"| {p['label']} | {p['wall_s']} | {p['cpu_s']} | {p['rate_floor_s']} | {ratio} "
                     f"| {p['calls']['total']} "
                     f"| {p['minimum_pages']} | {p['calls']['total'] / p['minimum_pages']:.2f} "
                     f"| {p['calls']['rate_limited']} | {p['peak_rss_mb']} | {p['exit_code']} |")
    for p in report["phases"]:
        if "minimum_with_delete_listings" in p:
            lines.append(f"\n{p['label']}: minimum with the listings that find deletes "
                         f"({p['delete_listing_pages']} pages): {p['minimum_with_delete_listings']}, "
                         f"calls / that minimum {p['calls']['total'] / p['minimum_with_delete_listings']:.2f}.")
    lines += ["", "Calls by object (calls / minimum pages):", ""]
    for p in report["phases"]:
        shown = ", ".join(f"{name} {count}/{p['minimum_by_object'].get(name, 0)}"
                          for name, count in p["calls"]["by_object"].items())
        lines.append(f"- {p['label']}: {shown}")
    (RESULTS / f"freshbooks-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if any(p["exit_code"] != 0 for p in report["phases"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
