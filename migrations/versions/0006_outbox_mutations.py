"""The outbox keeps each mutation exactly as it is pushed: interchange JSON frozen when it was queued.

Revision ID: 0006_outbox_mutations
Revises: 0005_set_aside

Before, a row held the stored rows of a decision and its promise (or a decline's
columns), and sync turned them into the backend's mutation at every push. Waiting
rows are rewritten here into the body that conversion gave, so a mutation pushed
before the upgrade and retried after it carries the same body under the same id.
Downgrading turns the bodies back into rows.
"""

import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from agentdesk.interchange.codec import parse_record
from agentdesk.store.convert import decision_from_row, from_columns, micros_column, offset_column, promise_from_row
from agentdesk.store.outbox import APPROVE, DECISION, DECLINE, decided, declined
from agentdesk.store.rows import columns

revision = "0006_outbox_mutations"
down_revision = "0005_set_aside"
branch_labels = None
depends_on = None


def _mutation(kind: str, body: dict) -> dict:
    if kind == DECLINE:
        return declined(body["escalation"], body["reason"], from_columns(body["at_us"], body["at_offset_s"]))
    promise = body.get("promise")
    return decided(kind, decision_from_row(body["decision"]),
                   promise_from_row(promise) if promise is not None else None, approving=body.get("escalation"))


def _stored_rows(kind: str, mutation: dict, queued_at: datetime) -> dict:
    if kind == DECLINE:
        at = datetime.fromisoformat(mutation["at"])
        # The decliner was not part of the mutation; the escalation row names them (approval_by).
        return {"escalation": mutation["escalation"], "agent": None, "reason": mutation["reason"],
                "at_us": micros_column(at), "at_offset_s": offset_column(at)}
    promise = mutation.get("promise")
    body = {"decision": columns(parse_record(mutation["decision"], now=queued_at))[1],
            "promise": columns(parse_record(promise, now=queued_at))[1] if promise is not None else None}
    if kind == APPROVE:
        body["escalation"] = mutation["escalation"]
    return body


def _rewrite(change) -> None:  # noqa: ANN001 - (kind, body, queued at) -> new body
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT seq, kind, body, created_at_us FROM outbox ORDER BY seq")).all()
    for seq, kind, body, created_at_us in rows:
        if kind not in (DECISION, APPROVE, DECLINE):
            continue
        new_body = change(kind, json.loads(body), from_columns(created_at_us, 0))
        connection.execute(sa.text("UPDATE outbox SET body = :body WHERE seq = :seq"),
                           {"body": json.dumps(new_body, ensure_ascii=False, sort_keys=True), "seq": seq})


def upgrade() -> None:
    _rewrite(lambda kind, body, _queued_at: body if "kind" in body else _mutation(kind, body))


def downgrade() -> None:
    _rewrite(lambda kind, body, queued_at: _stored_rows(kind, body, queued_at) if "kind" in body else body)
