"""A contact logged by hand reaches the backend once and every other workstation on its next pull
(SQLite and PostgreSQL); a read-only user has no way to write one."""

from __future__ import annotations

from datetime import datetime, timezone

from agentdesk.domain.model import Channel, Direction
from agentdesk.domain.queue import order_queue
from agentdesk.server.database import Database, database_url
from agentdesk.server.mutations import Applier
from agentdesk.server.users import User
from agentdesk.store.ledger import Ledger
from agentdesk.store.outbox import logged
from agentdesk.store.reader import StoreReader
from tests.backend import database, fetch  # noqa: F401 - fixtures
from tests.test_ledger import MATRIX, rows
from tests.test_sync import backend, sync_once  # noqa: F401 - fixtures


async def test_a_logged_letter_is_applied_once_and_reaches_the_other_workstation(backend, tmp_path) -> None:
    server, tokens = backend
    jonas, dennis = tmp_path / "jonas.sqlite3", tmp_path / "dennis.sqlite3"
    await sync_once(jonas, server, tokens["a-7"])
    await sync_once(dennis, server, tokens["a-8"])
    async with Ledger.open(jonas, MATRIX) as ledger:
        entry = await ledger.log_contact("a-7", "c-1", Channel.LETTER, Direction.IN, "Letter: cancels the contract")
    (mutation_id, body), = [(i, b) for i, b in rows(jonas, "SELECT id, body FROM outbox")]
    report = await sync_once(jonas, server, tokens["a-7"])
    assert report.applied == 1 and report.refused == []
    assert rows(jonas, "SELECT count(*) FROM outbox") == [(0,)]

    # The same mutation again (a lost answer): the stored answer, nothing new.
    async with server.client(tokens["a-7"]) as http:
        again = await http.put(f"/mutations/{mutation_id}", content=body,
                               headers={"Content-Type": "application/json"})
    assert again.status_code == 200 and again.json()["status"] == "applied"
    assert fetch(server.database, f"SELECT count(*) FROM record WHERE type = 'interaction' AND id = '{entry.id}'") \
        == [(1,)]
    assert fetch(server.database, "SELECT count(*) FROM mutation") == [(1,)]
    # The same contact under another mutation id is not a second contact.
    async with server.client(tokens["a-7"]) as http:
        second = await http.put("/mutations/m-another", content=body, headers={"Content-Type": "application/json"})
    assert second.status_code == 422 and "already on the backend" in second.text
    assert fetch(server.database, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(1,)]

    await sync_once(dennis, server, tokens["a-8"])
    async with StoreReader.open(dennis) as reader:
        timeline = [e async for e in reader.timeline("c-1")]
        now = datetime.now(timezone.utc)
        places = order_queue(await reader.waiting(now), now)
    assert [(e.id, e.channel, e.direction, e.body) for e in timeline if e.id == entry.id] == [
        (entry.id, Channel.LETTER, Direction.IN, "Letter: cancels the contract")]
    assert [p.reason.split(" ")[0] for p in places if p.waiting.customer_id == "c-1"] == ["letter"]


async def test_a_supervisor_cannot_log_a_contact(backend, tmp_path) -> None:
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    async with Ledger.open(store, MATRIX) as ledger:
        entry = await ledger.log_contact("a-7", "c-1", Channel.SHOP, Direction.IN, "Came by the shop")
    supervisor_body = logged(entry)
    supervisor_body["interaction"]["logged_by"] = "s-1"
    from tests.backend import add_user

    supervisor = add_user(server.database, "s-1", "supervisor")
    async with server.client(supervisor) as http:
        answer = await http.put("/mutations/m-s-1", json=supervisor_body)
    assert answer.status_code == 403, answer.text
    # Behind the route, the mutation itself checks the role again.
    async with Database.open(database_url(server.database)) as db:
        result = await Applier(db, MATRIX).apply(User("s-1", "supervisor"), "m-s-2", supervisor_body)
    assert (result["status"], result["rule"], result["records"]) == ("refused", "role.read_only", [])
    assert fetch(server.database, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(0,)]
