"""The notices of this session, kept after their notification has vanished (see ``screens/notices.py``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from agentdesk.domain.text import one_line

KEPT_NOTICES = 200
SEVERITY_WORDS = {"information": "info", "warning": "WARNING", "error": "ERROR"}
"""Severity in words, not only in the toast's colour."""


@dataclass(frozen=True, slots=True)
class Notice:
    at: datetime
    title: str
    message: str
    severity: str


class NoticeLog:
    """The last :data:`KEPT_NOTICES` notices of this session."""

    def __init__(self) -> None:
        self._notices: deque[Notice] = deque(maxlen=KEPT_NOTICES)

    def add(self, notice: Notice) -> None:
        self._notices.append(notice)

    def newest_first(self) -> list[Notice]:
        return list(reversed(self._notices))


def notices_text(notices: list[Notice], to_viewer: Callable[[datetime], datetime]) -> Text:
    """One notice a paragraph: ``14:02:07  WARNING  Callback: Callback due now: …``."""
    text = Text(end="")
    if not notices:
        return text.append("No notices yet in this session.")
    for index, notice in enumerate(notices):
        if index:
            text.append("\n")
        text.append(to_viewer(notice.at).strftime("%H:%M:%S"), "bold")
        text.append(f"  {SEVERITY_WORDS.get(notice.severity, notice.severity)}  ")
        if notice.title:
            text.append(one_line(notice.title, 80), "bold")
            text.append(": ")
        text.append(one_line(notice.message, 2000))
    return text
