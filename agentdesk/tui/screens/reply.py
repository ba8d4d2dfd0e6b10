"""The reply editor: write to the customer on their channel, signed by you, sent by the backend.

Above the text, in words: to whom, on which channel and address, on which case (and the
subject of an e-mail). Below it: the signature that will follow, and the length as you
type (an SMS in parts of 160 GSM-7 or 70 UCS-2 characters). One key cycles to the other
channel the customer can be reached on, one sends, one inserts a knowledge article (picked on the
knowledge screen: every article, narrowed as you type), escape puts the reply aside as a draft (an empty one
is thrown away). Dismisses with a :class:`ReplyAction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from agentdesk.desk.store import ReplyContext
from agentdesk.domain import reply
from agentdesk.domain.model import Channel
from agentdesk.domain.sms import segments
from agentdesk.domain.text import one_line
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.messages import Presenting

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk


@dataclass(frozen=True, slots=True)
class ReplyAction:
    what: Literal["send", "draft"]
    text: str
    channel: Channel | None
    case_id: str | None


class ReplyText(TextArea):
    """The reply's text: typed as is, never read as markup."""

    HELP_TITLE: ClassVar[str] = "Reply text"


class ReplyScreen(ModalScreen[ReplyAction], inherit_bindings=False):
    CSS_PATH = "reply.tcss"
    HELP_TITLE: ClassVar[str] = "Reply"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send the reply", priority=True, id="customer.reply_send"),
        Binding("ctrl+o", "other_channel", "Other channel (e-mail or SMS)", priority=True, id="customer.reply_channel"),
        Binding("escape", "keep", "Close, keeping a draft", priority=True, id="customer.reply_keep"),
        Binding("ctrl+g", "article", "Insert a knowledge article", priority=True, id="customer.reply_article"),
    ]

    def __init__(self, context: ReplyContext, desk: Desk | None = None) -> None:
        """``desk``: where the knowledge articles are read from (none: no article key)."""
        super().__init__()
        self.context = context
        self.desk = desk
        self.destinations = context.destinations
        draft = context.draft
        wanted = draft.channel if draft is not None else None
        self.index = next((i for i, d in enumerate(self.destinations) if d.channel is wanted), 0)
        self.initial = draft.text if draft is not None else ""
        self._typing = False

    @property
    def destination(self) -> reply.Destination | None:
        return self.destinations[self.index] if self.destinations else None

    def compose(self) -> ComposeResult:
        with Vertical(id="reply-box"):
            yield Static(id="reply-to")
            yield Static(id="reply-case")
            yield ReplyText(self.initial, id="reply-text", soft_wrap=True, show_line_numbers=False,
                            tab_behavior="focus")
            yield Static(id="reply-signature")
            yield Static(id="reply-length")
            yield Static(id="reply-keys")

    def on_mount(self) -> None:
        box = self.query_one("#reply-box")
        box.border_title = f"Reply to {one_line(self.context.customer.name, 60)}"
        if self.context.draft is not None:
            box.border_subtitle = "your draft, as you left it"
        self.query_one("#reply-signature", Static).update(
            Text("-- \n" + self.context.signature, end=""))
        self._show_destination()
        text = self.query_one("#reply-text", ReplyText)
        text.focus()
        text.move_cursor(text.document.end)

    # --- what the header and footer say --------------------------------------------------

    def _show_destination(self, problem: str | None = None) -> None:
        where = self.destination
        line = Text(end="")
        if where is None:
            line.append(f"{one_line(self.context.customer.name, 60)} has no e-mail address and no phone number: "
                        "there is nowhere to send a reply", "bold")
        else:
            line.append("To ")
            line.append(one_line(self.context.customer.name, 60), "bold")
            line.append(f" · {reply.channel_words(where.channel)} to ")
            line.append(one_line(where.address, 80), "bold")
            others = [reply.channel_words(d.channel) for d in self.destinations if d is not where]
            if others:
                line.append(f" · {key_shown(self, 'other_channel') or 'ctrl+o'} for {', '.join(others)}")
        self.query_one("#reply-to", Static).update(line)
        case = self.context.case
        about = Text(end="")
        if case is not None:
            about.append(f"Case {case.id} ({case.status.value}): {one_line(case.subject, 80)}")
        else:
            about.append("No open case: the reply goes on the timeline without one")
        if where is not None and where.channel is Channel.EMAIL:
            about.append(f" · subject: {reply.subject_for(case)}")
        self.query_one("#reply-case", Static).update(about)
        self._show_length(problem)

    def _show_length(self, problem: str | None = None) -> None:
        text = self.query_one("#reply-text", ReplyText).text
        where = self.destination
        if where is not None and where.channel is Channel.SMS:
            length = segments(reply.signed(text, self.context.agent))
            parts = "1 part" if length.segments == 1 else f"{length.segments} parts"
            words = (f"SMS: {parts} with the signature · {length.left_in_segment} characters left in this part · "
                     f"{length.encoding}")
            if length.encoding != "GSM-7":
                words += " (a character outside the GSM alphabet halves each part)"
        else:
            words = f"{len(text):,} characters"
        line = Text(words, end="")
        self.query_one("#reply-length", Static).update(line)
        keys = [f"{key_shown(self, 'send') or 'ctrl+s'} sends",
                f"{key_shown(self, 'keep') or 'escape'} closes and keeps a draft"]
        if self.desk is not None:
            keys.insert(1, f"{key_shown(self, 'article') or 'ctrl+g'} inserts an article")
        hint = Text(problem, "bold", end="") if problem else Text(" · ".join(keys), end="")
        self.query_one("#reply-keys", Static).update(hint)

    @on(TextArea.Changed, "#reply-text")
    def _typed(self) -> None:
        self._show_length()
        typing = bool(self.query_one("#reply-text", ReplyText).text.strip())
        if typing != self._typing:  # others see "typing a reply" on this customer
            self._typing = typing
            self.app.post_message(Presenting(self.context.customer.id, typing))

    def on_unmount(self) -> None:
        if self._typing:
            self.app.post_message(Presenting(self.context.customer.id, False))

    # --- actions ----------------------------------------------------------------------------

    def action_other_channel(self) -> None:
        if len(self.destinations) > 1:
            self.index = (self.index + 1) % len(self.destinations)
            self._show_destination()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.desk is not None if action == "article" else True

    def action_article(self) -> None:
        from agentdesk.tui.screens.knowledge import KnowledgeScreen

        assert self.desk is not None  # check_action keeps the key out otherwise
        self.app.push_screen(KnowledgeScreen(self.desk, pick=True), self._insert_article)

    def _insert_article(self, text: str | None) -> None:
        editor = self.query_one("#reply-text", ReplyText)
        editor.focus()
        if text:
            row, column = editor.cursor_location
            # An article is paragraphs of its own: it never runs on from words already on the cursor's line.
            on_the_line = editor.document.get_line(row)[:column].strip()
            editor.insert(f"\n\n{text}" if on_the_line else text)

    def action_send(self) -> None:
        where = self.destination
        if where is None or not self.context.may_write:
            self._show_length("nothing can be sent from here" if where is not None else
                              "there is nowhere to send this reply: press escape to keep it as a draft")
            return
        text = self.query_one("#reply-text", ReplyText).text
        try:
            reply.reply_text(text)
        except reply.ReplyRefused as refused:
            self._show_length(str(refused))
            return
        self.dismiss(ReplyAction("send", text, where.channel, self._case_id()))

    def action_keep(self) -> None:
        where = self.destination
        self.dismiss(ReplyAction("draft", self.query_one("#reply-text", ReplyText).text,
                                 where.channel if where is not None else None, self._case_id()))

    def _case_id(self) -> str | None:
        return self.context.case.id if self.context.case is not None else None
