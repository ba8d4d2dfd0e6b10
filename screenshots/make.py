"""Regenerate the SVG screenshots in this folder from the demo store.

    .venv/bin/python screenshots/make.py

A fixed seed, a fixed clock and a fixed viewer zone keep the pictures stable
from run to run, so a change in them is a change in the workstation.
"""

from __future__ import annotations

import asyncio
import random
import socket
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import agentdesk.domain.ids
from agentdesk.demo.build import DEMO_AGENT, build_demo
from agentdesk.tui.app import AgentDeskApp
from agentdesk.tui.screens.customer import CustomerScreen
from agentdesk.tui.screens.floor import FloorScreen
from agentdesk.tui.syncing import BackendLink
from agentdesk.tui.widgets.desk_header import DeskHeader

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
SIZE = (140, 40)
STORY_CUSTOMER = "Petra Lindner"  # story 1, the channel maze
DECIDING_CUSTOMER = "Albrecht"  # story 3: a fee for our own fault, a credit promised and not paid
REPLY_TEXT = ("Hello Ms Lindner, your eSIM is active again since 09:40. The QR code for your second phone is in "
              "your e-mail. Safe flight!")
LEAD = "a-2"  # Markus Brandt, who approves what agents escalate
SUPERVISOR = "a-1"  # Katrin Hoffmann, who watches the floor
KNOWLEDGE_CUSTOMER = "Brandes"  # story 5: the camper van's mirror on the A7 at night


class Clock:
    """The fixed clock, moved by hand past an undo window."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _save(app: AgentDeskApp, name: str) -> Path:
    path = Path(app.save_screenshot(f"{name}.svg", str(HERE)))
    # Textual pads columns with spaces; without this, some SVG renderers collapse them.
    path.write_text(path.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1))
    return path


async def _found_and_opened(app: AgentDeskApp, pilot, name: str) -> None:  # noqa: ANN001 - Textual's Pilot
    """From the first painted queue: search ``name`` and open the first customer found."""
    await app.queue_painted.wait()
    await pilot.press("slash", *name)
    await app.workers.wait_for_complete()
    await pilot.press("down", "enter")
    await app.workers.wait_for_complete()
    await app.screen.timeline.wait_painted()


async def shoot(store: Path) -> list[Path]:
    clock = Clock()
    app = AgentDeskApp(store, DEMO_AGENT, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"))
    written = []

    async def save(name: str) -> None:
        await pilot.pause()
        written.append(_save(app, name))

    async with app.run_test(size=SIZE) as pilot:
        await app.queue_painted.wait()
        await save("queue")

        await pilot.press("slash", *STORY_CUSTOMER)
        await app.workers.wait_for_complete()
        await save("search")

        await pilot.press("down", "enter")
        await app.workers.wait_for_complete()
        await app.screen.timeline.wait_painted()
        await save("customer")

        await pilot.press("question_mark")
        await save("help")

        await pilot.press("escape", "escape", "slash", *DECIDING_CUSTOMER)
        await app.workers.wait_for_complete()
        await pilot.press("down", "enter")
        await app.workers.wait_for_complete()
        await app.screen.timeline.wait_painted()
        await pilot.press("r")  # the disputed technician fee, one key
        await app.screen.decision_painted.wait()
        await save("decision")

        await pilot.press("a", "v", *"40")  # a voucher beyond the agent's limit, checked as typed
        await app.workers.wait_for_complete()
        await save("adjust")
        await pilot.press("ctrl+e")  # escalate it to the lead
        await app.workers.wait_for_complete()
        clock.now = NOW.replace(second=30)  # past the undo windows
        await app.desk.ledger.release_due()

    lead = AgentDeskApp(store, LEAD, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"))
    async with lead.run_test(size=SIZE) as pilot:
        await lead.queue_painted.wait()
        await pilot.press("w")
        await lead.workers.wait_for_complete()
        await pilot.pause()
        written.append(_save(lead, "approvals"))

    # The floor, where a read-only workstation starts (no backend here: presence reads unknown).
    watching = AgentDeskApp(store, SUPERVISOR, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"), read_only=True)
    async with watching.run_test(size=SIZE) as pilot:
        await watching.queue_painted.wait()
        while not isinstance(watching.screen, FloorScreen) or watching.screen.floor.row_count == 0:
            await pilot.pause(0.05)
        await watching.workers.wait_for_complete()
        await pilot.pause()
        written.append(_save(watching, "floor"))

    # A reply by SMS to Petra Lindner: the editor, then the reply queued on her timeline.
    replying = AgentDeskApp(store, DEMO_AGENT, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"))
    async with replying.run_test(size=SIZE) as pilot:
        await _found_and_opened(replying, pilot, STORY_CUSTOMER)
        await pilot.press("m")
        await replying.workers.wait_for_complete()
        await pilot.press("ctrl+o", *REPLY_TEXT)
        await pilot.pause()
        written.append(_save(replying, "reply"))
        await pilot.press("ctrl+s")
        await replying.workers.wait_for_complete()
        await replying.screen.decision_painted.wait()
        await pilot.pause()
        written.append(_save(replying, "reply-queued"))

    # Story 5, the camper van's mirror: k searches the knowledge articles, enter reads one.
    reading = AgentDeskApp(store, DEMO_AGENT, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"))
    async with reading.run_test(size=SIZE) as pilot:
        await _found_and_opened(reading, pilot, KNOWLEDGE_CUSTOMER)
        await pilot.press("k", *"mirror")
        await reading.workers.wait_for_complete()
        await pilot.press("tab", "enter")
        await pilot.pause()
        written.append(_save(reading, "knowledge"))

    # The other themes (settings: theme = "high-contrast" or "ansi"). The ANSI theme draws in the
    # terminal's own palette; the picture shows it in Textual's default dark palette.
    contrast = AgentDeskApp(store, DEMO_AGENT, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"),
                            theme="high-contrast")
    async with contrast.run_test(size=SIZE) as pilot:
        await contrast.queue_painted.wait()
        await pilot.press("slash", *STORY_CUSTOMER)
        await contrast.workers.wait_for_complete()
        await pilot.press("down", "enter")
        await contrast.workers.wait_for_complete()
        await contrast.screen.timeline.wait_painted()
        await pilot.pause()
        written.append(_save(contrast, "customer-high-contrast"))

    ansi = AgentDeskApp(store, DEMO_AGENT, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"), theme="ansi")
    async with ansi.run_test(size=SIZE) as pilot:
        await ansi.queue_painted.wait()
        await pilot.pause()
        written.append(_save(ansi, "queue-ansi"))

    # With a backend that cannot be reached: the decision is taken and waits, and the header says so.
    offline = AgentDeskApp(store, DEMO_AGENT, clock=clock, viewer_zone=ZoneInfo("Europe/Berlin"),
                           undo_window=timedelta(0), backend=BackendLink(_nowhere(), lambda: "adk_offline",
                                                                         user=DEMO_AGENT))
    async with offline.run_test(size=SIZE) as pilot:
        await offline.queue_painted.wait()
        # the first customer in the queue (the sync worker never completes: no waiting for all)
        await pilot.press("enter")
        while not isinstance(offline.screen, CustomerScreen):
            await pilot.pause(0.05)
        await offline.screen.timeline.wait_painted()
        await pilot.press("v")
        await offline.screen.decision_painted.wait()
        while not offline.desk.sync_line().words.endswith("waiting"):  # the earlier apps' decisions wait too
            await pilot.pause(0.05)
        offline.screen.query_one(DeskHeader).refresh()
        await pilot.pause()
        written.append(_save(offline, "customer-offline"))
    return written


def _nowhere() -> str:
    """A loopback address nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def main() -> None:
    # The ids of decisions taken here show on some pictures: seeded, they stay the same from run to run.
    agentdesk.domain.ids.secrets = SimpleNamespace(randbits=random.Random(NOW.timestamp()).getrandbits)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch) / "demo.sqlite3"
        await build_demo(store, now=NOW)
        for path in await shoot(store):
            print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    asyncio.run(main())
