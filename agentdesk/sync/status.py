"""The sync state in words, for the workstation's header and ``agentdesk sync``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration

MUTATION, CHANGE = "mutation", "change"
"""Where a kept item came from: our own mutation the backend rejected, or a change from the backend set aside."""


@dataclass(frozen=True, slots=True)
class Kept:
    """A rejected mutation or a change from the backend set aside: kept on this workstation with its reason."""

    source: str
    """:data:`MUTATION` or :data:`CHANGE`."""
    id: str
    """The mutation's id, or the record's id."""
    what: str
    """``refund 39.90 EUR for c-1001``; ``decision d-9 (change 42)``."""
    reason: str
    """One line, in words."""
    decision: str | None = None
    """The local decision a rejected mutation carried (its timeline line says it was rejected)."""

    def line(self) -> str:
        if self.source == MUTATION:
            return f"rejected by the backend: {self.what}: {self.reason}"
        return f"could not apply {self.what} from the backend: {self.reason}"

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "source": self.source, "what": self.what, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool | None
    """True: the backend answers; False: it cannot be reached; None: not tried yet."""
    waiting: int = 0
    """Decisions (and approvals, declines) in the outbox, not yet answered by the backend."""
    rejected: int = 0
    """Mutations the backend would not take at all (kept in the outbox, not pushed again)."""
    last_synced: datetime | None = None
    problem: str | None = None
    """A refusal that needs the user (say, a token the backend does not know); one line."""
    receiving: int | None = None
    """Records applied so far by a pull still going on (a first sync takes a while)."""
    set_aside: int = 0
    """Changes from the backend this workstation could not apply (kept, tried again at each pull)."""

    def words(self, now: datetime) -> str:
        waiting = _count(self.waiting, "decision")
        if self.problem is not None:
            text = f"sync stopped: {self.problem}"
        elif self.online is None:
            text = "connecting to the backend" + (f": {waiting} waiting" if self.waiting else "")
        elif not self.online:
            text = f"offline: {waiting} waiting" if self.waiting else "offline: nothing waiting"
        elif self.receiving is not None:
            text = f"receiving changes: {self.receiving:,} records so far"
        elif self.waiting:
            text = f"sending {waiting}"
        elif self.last_synced is not None:
            age = max(now - self.last_synced, type(now - now)())
            text = "synced just now" if age.total_seconds() < 1 else f"synced {duration(age)} ago"
        else:
            text = "online"
        if self.rejected:
            text += f" · {_count(self.rejected, 'decision')} rejected by the backend"
        if self.set_aside:
            text += f" · {_count(self.set_aside, 'change')} from the backend could not be applied"
        return text


def failure_words(error: BaseException, limit: int = 200) -> str:
    """An unexpected failure in one line of words: the database's own message, never the SQL it ran.

    SQLAlchemy's errors carry the statement and its parameters in their text; the driver's
    error they wrap (``orig``) says what went wrong without them.
    """
    cause = getattr(error, "orig", None)
    if isinstance(cause, BaseException):
        error = cause
    text = str(error).split("[SQL:", 1)[0].strip() or type(error).__name__
    if type(error).__module__.startswith("sqlite3"):
        text = f"the local store failed: {text}"
    return one_line(text, limit)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
