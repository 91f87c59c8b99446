"""Named leases with an owner and an expiry, so one pipeline runs in one place at a time.

A daemon takes the lease before running a pipeline and renews it while it works; a daemon that
dies stops renewing and, once the lease expires, another one takes over. Acquiring is one atomic
upsert: insert the lease, or take over the row only if it is ours already or has expired.

On PostgreSQL the clock is the server's (``clock_timestamp()``), so daemons on machines whose
clocks disagree still agree on when a lease expires. SQLite is on one machine: the local clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from syncengine.ledger.connect import DialectName
from syncengine.ledger.rows import LeaseInfo
from syncengine.ledger.sql import aware, insert, leases, utcnow

__all__ = ["acquire_lease", "lease_holder", "release_lease"]


def _now(conn: sa.Connection, dialect: DialectName) -> datetime:
    if dialect == "postgresql":
        return aware(conn.execute(sa.select(sa.func.clock_timestamp())).scalar_one())
    return utcnow()


def acquire_lease(conn: sa.Connection, dialect: DialectName, name: str, owner: str, ttl_seconds: float) -> bool:
    """Take or renew the lease; True if it is now ours until ``now + ttl_seconds``."""
    if ttl_seconds <= 0:
        raise ValueError("a lease needs a positive ttl")
    now = _now(conn, dialect)
    stmt = insert(dialect, leases).values(name=name, owner=owner, expires_at=now + timedelta(seconds=ttl_seconds))
    stmt = stmt.on_conflict_do_update(
        index_elements=[leases.c.name],
        set_={"owner": stmt.excluded.owner, "expires_at": stmt.excluded.expires_at},
        where=sa.or_(leases.c.owner == stmt.excluded.owner, leases.c.expires_at <= now),
    ).returning(leases.c.owner)
    return conn.execute(stmt).first() is not None


def release_lease(conn: sa.Connection, name: str, owner: str) -> bool:
    """Give the lease up if it is ours; True if it was."""
    result = conn.execute(sa.delete(leases).where(leases.c.name == name, leases.c.owner == owner))
    return result.rowcount > 0


def lease_holder(conn: sa.Connection, dialect: DialectName, name: str) -> LeaseInfo | None:
    """Who holds the lease now (None if nobody, or it has expired)."""
    row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
    if row is None:
        return None
    info = LeaseInfo(row.name, row.owner, aware(row.expires_at))
    return info if info.expires_at > _now(conn, dialect) else None
