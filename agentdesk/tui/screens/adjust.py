"""Adjust a decision before it is taken (``a``).

:class:`AdjustScreen` picks the kind (``r`` ``v`` ``c`` or ←/→ on the kind row)
and edits the amount or the callback time, validated as typed: what was
understood (a time in both zones) and what the rules say
(:func:`agentdesk.domain.entry_parse.preview`) are shown on every keystroke.
``enter`` hands the proposal back to the customer screen, which takes it through
the ledger — beyond a limit the ledger refuses it, nothing is taken, and ``e``
escalates it there; ``ctrl+e`` escalates it from here at once. ``escape`` always
leaves and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from agentdesk.domain.authority import (
    ESCALATABLE_KINDS,
    MONEY_KINDS,
    Proposal,
    Verdict,
    customer_zone,
    decision_currency,
)
from agentdesk.domain.decision_text import at_least_zero, refusal_text
from agentdesk.domain.entry_parse import (
    TIME_EXAMPLES,
    EntryError,
    parse_money,
    parse_when,
    preview,
    preview_escalation,
)
from agentdesk.domain.model import Customer
from agentdesk.domain.text import one_line
from agentdesk.tui.keymap import key_shown
from agentdesk.tui.themes import text_style
from agentdesk.tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from agentdesk.desk.store import Choices
    from agentdesk.tui.app import Desk

@dataclass(frozen=True, slots=True)
class AdjustResult:
    """What the agent settled on: the proposal to take (an ``escalate`` proposal when escalated)."""

    proposal: Proposal


class KindPicker(Widget, can_focus=True):
    """``Kind  [ refund ]  voucher  callback``: the selected kind in brackets, not by colour alone."""

    HELP_TITLE: ClassVar[str] = "Kind of decision"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,h", "step(-1)", "Previous kind", show=False, id="customer.adjust_kind_previous"),
        Binding("right,l", "step(1)", "Next kind", show=False, id="customer.adjust_kind_next"),
    ]
    DEFAULT_CSS = """
    KindPicker {
        height: 1;
        & > .kind-picker--selected {
            background: $block-cursor-blurred-background;
            text-style: bold;
        }
        &:focus > .kind-picker--selected {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .kind-picker--key {
            color: $text-accent;
            text-style: bold;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"kind-picker--selected", "kind-picker--key"}

    class Changed(Message):
        def __init__(self, kind: str) -> None:
            super().__init__()
            self.kind = kind

    def __init__(self, kinds: tuple[str, ...], kind: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kinds = kinds
        self.kind = kind

    def render(self) -> Text:
        text = Text(end="", no_wrap=True)
        text.append("▶ Kind  " if self.has_focus else "  Kind  ")
        for kind in self.kinds:
            if kind == self.kind:
                text.append(f"[ {kind} ]", self.get_component_rich_style("kind-picker--selected"))
            else:
                text.append(f"  {kind}  ")
            text.append(" ")
        text.append("  ")
        text.append(self._keys_hint(), self.get_component_rich_style("kind-picker--key", partial=True))
        return text

    def _keys_hint(self) -> str:
        """``←/→ or r v c``, with the keys in force (a keymap may have moved them)."""
        screen = self.screen
        steps = [key_shown(screen, "step(-1)", self), key_shown(screen, "step(1)", self)]
        picks = [key_shown(screen, f"pick('{kind}')") for kind in self.kinds]
        hints = ["/".join(key for key in steps if key)] if all(steps) else []
        hints += [" ".join(key for key in picks if key)] if any(picks) else []
        return " or ".join(hints)

    def on_focus(self) -> None:
        self.refresh()  # the ▶ marker

    def on_blur(self) -> None:
        self.refresh()

    def select(self, kind: str) -> None:
        if kind not in self.kinds:
            return
        self.kind = kind
        self.refresh()
        self.post_message(self.Changed(kind))

    def action_step(self, step: int) -> None:
        index = (self.kinds.index(self.kind) + step) % len(self.kinds)
        self.select(self.kinds[index])


class EntryInput(TextInput):
    """The amount or the time, as typed."""

    HELP_TITLE: ClassVar[str] = "Amount or time"


class AdjustScreen(ModalScreen[AdjustResult | None], inherit_bindings=False):
    """Choose the kind, edit the amount or time, see the verdict live; enter takes, escape leaves."""

    CSS_PATH = "adjust.tcss"
    HELP_TITLE: ClassVar[str] = "Adjust a decision"
    COMPONENT_CLASSES: ClassVar[set[str]] = {"adjust--muted"}
    """Words beside what was understood (zone names, the rule): see adjust.tcss."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel: take nothing", priority=True, id="customer.adjust_cancel"),
        Binding("ctrl+e", "escalate", "Escalate it to the next role up", priority=True,
                id="customer.adjust_escalate"),
        Binding("enter", "submit", "Take it", id="customer.adjust_take"),
        # On the screen, not the kind row: they work before anything has focus (keys typed ahead),
        # and in the value field they are just letters.
        Binding("r", "pick('refund')", "Refund", show=False, id="customer.adjust_refund"),
        Binding("v", "pick('voucher')", "Voucher", show=False, id="customer.adjust_voucher"),
        Binding("c", "pick('callback')", "Callback", show=False, id="customer.adjust_callback"),
        Binding("tab", "app.focus_next", "Next field", show=False, id="customer.adjust_next_field"),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False,
                id="customer.adjust_previous_field"),
    ]

    def __init__(self, desk: Desk, customer: Customer, choices: Choices, *, kind: str | None = None,
                 mode: str = "take", start: Proposal | None = None) -> None:
        """``mode`` ``take`` (enter takes) or ``escalate`` (enter escalates); ``start`` fills the value."""
        super().__init__()
        assert desk.matrix is not None  # decisions need the matrix
        self.desk = desk
        self.matrix = desk.matrix
        self.customer = customer
        self.choices = choices
        self.mode = mode
        self.kinds: tuple[str, ...] = ESCALATABLE_KINDS
        self.kind = kind if kind in self.kinds else (start.kind if start is not None and start.kind in self.kinds
                                                      else self.kinds[0])
        self._start_by_key = kind is not None or start is not None
        """Straight to the value when the kind is known (a key, or the refusal being adjusted)."""
        self._start = start
        self.their_zone = customer_zone(self.matrix, customer)
        self.proposal: Proposal | None = None
        """The proposal as typed now, or None when the text is not an amount or time."""
        self.verdict: Verdict | None = None
        self.escalation: Verdict | None = None
        """What escalating the proposal as typed would meet (the role above must be able to approve it)."""
        self.error: str | None = None

    # --- layout ---------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="adjust-dialog"):
            yield Static(self._title(), id="adjust-title")
            yield KindPicker(self.kinds, self.kind, id="adjust-kind")
            with Horizontal(id="adjust-row"):
                yield Static("", id="adjust-label")
                yield EntryInput(self._initial_value(self.kind), id="adjust-entry", max_length=60)
                yield Static("", id="adjust-unit")
            yield Static("", id="adjust-reading")
            yield Static("", id="adjust-verdict")
            yield Static("", id="adjust-terms")
            yield Static("", id="adjust-keys")

    def on_mount(self) -> None:
        self._relabel()
        self._evaluate()
        # set_focus now (not focus(), which waits a turn): keys typed ahead land in the right place
        self.set_focus(self.entry if self._start_by_key else self.query_one(KindPicker))

    @property
    def entry(self) -> EntryInput:
        return self.query_one("#adjust-entry", EntryInput)

    def _title(self) -> Text:
        name = one_line(self.customer.name, 60)
        role = self.choices.role
        if self.mode == "escalate":
            target = role.escalate_to if role is not None and role.escalate_to else "the next role up"
            return Text(f"Escalate to {target} for {name}: what do you propose?", "bold", end="")
        return Text(f"Adjust a decision for {name}", "bold", end="")

    def _currency(self) -> str:
        return decision_currency(self.matrix, self.choices.situation)

    def _initial_value(self, kind: str) -> str:
        start = self._start
        if start is not None and start.kind == kind:
            proposal: Proposal | None = start
        else:
            option = self.choices.options.get(kind)
            proposal = option.suggested if option is not None else None
        if proposal is None:
            return ""
        if proposal.amount is not None:
            return proposal.amount.text
        if proposal.at is not None:
            local = proposal.at.astimezone(self.their_zone)
            soon = local - self.desk.now().astimezone(self.their_zone) < timedelta(days=6)
            return f"{local:%a %H:%M}" if soon else f"{local:%Y-%m-%d %H:%M}"
        return ""

    def _relabel(self) -> None:
        money = self.kind in MONEY_KINDS
        self.query_one("#adjust-label", Static).update("Amount" if money else "Time")
        unit = self._currency() if money else f"their time ({getattr(self.their_zone, 'key', self.their_zone)})"
        self.query_one("#adjust-unit", Static).update(unit)
        self.entry.placeholder = "e.g. 39.90" if money else f"e.g. {TIME_EXAMPLES}"
        self._render_keys()

    # --- live validation ------------------------------------------------------------

    @on(KindPicker.Changed)
    def _kind_changed(self, message: KindPicker.Changed) -> None:
        if message.kind != self.kind:
            self._apply_kind(message.kind)

    def _apply_kind(self, kind: str) -> None:
        self.kind = kind
        self.entry.value = self._initial_value(kind)
        self._relabel()
        self._evaluate()

    @on(Input.Changed, "#adjust-entry")
    def _typed(self, message: Input.Changed) -> None:
        self._evaluate()

    @on(Input.Submitted, "#adjust-entry")
    def _submitted(self, message: Input.Submitted) -> None:
        message.stop()
        self.action_submit()

    def _evaluate(self) -> None:
        """Read the text as an amount or time and check it; show both at once."""
        now = self.desk.now()
        text = self.entry.value
        self.proposal, self.verdict, self.escalation, self.error = None, None, None, None
        try:
            if self.kind in MONEY_KINDS:
                self.proposal = Proposal(self.kind, parse_money(text, self._currency()))
            else:
                self.proposal = Proposal(self.kind, at=parse_when(text, self.their_zone, now))
        except EntryError as error:
            self.error = str(error)
        else:
            self.verdict = preview(self.matrix, self.choices.situation, self.proposal, now)
            self.escalation = preview_escalation(self.matrix, self.choices.situation, self.proposal, now)
        self._render_reading()
        self._render_verdict()
        self._render_terms()

    def _render_reading(self) -> None:
        text = Text(end="")
        muted = text_style(self, "adjust--muted")
        proposal = self.proposal
        if proposal is not None and proposal.at is not None:
            theirs = proposal.at.astimezone(self.their_zone)
            mine = self.desk.to_viewer(proposal.at)
            text.append("= ", muted)
            text.append(f"{theirs:%a %d %b %H:%M} their time", "bold")
            text.append(f" ({theirs.tzname()})", muted)
            text.append(" · ")
            text.append(f"{mine:%H:%M}" if mine.date() == theirs.date() else f"{mine:%a %d %b %H:%M}", "bold")
            text.append(" your time", "bold")
            text.append(f" ({mine.tzname()})", muted)
        elif proposal is not None and proposal.amount is not None:
            text.append("= ", muted)
            text.append(f"{proposal.kind} {proposal.amount}", "bold")
        self.query_one("#adjust-reading", Static).update(text)

    def _render_verdict(self) -> None:
        text = Text(end="")
        role = self.choices.role
        target = role.escalate_to if role is not None else None
        escalate_key = key_shown(self, "escalate")
        escalation = self.escalation
        can_escalate = bool(target) and escalation is not None and escalation.allowed
        if self.error is not None:
            text.append("? ", "bold")
            text.append(self.error)
        elif self.mode == "escalate":
            if can_escalate:
                text.append("✓ ", "bold")
                text.append(f"enter escalates it to {target} for approval")
            else:
                text.append("✗ NOT POSSIBLE: ", "bold")
                text.append(escalation.reason if escalation is not None and escalation.reason
                            else "there is no role above yours")
        elif self.verdict is not None and self.verdict.allowed:
            text.append("✓ ", "bold")
            text.append("within your authority · enter takes it")
        elif self.verdict is not None:
            verdict = self.verdict
            text.append("✗ REFUSED: ", "bold")
            text.append(refusal_text(verdict))
            text.append(f" · rule {verdict.rule}", text_style(self, "adjust--muted"))
            text.append("\n")
            if verdict.escalate_to and can_escalate and escalate_key:
                text.append("enter takes nothing · ")
                text.append(escalate_key, "bold")
                text.append(f" escalates it to {verdict.escalate_to} now")
            elif verdict.escalate_to and escalation is not None and escalation.reason:
                text.append(f"enter takes nothing · no use escalating: {escalation.reason}")
            else:
                text.append("enter takes nothing")
        self.query_one("#adjust-verdict", Static).update(text)

    def _render_terms(self) -> None:
        text = Text(end="")
        option = self.choices.options.get(self.kind)
        if self.kind in MONEY_KINDS:
            verdict = option.verdict if option is not None else None
            if verdict is not None and verdict.limit is not None:
                text.append(f"your limit {verdict.limit}")
                if verdict.budget_left is not None:
                    text.append(f" · {at_least_zero(verdict.budget_left)} left for this customer (30 days)")
                case = self.choices.case
                if self.kind == "refund" and case is not None and case.disputed is not None:
                    text.append(f" · case {one_line(case.id, 20)} disputes {case.disputed}")
            else:
                text.append(f"your role sets no {self.kind} limit")
        else:
            text.append(f"callback hours {self.matrix.callbacks.describe()}, their time · "
                        f"on {one_line(self.customer.phone or 'no phone number', 40)}")
        self.query_one("#adjust-terms", Static).update(text)  # muted by adjust.tcss

    def _render_keys(self) -> None:
        text = Text(end="")
        role = self.choices.role
        target = role.escalate_to if role is not None else None
        parts = [("submit", "escalate" if self.mode == "escalate" else "take"),
                 ("escalate", f"escalate to {target}" if target and self.mode != "escalate" else None),
                 ("app.focus_next", "kind ↔ value"),
                 ("cancel", "cancel")]
        first = True
        for action, words in parts:
            key = key_shown(self, action)
            if key is None or words is None:
                continue
            if not first:
                text.append(" · ")
            first = False
            text.append(key, "bold")
            text.append(f" {words}")
        self.query_one("#adjust-keys", Static).update(text)

    # --- actions --------------------------------------------------------------------

    def action_pick(self, kind: str) -> None:
        """``r`` ``v`` ``c`` (outside the value field): choose the kind, go on to the value.

        Done here and now, not through the picker's message, so digits typed right
        after the letter already land in the value field.
        """
        self.query_one(KindPicker).select(kind)
        if kind != self.kind:
            self._apply_kind(kind)
        self.set_focus(self.entry)

    def action_submit(self) -> None:
        self._evaluate()
        if self.proposal is None:
            return  # the error line says what is wrong; nothing to take yet
        if self.mode == "escalate":
            self.action_escalate()
            return
        # Even when refused: the ledger checks again and records the refusal; nothing is taken.
        self.dismiss(AdjustResult(self.proposal))

    def action_escalate(self) -> None:
        self._evaluate()
        role = self.choices.role
        if self.proposal is None or role is None or not role.escalate_to:
            if role is not None and not role.escalate_to:
                self.query_one("#adjust-verdict", Static).update(
                    Text(f"? there is no role above {role.name} to escalate to", end=""))
            return
        verdict = self.verdict
        reason = verdict.reason if verdict is not None and not verdict.allowed else None
        self.dismiss(AdjustResult(Proposal("escalate", escalates=self.proposal, reason=reason)))

    def action_cancel(self) -> None:
        self.dismiss(None)
