"""Replies the backend sends, one row each from queued to sent or failed.

Revision ID: 0006_reply_delivery
Revises: 0005_imap_mailbox
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reply_delivery"
down_revision = "0005_imap_mailbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_delivery",
        sa.Column("interaction_id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_us", sa.BigInteger(), nullable=False),
        sa.Column("claimed_us", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(), nullable=True),
        sa.Column("queued_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_reply_delivery_due", "reply_delivery", ["state", "next_try_us"])


def downgrade() -> None:
    op.drop_index("ix_reply_delivery_due", "reply_delivery")
    op.drop_table("reply_delivery")
