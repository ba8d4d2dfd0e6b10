"""The sync state in words, for the workstation's header and ``agentdesk sync``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agentdesk.domain.timefmt import duration


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
        return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
