"""A dialog that asks for one line of text: a note, the reason for a decline.

Enter gives the text (empty text is not taken: the hint line says so), escape gives
None. The screen behind stays visible around it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from agentdesk.tui.keymap import key_shown
from agentdesk.tui.widgets.text_input import TextInput


class PromptInput(TextInput):
    """The line being typed: Textual's text editing keys; enter gives it."""

    HELP_TITLE: ClassVar[str] = "Text field"


class PromptScreen(ModalScreen[str | None], inherit_bindings=False):
    """Asks one question; dismisses with the answer, or None when cancelled."""

    CSS_PATH = "prompt.tcss"
    HELP_TITLE: ClassVar[str] = "Dialog"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", priority=True, id="prompt.cancel"),
    ]

    def __init__(self, title: str, question: Text, *, placeholder: str, submit: str, when_empty: str,
                 max_length: int = 500) -> None:
        """``question`` is drawn as given (build it from safe text).

        ``submit`` says what enter does (``saves``); ``when_empty`` is the hint for enter on
        nothing, where ``{cancel}`` stands for the key that cancels (keymaps may move it).
        """
        super().__init__()
        self.title_text = title
        self.question = question
        self.placeholder = placeholder
        self.submit = submit
        self.when_empty = when_empty
        self.max_length = max_length

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(self.question, id="prompt-question")
            yield PromptInput(placeholder=self.placeholder, id="prompt-entry", max_length=self.max_length)
            yield Static(id="prompt-keys")

    def on_mount(self) -> None:
        self.query_one("#prompt-box").border_title = self.title_text
        self.query_one(PromptInput).focus()
        self.query_one("#prompt-keys", Static).update(Text(f"enter {self.submit} · {self._cancel_key} cancels", end=""))

    @property
    def _cancel_key(self) -> str:
        return key_shown(self, "cancel") or "escape"

    @on(Input.Submitted, "#prompt-entry")
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        text = message.value.strip()
        if not text:
            hint = self.when_empty.format(cancel=self._cancel_key)
            self.query_one("#prompt-keys", Static).update(Text(hint, "bold", end=""))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
