"""Who has which customer open (ephemeral; UNLOGGED on PostgreSQL), and the writes refused to read-only roles.

Revision ID: 0007_presence
Revises: 0006_reply_delivery
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_presence"
down_revision = "0006_reply_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unlogged = ["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else []
    op.create_table(
        "presence",
        sa.Column("user_name", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("typing", sa.Boolean(), nullable=False),
        sa.Column("seen_us", sa.BigInteger(), nullable=False),
        prefixes=unlogged,
    )
    op.create_table(
        "access_refusal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("route", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("access_refusal")
    op.drop_table("presence")
