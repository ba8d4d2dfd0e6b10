"""Core records: agents, customers, cases and the merged timeline.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("email_key", sa.String(), nullable=True),
        sa.Column("phone_key", sa.String(), nullable=True),
        sa.Column("preferred_channel", sa.String(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("timezone", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), sa.ForeignKey("agent.id"), nullable=True),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_index("ix_customer_email_key", "customer", ["email_key"])
    op.create_index("ix_customer_phone_key", "customer", ["phone_key"])
    op.create_table(
        "support_case",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("opened_at_us", sa.Integer(), nullable=False),
        sa.Column("opened_at_offset_s", sa.Integer(), nullable=False),
        sa.Column("disputed_amount", sa.String(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("urgency", sa.String(), nullable=False, server_default="normal"),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_index("ix_case_customer_status", "support_case", ["customer_id", "status"])
    op.create_table(
        "timeline_entry",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("case_id", sa.String(), sa.ForeignKey("support_case.id"), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=True),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("at_us", sa.Integer(), nullable=False),
        sa.Column("at_offset_s", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("event_kind", sa.String(), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("wait_s", sa.Integer(), nullable=True),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_index("ix_timeline_customer_at", "timeline_entry", ["customer_id", "at_us", "id"])


def downgrade() -> None:
    op.drop_table("timeline_entry")
    op.drop_table("support_case")
    op.drop_table("customer")
    op.drop_table("agent")
