"""localstripe (PyPI), a third-party Stripe fake, as an independent second peer for the connector.

Its own CLI binds every interface and pickles its state to a fixed ``/tmp/localstripe.pickle``
shared by every run on the machine; so each test starts it here instead: in its own process
(its store is a module global), bound to 127.0.0.1 on a free port, its state file in a
temporary folder, and stopped by its pid afterwards.

Known gaps (2017-era shapes, API 2017-08-15), which decide what is proven against it: no prices,
no search, no ``invoice_payment``, no invoice finalize; idempotency keys ignored (a key sent twice
makes two objects); no 429s; lists in insertion order (oldest first) without ``created`` filters
on objects; events only for some types (``product.created`` but no ``product.updated``,
none for charges or refunds) and ``type`` without wildcards.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

__all__ = ["API_KEY", "LocalStripe", "localstripe"]

API_KEY = "sk_test_localstripe"
ROOT = Path(__file__).resolve().parents[3]


class LocalStripe:
    def __init__(self, url: str, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.process = process

    def post(self, path: str, data: dict[str, str]) -> dict[str, object]:
        """A call as another program would make it (behind the connector's back)."""
        response = httpx.post(f"{self.url}{path}", data=data, headers={"Authorization": f"Bearer {API_KEY}"})
        response.raise_for_status()
        body: dict[str, object] = response.json()
        return body

    def card(self, customer: str) -> str:
        """Attach a test card to ``customer`` (so it can be charged); returns the payment method id."""
        method = self.post("/v1/payment_methods", {"type": "card", "card[number]": "4242424242424242",
                                                    "card[exp_month]": "12", "card[exp_year]": "2040",
                                                    "card[cvc]": "123"})
        self.post(f"/v1/payment_methods/{method['id']}/attach", {"customer": customer})
        return str(method["id"])


@contextmanager
def localstripe(tmp_path: Path) -> Iterator[LocalStripe]:
    from tests.conftest import free_port

    port = free_port()
    state = tmp_path / "localstripe"
    state.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.stripe.localstripe_peer", str(port), str(state)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"localstripe exited with {process.returncode}")
            try:
                httpx.get(f"{url}/v1/customers", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("localstripe did not start")
        yield LocalStripe(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(port: int, state: Path) -> None:
    import logging

    from aiohttp import web
    from localstripe import resources, server

    pickle_path = state / "localstripe.pickle"

    def dump_to_disk(self: resources.Store) -> None:
        import pickle

        with open(pickle_path, "wb") as handle:
            pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(server.app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), Path(sys.argv[2]))
