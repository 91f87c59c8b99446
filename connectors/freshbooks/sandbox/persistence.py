"""``--state FILE``: load the sandbox's state at start, save it atomically while running and at exit.

Saving writes a temporary file next to the target and renames it over the target, so a crash
mid-save leaves the previous state intact. Tokens are saved too, so a restarted sandbox still
accepts the tokens a connector holds.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from .store import Store


def load(path: Path) -> tuple[Store, dict[str, Any]] | None:
    """The saved store and extras (clock offset), or None when there is no file yet."""
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Store.from_json(data["store"]), dict(data.get("extras", {}))


def save(path: Path, store: Store, extras: dict[str, Any]) -> None:
    with store.lock:  # serialise a consistent snapshot; handlers mutate records in place
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

    def __init__(self, path: Path, store: Store, extras: Any, interval: float = 5.0) -> None:
        self._path = path
        self._store = store
        self._extras = extras
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="freshbooks-sandbox-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            save(self._path, self._store, self._extras())
