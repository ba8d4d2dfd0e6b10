"""How far the IMAP connector has filed each mailbox (its highest UID filed).

Revision ID: 0005_imap_mailbox
Revises: 0004_inbound
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_imap_mailbox"
down_revision = "0004_inbound"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imap_mailbox",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("imap_mailbox")
