"""What every sender raises when its provider did not take a message."""

from __future__ import annotations

from agentdesk.domain.text import one_line

REASON_LIMIT = 300


class SendFailed(Exception):
    """The provider did not take the message; ``reason`` is one line for the timeline and the log.
    ``permanent``: trying again cannot help (an address refused, a login refused); else it may pass
    (a connection refused, a timeout, a busy server)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason, self.permanent = one_line(reason, REASON_LIMIT), permanent
