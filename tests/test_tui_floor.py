"""The floor, live: a supervisor's workstation follows what happens on the backend.

Real ``agentdesk serve`` processes on loopback: two of them on one PostgreSQL, as a contact centre that
outgrew one machine runs it. An agent's workstation decides through one process; a chat message comes
in through the other's webhook; the supervisor's workstation (the app under Textual's pilot, read-only,
syncing with either process) shows both on its floor, and the agent's presence, without a reload. The
bound below is generous so that a broken build fails instead of hanging; the latency itself is the
live_latency benchmark's to measure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from contextlib import ExitStack
from datetime import timedelta

import httpx

from agentdesk.desk.identity import BackendLink
from agentdesk.domain.authority import Proposal
from agentdesk.domain.money import Money
from agentdesk.store.ledger import Ledger
from tests.backend import Server, add_user, postgres_database
from tests.test_ledger import MATRIX
from tests.test_tui_presence import COLLEAGUES
from tests.test_tui_support import screen_text, widget_strips
from tests.test_tui_sync import make_app, records, until

SECRET = "floor-webhook-secret"


def floor_text(app) -> str:  # noqa: ANN001
    return "\n".join(strip.text for strip in widget_strips(app.screen.query_one("#floor")))


async def test_the_floor_follows_a_decision_an_inbound_message_and_presence_across_two_server_processes(
        make_store, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from agentdesk.sync.client import BackendClient
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.presence import Presence
    from agentdesk.sync.replica import Replica
    from agentdesk.tui.screens.floor import FloorScreen

    monkeypatch.setenv("AGENTDESK_TEST_WEBHOOK_SECRET", SECRET)
    channels = tmp_path / "channels.toml"
    channels.write_text('[webhook]\nsecret_env = "AGENTDESK_TEST_WEBHOOK_SECRET"\n', encoding="utf-8")
    with ExitStack() as stack:
        database = stack.enter_context(postgres_database())
        first = stack.enter_context(Server(database, flags=["--channels", str(channels)]))
        second = stack.enter_context(Server(database, flags=["--channels", str(channels)]))
        admin = add_user(database, "admin", "admin")
        httpx.post(f"{first.url}/records", json={"records": records() + COLLEAGUES},
                   headers={"Authorization": f"Bearer {admin}"}, timeout=30).raise_for_status()
        jonas, katrin = add_user(database, "a-7", "agent"), add_user(database, "a-1", "supervisor")

        supervisor_store = await make_store(records() + COLLEAGUES, "katrin.sqlite3")
        app = make_app(supervisor_store, BackendLink(second.url, lambda: katrin), agent_id="a-1", read_only=True)
        async with app.run_test(size=(160, 40)) as pilot:
            # The floor paints from the store first; the backend's presence follows with the sync worker's first look.
            await until(pilot, lambda: isinstance(app.screen, FloorScreen)
                        and "Jonas Weber · agent · offline · 0 decisions today" in floor_text(app))

            # Jonas opens Petra on his workstation (through the first process) and takes a voucher there.
            agent_store = await make_store(records() + COLLEAGUES, "jonas.sqlite3")
            async with BackendClient(first.url, jonas) as backend:
                presence = Presence("a-7", reports=True)
                presence.set("c-1", typing=True)
                presence_loop = asyncio.create_task(presence.run(backend, lambda seen: None))
                try:
                    await until(pilot, lambda: "online on Petra Lindner, typing a reply" in floor_text(app))
                    async with Ledger.open(agent_store, MATRIX) as ledger:
                        await ledger.take("a-7", "c-1", Proposal("voucher", Money.parse("15.00", "EUR")),
                                          case_id="k-1", undo_window=timedelta(0))
                    async with Replica.open(agent_store) as replica:
                        report = await Syncer(replica, backend).once()
                    assert report.applied == 1
                    await until(pilot, lambda: "1 decision today · vouchers 15.00 EUR" in floor_text(app))
                finally:
                    presence_loop.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await presence_loop

            # A chat message from a new customer reaches the second process's webhook: the queue grows.
            before = app.screen.query_one("#floor").border_title
            body = json.dumps({"id": "chat-1", "channel": "chat", "at": "2026-12-07T10:00:00+01:00",
                               "email": "new.customer@example.org", "name": "Nora Neu",
                               "body": "Hello?"}).encode()
            stamp = str(int(time.time()))
            digest = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            answer = httpx.post(f"{second.url}/webhooks/messages", content=body, timeout=30, headers={
                "Content-Type": "application/json", "X-Agentdesk-Timestamp": stamp,
                "X-Agentdesk-Signature": f"sha256={digest}"})
            assert answer.status_code == 200, answer.text
            await until(pilot, lambda: "Nora Neu" in floor_text(app))
            assert app.screen.query_one("#floor").border_title != before
            assert "READ-ONLY" in screen_text(app)
