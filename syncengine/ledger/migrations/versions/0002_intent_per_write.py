"""Intents: one row per write with a 'sent' state, and what the write was meant to produce.

'sent' marks a write whose remote call may have happened (a crash or a timeout after it leaves
the outcome unknown); 'pending' ones never left the process. ``expect_json`` holds the common
shape the write aimed at, so a later run recognises the record it made after reading it back
through the connector and the mapping.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_STATES = "state IN ('pending', 'done', 'abandoned', 'failed')"
_NEW_STATES = "state IN ('pending', 'sent', 'done', 'abandoned', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_intents_pipeline_pair",
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
        batch_op.drop_constraint(op.f("ck_intents_state"), type_="check")
        batch_op.add_column(sa.Column("expect_json", sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_intents_state"), sa.text(_NEW_STATES))
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intents_pipeline_pair",
            ["pipeline", "pair"],
            unique=False,
            sqlite_where=sa.text("state IN ('pending', 'sent')"),
            postgresql_where=sa.text("state IN ('pending', 'sent')"),
        )


def downgrade() -> None:
    op.execute("UPDATE intents SET state = 'pending' WHERE state = 'sent'")
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_intents_pipeline_pair",
            sqlite_where=sa.text("state IN ('pending', 'sent')"),
            postgresql_where=sa.text("state IN ('pending', 'sent')"),
        )
        batch_op.drop_constraint(op.f("ck_intents_state"), type_="check")
        batch_op.drop_column("expect_json")
        batch_op.create_check_constraint(op.f("ck_intents_state"), sa.text(_OLD_STATES))
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_intents_pipeline_pair",
            ["pipeline", "pair"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
