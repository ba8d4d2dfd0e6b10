"""Sync with the backend: the outbox of mutations waiting to be pushed, and the sync state.

Revision ID: 0004_sync
Revises: 0003_decision_workflow

Every decision, approval and decline that is queued for the backend gets an outbox
row in the same transaction; the row is deleted in the transaction that stores the
backend's answer. ``seq`` gives the push order. ``sync_state`` holds the pull
cursor and when the last sync succeeded.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sync"
down_revision = "0003_decision_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(), nullable=False, unique=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at_us", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sync_state")
    op.drop_table("outbox")
