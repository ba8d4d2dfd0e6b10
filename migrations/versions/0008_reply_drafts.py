"""Replies the agent put aside keep here until they are sent or thrown away; queued replies and the decisions
of a day are found fast.

The store's watcher asks at every commit which of the agent's replies are still queued: a
partial index over the delivery state holds only replies, so that stays a look at a few rows.

Revision ID: 0008_reply_drafts
Revises: 0007_e164_phone_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_reply_drafts"
down_revision = "0007_e164_phone_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_draft",
        sa.Column("agent_id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), primary_key=True),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("case_id", sa.String(), nullable=True),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("saved_at_us", sa.Integer(), nullable=False),
    )
    op.create_index("ix_decision_at", "decision", ["at_us"])  # the floor's decisions of the day
    op.execute("CREATE INDEX ix_timeline_entry_delivery ON timeline_entry (json_extract(extra, '$.delivery')) "
               "WHERE json_extract(extra, '$.delivery') IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_timeline_entry_delivery")
    op.drop_index("ix_decision_at", "decision")
    op.drop_table("reply_draft")
