"""``--state FILE``: load the state at start, save it atomically while running and at exit.

A save writes a temporary file beside the target and renames it over the target, so a crash
mid-save leaves the previous state intact. Idempotency records and the clock offset are saved too.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .store import Store


def load(path: Path) -> tuple[Store, dict[str, Any]] | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Store.from_json(data["store"]), dict(data.get("extras", {}))


def save(path: Path, store: Store, extras: dict[str, Any]) -> None:
    payload = json.dumps({"store": store.to_json(), "extras": extras}, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class PeriodicSaver:
    """Saves every ``interval`` seconds on a background thread until stopped."""

    def __init__(self, path: Path, store: Store, extras: Callable[[], dict[str, Any]], interval: float) -> None:
        self._path = path
        self._store = store
        self._extras = extras
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stripe-sandbox-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            save(self._path, self._store, self._extras())
