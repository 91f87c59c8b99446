"""An advisory lock beside the CSV file, so our own writers (threads, daemons, the CLI) take turns.

The file itself cannot carry the lock: every write replaces it with a new inode, and a lock on
the old one does not stop a process that opens the new one. A sidecar ``.NAME.lock`` file stays.
Programs that do not take the lock (a person's editor) are still caught by the stat check before
``os.replace``; the lock only makes two of *our* writers never race each other.

The wait is bounded (``lock_timeout``): a writer that holds the lock longer (a stuck daemon, a
person's script) makes :class:`LockTimeout`, naming the holder's pid, which every holder writes
into the lock file, rather than a sync that hangs forever.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process locking only
    fcntl = None  # type: ignore[assignment]

__all__ = ["DEFAULT_LOCK_TIMEOUT", "LockTimeout", "write_lock"]

#: seconds a writer waits for another writer of the same file before giving up.
DEFAULT_LOCK_TIMEOUT = 10.0


class LockTimeout(Exception):
    """The file's lock stayed held by another writer for longer than the wait allowed."""

    def __init__(self, path: Path, lock_file: Path, waited: float, holder: int | None) -> None:
        super().__init__(f"{path} is locked")
        self.path = path
        self.lock_file = lock_file
        self.waited = waited
        #: the pid the lock file names (the holder writes it), None when it names none.
        self.holder = holder


def _holder(lock_file: Path) -> int | None:
    try:
        text = lock_file.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None

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
def write_lock(path: Path, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Held while reading, changing and replacing ``path``; blocks other writers of the same file
    for at most ``timeout`` seconds, then raises :class:`LockTimeout`."""
    key = path.resolve()
    lock_file = key.parent / f".{key.name}.lock"
    deadline = time.monotonic() + timeout
    with _registry:
        local = _process_locks.setdefault(key, threading.Lock())
    # the file lock is per process: threads of one process take turns here
    if not local.acquire(timeout=max(timeout, 0.0)):
        raise LockTimeout(path, lock_file, timeout, os.getpid())
    try:
        if fcntl is None:
            yield
            return
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            # POSIX record locks belong to the process and are not inherited by a fork, unlike
            # flock (a child would share the parent's lock and deadlock against it).
            pause = 0.01
            while True:
                try:
                    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:  # EAGAIN/EACCES: another process holds it
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise LockTimeout(path, lock_file, timeout, _holder(lock_file)) from None
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, 0.25)
            os.ftruncate(fd, 0)  # who holds it, for a writer that gives up waiting
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock
    finally:
        local.release()
