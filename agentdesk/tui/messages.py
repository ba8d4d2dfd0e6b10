"""Messages the screens send to the app (and that tests and benchmarks may watch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from agentdesk.desk.watch import EscalationOutcome, RefusedDecision, ReplyOutcome
from agentdesk.domain.model import Customer, Decision, Promise
from agentdesk.domain.presence import Seen

if TYPE_CHECKING:
    from agentdesk.sync.status import Kept, SyncStatus


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


class StoreChanged(Message, bubble=False):
    """Someone committed to the store file: another workstation, another process, or this app's own ledger.

    The app polls ``PRAGMA data_version`` once a second (``AgentDeskApp.check_store``)
    and, when it moved, delivers this message to the app and to every screen on the
    stack (it does not bubble, so each receives it once). Handle it with
    ``on_store_changed`` to re-read what the screen shows; keep the handler cheap
    (start a worker). ``outcomes`` lists the signed-in agent's escalations that were
    approved or declined since the previous look, ``refusals`` their decisions the backend
    refused, ``replies`` their replies sent or failed (the app already notified the agent of failures).
    """

    def __init__(self, version: int, outcomes: tuple[EscalationOutcome, ...] = (),
                 refusals: tuple[RefusedDecision, ...] = (), replies: tuple[ReplyOutcome, ...] = ()) -> None:
        super().__init__()
        self.version = version
        self.replies = replies
        self.outcomes = outcomes
        self.refusals = refusals


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


class RepliesQueued(Message):
    """A reply was queued: the sync loop pushes it at once, and whether it is sent or fails is told."""

    def __init__(self, entry_id: str) -> None:
        super().__init__()
        self.entry_id = entry_id


class DecisionsQueued(Message):
    """Decisions were queued (a send now, an ended undo window, an approval, a decline): they wait in the outbox.

    Posted to the app by the worker that queued them; the app asks the sync loop to push at once
    instead of at its next idle look, and waits for the backend's answer to ``decision_ids``
    (a refusal among them is told).
    """

    def __init__(self, decision_ids: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.decision_ids = decision_ids


class SyncStatusChanged(Message, bubble=False):
    """The sync loop's state, as it reported it (about once a second, and at each change); the header shows it."""

    def __init__(self, status: SyncStatus) -> None:
        super().__init__()
        self.status = status


class SyncApplied(Message, bubble=False):
    """The sync loop stored records from the backend (a pulled page, or the answer to a mutation).

    The app looks at the store at once instead of at its next one-second look, so a new
    interaction reaches an open customer view within a second.
    """


class SyncKept(Message, bubble=False):
    """The sync loop set items aside: mutations the backend rejected, changes from it this store could not apply.

    Posted once per item as it happens; the app says each in a notice with its reason.
    """

    def __init__(self, items: tuple[Kept, ...]) -> None:
        super().__init__()
        self.items = items


class SyncIdentity(Message, bubble=False):
    """The backend said who the token speaks for (``name`` None: it would not say, and ``reason`` says why)."""

    def __init__(self, name: str | None, reason: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.reason = reason


class SyncStopped(Message, bubble=False):
    """The sync loop ended and will not come back by itself this session (no token, an unexpected failure)."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words


class PresenceSeen(Message, bubble=False):
    """Who else has which customer open changed (posted by the sync worker; the app keeps it on the desk and
    tells every screen)."""

    def __init__(self, seen: tuple[Seen, ...]) -> None:
        super().__init__()
        self.seen = seen


class Presenting(Message):
    """The customer now in front of the agent (None: none), and whether a reply to them is being typed.

    Posted to the app by the screens; the app tells the backend (see ``agentdesk.sync.presence``)."""

    def __init__(self, customer_id: str | None, typing: bool = False) -> None:
        super().__init__()
        self.customer_id, self.typing = customer_id, typing
