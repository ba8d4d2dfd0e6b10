"""Collision: two workstations on one customer each see the other, in words; the mark goes when one leaves.

A real ``agentdesk serve`` on loopback. One workstation is the app under Textual's pilot; the other is a
second workstation's presence loop (``agentdesk.sync.presence``, what the app runs in its sync worker) with a
token of its own. Nothing sleeps: the tests let the app run until what they wait for shows.
"""

from __future__ import annotations

import asyncio
import contextlib

from agentdesk.domain.presence import Seen
from agentdesk.sync.client import BackendClient
from agentdesk.sync.presence import Presence
from tests.backend import add_user
from tests.test_tui_support import screen_text, widget_strips
from tests.test_tui_sync import WAIT, backend, make_app, open_customer, records, until  # noqa: F401 - fixture

COLLEAGUES = [{"type": "agent", "id": "a-8", "name": "Dennis Yilmaz", "role": "agent"},
              {"type": "agent", "id": "a-1", "name": "Katrin Hoffmann", "role": "supervisor"}]


async def test_two_workstations_on_one_customer_see_each_other_and_the_mark_goes_when_one_quits(
        make_store, backend) -> None:  # noqa: ANN001
    path = await make_store(records())
    backend.server.start()
    backend.seed(records() + COLLEAGUES)
    dennis_token = add_user(backend.database, "a-8", "agent")
    dennis = Presence("a-8", reports=True)
    seen_by_dennis: list[tuple[Seen, ...]] = []
    async with BackendClient(backend.url, dennis_token) as client:
        dennis.set("c-1", typing=True)
        dennis_loop = asyncio.create_task(dennis.run(client, seen_by_dennis.append))
        try:
            app = make_app(path, backend.link())
            async with app.run_test(size=(140, 40)) as pilot:
                await open_customer(app, pilot, "c-1")
                await until(pilot, lambda: "Dennis Yilmaz has this customer open · typing a reply"
                            in screen_text(app))
                # Dennis's workstation sees Jonas on the customer too (and not herself).
                await until(pilot, lambda: any(s.user == "a-7" and s.customer == "c-1"
                                               for s in (seen_by_dennis[-1] if seen_by_dennis else ())))
                dennis.set("c-1", typing=False)
                await until(pilot, lambda: "Dennis Yilmaz has this customer open" in screen_text(app)
                            and "typing" not in screen_text(app))
                await pilot.press("escape")  # back to the queue: the queue marks whom someone is on
                await until(pilot, lambda: any("● Dennis Yilmaz is on it" in strip.text
                                               for strip in widget_strips(app.screen.query_one("#queue"))))
                await pilot.press("enter")
                await until(pilot, lambda: any(s.user == "a-7" and s.customer == "c-1" for s in seen_by_dennis[-1]))
            # The app quit: its mark goes at once, not only after the expiry.
            await asyncio.wait_for(_until_gone(seen_by_dennis, "a-7"), WAIT)
        finally:
            dennis_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dennis_loop


async def _until_gone(seen: list[tuple[Seen, ...]], user: str) -> None:
    while not seen or any(s.user == user for s in seen[-1]):
        await asyncio.sleep(0.05)


async def test_a_read_only_workstation_shows_others_but_is_never_shown(make_store, backend) -> None:  # noqa: ANN001
    from agentdesk.desk.identity import BackendLink
    from agentdesk.tui.messages import OpenCustomer
    from agentdesk.tui.screens.customer import CustomerScreen
    from tests.backend import fetch

    path = await make_store(records() + COLLEAGUES)
    backend.server.start()
    backend.seed(records() + COLLEAGUES)
    supervisor = add_user(backend.database, "a-1", "supervisor")
    dennis = Presence("a-8", reports=True)
    dennis.set("c-1")
    async with BackendClient(backend.url, add_user(backend.database, "a-8", "agent")) as client:
        dennis_loop = asyncio.create_task(dennis.run(client, lambda seen: None))
        try:
            app = make_app(path, BackendLink(backend.url, lambda: supervisor), agent_id="a-1", read_only=True)
            async with app.run_test(size=(140, 40)) as pilot:
                await asyncio.wait_for(app.queue_painted.wait(), WAIT)
                app.post_message(OpenCustomer("c-1"))
                await until(pilot, lambda: isinstance(app.screen, CustomerScreen)
                            and "Dennis Yilmaz has this customer open" in screen_text(app))
        finally:
            dennis_loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await dennis_loop
    assert fetch(backend.database, "SELECT count(*) FROM access_refusal") == [(0,)]  # it never even tried
