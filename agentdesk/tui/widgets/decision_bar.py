"""The decision bar: what this agent may decide here, each with its key, and what just happened.

A strip of one to a few lines above the key bar. The screen hands it groups of
items (:meth:`DecisionBar.show`); each group starts on a new line, and items are
packed side by side and wrapped whole onto the next line, so nothing is ever cut
off, whatever the width. Items are ``rich.text.Text``; customer text in them has
already passed through :mod:`agentdesk.domain.text`.

The words of each item (``r refund 39.90 EUR (limit 50.00)``,
``PENDING refund 39.90 EUR · queued in 8 s · u undo · s send now``,
``QUEUED refund 39.90 EUR · waiting for the backend``…) are made by
the helpers below from the ledger's choices, so the screen and the tests read the
same sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from agentdesk.domain.authority import Option, Proposal
from agentdesk.domain.decision_text import (
    NO_AGENT,
    READ_ONLY_SESSION,
    NoDecisions,
    limit_text,
    proposal_words,
    refusal_text,
    waiting_words,
)
from agentdesk.domain.model import Decision

if TYPE_CHECKING:
    from textual.app import App

    from agentdesk.desk.store import Choices

GAP = "   "
SEP = " · "


def no_decisions_text(reason: NoDecisions) -> str:
    """``READ-ONLY · the supervisor role decides nothing``: the bar's line when nothing may be decided."""
    return reason.line(SEP, read_only_mark="READ-ONLY")


READ_ONLY_TEXT = no_decisions_text(READ_ONLY_SESSION)
NO_AGENT_TEXT = no_decisions_text(NO_AGENT)
KeyOf = Callable[[str], str | None]
"""The key shown for a screen action (``take_refund`` -> ``r``), None when it is unbound."""


@dataclass(frozen=True, slots=True)
class Group:
    """Items that start a new line together; ``sep`` goes between them (a wrap replaces it)."""

    items: Sequence[Text]
    sep: str = GAP


class DecisionBar(Widget):
    """Groups of items, each group on its own line(s); items wrap whole."""

    DEFAULT_CSS = """
    DecisionBar {
        height: auto;
        max-height: 8;
        padding: 0 1;
        margin: 0 1;
        background: $boost;
        color: $foreground;
        & > .decision-bar--key {
            color: $text-accent;
            text-style: bold;
        }
        & > .decision-bar--muted {
            color: $text-muted;
        }
        & > .decision-bar--badge {
            background: $warning-muted;
            color: $text-warning;
            text-style: bold;
        }
        & > .decision-bar--refused {
            background: $error-muted;
            color: $text-error;
            text-style: bold;
        }
        & > .decision-bar--done {
            background: $success-muted;
            color: $text-success;
            text-style: bold;
        }
        &:ansi > .decision-bar--badge, &:ansi > .decision-bar--refused, &:ansi > .decision-bar--done {
            /* the terminal's own pair, reversed: readable in any palette (the badge's word tells which) */
            background: ansi_default;
            color: ansi_default;
            text-style: bold reverse;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "decision-bar--key", "decision-bar--muted", "decision-bar--badge",
        "decision-bar--refused", "decision-bar--done",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._groups: list[Group] = [Group([Text("…")])]

    def show(self, groups: Sequence[Group | Sequence[Text]]) -> None:
        """Replace what the bar says; empty groups are left out."""
        self._groups = [group if isinstance(group, Group) else Group(list(group)) for group in groups]
        self._groups = [group for group in self._groups if group.items]
        self.refresh(layout=True)

    @property
    def plain(self) -> str:
        """Everything the bar says, as plain text one group a line (for tests and screen readers)."""
        return "\n".join(group.sep.join(item.plain for item in group.items) for group in self._groups)

    def style_of(self, name: str) -> str:
        """A component's style as a rich style string, for items built by the screen."""
        return str(self.get_component_rich_style(f"decision-bar--{name}", partial=True))

    def lines(self, width: int) -> list[Text]:
        """The groups packed into lines of ``width`` cells: items side by side, wrapped whole."""
        width = max(width, 1)
        result: list[Text] = []
        for group in self._groups:
            line = Text(end="", no_wrap=True)
            sep = group.sep
            for item in group.items:
                need = cell_len(item.plain)
                if line.cell_len:
                    if line.cell_len + cell_len(sep) + need <= width:
                        line.append(sep)
                        line.append_text(item)
                        continue
                    result.append(line)
                    # the line goes on: "· u undo"
                    line = Text(sep.lstrip() if sep.strip() else "", end="", no_wrap=True)
                if line.cell_len + need <= width:
                    line.append_text(item)
                    continue
                # longer than a whole line: break it at spaces, never cut it off
                whole = line.copy()
                whole.append_text(item)
                pieces = list(whole.wrap(self.app.console, width, overflow="fold", no_wrap=False))
                result.extend(pieces[:-1])
                line = pieces[-1]
                line.end = ""
            result.append(line)
        return result

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        text = Text("\n", end="", no_wrap=True).join(self.lines(self.size.width))
        return text


# --------------------------------------------------------------------------- the words


def uses_backend(app: App[object]) -> bool:
    """Does this workstation sync with a backend? Then only the backend's answer makes a decision final."""
    return getattr(app, "backend", None) is not None


def sent_words(decision: Decision, *, backend: bool) -> str:
    """What happens once the undo window is over, until an answer is in (see :func:`answer_words`).

    With a backend: ``waiting for the backend``. Local only, the store is where it ends:
    ``queued for the backend``, ``sent to lead for approval``.
    """
    if backend:
        return waiting_words(decision)
    if decision.kind == "escalate":
        return f"sent to {decision.escalate_to or 'the next role'} for approval"
    return "queued for the backend"


def option_item(option: Option, key: str | None, their_zone: tzinfo | None,
                to_viewer: Callable[[datetime], datetime], escalate_key: str | None,
                is_waiting: Callable[[Proposal], bool] = lambda _: False) -> tuple[str, str] | None:
    """``("r", "refund 39.90 EUR (limit 50.00)")`` or the refusal; None when there is nothing to say."""
    if key is None:
        return None
    kind, verdict, suggested = option.kind, option.verdict, option.suggested
    offer = f" · {escalate_key} escalate" if verdict.escalate_to and escalate_key else ""
    if suggested is not None and not verdict.allowed and verdict.escalate_to and is_waiting(suggested):
        offer = f" · waiting for {verdict.escalate_to}'s approval"
    if kind in ("refund", "voucher"):
        limit = f" (limit {limit_text(verdict.limit)})" if verdict.limit is not None else ""
        if suggested is not None and verdict.allowed:
            return key, f"{proposal_words(suggested, their_zone, to_viewer)}{limit}"
        if suggested is not None:
            return key, f"{proposal_words(suggested, their_zone, to_viewer)}: {refusal_text(verdict)}{offer}"
        left = verdict.budget_left
        if left is not None and left.amount <= 0:
            return key, f"{kind}: this customer's 30-day budget is used up{offer}"
        if verdict.reason and verdict.needs is None:
            return key, f"{kind}: {verdict.reason}{offer}"
        return key, f"{kind}: enter an amount{limit}"
    if kind == "callback":
        if suggested is not None and verdict.allowed:
            return key, proposal_words(suggested, their_zone, to_viewer)
        if suggested is None and verdict.needs == "time":
            return key, "callback: no free slot in the next four weeks; enter a time"
        return key, f"callback: {verdict.reason or 'not allowed'}{offer}"
    if kind == "note":
        return key, "note"
    return None


def options_items(choices: Choices, key_of: KeyOf, their_zone: tzinfo | None,
                  to_viewer: Callable[[datetime], datetime], escalation: Proposal | None,
                  is_waiting: Callable[[Proposal], bool] = lambda _: False) -> list[tuple[str, str]]:
    """The bar's offers in contract order: refund, voucher, callback, escalate, note, adjust."""
    items: list[tuple[str, str]] = []
    escalate_key = key_of("escalate")
    for kind, action in (("refund", "take_refund"), ("voucher", "take_voucher"), ("callback", "take_callback")):
        option = choices.options.get(kind)
        if option is not None:
            item = option_item(option, key_of(action), their_zone, to_viewer, escalate_key, is_waiting)
            if item is not None:
                items.append(item)
    target = choices.role.escalate_to if choices.role is not None else None
    if escalate_key is not None and target is not None:
        if escalation is not None:
            items.append((escalate_key, f"escalate {proposal_words(escalation, their_zone, to_viewer)} to {target}"))
        else:
            items.append((escalate_key, f"escalate to {target}"))
    note_key = key_of("note")
    if note_key is not None and "note" in choices.options:
        items.append((note_key, "note"))
    adjust_key = key_of("adjust")
    if adjust_key is not None:
        items.append((adjust_key, "adjust"))
    return items
