"""A small world for two-way sync tests: a config file, two real stores, a real ledger.

Edits "from outside" go straight to the store (the CSV file's text, SQL statements), never
through the engine, so the tests see what an operator's users would do.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from syncengine.config import Config, load_config
from syncengine.ledger import Ledger
from syncengine.reconcile import PairOptions, RunReport, run_pipeline

CSV_COLUMNS = ["id", "email", "first_name", "last_name", "balance", "updated_at", "archived"]

MAPPING = """\
pairs:
  - name: clients
    left: clients
    right: clients
    conflict: {conflict}
    deletes: {deletes}
{match}    fields:
{id_field}      - {{left: email, right: email, transform: lower}}
      - {{left: first_name, right: first_name}}
      - {{left: last_name, right: last_name}}
      - {{left: balance, right: balance}}
"""

SQL_TABLE = """\
        table: clients
        key: id
        updated_at: updated_at
        deleted: deleted_at
        create: true
        columns: {{id: {key_type}, email: string, first_name: string, last_name: string, balance: decimal,
                   updated_at: datetime, deleted_at: datetime}}
"""


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Store:
    """One side of the world: list its live rows, and edit them from outside."""

    kind: str

    def rows(self) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def insert(self, row: dict[str, Any], at: datetime | None = None) -> None:
        raise NotImplementedError

    def update(self, key: str, at: datetime | None = None, **fields: Any) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError


class CsvStore(Store):
    kind = "csv"

    def __init__(self, path: Path, lock_timeout: float | None = None) -> None:
        self.path = path
        self.lock_timeout = lock_timeout

    def options(self) -> str:
        wait = f"\n        lock_timeout: {self.lock_timeout}" if self.lock_timeout is not None else ""
        return f"""\
    type: csvfile
    objects:
      clients:
        path: {self.path}{wait}
        key: id
        updated_at: updated_at
        archive_column: archived
        columns: {{id: string, email: string, first_name: string, last_name: string, balance: decimal,
                   updated_at: datetime, archived: string}}
"""

    def _read(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        with self.path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    def _write(self, rows: list[dict[str, str]]) -> None:
        header = CSV_COLUMNS
        if self.path.exists():
            with self.path.open(newline="", encoding="utf-8") as handle:
                header = next(csv.reader(handle), CSV_COLUMNS)
        with self.path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)

    def rows(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self._read() if not r.get("archived")}

    def all_rows(self) -> list[dict[str, str]]:
        return self._read()

    def insert(self, row: dict[str, Any], at: datetime | None = None) -> None:
        rows = self._read()
        rows.append({k: "" if v is None else str(v) for k, v in
                     {**row, "updated_at": (at or now()).isoformat()}.items()})
        self._write(rows)

    def update(self, key: str, at: datetime | None = None, **fields: Any) -> None:
        rows = self._read()
        for row in rows:
            if row["id"] == key:
                row.update({k: "" if v is None else str(v) for k, v in fields.items()})
                row["updated_at"] = (at or now()).isoformat()
                break
        else:
            raise KeyError(key)
        self._write(rows)

    def delete(self, key: str) -> None:
        rows = [r for r in self._read() if r["id"] != key]
        self._write(rows)


class SqlStore(Store):
    kind = "sql"

    def __init__(self, url: str, key_type: str = "string") -> None:
        self.url = url
        self.key_type = key_type
        self.engine = sa.create_engine(url)

    def options(self) -> str:
        return f"    type: sqldb\n    url: \"{self.url}\"\n    objects:\n      clients:\n" + SQL_TABLE.format(
            key_type=self.key_type)

    def _table(self) -> sa.Table:
        return sa.Table("clients", sa.MetaData(), autoload_with=self.engine)

    def rows(self) -> dict[str, dict[str, Any]]:
        table = self._table()
        with self.engine.connect() as conn:
            result = conn.execute(sa.select(table).where(table.c.deleted_at.is_(None)))
            return {str(r.id): dict(r._mapping) for r in result}

    def all_rows(self) -> list[dict[str, Any]]:
        table = self._table()
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(table))]

    def insert(self, row: dict[str, Any], at: datetime | None = None) -> None:
        table = self._table()
        values = {**row, "updated_at": (at or now()).replace(tzinfo=None)}
        if "balance" in values and values["balance"] is not None:
            values["balance"] = str(Decimal(str(values["balance"])))  # a decimal column holds text on SQLite
        with self.engine.begin() as conn:
            conn.execute(table.insert().values(**values))

    def update(self, key: str, at: datetime | None = None, **fields: Any) -> None:
        table = self._table()
        values = {**fields, "updated_at": (at or now()).replace(tzinfo=None)}
        if "balance" in values and values["balance"] is not None:
            values["balance"] = str(Decimal(str(values["balance"])))  # a decimal column holds text on SQLite
        with self.engine.begin() as conn:
            done = conn.execute(table.update().where(table.c.id == self._key(key)).values(**values))
            assert done.rowcount == 1, key

    def delete(self, key: str) -> None:
        """A hard delete from outside (the row vanishes)."""
        table = self._table()
        with self.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.id == self._key(key)))

    def soft_delete(self, key: str, at: datetime | None = None) -> None:
        self.update(key, at=at, deleted_at=(at or now()).replace(tzinfo=None))

    def _key(self, key: str) -> Any:
        return int(key) if self.key_type == "integer" else key

    def dispose(self) -> None:
        self.engine.dispose()


class World:
    """config.yaml + mapping + ledger + both stores, in one temporary folder."""

    def __init__(self, root: Path, ledger_url: str, left: Store, right: Store, *,
                 conflict: str = "newest_wins", deletes: str = "propagate", map_ids: bool = True,
                 match: bool = False) -> None:
        self.root = root
        self.left, self.right = left, right
        match_text = "    match: {left: email, right: email}\n" if match else ""
        id_field = "      - {left: id, right: id}\n" if map_ids else ""
        (root / "mapping.yaml").write_text(MAPPING.format(conflict=conflict, deletes=deletes, match=match_text,
                                                          id_field=id_field))
        (root / "config.yaml").write_text(
            f"ledger: \"{ledger_url}\"\nconnectors:\n  left:\n{left.options()}  right:\n{right.options()}"
            "pipelines:\n  - name: world\n    left: left\n    right: right\n    mapping: mapping.yaml\n"
        )
        self.config: Config = load_config(root / "config.yaml")
        self.ledger = Ledger.open(self.config.ledger_url)
        pipeline = self.config.pipeline("world")
        self.mapping = self.config.mapping(pipeline, self.ledger)

    def sync(self, **options: Any) -> RunReport:
        report = run_pipeline(
            ledger=self.ledger, pipeline="world", mapping=self.mapping,
            left=self.config.connector("left", self.ledger), right=self.config.connector("right", self.ledger),
            options=PairOptions(**options),
        )
        return report

    def links(self) -> dict[str, str]:
        return {link.left_key: link.right_key
                for batch in self.ledger.iter_links("world", "clients") for link in batch}

    def agreed(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Both sides' live rows in the common shape, sorted: equal when the sides agree."""
        def shape(rows: dict[str, dict[str, Any]]) -> list[tuple[Any, ...]]:
            return sorted(
                (str(r["email"]).lower(), r["first_name"] or None, r["last_name"] or None,
                 Decimal(str(r["balance"])) if r["balance"] not in (None, "") else None)
                for r in rows.values()
            )
        return shape(self.left.rows()), shape(self.right.rows())

    def close(self) -> None:
        self.config.close()
        self.ledger.close()
        for store in (self.left, self.right):
            if isinstance(store, SqlStore):
                store.dispose()


def iter_writes(report: RunReport) -> Iterator[str]:
    for pair in report.pairs:
        for action in pair.actions:
            if action.kind in ("create", "update", "delete", "archive"):
                yield f"{action.kind} {action.side} {action.left_key}/{action.right_key}"
