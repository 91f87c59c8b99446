"""Alembic environment for the ledger.

Normally run by :func:`syncengine.ledger.migrate.upgrade_to_head`, which hands over its own
connection (already inside a transaction and, on PostgreSQL, holding the migration lock) through
``config.attributes["connection"]``. That is what makes a URL whose ``search_path`` names a schema
work: the migration runs on exactly the session the ledger configured. Run from the command line
(``alembic -c syncengine/ledger/alembic.ini``), it builds its own engine from ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context

from syncengine.ledger.models import metadata

config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        # SQLite alters tables by copying them; later migrations need batch mode there.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from syncengine.ledger.connect import create_ledger_engine

    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url in alembic.ini or pass -x/--config")
    engine, _ = create_ledger_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
