"""Changes from the backend that this workstation could not apply, kept aside to be tried again.

Revision ID: 0005_set_aside
Revises: 0004_sync

A record from the backend's change log that the store cannot hold (it names a customer
the store does not have yet, a time the timeline cannot show) is kept here whole, with the
seq it came with and the reason in words, so the rest of the page is applied and the pull
goes on. Each pull tries these again; one that applies leaves the table. ``reported``
says whether the backend's log was told about it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_set_aside"
down_revision = "0004_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "set_aside",
        sa.Column("type", sa.String(), primary_key=True),
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("record", sa.String(), nullable=False),
        sa.Column("reported", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("set_aside")
