"""Outbox rows as the backend's mutations, and the backend's answers as interchange records.

The outbox keeps the stored rows of a decision and its promise; here they become the
interchange objects the backend takes. The conversion is a pure function of the
frozen row, so every retry of a mutation carries the same body.
"""

from __future__ import annotations

from typing import Any

from agentdesk.interchange.codec import to_json_obj
from agentdesk.store.convert import decision_from_row, from_columns, promise_from_row
from agentdesk.store.outbox import APPROVE, DECISION, DECLINE, OutboxItem


def mutation_body(item: OutboxItem) -> dict[str, Any]:
    body = item.body
    if item.kind in (DECISION, APPROVE):
        promise = body.get("promise")
        mutation: dict[str, Any] = {
            "kind": item.kind,
            "decision": to_json_obj(decision_from_row(body["decision"])),
            "promise": to_json_obj(promise_from_row(promise)) if promise is not None else None,
        }
        if item.kind == APPROVE:
            mutation["escalation"] = body["escalation"]
        return mutation
    if item.kind == DECLINE:
        return {"kind": DECLINE, "escalation": body["escalation"], "reason": body["reason"],
                "at": from_columns(body["at_us"], body["at_offset_s"]).isoformat()}
    raise ValueError(f"outbox row {item.id} has an unknown kind {item.kind!r}")


def describe(item: OutboxItem) -> str:
    """A few words for a message: ``refund 39.90 EUR for c-1001``."""
    if item.kind in (DECISION, APPROVE):
        row = item.body["decision"]
        amount = f" {row['amount']} {row['currency']}" if row.get("amount") else ""
        what = row.get("proposal_kind") or row["kind"]
        return f"{'approval of ' if item.kind == APPROVE else ''}{what}{amount} for {row['customer_id']}"
    return f"decline of escalation {item.body.get('escalation')}"
