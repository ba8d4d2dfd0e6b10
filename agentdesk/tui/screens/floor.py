"""The floor: what a supervisor watches, live and read-only.

Agents (online on a customer, idle at a workstation, or offline; what they decided today against their
authority; replies sent), the queue's length and longest effective waits, missed deadlines, escalations
waiting for approval with their age, promises due and overdue by owner. It reads again whenever the store
changes (the sync loop pulls what the backend announces) and whenever presence changes, and every
:data:`REFRESH_SECONDS` for the time words. ``enter`` on a row that names a customer opens the same
customer view an agent sees (read-only for a supervisor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message

from agentdesk.desk.floor import read_floor
from agentdesk.domain.floor import Floor, agent_line, escalation_line, place_line, promise_line
from agentdesk.domain.text import one_line
from agentdesk.tui.messages import OpenCustomer, PresenceSeen, Presenting, StoreChanged
from agentdesk.tui.screens import DeskScreen
from agentdesk.tui.widgets.columns import fit
from agentdesk.tui.widgets.desk_header import DeskHeader
from agentdesk.tui.widgets.key_bar import KeyBar
from agentdesk.tui.widgets.line_list import LineList, list_bindings

if TYPE_CHECKING:
    from agentdesk.tui.app import Desk

REFRESH_SECONDS = 30


@dataclass(frozen=True, slots=True)
class FloorLine:
    text: str
    heading: bool = False
    customer_id: str | None = None
    """The customer the row is about: enter opens them."""
    alert: bool = False


def floor_rows(floor: Floor) -> list[FloorLine]:
    at = sum(1 for a in floor.agents if a.state in ("online", "idle"))
    rows = [FloorLine(f"Agents · {at} of {len(floor.agents)} at a workstation" if floor.presence_known
                      else f"Agents · {len(floor.agents)} · presence unknown (no backend)", heading=True)]
    rows += [FloorLine(agent_line(row, floor.currency), customer_id=row.customer_id) for row in floor.agents]
    rows.append(FloorLine(f"Queue · {floor.queue_length} waiting · longest effective waits", heading=True))
    rows += [FloorLine(place_line(p), customer_id=p.waiting.customer_id) for p in floor.longest]
    rows.append(FloorLine(f"Missed deadlines · {len(floor.missed)}", heading=True, alert=bool(floor.missed)))
    rows += [FloorLine(place_line(p), customer_id=p.waiting.customer_id, alert=True) for p in floor.missed]
    rows.append(FloorLine(f"Escalations waiting for approval · {len(floor.escalations)}", heading=True))
    rows += [FloorLine(escalation_line(e), customer_id=e.decision.customer) for e in floor.escalations]
    rows.append(FloorLine("Promises by owner" if floor.promises else "Promises · none due today, none overdue",
                          heading=True))
    rows += [FloorLine(promise_line(load, floor.now), alert=load.overdue > 0) for load in floor.promises]
    return rows


class FloorList(LineList[FloorLine]):
    HELP_TITLE: ClassVar[str] = "Floor"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings("floor", open_description="Open customer", noun="row")
    DEFAULT_CSS = """
    FloorList {
        & > .floor--heading {
            text-style: bold;
        }
        & > .floor--alert {
            color: $text-warning;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"floor--heading", "floor--alert"}
    loading_message = "Reading the floor…"
    empty_message = "Nothing on the floor."

    def row_style(self, item: FloorLine, row: int) -> Style | None:
        return self.component_text_style("floor--heading") if item.heading else None

    def render_row(self, item: FloorLine, row: int, width: int) -> Text:
        if item.heading:
            return Text(fit(one_line(item.text, width * 2), width), end="", no_wrap=True)
        style = self.component_text_style("floor--alert") if item.alert else None
        marker = "▸ " if item.customer_id else "  "
        return Text(marker + fit(one_line(item.text, width * 2), max(width - 2, 1)), style=style or "", end="",
                    no_wrap=True)


class FloorScreen(DeskScreen):
    """The supervisor's first screen (and ``--read-only``'s): the whole floor, live."""

    CSS_PATH = "floor.tcss"
    HELP_TITLE: ClassVar[str] = "Floor"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "queue", "The queue", id="floor.queue"),
    ]

    class Read(Message):
        def __init__(self, floor: Floor) -> None:
            super().__init__()
            self.floor = floor

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk

    def compose(self) -> ComposeResult:
        self.preset_breakpoints()
        yield DeskHeader(app_name=self.app.title, person=lambda: self.desk.person_label,
                         read_only=self.desk.read_only, now=self.desk.viewer_now, sync=self.desk.sync_line,
                         id="header")
        yield FloorList(id="floor")
        yield KeyBar()

    @property
    def floor(self) -> FloorList:
        return self.query_one("#floor", FloorList)

    def on_mount(self) -> None:
        self.floor.border_title = "Floor"
        self.query_one(DeskHeader).set_context(Text("Floor"))
        self.floor.focus()
        self.set_interval(REFRESH_SECONDS, self.load)

    def on_screen_resume(self) -> None:
        self.app.post_message(Presenting(None))
        self.load()

    def on_store_changed(self, message: StoreChanged) -> None:
        self.load()

    def on_presence_seen(self, message: PresenceSeen) -> None:
        self.load()

    @work(exclusive=True, group="floor", exit_on_error=False, description="Reading the floor")
    async def load(self) -> None:
        """Worker: the floor as the store and presence say now; posts it, touches no widget."""
        reader = await self.desk.wait_ready()
        presence = self.desk.presence if self.desk.presence_known else None
        floor = await read_floor(reader, self.desk.matrix, presence, self.desk.now(), self.desk.viewer_zone)
        self.post_message(self.Read(floor))

    def on_floor_screen_read(self, message: FloorScreen.Read) -> None:
        rows = floor_rows(message.floor)
        current = self.floor.cursor_item
        keep = self.floor.cursor if current is not None else 0
        self.floor.set_items(rows, cursor=min(keep, max(len(rows) - 1, 0)))
        self.floor.border_title = (f"Floor · {message.floor.queue_length} waiting · "
                                   f"{len(message.floor.escalations)} escalations waiting")
        self.query_one(DeskHeader).refresh()  # who is signed in may be known only now

    @on(LineList.Selected, "#floor")
    def _open(self, message: LineList.Selected) -> None:
        item = message.item
        if isinstance(item, FloorLine) and item.customer_id:
            self.app.post_message(OpenCustomer(item.customer_id))

    def action_queue(self) -> None:
        self.dismiss()
