"""Decision workflow: undo windows, callbacks, escalations and approvals, the audit log, decisions on the timeline.

Revision ID: 0003_decision_workflow
Revises: 0002_waiting_decisions_promises

Columns are added (never a table rebuild), so upgrading a large store is quick.
The audit log is append-only: triggers refuse UPDATE and DELETE. Every decision
already in the store gets its line on the customer's timeline, worded by the
same function the importer and the ledger use.
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from agentdesk.domain.decision_text import timeline_entry
from agentdesk.domain.model import Decision
from agentdesk.domain.money import Money
from agentdesk.domain.timeline import utc_micros
from agentdesk.store.convert import from_columns, offset_seconds

revision = "0003_decision_workflow"
down_revision = "0002_waiting_decisions_promises"
branch_labels = None
depends_on = None

DECISION_COLUMNS = (
    sa.Column("scheduled_us", sa.Integer(), nullable=True),
    sa.Column("scheduled_offset_s", sa.Integer(), nullable=True),
    sa.Column("phone", sa.String(), nullable=True),
    sa.Column("undo_until_us", sa.Integer(), nullable=True),
    sa.Column("escalate_to", sa.String(), nullable=True),
    sa.Column("proposal_kind", sa.String(), nullable=True),
    sa.Column("approval", sa.String(), nullable=True),
    sa.Column("approval_by", sa.String(), nullable=True),
    sa.Column("approval_at_us", sa.Integer(), nullable=True),
    sa.Column("approval_offset_s", sa.Integer(), nullable=True),
    sa.Column("approval_reason", sa.String(), nullable=True),
)

# Alembic adds no foreign key to an existing SQLite table without rebuilding it; SQLite
# itself can, for a column whose default is NULL, so these are plain ALTER TABLEs.
REFERENCE_COLUMNS = {
    "decision": "ALTER TABLE decision ADD COLUMN approves VARCHAR REFERENCES decision (id)",
    "timeline_entry": "ALTER TABLE timeline_entry ADD COLUMN decision_id VARCHAR REFERENCES decision (id)",
}

APPEND_ONLY_TRIGGERS = {
    "audit_append_only_update": "UPDATE",
    "audit_append_only_delete": "DELETE",
}

# Decisions as they stand at this revision (all new columns still empty), with the customer's zone.
DECISIONS_WITHOUT_A_LINE = """
SELECT d.id, d.customer_id, d.case_id, d.kind, d.amount, d.currency, d.agent_id, d.at_us, d.at_offset_s,
       d.state, d.reason, c.timezone
FROM decision AS d
JOIN customer AS c ON c.id = d.customer_id
WHERE d.state <> 'undone'
  AND NOT EXISTS (SELECT 1 FROM timeline_entry AS t WHERE t.id = 'decision:' || d.id)
"""

INSERT_LINE = """
INSERT INTO timeline_entry (id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author,
                            body, event_kind, decision_id)
VALUES (:id, :customer_id, :case_id, :kind, NULL, :direction, :at_us, :at_offset_s, :author,
        :body, :event_kind, :decision_id)
"""


def upgrade() -> None:
    for column in DECISION_COLUMNS:
        op.add_column("decision", column)
    for statement in REFERENCE_COLUMNS.values():
        op.execute(statement)
    op.create_index("ix_decision_approval", "decision", ["approval", "escalate_to"])
    op.create_index("ix_decision_state", "decision", ["state"])
    op.create_table(
        "audit",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("at_us", sa.Integer(), nullable=False),
        sa.Column("at_offset_s", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("decision_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("amount", sa.String(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("limit_amount", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("extra", sa.String(), nullable=True),
    )
    op.create_index("ix_audit_customer_at", "audit", ["customer_id", "at_us"])
    for name, statement in APPEND_ONLY_TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {statement} ON audit "
            "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END"
        )
    backfill_decision_lines()


def backfill_decision_lines() -> None:
    connection = op.get_bind()
    lines = [_line(row) for row in connection.execute(sa.text(DECISIONS_WITHOUT_A_LINE))]
    if lines:
        connection.execute(sa.text(INSERT_LINE), lines)


def _line(row: sa.Row) -> dict:
    (ident, customer, case, kind, amount, currency, agent, at_us, at_offset_s, state, reason, zone_name) = row
    decision = Decision(
        id=ident, customer=customer, kind=kind, agent=agent, at=from_columns(at_us, at_offset_s), state=state,
        case=case, amount=Money(Decimal(amount), currency) if amount is not None and currency else None,
        reason=reason,
    )
    entry = timeline_entry(decision, zone_name)
    return {
        "id": entry.id, "customer_id": entry.customer, "case_id": entry.case, "kind": entry.kind.value,
        "direction": entry.direction.value, "at_us": utc_micros(entry.at), "at_offset_s": offset_seconds(entry.at),
        "author": entry.author, "body": entry.body, "event_kind": entry.event_kind, "decision_id": entry.decision_id,
    }


def downgrade() -> None:
    """Rebuilds ``decision`` and ``timeline_entry``: run it on a connection with foreign keys off."""
    op.execute("DELETE FROM timeline_entry WHERE kind = 'decision'")
    op.drop_table("audit")
    with op.batch_alter_table("timeline_entry") as batch:
        batch.drop_column("decision_id")
    op.drop_index("ix_decision_state", "decision")
    op.drop_index("ix_decision_approval", "decision")
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("approves")
        for column in reversed(DECISION_COLUMNS):
            batch.drop_column(column.name)
