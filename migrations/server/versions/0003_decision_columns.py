"""A decision's selecting columns beside its body: the 30-day window and the booked slots filtered in SQL.

Revision ID: 0003_decision_columns
Revises: 0002_integrity
Create Date: 2026-12-07
"""

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0003_decision_columns"
down_revision = "0002_integrity"
branch_labels = None
depends_on = None

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_BATCH = 1000


def upgrade() -> None:
    for name in ("decision_kind", "decision_state", "decision_case", "decision_agent"):
        op.add_column("record", sa.Column(name, sa.String(), nullable=True))
    for name in ("decision_at_us", "decision_scheduled_us"):
        op.add_column("record", sa.Column(name, sa.BigInteger(), nullable=True))
    op.create_index("ix_record_decision_agent", "record", ["decision_agent", "decision_kind"])
    _backfill()


def _backfill() -> None:
    """Every stored decision's columns, read from its body (frozen here: later code may read bodies otherwise)."""
    bind = op.get_bind()
    record = sa.table("record", sa.column("type"), sa.column("id"), sa.column("body"),
                      *(sa.column(name) for name in ("decision_kind", "decision_state", "decision_case",
                                                     "decision_agent", "decision_at_us", "decision_scheduled_us")))
    update = (sa.update(record).where(record.c.type == "decision", record.c.id == sa.bindparam("key"))
              .values({name: sa.bindparam(name) for name in ("decision_kind", "decision_state", "decision_case",
                                                              "decision_agent", "decision_at_us",
                                                              "decision_scheduled_us")}))
    after = ""
    while True:
        rows = bind.execute(sa.select(record.c.id, record.c.body)
                            .where(record.c.type == "decision", record.c.id > after)
                            .order_by(record.c.id).limit(_BATCH)).all()
        if not rows:
            return
        bind.execute(update, [_columns(ident, body) for ident, body in rows])
        after = rows[-1][0]


def _columns(ident: str, body: str) -> dict:
    obj = json.loads(body)
    scheduled = obj.get("scheduled")
    return {"key": ident, "decision_kind": obj.get("kind"), "decision_state": obj.get("state"),
            "decision_case": obj.get("case"), "decision_agent": obj.get("agent"),
            "decision_at_us": _micros(obj["at"]),
            "decision_scheduled_us": _micros(scheduled) if isinstance(scheduled, str) else None}


def _micros(text: str) -> int:
    return (datetime.fromisoformat(text) - _EPOCH) // (datetime.resolution)


def downgrade() -> None:
    op.drop_index("ix_record_decision_agent", table_name="record")
    with op.batch_alter_table("record") as batch:
        for name in ("decision_scheduled_us", "decision_at_us", "decision_agent", "decision_case", "decision_state",
                     "decision_kind"):
            batch.drop_column(name)
