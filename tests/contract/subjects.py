"""The connectors the contract suite runs against: one :class:`ContractSubject` per connector setup.

To prove a new connector, add a subject to :data:`SUBJECTS` (or call :func:`register`) from this
one place: how to build it (a context manager yielding the connector and the object to test),
what valid and invalid fields look like, and how to change a record *behind the engine's back*
(as a person or another program would). The suite in ``test_connector_contract.py`` then runs
every test against it; tests needing a capability the subject does not claim are skipped.
"""

from __future__ import annotations

import csv
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.csvfile import CsvConnector, CsvObjectConfig
from connectors.sqldb import SqlConnector, SqlObjectConfig
from syncengine.connector import Capability, Connector
from syncengine.records import Record

__all__ = ["SUBJECTS", "ContractSubject", "SubjectEnv", "register"]


@dataclass(frozen=True, slots=True)
class SubjectEnv:
    """What a subject may use to build its connector: a private directory and pytest fixtures."""

    tmp_path: Path
    request: pytest.FixtureRequest

    def fixture(self, name: str) -> Any:
        return self.request.getfixturevalue(name)


Made = AbstractContextManager[tuple[Connector, str]]


@dataclass(frozen=True)
class ContractSubject:
    id: str
    #: builds the connector on a fresh, empty object; yields (connector, object name).
    make: Callable[[SubjectEnv], Made]
    #: fields of the n-th new record, valid for ``create``; n is small and unique within a test.
    sample_fields: Callable[[int], dict[str, Any]]
    #: fields for an update of ``record`` that change its value (only the given ones).
    changed_fields: Callable[[Record], dict[str, Any]]
    #: fields the system rejects with a ValidationError naming one of them; None if it accepts anything.
    invalid_fields: Callable[[], dict[str, Any] | None]
    #: change record ``key`` outside the engine; ``at`` is the change time to use where the
    #: system lets us choose it (to land exactly on a cursor boundary). Returns the fields set.
    external_edit: Callable[[Connector, str, str, datetime | None], Mapping[str, Any]]
    #: what the object must be able to do; tests of other capabilities are skipped.
    capabilities: frozenset[Capability]
    #: a connector whose system cannot be reached (None: not applicable).
    unreachable: Callable[[SubjectEnv], Made] | None = None
    #: a create retried with the same idempotency key (and no key) returns the same record.
    idempotent_create: bool = False
    #: the system stores change times we can set (so ``external_edit(at=...)`` is honoured).
    settable_change_time: bool = False
    marks: tuple[pytest.MarkDecorator, ...] = ()
    #: fields the system sets itself on every write (excluded from "unchanged" comparisons).
    managed_fields: frozenset[str] = field(default_factory=frozenset)

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


SUBJECTS: list[ContractSubject] = []


def register(subject: ContractSubject) -> ContractSubject:
    """Add a subject to the suite (call from here, or from a connector's own test package)."""
    SUBJECTS.append(subject)
    return subject


#: small pages, so every pull of a contract test spans several pages and cursors.
PAGE = 3

CRUD = frozenset(
    {Capability.LIST, Capability.GET, Capability.CREATE, Capability.UPDATE, Capability.DELETE, Capability.FIND}
)


def _client(n: int) -> dict[str, Any]:
    return {
        "name": f"Client {n}",
        "email": f"client{n}@example.com",
        "balance": Decimal(f"{n}.10"),
        "age": 20 + n,
    }


def _client_changed(record: Record) -> dict[str, Any]:
    return {
        "name": f"{record.fields['name']} (edited)",
        "balance": Decimal(record.fields["balance"]) + Decimal("1.01"),
    }


def _client_invalid() -> dict[str, Any]:
    return {"name": "Bad", "email": "bad@example.com", "age": "not-a-number"}


# -- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS: dict[str, Any] = {
    "name": "string",
    "email": "string",
    "balance": "decimal",
    "age": "integer",
    "updated_at": "datetime",
}


@contextmanager
def _csv(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    config = CsvObjectConfig(env.tmp_path / "clients.csv", key="id", updated_at="updated_at", columns=CSV_COLUMNS)
    connector = CsvConnector("csv", {"clients": config}, page_size=PAGE)
    yield connector, "clients"
    connector.close()


def _csv_edit(connector: Connector, obj: str, key: str, at: datetime | None) -> Mapping[str, Any]:
    """A person editing the file in a text editor: a plain rewrite, no locking, no temp file."""
    assert isinstance(connector, CsvConnector)
    path = connector.configs[obj].file
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    changed = {"name": f"edited outside at {datetime.now(UTC).isoformat()}"}
    for row in rows[1:]:
        if row and row[header.index("id")] == key:
            row[header.index("name")] = changed["name"]
            row[header.index("updated_at")] = (at or datetime.now(UTC)).isoformat()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return changed


@contextmanager
def _csv_unreachable(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    # The file's folder cannot exist: a plain file stands where the folder should be.
    (env.tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    config = CsvObjectConfig(env.tmp_path / "not-a-folder" / "clients.csv", columns=CSV_COLUMNS)
    yield CsvConnector("csv", {"clients": config}), "clients"


register(
    ContractSubject(
        id="csv",
        make=_csv,
        sample_fields=_client,
        changed_fields=_client_changed,
        invalid_fields=_client_invalid,
        external_edit=_csv_edit,
        capabilities=CRUD,
        unreachable=_csv_unreachable,
        idempotent_create=True,
        settable_change_time=True,
        managed_fields=frozenset({"updated_at"}),
    )
)

# -- SQL ---------------------------------------------------------------------------------------

SQL_COLUMNS: dict[str, Any] = {
    "name": "string",
    "email": "string",
    "balance": "decimal",
    "age": "integer",
}


def _sql_factory(
    url_of: Callable[[SubjectEnv], str], *, key_type: str, updated_at: bool, deleted: bool
) -> Callable[[SubjectEnv], Made]:
    @contextmanager
    def make(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
        config = SqlObjectConfig(
            "clients",
            key="id",
            updated_at="updated_at" if updated_at else None,
            deleted="deleted_at" if deleted else None,
            columns={"id": key_type, **SQL_COLUMNS},
            create=True,
            batch_size=PAGE,
        )
        connector = SqlConnector("sql", url_of(env), {"clients": config})
        try:
            yield connector, "clients"
        finally:
            connector.close()

    return make


def _sql_edit(connector: Connector, obj: str, key: str, at: datetime | None) -> Mapping[str, Any]:
    """Another program writing to the table with plain SQL."""
    assert isinstance(connector, SqlConnector)
    info = connector.table(obj)
    changed = {"name": f"edited outside at {datetime.now(UTC).isoformat()}"}
    values: dict[str, Any] = dict(changed)
    if info.updated_at is not None:
        values[info.updated_at.name] = info.codecs[info.updated_at.name].to_db(at or datetime.now(UTC))
    key_value = info.codecs[info.key.name].to_db(key)
    with connector.engine.begin() as connection:
        connection.execute(sa.update(info.table).where(info.key == key_value).values(values))
    return changed


def _sqlite_url(env: SubjectEnv) -> str:
    return f"sqlite:///{env.tmp_path / 'clients.db'}"


def _pg_url(env: SubjectEnv) -> str:
    url: str = env.fixture("pg_schema_url")
    return url


@contextmanager
def _sqlite_unreachable(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    url = f"sqlite:///{env.tmp_path / 'no-such-dir' / 'clients.db'}"
    connector = SqlConnector("sql", url, {"clients": SqlObjectConfig("clients", create=True, columns=SQL_COLUMNS)})
    try:
        yield connector, "clients"
    finally:
        connector.close()


@contextmanager
def _pg_unreachable(env: SubjectEnv) -> Iterator[tuple[Connector, str]]:
    # A loopback port nobody listens on: connection refused at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = SqlConnector(
        "sql", f"postgresql://postgres@127.0.0.1:{port}/test", {"clients": SqlObjectConfig("clients")}
    )
    try:
        yield connector, "clients"
    finally:
        connector.close()


SQL_MANAGED = frozenset({"updated_at", "deleted_at"})

register(
    ContractSubject(
        id="sql-sqlite",
        make=_sql_factory(_sqlite_url, key_type="integer", updated_at=True, deleted=True),
        sample_fields=_client,
        changed_fields=_client_changed,
        invalid_fields=_client_invalid,
        external_edit=_sql_edit,
        capabilities=CRUD | {Capability.INCREMENTAL, Capability.ARCHIVE, Capability.DELETES_IN_CHANGES},
        unreachable=_sqlite_unreachable,
        settable_change_time=True,
        managed_fields=SQL_MANAGED,
    )
)

register(
    ContractSubject(
        id="sql-postgres",
        make=_sql_factory(_pg_url, key_type="string", updated_at=True, deleted=True),
        sample_fields=_client,
        changed_fields=_client_changed,
        invalid_fields=_client_invalid,
        external_edit=_sql_edit,
        capabilities=CRUD | {Capability.INCREMENTAL, Capability.ARCHIVE, Capability.DELETES_IN_CHANGES},
        unreachable=_pg_unreachable,
        idempotent_create=True,
        settable_change_time=True,
        marks=(pytest.mark.postgres,),
        managed_fields=SQL_MANAGED,
    )
)

register(
    ContractSubject(
        id="sql-sqlite-no-updated-at",
        make=_sql_factory(_sqlite_url, key_type="string", updated_at=False, deleted=False),
        sample_fields=_client,
        changed_fields=_client_changed,
        invalid_fields=_client_invalid,
        external_edit=_sql_edit,
        capabilities=CRUD,
        unreachable=_sqlite_unreachable,
        idempotent_create=True,
    )
)

# registers one FreshBooks subject per writable object, and the Stripe subjects (localstripe)
from . import freshbooks_subjects, stripe_subjects  # noqa: E402, F401
