"""Keystroke to the decision painted on screen: ``r`` on a story customer until ``PENDING`` is shown.

In-process: ``AgentDeskApp.run_test`` with Pilot on the demo store, signed in as the
demo agent, with the demo's matrix and the default 10 s undo window. The app opens
Sven Albrecht (``c-1003``, a story customer whose open case disputes 39.90 EUR, so
``r`` takes a refund of the suggested amount at once; Petra Lindner's open cases
dispute no amount, so there ``r`` would open the adjust dialog instead).

Measured, per sample: from just before the key is sent to the moment the customer
screen's ``decision_painted`` event is set. The screen sets it with
``call_after_refresh`` once it has shown the outcome, so the interval holds the
key's dispatch, the ledger's durable commit (``Ledger.take``), the message back to
the screen, re-rendering the decision bar with the ``PENDING`` strip and the
refresh that puts it on the (virtual) terminal. The set is stamped inside
``Event.set`` itself, so Pilot's own waits for idle are not counted. After each
sample (untimed) the ledger is asked whether the refund is pending, and ``u``
takes it back so the next ``r`` meets the same situation.

Baseline, interleaved in the same app: ``home``/``end`` in the customer's timeline,
from the key to the timeline's next ``LineList.Painted`` message (posted after the
refresh that drew the rows in view): what a key that changes the screen costs anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from benchmarks.stats import Result, Target
from benchmarks.timeline import PaintWatch
from benchmarks.workspace import Workspace

CUSTOMER = "c-1003"
KEY = "r"
WARM_UP = 2
TIMEOUT = 30.0


class StampedEvent(asyncio.Event):
    """An :class:`asyncio.Event` that notes when it was set (first set after a clear)."""

    set_at: float | None = None

    def set(self) -> None:
        if not self.is_set():
            self.set_at = time.perf_counter()
        super().set()

    def clear(self) -> None:
        self.set_at = None
        super().clear()


async def _until(condition: Callable[[], object], pilot, what: str) -> None:
    deadline = time.perf_counter() + TIMEOUT
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"decision_paint: timed out waiting for {what}")
        await pilot.pause(0.01)


async def _pending_here(ledger, agent_id: str) -> list[tuple[str, object]]:
    return [(d.kind, d.amount) for d in await ledger.pending(agent_id) if d.customer == CUSTOMER]


async def _session(store: Path, repeat: int) -> tuple[list[float], list[float]]:
    from agentdesk.authority_file import demo_matrix
    from agentdesk.demo.build import DEMO_AGENT
    from agentdesk.tui.app import AgentDeskApp
    from agentdesk.tui.messages import OpenCustomer
    from agentdesk.tui.screens.customer import CustomerScreen

    watch = PaintWatch()
    app = AgentDeskApp(store, agent_id=DEMO_AGENT, matrix=demo_matrix(), undo_window=timedelta(seconds=10))
    ours: list[float] = []
    theirs: list[float] = []
    async with app.run_test(size=(140, 40), message_hook=watch.hook) as pilot:
        await asyncio.wait_for(app.queue_painted.wait(), TIMEOUT)
        app.post_message(OpenCustomer(CUSTOMER))

        def ready() -> bool:
            screen = app.screen
            return (isinstance(screen, CustomerScreen) and screen.customer_id == CUSTOMER and screen.data is not None
                    and screen.data.decisions.choices is not None)

        await _until(ready, pilot, f"the customer screen of {CUSTOMER} with its decision bar")
        screen = app.screen
        assert isinstance(screen, CustomerScreen)
        option = screen.data.decisions.choices.options["refund"]
        if not option.allowed or option.suggested is None:
            raise RuntimeError(f"decision_paint: `{KEY}` on {CUSTOMER} would not take a refund: {option.verdict}")
        await screen.timeline.wait_painted()
        ledger = app.desk.ledger
        painted = StampedEvent()
        screen.decision_painted = painted

        def is_timeline(line_list: object) -> bool:
            return line_list is screen.timeline

        for n in range(WARM_UP + repeat):
            await pilot.pause()  # every measurement starts from an idle app
            painted.clear()
            started = time.perf_counter()
            await pilot.press(KEY)
            await asyncio.wait_for(painted.wait(), TIMEOUT)
            took = painted.set_at - started
            pending = await _pending_here(ledger, DEMO_AGENT)
            if pending != [("refund", option.suggested.amount)]:
                raise RuntimeError(f"decision_paint: after `{KEY}` the pending decisions on {CUSTOMER} are {pending}")
            painted.clear()
            await pilot.press("u")  # untimed: take it back for the next sample
            await asyncio.wait_for(painted.wait(), TIMEOUT)
            if await _pending_here(ledger, DEMO_AGENT):
                raise RuntimeError("decision_paint: `u` did not take the refund back")

            await pilot.pause()
            started = time.perf_counter()
            await pilot.press("home" if n % 2 == 0 else "end")
            moved = await asyncio.wait_for(watch.next_paint_of(is_timeline, started), TIMEOUT)
            if n >= WARM_UP:
                ours.append(took * 1000)
                theirs.append((moved - started) * 1000)
        await pilot.press("ctrl+q")
    return ours, theirs


def bench(workspace: Workspace) -> list[Result]:
    store = workspace.demo_copy("decision_paint.sqlite3")
    samples, moves = asyncio.run(_session(store, workspace.repeat("decision_paint")))
    note = (f"decision_paint: `{KEY}` on {CUSTOMER} (refund of the disputed amount, 10 s undo window) until the "
            "customer screen's decision_painted is set (durable commit + PENDING strip refreshed); "
            "baseline: home/end in the same timeline until it is painted, same app, interleaved")
    return [Result("decision_paint", "ms", samples, moves, Target.p95_at_most(50, "ms"), notes=[note])]
