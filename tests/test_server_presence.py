"""Presence on the backend (SQLite and PostgreSQL): who has which customer open, expiring when a workstation goes
quiet; a read-only role has no way to report it, and each refused attempt is kept."""

from __future__ import annotations

from agentdesk.server import presence
from agentdesk.server.database import Database, database_url
from agentdesk.server.tables import presence as table
from tests.backend import add_user, database, fetch  # noqa: F401 - fixture
from tests.test_sync import backend  # noqa: F401 - fixture


async def test_an_agent_sees_who_has_which_customer_open_and_typing(backend) -> None:
    server, tokens = backend
    async with server.client(tokens["a-7"]) as jonas, server.client(tokens["a-8"]) as dennis:
        assert (await jonas.put("/presence", json={"customer": "c-1", "typing": True})).status_code == 204
        assert (await dennis.put("/presence", json={"customer": None})).status_code == 204
        seen = (await dennis.get("/presence")).json()
        assert [(p["user"], p["name"], p["customer"], p["typing"]) for p in seen] == [
            ("a-7", "Jonas Weber", "c-1", True), ("a-8", "Dennis Yilmaz", None, False)]
        assert (await jonas.delete("/presence")).status_code == 204
        assert [p["user"] for p in (await dennis.get("/presence")).json()] == ["a-8"]


async def test_a_quiet_workstation_expires(backend) -> None:
    server, tokens = backend
    async with server.client(tokens["a-7"]) as jonas:
        await jonas.put("/presence", json={"customer": "c-1"})
        gone = int(presence.EXPIRY.total_seconds() * 1_000_000) + 1
        async with Database.open(database_url(server.database)) as db, db.write() as connection:
            # its last word is now older than the expiry
            await connection.execute(table.update().values(seen_us=table.c.seen_us - gone))
        assert (await jonas.get("/presence")).json() == []


async def test_a_supervisor_reports_nothing_and_each_refusal_is_kept(backend) -> None:
    server, tokens = backend
    async with server.client(add_user(server.database, "a-1", "supervisor")) as katrin:
        refused = await katrin.put("/presence", json={"customer": "c-1"})
        assert refused.status_code == 403 and "read-only" in refused.json()["detail"]
        assert (await katrin.delete("/presence")).status_code == 403
        assert (await katrin.put("/mutations/m-1", json={"kind": "decline", "escalation": "d-1"})).status_code == 403
        assert (await katrin.post("/records", json={"records": []})).status_code == 403
        assert (await katrin.get("/presence")).json() == []
    assert fetch(server.database, "SELECT user_name, role, route FROM access_refusal ORDER BY id") == [
        ("a-1", "supervisor", "PUT /presence"), ("a-1", "supervisor", "DELETE /presence"),
        ("a-1", "supervisor", "PUT /mutations/m-1"), ("a-1", "supervisor", "POST /records")]
