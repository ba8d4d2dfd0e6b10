"""Integrity: when the backend received each record, token expiry and revocation, the audit of refused access.

Revision ID: 0002_integrity
Revises: 0001_backend
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_integrity"
down_revision = "0001_backend"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Set when a workstation's mutation stores a record (never by an admin's upload of history):
    # the 30-day limits count a decision from the later of its claimed time and this one.
    op.add_column("record", sa.Column("received_us", sa.BigInteger(), nullable=True))
    # NULL: a user made before expiry existed; it expires on its next rotation.
    op.add_column("api_user", sa.Column("expires_at_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_user") as batch:
        batch.drop_column("expires_at_us")
    with op.batch_alter_table("record") as batch:
        batch.drop_column("received_us")
