"""Customers' phone keys become E.164, as the store now writes them.

Revision ID: 0007_e164_phone_keys
Revises: 0006_outbox_mutations

Before, a phone's key was its digits (a leading ``+`` kept), so ``0151 5550142`` for a
customer in Berlin was keyed ``01515550142`` and a look-up of ``+49 151 5550142`` missed
it. Each customer's key is made again here by the store's own rule, a national number
read in the customer's country (the ``…, DE`` of the location, else the time zone's).
Downgrading gives back the digits.
"""

import re

import sqlalchemy as sa
from alembic import op

from agentdesk.domain.contact import customer_phone_key
from agentdesk.domain.model import Customer

revision = "0007_e164_phone_keys"
down_revision = "0006_outbox_mutations"
branch_labels = None
depends_on = None

_NOT_DIGIT = re.compile(r"[^0-9]")


def _digits_key(phone: str) -> str | None:
    """The key before this revision, frozen here: the digits, a leading ``+`` kept."""
    digits = _NOT_DIGIT.sub("", phone)
    if not digits:
        return None
    return ("+" if phone.strip().startswith("+") else "") + digits


def _e164_key(customer_id: str, phone: str, location: str | None, zone: str | None) -> str | None:
    # The region is all the key reads of a customer beyond the phone: its location and time zone.
    return customer_phone_key(Customer(id=customer_id, name="", phone=phone, location=location, timezone=zone))


def _rekey(key) -> None:  # noqa: ANN001 - (id, phone, location, time zone) -> key
    connection = op.get_bind()
    customers = connection.execute(sa.text(
        "SELECT id, phone, location, timezone, phone_key FROM customer WHERE phone IS NOT NULL")).all()
    changed = [{"id": ident, "key": new} for ident, phone, location, zone, old in customers
               if (new := key(ident, phone, location, zone)) != old]
    if changed:
        connection.execute(sa.text("UPDATE customer SET phone_key = :key WHERE id = :id"), changed)


def upgrade() -> None:
    _rekey(_e164_key)


def downgrade() -> None:
    _rekey(lambda _id, phone, _location, _zone: _digits_key(phone))
