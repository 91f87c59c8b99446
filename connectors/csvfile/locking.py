"""An advisory lock beside the CSV file, so our own writers (threads, daemons, the CLI) take turns.

The file itself cannot carry the lock: every write replaces it with a new inode, and a lock on
the old one does not stop a process that opens the new one. A sidecar ``.NAME.lock`` file stays.
Programs that do not take the lock (a person's editor) are still caught by the stat check before
``os.replace``; the lock only makes two of *our* writers never race each other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process locking only
    fcntl = None  # type: ignore[assignment]

__all__ = ["write_lock"]

_process_locks: dict[Path, threading.Lock] = {}
_registry = threading.Lock()


def _fresh_locks_after_fork() -> None:
    """A forked child starts with no writer of its own: locks held by the parent's threads at
    fork time would otherwise stay locked forever in the child."""
    global _registry
    _registry = threading.Lock()
    _process_locks.clear()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Held while reading, changing and replacing ``path``; blocks other writers of the same file."""
    key = path.resolve()
    with _registry:
        local = _process_locks.setdefault(key, threading.Lock())
    with local:  # the file lock is per process: threads of one process take turns here
        if fcntl is None:
            yield
            return
        fd = os.open(key.parent / f".{key.name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            # POSIX record locks belong to the process and are not inherited by a fork, unlike
            # flock (a child would share the parent's lock and deadlock against it).
            fcntl.lockf(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock
