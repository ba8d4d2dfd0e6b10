"""Opening a customer with a long history, and jumping from its end to its start.

In-process: ``AgentDeskApp.run_test`` with Pilot, one fresh app per sample. The
first open in a fresh app also composes and styles the customer screen; the
workstation reuses that screen afterwards, so each sample first opens the
*other* customer, goes back, and then times the open an agent meets all day
(``timeline_open``) besides that first one (``timeline_first_open``). The
store is written with plain ``executemany`` (``synthetic.insert_rows``, with
``waiting`` filled the way the writer keeps it): one customer holding
``big_timeline`` entries, one holding ``small_timeline`` (the baseline).

Each measurement starts from an idle app (``pilot.pause()``) and ends when the
timeline's ``LineList.Painted`` message is dispatched (seen through
``run_test``'s message hook), so Pilot's own idle waits after a key press are
not counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from benchmarks import synthetic
from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace

BIG, SMALL = 1, 2


def build_store(workspace: Workspace) -> Path:
    sizes = workspace.sizes
    customers = [synthetic.customer(BIG), synthetic.customer(SMALL)]
    entries = [
        synthetic.entry_row(record)
        for number, count in ((BIG, sizes.big_timeline), (SMALL, sizes.small_timeline))
        for record in synthetic.interactions([f"c-{number}"], count, prefix=f"c{number}-i")
    ]
    store = workspace.fresh_store("timeline.sqlite3")
    synthetic.insert_rows(store, [synthetic.agent_row(synthetic.agent())],
                          [synthetic.customer_row(c) for c in customers], entries,
                          synthetic.waiting_rows(entries))
    return store


class PaintWatch:
    """When each ``LineList.Painted`` message was first dispatched, and by which list."""

    def __init__(self) -> None:
        self.painted: list[tuple[float, Message]] = []
        """(time, message); holding the messages keeps their ids unique."""
        self._ids: set[int] = set()
        self._arrived = asyncio.Event()

    def hook(self, message: Message) -> None:
        from agentdesk.tui.widgets.line_list import LineList

        # The hook sees a message again at each parent it bubbles to; its first dispatch counts.
        if isinstance(message, LineList.Painted) and id(message) not in self._ids:
            self._ids.add(id(message))
            self.painted.append((time.perf_counter(), message))
            self._arrived.set()

    async def next_paint_of(self, wanted: Callable[[object], bool], since: float) -> float:
        """When a list that ``wanted`` accepts was first painted after ``since``."""
        while True:
            for at, message in self.painted:
                if at > since and wanted(message.control):
                    return at
            self._arrived.clear()
            await self._arrived.wait()


@dataclass(frozen=True)
class Sample:
    first_open_ms: float
    """The first open in a fresh app, which also builds the customer screen."""
    open_ms: float
    jump_ms: float
    opened_at_end: bool
    """Whether the open showed the newest entries (the customer screen opens at the end)."""


async def _session(store: Path, customer_id: str, other_id: str) -> Sample:
    """One fresh app: open ``other_id`` and go back, open ``customer_id``, then ``home`` from its end."""
    from agentdesk.tui.app import AgentDeskApp
    from agentdesk.tui.messages import OpenCustomer

    watch = PaintWatch()
    app = AgentDeskApp(store, agent_id=synthetic.AGENT_ID)
    async with app.run_test(size=(140, 40), message_hook=watch.hook) as pilot:
        await app.queue_painted.wait()
        await pilot.pause()  # every measurement starts from an idle app

        def is_timeline(line_list: object) -> bool:
            return line_list is getattr(app.screen, "timeline", None)

        async def open_customer(number: str) -> float:
            started = time.perf_counter()
            app.post_message(OpenCustomer(number))
            opened = await watch.next_paint_of(is_timeline, started)
            await app.screen.timeline.wait_painted()
            return (opened - started) * 1000

        first_open_ms = await open_customer(other_id)
        await pilot.press("escape")
        await pilot.pause()
        open_ms = await open_customer(customer_id)
        timeline = app.screen.timeline
        await timeline.wait_painted()
        at_end = timeline.visible_range[1] == timeline.row_count - 1
        if not at_end:
            await pilot.press("end")
            await timeline.wait_painted()
        await pilot.pause()
        jump_started = time.perf_counter()
        await pilot.press("home")
        jumped = await watch.next_paint_of(is_timeline, jump_started)
        if timeline.visible_range[0] != 0:
            raise RuntimeError(f"home left the timeline of {customer_id} at row {timeline.visible_range[0]}")
        await pilot.press("ctrl+q")
    return Sample(first_open_ms, open_ms, (jumped - jump_started) * 1000, at_end)


def bench(workspace: Workspace) -> list[Result]:
    store = build_store(workspace)
    sizes = workspace.sizes
    big, small = alternate(lambda: asyncio.run(_session(store, f"c-{BIG}", f"c-{SMALL}")),
                           lambda: asyncio.run(_session(store, f"c-{SMALL}", f"c-{BIG}")),
                           workspace.repeat("timeline"))
    notes = [f"timeline: a customer holding {sizes.big_timeline:,} entries; "
             f"baseline: one holding {sizes.small_timeline} in the same store"]
    if not all(sample.opened_at_end for sample in big):
        notes.append("timeline_open: the customer screen opened at the OLDEST entries, not the newest; "
                     "the open timed the first page, and `end` was pressed before timing `home`")
    return [
        Result("timeline_first_open", "ms", [s.first_open_ms for s in small], [b.first_open_ms for b in big],
               Target.at_most(100, "ms"),
               notes=["timeline_first_open: the first customer opened in a fresh app (screen built then); "
                      "measured: the big customer, baseline: the small one"]),
        Result("timeline_open", "ms", [b.open_ms for b in big], [s.open_ms for s in small],
               Target.at_most(100, "ms"), notes=notes),
        Result("timeline_jump", "ms", [b.jump_ms for b in big], [s.jump_ms for s in small],
               Target.at_most(100, "ms")),
    ]
