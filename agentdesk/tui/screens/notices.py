"""Recent notices: every notification of this session, newest first, to read at one's own pace.

Notifications vanish after a few seconds; whoever reads slowly, magnifies or was
away finds them all here (WCAG 2.2.1: no information is lost to a time limit).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agentdesk.tui.keymap import keys_shown
from agentdesk.tui.notice_log import Notice, notices_text
from agentdesk.tui.screens.help import scroll_bindings


class NoticesBody(VerticalScroll, inherit_bindings=False):
    """The scrollable list of notices."""

    HELP_TITLE: ClassVar[str] = "Notices"
    BINDINGS: ClassVar[list[BindingType]] = scroll_bindings("notices")


class NoticesScreen(ModalScreen[None], inherit_bindings=False):
    """Every notice of this session, newest first."""

    CSS_PATH = "notices.tcss"
    HELP_TITLE: ClassVar[str] = "Recent notices"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close notices", id="notices.close"),
    ]

    def __init__(self, notices: list[Notice], to_viewer) -> None:  # noqa: ANN001
        super().__init__()
        self.notices = notices
        self.to_viewer = to_viewer

    def compose(self) -> ComposeResult:
        with NoticesBody(id="notices-box"):
            yield Static(notices_text(self.notices, self.to_viewer), id="notices-list")

    def on_mount(self) -> None:
        box = self.query_one(NoticesBody)
        box.border_title = f"Recent notices · {len(self.notices)}"
        closing = keys_shown(self, "close")
        box.border_subtitle = f"{' or '.join(closing)} closes" if closing else ""
        box.focus()

    def action_close(self) -> None:
        self.dismiss()
