"""Outbox rows as the backend's mutations, in words for messages.

The outbox keeps each mutation exactly as it is pushed (frozen when the change was
made, see :mod:`agentdesk.store.outbox`), so every retry carries the same body and
nothing is converted here.
"""

from __future__ import annotations

from typing import Any

from agentdesk.store.outbox import APPROVE, CONTACT, DECISION, DECLINE, REPLY, OutboxItem


def mutation_body(item: OutboxItem) -> dict[str, Any]:
    if item.kind not in (DECISION, APPROVE, DECLINE, CONTACT, REPLY):
        raise ValueError(f"outbox row {item.id} has an unknown kind {item.kind!r}")
    return item.body


def describe(item: OutboxItem) -> str:
    """A few words for a message: ``refund 39.90 EUR for c-1001``."""
    if item.kind in (DECISION, APPROVE):
        decision = item.body["decision"]
        amount = f" {decision['amount']} {decision['currency']}" if decision.get("amount") else ""
        what = decision.get("proposal_kind") or decision["kind"]
        return f"{'approval of ' if item.kind == APPROVE else ''}{what}{amount} for {decision['customer']}"
    if item.kind == CONTACT:
        contact = item.body["interaction"]
        return f"{contact['channel']} {contact['direction']} logged for {contact['customer']}"
    if item.kind == REPLY:
        reply = item.body["interaction"]
        return f"{'e-mail' if reply['channel'] == 'email' else 'SMS'} reply to {reply['customer']}"
    return f"decline of escalation {item.body.get('escalation')}"
