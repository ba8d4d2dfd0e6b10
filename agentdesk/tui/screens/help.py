"""Help: every key in force on the screen below, generated from the bindings themselves.

The list is read from Textual's active bindings of that screen (the focused
widget, its containers, the screen and the app), so keymap overrides
(``App.set_keymap``) show the keys actually bound. Nothing here is hand-written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from agentdesk.tui.keymap import keys_shown
from agentdesk.tui.widgets.columns import fit

LEAVING_ACTIONS = ("app.focus_next", "app.focus_previous", "screen.focus_timeline", "close_search", "back")
"""Actions that move the keyboard out of where it is (WCAG 2.1.2: no trap), said first in the help."""


@dataclass
class BindingRow:
    """One action in force: its keys (as Textual shows them), description and id."""

    keys: list[str]
    description: str
    binding_id: str | None
    action: str
    node: DOMNode
    scope: str
    order: int = field(default=0)


def scope_title(node: DOMNode) -> str:
    title = getattr(node, "HELP_TITLE", None)
    return title if isinstance(title, str) and title else type(node).__name__


def binding_rows(screen: Screen) -> list[BindingRow]:
    """The bindings in force on ``screen``, one row per action and place, keys merged.

    Order: the focused widget first, then its containers, the screen, the app.
    Bindings without a description (Textual's hidden system keys) are left out.
    """
    app = screen.app
    rows: dict[tuple[int, str], BindingRow] = {}
    chain = [node for node, _bindings in screen._modal_binding_chain]
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description:
            continue
        node = active.node
        group = (id(node), binding.id or binding.action)
        display = app.get_key_display(binding)
        row = rows.get(group)
        if row is None:
            order = chain.index(node) if node in chain else len(chain)
            rows[group] = BindingRow([display], binding.description, binding.id, binding.action,
                                     node, scope_title(node), order)
        elif display not in row.keys:
            row.keys.append(display)
    return sorted(rows.values(), key=lambda row: row.order)


def leaving_text(rows: list[BindingRow]) -> Text:
    """``Nothing traps the keyboard here: tab Next area · esc Back to queue`` from the keys in force."""
    ways = [row for row in rows if row.action in LEAVING_ACTIONS]
    text = Text("Nothing traps the keyboard here", end="")
    if not ways:
        return text.append(".")
    text.append(": ")
    for index, row in enumerate(ways):
        if index:
            text.append(" · ")
        text.append(", ".join(row.keys), "bold")
        text.append(f" {row.description.lower()}")
    return text.append(".")


def help_text(rows: list[BindingRow]) -> Text:
    """The rows as an aligned table in plain text (keys, description, id), grouped by scope."""
    keys_width = max([cell_len(", ".join(row.keys)) for row in rows] + [4])
    keys_width = min(keys_width, 22)
    desc_width = max([cell_len(row.description) for row in rows] + [11])
    desc_width = min(desc_width, 40)
    text = Text(end="")
    scope: str | None = None
    for row in rows:
        if row.scope != scope:
            if scope is not None:
                text.append("\n")
            scope = row.scope
            text.append(scope, "bold underline")
            text.append("\n")
        text.append("  ")
        text.append(fit(", ".join(row.keys), keys_width), "bold")
        text.append("  ")
        text.append(fit(row.description, desc_width))
        text.append("  ")
        text.append(row.binding_id or "(built in, no id)", "italic")
        text.append("\n")
    return text


def scroll_bindings(scope: str) -> list[BindingType]:
    """The keys of a scrolling box of text, with ids under ``scope`` (``help.scroll_up``)."""
    return [
        Binding("up,k", "scroll_up", "Scroll up", show=False, id=f"{scope}.scroll_up"),
        Binding("down,j", "scroll_down", "Scroll down", show=False, id=f"{scope}.scroll_down"),
        Binding("pageup", "page_up", "Page up", show=False, id=f"{scope}.page_up"),
        Binding("pagedown,space", "page_down", "Page down", show=False, id=f"{scope}.page_down"),
        Binding("home,g", "scroll_home", "Top", show=False, id=f"{scope}.top"),
        Binding("end,G", "scroll_end", "Bottom", show=False, id=f"{scope}.bottom"),
    ]


class HelpBody(VerticalScroll, inherit_bindings=False):
    """The scrollable list of keys."""

    HELP_TITLE: ClassVar[str] = "Help"
    BINDINGS: ClassVar[list[BindingType]] = scroll_bindings("help")


class HelpScreen(ModalScreen[None], inherit_bindings=False):
    """Every key of the screen below, with description and id."""

    CSS_PATH = "help.tcss"
    HELP_TITLE: ClassVar[str] = "Help"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help.close"),
    ]

    def __init__(self, below: Screen) -> None:
        super().__init__()
        self.below = below
        self.rows = binding_rows(below)

    def compose(self) -> ComposeResult:
        with HelpBody(id="help-box"):
            yield Static(Text(f"Keys in force: {scope_title(self.below)}", "bold"), id="help-title")
            yield Static(leaving_text(self.rows), id="help-escape")
            yield Static(Text("keys  ·  what it does  ·  id (remap it in your keymap by this id)", "italic"),
                         id="help-columns")
            yield Static(help_text(self.rows), id="help-list")

    def on_mount(self) -> None:
        box = self.query_one(HelpBody)
        box.border_title = "Help"
        closing = keys_shown(self, "close")
        box.border_subtitle = f"{' or '.join(closing)} closes" if closing else ""
        if closing:  # said first, where a magnifier or a braille line starts reading
            title = Text(f"Keys in force: {scope_title(self.below)}", "bold", end="")
            title.append(f"  ·  {' or '.join(closing)} closes this help")
            self.query_one("#help-title", Static).update(title)
        box.focus()

    def action_close(self) -> None:
        self.dismiss()
