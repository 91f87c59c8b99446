"""FreshBooks sandbox <-> Stripe sandbox through mappings/freshbooks-stripe.yaml and the real
`syncengine sync` command, plus SIGKILL trials (``python -m bench.reliability.freshbooks_stripe``).

Used by tests/e2e/test_freshbooks_stripe.py (a few trials) and by the sweep whose figures are in
bench/results/stripe_kill9.md. A trial: fresh sandboxes; a first sync killed at a random moment,
then a clean re-run; every open Stripe invoice paid in Stripe; a second sync killed at random,
then a clean re-run; then the checks: no FreshBooks client with two Stripe customers, no
FreshBooks invoice with two Stripe invoices, no Stripe payment recorded twice in FreshBooks.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "mappings" / "freshbooks-stripe.yaml"
PIPELINE = "books-stripe"


def syncengine_exe() -> str:
    exe = Path(sys.executable).with_name("syncengine")
    return str(exe) if exe.exists() else "syncengine"


@dataclass
class SyncResult:
    returncode: int
    stdout: str
    stderr: str
    killed: bool = False


class Env:
    """Both sandboxes on free loopback ports, a config and a ledger in ``folder``."""

    def __init__(self, folder: Path, fb_seed: int = 3, stripe_rate_per_second: float | None = 20.0) -> None:
        from connectors.freshbooks.sandbox import SandboxServer as FreshBooksSandbox
        from connectors.stripe.sandbox import SandboxServer as StripeSandbox

        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.fb = FreshBooksSandbox(seed=fb_seed, port=0).start()
        self.st = StripeSandbox(seed=0, port=0).start()
        self.stripe = httpx.Client(base_url=self.st.url, headers={"Authorization": f"Bearer {self.st.api_key}"})
        # An empty Stripe account: the sandbox seeds one product even at seed 0.
        for price in self.st.info()["seeded"]["price"]:
            self.stripe.post(f"/v1/prices/{price}", data={"active": "false"})
        for product in self.st.info()["seeded"]["product"]:
            self.stripe.post(f"/v1/products/{product}", data={"active": "false"})
        self.ledger_url = f"sqlite:///{folder / 'ledger.db'}"
        self.config = folder / "config.yaml"
        self.config.write_text(f"""ledger: {self.ledger_url}
connectors:
  books:
    type: freshbooks
    base_url: {self.fb.url}
    client_id: {self.fb.client_id}
    client_secret: {self.fb.client_secret}
    redirect_uri: {self.fb.redirect_uri}
  pay:
    type: stripe
    base_url: {self.st.url}
    api_key: {self.st.api_key}
    rate_limit_per_second: {stripe_rate_per_second if stripe_rate_per_second else "null"}
pipelines:
  - name: {PIPELINE}
    left: books
    right: pay
    mapping: {MAPPING}
""", encoding="utf-8")
        from syncengine.ledger import Ledger

        ledger = Ledger.open(self.ledger_url)
        try:
            with ledger.token_lock("freshbooks") as slot:
                slot.save(self.fb.issue_tokens())
        finally:
            ledger.close()

    def close(self) -> None:
        self.stripe.close()
        self.st.stop()
        self.fb.stop()

    def __enter__(self) -> Env:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running the real command --------------------------------------------------------------
    def sync(self, *extra: str, kill_after: float | None = None, kill_at_request: int | None = None) -> SyncResult:
        """`syncengine sync -c config`; with ``kill_after`` SIGKILLed that many seconds in, with
        ``kill_at_request`` as soon as the two sandboxes have answered that many requests of it
        (a point in the sync's own progress, whatever the machine's load), if still running."""
        served = self.requests_served()
        proc = subprocess.Popen([syncengine_exe(), "sync", "-c", str(self.config), *extra], cwd=self.folder,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
        killed = False
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
        elif kill_at_request is not None:
            while proc.poll() is None:
                if self.requests_served() - served >= kill_at_request:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed = True
                    break
                time.sleep(0.002)
        out, err = proc.communicate(timeout=600)
        return SyncResult(proc.returncode, out, err, killed)

    def requests_served(self) -> int:
        """Requests both sandboxes have answered so far."""
        return int(self.fb.sandbox.stats.snapshot()["requests"]) + int(self.st.sandbox.stats.snapshot()["requests"])

    # -- Stripe, as a user of the API -------------------------------------------------------------
    def list_stripe(self, path: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            query = {"limit": 100, **params, **({"starting_after": after} if after else {})}
            page = self.stripe.get(path, params=query).json()
            rows.extend(page["data"])
            if not page.get("has_more"):
                return rows
            after = page["data"][-1]["id"]

    def pay_open_invoices(self) -> list[str]:
        paid = []
        for invoice in self.list_stripe("/v1/invoices", status="open"):
            answer = self.stripe.post(f"/v1/invoices/{invoice['id']}/pay", data={"payment_method": "pm_card_visa"})
            if answer.status_code == 200:
                paid.append(invoice["id"])
        return paid

    # -- the checks -------------------------------------------------------------------------------
    def duplicates(self) -> list[str]:
        """What would be a duplicate: empty when every record exists once."""
        problems: list[str] = []
        customers = Counter(str(c.get("email") or "").lower() for c in self.list_stripe("/v1/customers")
                            if c.get("email"))
        problems += [f"{n} Stripe customers for {email}" for email, n in customers.items() if n > 1]
        fb_emails = Counter(str(c.get("email") or "").lower() for c in self.fb.state.list("clients")
                            if c.get("email") and not c.get("vis_state"))
        problems += [f"{n} FreshBooks clients for {email}" for email, n in fb_emails.items() if n > 1]
        # Stripe invoices made by the engine carry the FreshBooks invoice in their back-reference
        # through the intent; count them per customer + description + lines instead, which a
        # duplicate repeats exactly.
        shapes = Counter(
            (i.get("customer"), i.get("description"), i.get("due_date"), i.get("total"))
            for i in self.list_stripe("/v1/invoices") if i.get("status") != "void"
        )
        problems += [f"{n} Stripe invoices shaped {shape}" for shape, n in shapes.items() if n > 1]
        products = Counter(p.get("name") for p in self.list_stripe("/v1/products") if p.get("active"))
        problems += [f"{n} active Stripe products named {name}" for name, n in products.items() if n > 1]
        payments = Counter((p.get("invoiceid"), p.get("transactionid")) for p in self.fb.state.list("payments")
                           if p.get("transactionid") and not p.get("vis_state"))
        problems += [f"{n} FreshBooks payments for {key}" for key, n in payments.items() if n > 1]
        return problems


def trial(folder: Path, rng: random.Random) -> tuple[list[str], dict[str, Any]]:
    """One kill -9 trial (see the module docstring): the problems found and what happened."""
    with Env(folder) as env:
        # Kill points in the sync's own progress (requests the sandboxes answered), not in
        # seconds: on a loaded machine a kill after 2 s can land before the process has imported
        # anything. A first sync of this data takes about 56 requests, the one after the
        # payments about 48.
        first_kill = rng.randint(1, 60)
        killed_1 = env.sync(kill_at_request=first_kill)
        clean_1 = env.sync()
        paid = env.pay_open_invoices()
        second_kill = rng.randint(1, 50)
        killed_2 = env.sync(kill_at_request=second_kill)
        clean_2 = env.sync()
        final = env.sync()
        problems = env.duplicates()
        if clean_2.returncode != 0 or final.returncode != 0:
            problems.append(f"clean re-run failed: rc {clean_2.returncode}/{final.returncode}: "
                            f"{(clean_2.stdout + clean_2.stderr)[-600:]}")
        if "0 writes" not in final.stdout:
            problems.append(f"a third sync still wrote: {final.stdout[-400:]}")
        recorded = [p for p in env.fb.state.list("payments") if str(p.get("transactionid") or "").startswith("pi_")]
        if len(recorded) != len(paid):
            problems.append(f"{len(paid)} Stripe invoices paid, {len(recorded)} recorded in FreshBooks")
        facts = {"kill_1": first_kill, "killed_1": killed_1.killed, "kill_2": second_kill,
                 "killed_2": killed_2.killed, "clean_1_rc": clean_1.returncode, "paid": len(paid)}
        return problems, facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "stripe_kill9.md")
    parser.add_argument("--work", type=Path, default=Path("/tmp/syncengine-stripe-kill9"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = []
    started = time.monotonic()
    for n in range(args.trials):
        problems, facts = trial(args.work / f"trial-{n}", rng)
        rows.append((n, facts, problems))
        print(f"trial {n}: {facts} -> {problems or 'ok'}", flush=True)
    failed = [r for r in rows if r[2]]
    lines = [
        "# FreshBooks <-> Stripe: kill -9 of a real `syncengine sync`",
        "",
        f"`python -m bench.reliability.freshbooks_stripe --trials {args.trials} --seed {args.seed}` "
        f"({time.monotonic() - started:.0f} s). Each trial: FreshBooks sandbox (seed 3) and an empty Stripe "
        "sandbox; sync 1 SIGKILLed once the sandboxes answered U{1..60} of its requests (a whole first sync "
        "takes about 56), clean re-run; every open Stripe invoice paid in Stripe; sync 2 SIGKILLed after "
        "U{1..50} requests (about 48 in all), clean re-run, then a sync that must write nothing. "
        "Checked: one Stripe customer per email, one active product per name, one Stripe invoice per "
        "FreshBooks invoice, one FreshBooks payment per Stripe payment, as many recorded as paid.",
        "",
        f"**{len(rows) - len(failed)} of {len(rows)} trials clean**; "
        f"killed mid-run: sync 1 in {sum(1 for r in rows if r[1]['killed_1'])}, "
        f"sync 2 in {sum(1 for r in rows if r[1]['killed_2'])}.",
        "",
        "| trial | kill 1 (request) | killed | kill 2 (request) | killed | invoices paid | problems |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, facts, problems in rows:
        lines.append(f"| {n} | {facts['kill_1']} | {facts['killed_1']} | {facts['kill_2']} | {facts['killed_2']} "
                     f"| {facts['paid']} | {'; '.join(problems) or 'none'} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows) - len(failed)}/{len(rows)} clean -> {args.out}")


if __name__ == "__main__":
    main()
