"""A reply through sync, with the backend in this process (SQLite and PostgreSQL): pushed once, sent or failed by
the backend, and the outcome back on the writer's timeline and told to them once."""

from __future__ import annotations

import asyncio
import json

from agentdesk.desk.watch import StoreWatch
from agentdesk.domain.model import Channel
from agentdesk.store.ledger import Ledger
from tests.backend import database, fetch  # noqa: F401 - fixture
from tests.sms_provider import sms_provider  # noqa: F401 - fixture
from tests.smtp_server import smtp_server, tls_ca  # noqa: F401 - fixtures
from tests.test_ledger import MATRIX, rows
from tests.test_sync import backend, sync_once  # noqa: F401 - fixtures

WAIT = 30.0


async def delivered(database: str, interaction_id: str) -> str:
    """The reply's row once the backend's worker is done with it (it runs on this loop: await, never sleep-poll
    the wall clock for a result)."""
    async def done() -> str:
        while True:
            found = fetch(database, f"SELECT state FROM reply_delivery WHERE interaction_id = '{interaction_id}'")
            if found and found[0][0] in ("sent", "failed"):
                return str(found[0][0])
            await asyncio.sleep(0.02)
    return await asyncio.wait_for(done(), WAIT)


async def test_a_reply_the_backend_cannot_send_comes_back_failed_with_the_reason_and_is_told(backend,
                                                                                          tmp_path) -> None:
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    async with StoreWatch.open(store) as watch:
        await watch.follow("a-7")
        async with Ledger.open(store, MATRIX) as ledger:
            entry = await ledger.reply("a-7", "c-1", "Your refund is on its way.")  # by SMS: c-1 has a phone only
        watch.awaiting_reply(entry.id)
        report = await sync_once(store, server, tokens["a-7"])
        assert report.applied == 1
        assert await delivered(server.database, entry.id) == "failed"
        await sync_once(store, server, tokens["a-7"])
        news = await watch.look()
    assert news is not None
    (told,) = news.replies
    assert (told.entry_id, told.state, told.customer_name) == (entry.id, "failed", "Petra Lindner")
    assert told.detail == "this backend sends no SMS ([twilio]): configure it in the channels file"
    (extra,) = rows(store, "SELECT extra FROM timeline_entry WHERE id = ?", entry.id)
    assert json.loads(extra[0])["delivery"] == "failed"
    assert rows(store, "SELECT count(*) FROM outbox") == [(0,)]
    assert fetch(server.database, "SELECT count(*) FROM reply_delivery") == [(1,)]


async def test_a_reply_the_backend_refuses_reads_failed_at_once_on_the_writers_timeline(backend, tmp_path) -> None:
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    async with Ledger.open(store, MATRIX) as ledger:
        entry = await ledger.reply("a-7", "c-1", "About the old dispute.", case_id="k-1")
    # Meanwhile the case was closed on the backend: the reply is refused, and only its writer hears of it.
    async with server.client(tokens["admin"]) as http:
        closed = await http.post("/records", json={"records": [
            {"type": "case", "id": "k-1", "customer": "c-1", "subject": "Technician fee for our own fault",
             "status": "closed", "opened_at": "2026-11-20T09:00:00+01:00", "disputed_amount": "39.90",
             "currency": "EUR"}]})
    assert closed.status_code == 200
    report = await sync_once(store, server, tokens["a-7"])
    assert report.refused and "case k-1 is closed" in report.refused[0]
    (extra,) = rows(store, "SELECT extra FROM timeline_entry WHERE id = ?", entry.id)
    assert json.loads(extra[0])["delivery"] == "failed"
    assert json.loads(extra[0])["delivery_detail"].startswith("not sent: case k-1 is closed")
    assert fetch(server.database, "SELECT count(*) FROM reply_delivery") == [(0,)]


async def test_a_reply_goes_out_once_by_smtp_and_by_sms_and_comes_back_sent(database, tmp_path, smtp_server, tls_ca,
                                                                             sms_provider) -> None:
    from agentdesk.channels.config import ChannelsConfig
    from tests.backend import in_process
    from tests.test_sync import holding_the_ledger_records, upload

    channels = ChannelsConfig(smtp=smtp_server.settings(ca_file=tls_ca.ca_file), twilio=sms_provider.settings())
    async with in_process(database, channels=channels) as server:
        tokens = await holding_the_ledger_records(server)
        await upload(server, tokens["admin"], [
            {"type": "customer", "id": "c-9", "name": "Petra Lindner", "email": "p.lindner@example.net",
             "phone": "0170 555 0199", "location": "Nürnberg, DE", "preferred_channel": "email"}])
        # Petra wrote first, by e-mail: the answer is threaded into her conversation.
        from datetime import datetime, timezone

        from agentdesk.server.database import Database, database_url
        from agentdesk.server.inbound import Inbound, file_inbound

        async with Database.open(database_url(server.database)) as db:
            await file_inbound(db, Inbound("email:<q1@example.net>", "email", datetime.now(timezone.utc),
                                           "Still no service.", email="p.lindner@example.net",
                                           message_id="<q1@example.net>"))
        store = tmp_path / "jonas.sqlite3"
        await sync_once(store, server, tokens["a-7"])
        async with Ledger.open(store, MATRIX) as ledger:
            by_mail = await ledger.reply("a-7", "c-9", "Your eSIM is active.")
            by_sms = await ledger.reply("a-7", "c-9", "Your QR code is on its way.", Channel.SMS)
        (mutation_id, body), = [(i, b) for i, b in rows(store, "SELECT id, body FROM outbox WHERE kind = 'reply' "
                                                               "ORDER BY seq LIMIT 1")]
        await sync_once(store, server, tokens["a-7"])
        assert await delivered(server.database, by_mail.id) == "sent"
        assert await delivered(server.database, by_sms.id) == "sent"
        # The same push again (an answer lost on the way): answered from what was stored, nothing sent again.
        async with server.client(tokens["a-7"]) as http:
            again = await http.put(f"/mutations/{mutation_id}", content=body,
                                   headers={"Content-Type": "application/json"})
        assert again.status_code == 200 and again.json()["status"] == "applied"
        await sync_once(store, server, tokens["a-7"])
    (mail,) = smtp_server.received  # once, parsed back by the stdlib email package
    assert (mail["To"], str(mail["From"]), mail["Reply-To"]) == (
        "p.lindner@example.net", "Jonas Weber <service@example.com>", "service@example.com")
    assert mail["Message-ID"] == f"<{by_mail.id}@example.com>"
    assert (mail["In-Reply-To"], mail["References"]) == ("<q1@example.net>", "<q1@example.net>")
    assert (mail.get_content_type(), mail.get_content_charset(), mail.is_multipart()) == ("text/plain", "utf-8", False)
    assert mail.get_content().replace("\r\n", "\n").startswith("Your eSIM is active.\n\n-- \nJonas Weber\n")
    (sms,) = sms_provider.taken
    assert sms["To"] == "+491705550199" and sms["Body"].startswith("Your QR code is on its way.\n\n-- \n")
    states = {ident: json.loads(extra)["delivery"] for ident, extra in rows(
        store, "SELECT id, extra FROM timeline_entry WHERE id IN (?, ?)", by_mail.id, by_sms.id)}
    assert states == {by_mail.id: "sent", by_sms.id: "sent"}
