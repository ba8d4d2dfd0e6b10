"""The log-a-contact dialog: a letter, a shop visit, a call on another phone, put on the timeline by hand.

Three fields, keyboard only: the channel and the direction are rows of choices (←/→ picks,
the picked one in brackets, not by colour alone), then the one-line summary. Tab and
shift+tab move between them, enter on a row moves on, enter on the summary logs it,
escape cancels. Dismisses with a :class:`LoggedContact`, or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from agentdesk.domain.contact_log import ContactRefused, summary_line
from agentdesk.domain.model import Channel, Direction
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.widgets.text_input import TextInput

CHANNEL_CHOICES = (Channel.LETTER, Channel.SHOP, Channel.PHONE, Channel.EMAIL, Channel.SMS, Channel.CHAT,
                   Channel.SOCIAL, Channel.APP, Channel.PORTAL)
"""Letters and shop visits first: what reaches the desk only when an agent logs it."""
CHANNEL_NAMES = {Channel.EMAIL: "e-mail", Channel.SMS: "SMS"}
DIRECTION_CHOICES = (Direction.IN, Direction.OUT)
DIRECTION_NAMES = {Direction.IN: "in: from the customer", Direction.OUT: "out: to the customer"}

T = TypeVar("T", Channel, Direction)


@dataclass(frozen=True, slots=True)
class LoggedContact:
    channel: Channel
    direction: Direction
    summary: str


class ChoiceRow(Widget, Generic[T], can_focus=True):
    """``▶ Channel   [letter] shop  phone …``: one of a few values, picked with ←/→."""

    HELP_TITLE: ClassVar[str] = "Choice"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous choice", show=False, id="customer.contact_choice_previous"),
        Binding("right", "step(1)", "Next choice", show=False, id="customer.contact_choice_next"),
        Binding("enter", "app.focus_next", "On to the next field", show=False, id="customer.contact_choice_done"),
    ]
    DEFAULT_CSS = """
    ChoiceRow {
        height: auto;
        & > .choice-row--selected {
            background: $block-cursor-blurred-background;
            text-style: bold;
        }
        &:focus > .choice-row--selected {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"choice-row--selected"}

    def __init__(self, label: str, values: tuple[T, ...], names: dict[T, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.label = label
        self.values: tuple[T, ...] = values
        self.names: dict[T, str] = names
        self.value: T = values[0]

    def name_of(self, value: T) -> str:
        return self.names.get(value, value.value)

    def render(self) -> Text:
        text = Text(end="")
        text.append(f"{'▶' if self.has_focus else ' '} {self.label:<10}")
        # Tight, so all nine channels fit on one line of an 80-column terminal.
        for value in self.values:
            if value is self.value:
                text.append(f"[{self.name_of(value)}]", self.get_component_rich_style("choice-row--selected"))
            else:
                text.append(f" {self.name_of(value)} ")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_step(self, step: int) -> None:
        index = (self.values.index(self.value) + step) % len(self.values)
        self.value = self.values[index]
        self.refresh()


class SummaryInput(TextInput):
    """The one-line summary; enter logs the contact."""

    HELP_TITLE: ClassVar[str] = "Summary"


class ContactScreen(ModalScreen[LoggedContact | None], inherit_bindings=False):
    """Asks channel, direction and summary; dismisses with the contact, or None when cancelled."""

    CSS_PATH = "contact.tcss"
    HELP_TITLE: ClassVar[str] = "Log a contact"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", priority=True, id="customer.contact_cancel"),
        Binding("tab", "app.focus_next", "Next field", show=False, id="customer.contact_next_field"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, id="customer.contact_previous_field"),
    ]

    def __init__(self, question: Text) -> None:
        """``question`` is drawn as given (build it from safe text)."""
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="contact-box"):
            yield Static(self.question, id="contact-question")
            yield ChoiceRow("Channel", CHANNEL_CHOICES, CHANNEL_NAMES, id="contact-channel")
            yield ChoiceRow("Direction", DIRECTION_CHOICES, DIRECTION_NAMES, id="contact-direction")
            yield SummaryInput(placeholder="what it was about, in one line", id="contact-summary", max_length=500)
            yield Static(id="contact-keys")

    def on_mount(self) -> None:
        self.query_one("#contact-box").border_title = "Log a contact"
        self.query_one("#contact-channel", ChoiceRow).focus()
        self._hint()

    @property
    def channel_row(self) -> ChoiceRow[Channel]:
        return self.query_one("#contact-channel", ChoiceRow)

    @property
    def direction_row(self) -> ChoiceRow[Direction]:
        return self.query_one("#contact-direction", ChoiceRow)

    def _hint(self, problem: str | None = None) -> None:
        row = self.channel_row
        steps = [key_shown(self, "step(-1)", row), key_shown(self, "step(1)", row)]
        parts = ["/".join(key for key in steps if key) + " picks"] if any(steps) else []
        next_field = key_shown(self, "app.focus_next", self)
        if next_field:
            parts.append(f"{next_field} next field")
        parts += ["enter on the summary logs it", f"{key_shown(self, 'cancel') or 'escape'} cancels"]
        keys = Text(" · ".join(parts), end="")
        self.query_one("#contact-keys", Static).update(Text(problem, "bold", end="") if problem else keys)

    @on(Input.Submitted, "#contact-summary")
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        try:
            summary = summary_line(message.value)
        except ContactRefused as refused:
            self._hint(str(refused))
            return
        self.dismiss(LoggedContact(self.channel_row.value, self.direction_row.value, summary))

    def action_cancel(self) -> None:
        self.dismiss(None)
