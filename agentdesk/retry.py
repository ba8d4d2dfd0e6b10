"""The one retry policy: how long to wait after each failure and how often to try, for every loop that tries again.

The numbers live here and the waits come from ``tenacity``'s strategies, so the sync loop,
the live stream's reconnects, the backend's LISTEN connection, the backend's transactions
and ``agentdesk sync`` all back off the same way. Domain-free: sync and server both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
)


@dataclass(frozen=True)
class Policy:
    """Waits that double after each failure from ``first`` up to ``cap``, plus a random part of up to ``first``
    so clients that lost the same backend do not come back at the same moment."""

    first: float
    cap: float

    def backoff(self) -> Backoff:
        return Backoff(self.first, self.cap)

    def wait_after(self, failures: int) -> float:
        """The wait after the ``failures``-th failure in a row, for a loop that keeps its count elsewhere
        (a row in a table) instead of in a :class:`Backoff`."""
        return self.backoff()._wait(_attempt(failures))


RECONNECT = Policy(first=0.2, cap=30.0)
"""The sync loop and its live stream, after the backend could not be reached."""
LISTEN_RECONNECT = Policy(first=0.2, cap=5.0)
"""The backend's LISTEN connection to PostgreSQL, after it dropped (events are late until it is back)."""
IMAP_RECONNECT = Policy(first=0.5, cap=60.0)
"""The backend's IMAP connector, after its server could not be reached or dropped the connection."""
IDENTITY = Policy(first=0.5, cap=30.0)
"""The workstation asking the backend's ``/me`` who its token belongs to, while the backend cannot be reached."""
SYNC_COMMAND = Policy(first=0.5, cap=4.0)
"""``agentdesk sync`` between its tries to reach the backend: someone waits for its answer."""
SYNC_COMMAND_ATTEMPTS = 4
"""Tries of ``agentdesk sync`` to reach the backend before it reports itself offline."""

SERVER_FAILURES = 5
"""A mutation the backend failed on (500) this many times is set aside as rejected, with the backend's reason."""
_MUTATION_WAIT = wait_exponential(multiplier=2, exp_base=2, max=timedelta(minutes=5).total_seconds())
"""The wait before trying a failed mutation again: 2 s, doubling, up to 5 min (no jitter: it is one client's own
queue, and the wait is shown to nobody)."""

TRANSACTION_ATTEMPTS = 3
"""Tries of a backend transaction that PostgreSQL undid whole (serialization failure, deadlock)."""


class Backoff:
    """The waits of a :class:`Policy` for a loop that runs until it is stopped: :meth:`next` after each
    failure, :meth:`reset` after a success."""

    def __init__(self, first: float, cap: float) -> None:
        self.first, self.cap = first, cap
        self._wait = wait_exponential_jitter(multiplier=first, max=cap, jitter=first)
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    def next(self) -> float:
        self._failures += 1
        return self._wait(_attempt(self._failures))


def mutation_wait(attempts: int) -> timedelta:
    """How long a mutation the backend failed on ``attempts`` times waits before it is sent again."""
    return timedelta(seconds=_MUTATION_WAIT(_attempt(attempts)))


def transaction_attempts(worth_retrying: Callable[[BaseException], bool]) -> AsyncRetrying:
    """``async for attempt in transaction_attempts(…): with attempt: …``: run again at once when
    ``worth_retrying``, at most :data:`TRANSACTION_ATTEMPTS` times; the last failure is raised as it is."""
    return AsyncRetrying(stop=stop_after_attempt(TRANSACTION_ATTEMPTS), retry=retry_if_exception(worth_retrying),
                         reraise=True)


_NO_CALL = Retrying()
"""The retrying a bare call state belongs to: the wait strategies read only its attempt number."""


def _attempt(number: int) -> RetryCallState:
    """The state tenacity's wait strategies read: which attempt just failed."""
    state = RetryCallState(_NO_CALL, None, (), {})
    state.attempt_number = number
    return state
