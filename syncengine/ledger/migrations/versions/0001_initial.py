"""Initial ledger schema: cursors, links, snapshots, intents, conflicts, failures, webhook events,
runs, tokens, leases.

Written out in full (not imported from models.py) because a migration is history: it must create
the schema as it was at this revision even after the models move on.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# 64-bit ids on PostgreSQL; on SQLite INTEGER PRIMARY KEY is the (64-bit) rowid.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("pair", sa.String(), nullable=False),
        sa.Column("left_key", sa.String(), nullable=False),
        sa.Column("right_key", sa.String(), nullable=False),
        sa.Column("base_json", sa.Text(), nullable=True),
        sa.Column("left_json", sa.Text(), nullable=False),
        sa.Column("right_json", sa.Text(), nullable=False),
        sa.Column("diff_json", sa.Text(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('left', 'right')", name=op.f("ck_conflicts_resolution")
        ),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_conflicts_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
    )
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflicts_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_conflicts_open_link",
            ["pipeline", "pair", "left_key"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "cursors",
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("pair", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('left', 'right')", name=op.f("ck_cursors_side")),
        sa.PrimaryKeyConstraint("pipeline", "pair", "side", name=op.f("pk_cursors")),
    )
    op.create_table(
        "failures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("pair", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('left', 'right')", name=op.f("ck_failures_side")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failures")),
        sa.UniqueConstraint("pipeline", "pair", "side", "key", name=op.f("uq_failures_pipeline_pair_side_key")),
    )
    op.create_table(
        "intents",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("pair", sa.String(), nullable=False),
        sa.Column("side", sa.String(), nullable=False),
        sa.Column("op", sa.String(), nullable=False),
        sa.Column("source_key", sa.String(), nullable=True),
        sa.Column("target_key", sa.String(), nullable=True),
        sa.Column("idempotency_key", sa.String(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("op IN ('create', 'update', 'delete', 'archive')", name=op.f("ck_intents_op")),
        sa.CheckConstraint("side IN ('left', 'right')", name=op.f("ck_intents_side")),
        sa.CheckConstraint("state IN ('pending', 'done', 'abandoned', 'failed')", name=op.f("ck_intents_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intents")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_intents_idempotency_key")),
    )
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intents_pipeline_pair"),
            ["pipeline", "pair"],
            unique=False,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    op.create_table(
        "leases",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "links",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("pair", sa.String(), nullable=False),
        sa.Column("left_key", sa.String(), nullable=False),
        sa.Column("right_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'tombstone')", name=op.f("ck_links_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint("pipeline", "pair", "left_key", name=op.f("uq_links_pipeline_pair_left_key")),
        sa.UniqueConstraint("pipeline", "pair", "right_key", name=op.f("uq_links_pipeline_pair_right_key")),
    )
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_links_pipeline_pair_id"), ["pipeline", "pair", "id"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("counts_json", sa.Text(), nullable=False),
        sa.Column("errors_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_pipeline_started_at"), ["pipeline", "started_at"], unique=False)

    op.create_table(
        "tokens",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value_json", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_tokens")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_webhook_events_source_event_id")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_events_unprocessed",
            ["id"],
            unique=False,
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )

    op.create_table(
        "snapshots",
        sa.Column("link_id", ID, autoincrement=False, nullable=False),
        sa.Column("common_json", sa.Text(), nullable=False),
        sa.Column("left_hash", sa.String(), nullable=True),
        sa.Column("right_hash", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("snapshots")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_webhook_events_unprocessed",
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )

    op.drop_table("webhook_events")
    op.drop_table("tokens")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_pipeline_started_at"))

    op.drop_table("runs")
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_links_pipeline_pair_id"))

    op.drop_table("links")
    op.drop_table("leases")
    with op.batch_alter_table("intents", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_intents_pipeline_pair"),
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )

    op.drop_table("intents")
    op.drop_table("failures")
    op.drop_table("cursors")
    with op.batch_alter_table("conflicts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_conflicts_open_link",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_conflicts_status"))

    op.drop_table("conflicts")
