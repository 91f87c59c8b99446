"""Fixtures shared by every test: ledger URLs on SQLite and PostgreSQL, free loopback ports."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog

# Secrets the tests store are encrypted with a key of this test session, never ~/.config's.
os.environ.setdefault(
    "SYNCENGINE_SECRET_KEY_FILE", str(Path(tempfile.gettempdir()) / f"syncengine-tests-{os.getpid()}" / "secret.key")
)

PG_URL = os.environ.get("SYNCENGINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def sqlalchemy_pg_url(url: str) -> str:
    """The test URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _fresh_structlog() -> Iterator[None]:
    """A test that runs the CLI in-process configures logging for the whole worker; later tests
    that read log output must not inherit it."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (cheap isolation)."""
    base = sqlalchemy_pg_url(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:  # pragma: no cover - only without a server
        engine.dispose()
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable: {exc}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every ledger test runs twice: on a SQLite file and on the machine's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url
