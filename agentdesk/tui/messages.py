"""Messages the screens send to the app (and that tests and benchmarks may watch)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from agentdesk.domain.model import Customer, Decision, Promise


class OpenCustomer(Message):
    """Open the customer view for ``customer_id`` (posted by the queue and the search)."""

    def __init__(self, customer_id: str) -> None:
        super().__init__()
        self.customer_id = customer_id


class QueuePainted(Message):
    """The queue screen drew its first rows with data (or its empty sentence)."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows


@dataclass(frozen=True, slots=True)
class EscalationOutcome:
    """An escalation by the signed-in agent that a lead approved or declined since the app last looked."""

    escalation: Decision
    """The escalation as it is now (``approval``, ``approval_by``, ``approval_at``, ``approval_reason`` set)."""
    decision: Decision | None
    """When approved: the decision the approver took in its place (None when declined)."""
    customer_name: str
    """The customer's name as stored (make it safe with ``one_line`` before showing it)."""


class StoreChanged(Message, bubble=False):
    """Someone committed to the store file: another workstation, another process, or this app's own ledger.

    The app polls ``PRAGMA data_version`` once a second (``AgentDeskApp.check_store``)
    and, when it moved, delivers this message to the app and to every screen on the
    stack (it does not bubble, so each receives it once). Handle it with
    ``on_store_changed`` to re-read what the screen shows; keep the handler cheap
    (start a worker). ``outcomes`` lists the signed-in agent's escalations that were
    approved or declined since the previous look (the app already notified the agent).
    """

    def __init__(self, version: int, outcomes: tuple[EscalationOutcome, ...] = ()) -> None:
        super().__init__()
        self.version = version
        self.outcomes = outcomes


@dataclass(frozen=True, slots=True)
class DueCallback:
    """A callback promise of the signed-in agent that fell due."""

    decision: Decision
    promise: Promise
    customer: Customer | None


class CallbacksDue(Message, bubble=False):
    """Callbacks fell due (the app rang the bell and said so); delivered to the app and every screen on the stack.

    The queue re-reads itself, so the customer to call heads it.
    """

    def __init__(self, callbacks: tuple[DueCallback, ...]) -> None:
        super().__init__()
        self.callbacks = callbacks
