"""A file's fingerprint: size, mtime and a content hash, taken from one open handle.

The fingerprint is the CSV cursor ("nothing changed since the last pull") and the guard against
a concurrent writer. The hash makes it safe on file systems with coarse timestamps, and taking
stat and hash from the *same* handle ties them to one version of the file even when another
writer replaces it meanwhile (``os.replace`` swaps the inode; our handle keeps the old one).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileVersion", "Fingerprint", "StatStamp", "fingerprint_handle", "stat_stamp", "unchanged_since"]

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StatStamp:
    """What ``stat`` says about a version of a file: cheap to compare before a replace."""

    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


def stat_stamp(st: os.stat_result) -> StatStamp:
    return StatStamp(st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    size: int
    mtime_ns: int
    digest: str

    def __str__(self) -> str:
        return f"{self.size}:{self.mtime_ns}:{self.digest}"


def fingerprint_handle(handle: BinaryIO) -> tuple[Fingerprint, StatStamp]:
    """Hash the whole file from the start and leave the handle rewound."""
    st = os.fstat(handle.fileno())
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    handle.seek(0)
    return Fingerprint(st.st_size, st.st_mtime_ns, digest.hexdigest()[:32]), stat_stamp(st)


@dataclass(frozen=True, slots=True)
class FileVersion:
    """The version of a file a writer read: what must still be there when it replaces the file."""

    stamp: StatStamp
    digest: str


def unchanged_since(path: Path, version: FileVersion | None) -> bool:
    """Whether ``path`` is still ``version`` (None: still missing).

    Stat first (cheap, catches nearly everything); if stat agrees, the content hash decides,
    because timestamps can be coarser than two quick writes of the same size.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return version is None
    with handle:
        if version is None or stat_stamp(os.fstat(handle.fileno())) != version.stamp:
            return False
        fingerprint, _ = fingerprint_handle(handle)
    return fingerprint.digest == version.digest
