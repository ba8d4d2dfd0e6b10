"""The queue's waiting list, decisions and promises.

Revision ID: 0002_waiting_decisions_promises
Revises: 0001_core

``waiting`` is derived from the timeline, so the upgrade fills it from the
entries already in the store.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_waiting_decisions_promises"
down_revision = "0001_core"
branch_labels = None
depends_on = None

BACKFILL_WAITING = """
INSERT INTO waiting (customer_id, since_us, channels, unanswered)
SELECT e.customer_id, min(e.at_us), group_concat(DISTINCT e.channel), count(*)
FROM timeline_entry AS e
LEFT JOIN (
    SELECT customer_id, max(at_us) AS answered_us
    FROM timeline_entry
    WHERE kind = 'interaction' AND direction = 'out'
    GROUP BY customer_id
) AS answered ON answered.customer_id = e.customer_id
WHERE e.kind = 'interaction' AND e.direction = 'in'
  AND (answered.answered_us IS NULL OR e.at_us > answered.answered_us)
GROUP BY e.customer_id
"""


def upgrade() -> None:
    op.create_table(
        "waiting",
        sa.Column("customer_id", sa.String(), sa.ForeignKey("customer.id"), primary_key=True),
        sa.Column("since_us", sa.Integer(), nullable=False),
        sa.Column("channels", sa.String(), nullable=False),
        sa.Column("unanswered", sa.Integer(), nullable=False),
    )
    op.create_index("ix_waiting_since", "waiting", ["since_us"])
    op.create_table(
        "decision",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("customer_id", sa.String(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("case_id", sa.String(), sa.ForeignKey("support_case.id"), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("amount", sa.String(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("agent_id", sa.String(), sa.ForeignKey("agent.id"), nullable=False),
        sa.Column("at_us", sa.Integer(), nullable=False),
        sa.Column("at_offset_s", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_index("ix_decision_customer_at", "decision", ["customer_id", "at_us"])
    op.create_table(
        "promise",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("decision_id", sa.String(), sa.ForeignKey("decision.id"), nullable=True),
        sa.Column("customer_id", sa.String(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("due_us", sa.Integer(), nullable=False),
        sa.Column("due_offset_s", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_index("ix_promise_state_due", "promise", ["state", "due_us"])
    op.create_index("ix_promise_customer_state", "promise", ["customer_id", "state"])
    op.execute(BACKFILL_WAITING)


def downgrade() -> None:
    op.drop_table("promise")
    op.drop_table("decision")
    op.drop_table("waiting")
