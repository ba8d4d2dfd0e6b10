"""Regenerate the SVG screenshots in this folder from the demo store.

    .venv/bin/python screenshots/make.py

A fixed seed, a fixed clock and a fixed viewer zone keep the pictures stable
from run to run, so a change in them is a change in the workstation.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from agentdesk.demo.build import DEMO_AGENT, build_demo
from agentdesk.tui.app import AgentDeskApp

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)
SIZE = (140, 40)
STORY_CUSTOMER = "Petra Lindner"  # story 1, the channel maze


async def shoot(store: Path) -> list[Path]:
    app = AgentDeskApp(store, DEMO_AGENT, clock=lambda: NOW, viewer_zone=ZoneInfo("Europe/Berlin"))
    written = []

    async def save(name: str) -> None:
        await pilot.pause()
        path = Path(app.save_screenshot(f"{name}.svg", str(HERE)))
        # Textual pads columns with spaces; without this, some SVG renderers collapse them.
        path.write_text(path.read_text().replace("<svg ", '<svg xml:space="preserve" ', 1))
        written.append(path)

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
    return written


async def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        store = Path(scratch) / "demo.sqlite3"
        await build_demo(store, now=NOW)
        for path in await shoot(store):
            print(path.relative_to(HERE.parent))


if __name__ == "__main__":
    asyncio.run(main())
