"""The backend: users, records, the change log and its counter, applied mutations.

Revision ID: 0001_backend
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_backend"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_user",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False, unique=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "record",
        sa.Column("type", sa.String(), primary_key=True),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_record_customer_type", "record", ["customer_id", "type"])
    op.create_index("ix_record_seq", "record", ["seq"])
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("record_type", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
    )
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=False),
    )
    # The one row every writer locks to take its seqs (see agentdesk.server.changes).
    op.bulk_insert(counter, [{"id": 1, "last": 0, "floor": 0}])
    op.create_table(
        "mutation",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("user_name", sa.String(), nullable=False),
        sa.Column("body_hash", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("applied_at_us", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("mutation", "change_counter", "change_log", "record", "api_user"):
        op.drop_table(table)
