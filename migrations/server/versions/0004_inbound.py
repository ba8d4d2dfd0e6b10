"""Channels in: each inbound message's provider id (taken once), customers' contact keys, refused webhook calls.

Revision ID: 0004_inbound
Revises: 0003_decision_columns
Create Date: 2026-12-07
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004_inbound"
down_revision = "0003_decision_columns"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "inbound_message",
        sa.Column("source_id", sa.String(), primary_key=True),
        sa.Column("interaction_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_inbound_message_message_id", "inbound_message", ["message_id"])
    op.create_table(
        "contact_key",
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), primary_key=True),
    )
    op.create_index("ix_contact_key_customer", "contact_key", ["customer_id"])
    op.create_table(
        "webhook_refusal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("route", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("address", sa.String(), nullable=True),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
    )
    _backfill_contact_keys()


def _backfill_contact_keys() -> None:
    """The keys of every stored customer, read the way the backend reads them from now on."""
    from agentdesk.server.contact_keys import contact_keys

    bind = op.get_bind()
    record = sa.table("record", sa.column("type"), sa.column("id"), sa.column("body"))
    keys = sa.table("contact_key", sa.column("kind"), sa.column("key"), sa.column("customer_id"))
    after = ""
    while True:
        rows = bind.execute(sa.select(record.c.id, record.c.body)
                            .where(record.c.type == "customer", record.c.id > after)
                            .order_by(record.c.id).limit(_BATCH)).all()
        if not rows:
            return
        found = [{"kind": kind, "key": key, "customer_id": ident}
                 for ident, body in rows for kind, key in contact_keys(json.loads(body))]
        if found:
            bind.execute(keys.insert(), found)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_table("webhook_refusal")
    op.drop_index("ix_contact_key_customer", table_name="contact_key")
    op.drop_table("contact_key")
    op.drop_index("ix_inbound_message_message_id", table_name="inbound_message")
    op.drop_table("inbound_message")
