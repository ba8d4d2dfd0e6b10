"""The backend's decision columns: backfilled by migration 0003, kept by every write, selected by the window."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from agentdesk.domain.authority import window_start
from agentdesk.server.changes import canonical
from agentdesk.server.database import Database, database_url
from agentdesk.server.migrate import upgrade
from agentdesk.server.records import store_records
from agentdesk.server.world import RecordsWorld
from tests.backend import database, fetch  # noqa: F401 (fixture)

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=timezone.utc)


def _decision(ident: str, days_ago: int, state: str = "confirmed", kind: str = "refund") -> dict:
    return {"type": "decision", "id": ident, "customer": "c-1", "kind": kind, "agent": "a-7", "state": state,
            "at": (NOW - timedelta(days=days_ago)).isoformat(), "amount": "10.00", "currency": "EUR", "case": "k-1"}


def test_migration_backfills_old_decisions_and_the_window_selects_in_sql(database: str) -> None:  # noqa: F811
    url = database_url(database)
    old = [_decision("d-new", 1), _decision("d-old", 40), _decision("d-refused", 1, state="refused")]

    async def scenario() -> list[str]:
        await upgrade(url, "0002_integrity")
        db = Database.create(url)
        try:
            async with db.write() as connection:
                for seq, obj in enumerate(old, start=1):  # as 0002 stored them: body only
                    await connection.execute(
                        text("INSERT INTO record (type, id, customer_id, body, seq) VALUES ('decision', :id, 'c-1', "
                             ":body, :seq)"), {"id": obj["id"], "body": canonical(obj), "seq": seq})
        finally:
            await db.dispose()
        await upgrade(url)
        db = Database.create(url)
        try:
            report = await store_records(db, [
                {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent"},
                {"type": "customer", "id": "c-1", "name": "Petra Lindner"},
                {"type": "case", "id": "k-2", "customer": "c-1", "subject": "Fee", "status": "open",
                 "opened_at": "2026-11-01T09:00:00+01:00"},
                {**_decision("d-uploaded", 2, kind="voucher"), "case": "k-2"}])
            assert report.errors == []
            async with db.write() as connection:
                def counting(sync) -> list[str]:  # noqa: ANN001 - a sync Connection
                    world = RecordsWorld(sync, "a-7", "agent")
                    return [d.id for d in world.counting_decisions("c-1", None, window_start(NOW), NOW)]
                return await connection.run_sync(counting)
        finally:
            await db.dispose()

    counted = asyncio.run(scenario())
    assert sorted(counted) == ["d-new", "d-uploaded"]
    rows = fetch(database, "SELECT id, decision_kind, decision_state, decision_case, decision_agent, decision_at_us "
                           "FROM record WHERE type = 'decision' ORDER BY id")
    at = {obj["id"]: obj for obj in old}
    for ident, kind, state, case, agent, at_us in rows:
        expected = at.get(ident) or _decision("d-uploaded", 2, kind="voucher") | {"case": "k-2"}
        assert (kind, state, case, agent) == (expected["kind"], expected["state"], expected["case"], "a-7")
        assert at_us == int(datetime.fromisoformat(expected["at"]).timestamp() * 1_000_000)
    assert json.loads(fetch(database, "SELECT body FROM record WHERE id = 'd-old'")[0][0])["id"] == "d-old"


def test_the_backends_head_revision_constant_matches_its_migrations() -> None:
    """A starting backend skips Alembic when its database is at this revision: it must be the newest."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from agentdesk.server.migrate import HEAD_REVISION, migrations_dir

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_a_backend_at_the_newest_revision_starts_without_alembic(database: str) -> None:  # noqa: F811
    upgrading = ("import asyncio, sys; from agentdesk.server.database import database_url; "
                 "from agentdesk.server.migrate import upgrade; "
                 f"asyncio.run(upgrade(database_url({database!r}))); print('alembic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", upgrading], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]
    assert runs == ["True\n", "False\n"], runs  # the new database is migrated; the migrated one is only read
