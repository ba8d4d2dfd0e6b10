"""One change the workstation cannot apply never stops its sync (issue 12, findings 1 and 11).

A real ``agentdesk serve`` on SQLite (the client's behaviour does not depend on the backend's
database) and a real store. The bad changes are written straight into the backend's change
log, because the backend is being taught to refuse them (another part of issue 12): these
tests must hold whatever the backend lets through, so they do not rely on a backend that
still publishes such records.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentdesk.sync.client import BackendClient
from agentdesk.sync.engine import Syncer
from agentdesk.sync.replica import Replica
from benchmarks.backend import child_env
from tests.backend import Server, add_user
from tests.test_ledger import records, rows

C_1_LATER = "2026-11-21T10:00:00+01:00"

GHOST_DECISION = {"type": "decision", "id": "d-ghost", "customer": "c-404", "kind": "note", "agent": "a-7",
                  "at": C_1_LATER, "state": "refused", "reason": "decided on a customer only one store had"}
"""A decision naming a customer this workstation does not hold (the backend refused it, yet published it)."""
APPROVING_NOTHING = {"type": "decision", "id": "d-approves-nothing", "customer": "c-1", "kind": "voucher",
                     "amount": "10.00", "currency": "EUR", "agent": "a-2", "at": C_1_LATER, "state": "confirmed",
                     "approves": "d-404"}
"""An approval naming an escalation that does not exist."""
YEAR_ONE = {"type": "decision", "id": "d-year-one", "customer": "c-1", "kind": "callback", "agent": "a-7",
            "at": "0001-01-01T00:30+01:00", "state": "refused", "scheduled": "0001-01-01T00:30+01:00"}
"""A refused callback dated at the very start of the calendar: the timeline's words cannot format it."""
UNREADABLE = {"type": "decision", "id": "d-unreadable", "customer": "c-1"}
"""A record the codec refuses (no kind, agent, time or state)."""
GOOD_ENTRY = {"type": "interaction", "id": "i-after", "customer": "c-1", "case": "k-1", "channel": "chat",
              "direction": "in", "at": C_1_LATER, "author": "Petra Lindner", "body": "Still waiting for my refund."}

BAD = (GHOST_DECISION, APPROVING_NOTHING, YEAR_ONE, UNREADABLE)


def publish(database: str, objects: list[dict]) -> None:
    """Append ``objects`` to the backend's change log as it would (next seqs, then the counter), past its checks."""
    connection = sqlite3.connect(database)
    try:
        with connection:
            (last,) = connection.execute("SELECT last FROM change_counter WHERE id = 1").fetchone()
            for seq, obj in enumerate(objects, last + 1):
                connection.execute(
                    "INSERT INTO change_log (seq, record_type, record_id, body, at_us) VALUES (?, ?, ?, ?, 0)",
                    (seq, obj["type"], obj["id"], json.dumps(obj, separators=(",", ":"))))
            connection.execute("UPDATE change_counter SET last = ? WHERE id = 1", (last + len(objects),))
    finally:
        connection.close()


def upload(server: Server, admin: str, objects: list[dict]) -> None:
    answer = httpx.post(f"{server.url}/records", json={"records": objects},
                        headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    database = str(tmp_path / "server.db")
    with Server(database) as server:
        tokens = {name: add_user(database, name, role) for name, role in (("admin", "admin"), ("a-7", "agent"))}
        upload(server, tokens["admin"], records())
        yield server, tokens


async def sync_once(store: Path, server: Server, token: str):  # noqa: ANN201
    async with Replica.open(store) as replica, BackendClient(server.url, token) as client:
        syncer = Syncer(replica, client)
        report = await syncer.once()
        return report, await syncer.kept(), await syncer.status()


def cursor(store: Path) -> int:
    return int(rows(store, "SELECT value FROM sync_state WHERE key = 'cursor'")[0][0])


def head(server: Server) -> int:
    return httpx.get(f"{server.url}/health", timeout=10).json()["cursor"]


def warnings_about(server: Server, record_id: str) -> list[str]:
    return [line for line in server.output().splitlines() if "could not apply" in line and f" {record_id} " in line]


async def test_a_page_with_records_the_store_cannot_hold_is_applied_around_them(backend, tmp_path) -> None:
    server, tokens = backend
    publish(server.database, [*BAD, GOOD_ENTRY])
    store = tmp_path / "jonas.sqlite3"

    report, kept, status = await sync_once(store, server, tokens["a-7"])

    assert rows(store, "SELECT id FROM timeline_entry WHERE id = 'i-after'") == [("i-after",)]  # the good one landed
    assert rows(store, "SELECT id FROM support_case ORDER BY id") == [("k-1",), ("k-2",)]
    assert cursor(store) == head(server)  # and the pull went past the bad ones
    assert {item.id for item in report.set_aside} == {obj["id"] for obj in BAD}
    reasons = {item.id: item.reason for item in kept}
    assert reasons["d-ghost"] == "it names customer c-404, which this workstation does not have"
    assert reasons["d-approves-nothing"] == "it names decision d-404, which this workstation does not have"
    # The codec refuses a time before 1900 before the timeline words could fail on it.
    assert "before 1900-01-01" in reasons["d-year-one"]
    assert reasons["d-unreadable"].startswith("it is not a record this workstation can read: ")
    for item in kept:
        assert item.what.startswith(f"decision {item.id} (change ")
        for sql in ("SQL", "INSERT", "constraint", "\n"):
            assert sql not in item.line()
    assert status.set_aside == 4
    assert "4 changes from the backend could not be applied" in status.words(status.last_synced)
    for obj in BAD:  # told to the backend's log, one line each, with who reported it
        (line,) = warnings_about(server, obj["id"])
        assert "workstation of a-7" in line


async def test_a_record_set_aside_applies_when_what_it_names_arrives_and_is_reported_once(backend, tmp_path) -> None:
    server, tokens = backend
    publish(server.database, [GHOST_DECISION, YEAR_ONE])
    store = tmp_path / "jonas.sqlite3"
    _, kept, _ = await sync_once(store, server, tokens["a-7"])
    assert {item.id for item in kept} == {"d-ghost", "d-year-one"}

    upload(server, tokens["admin"], [{"type": "customer", "id": "c-404", "name": "Only Once Imported"}])
    report, kept, status = await sync_once(store, server, tokens["a-7"])

    assert rows(store, "SELECT customer_id FROM decision WHERE id = 'd-ghost'") == [("c-404",)]
    assert rows(store, "SELECT count(*) FROM timeline_entry WHERE id = 'decision:d-ghost'") == [(1,)]
    assert [item.id for item in kept] == ["d-year-one"] and status.set_aside == 1
    assert report.set_aside == []  # nothing new this time
    assert len(warnings_about(server, "d-year-one")) == 1  # reported once, not at every pull
    assert len(warnings_about(server, "d-ghost")) == 1


async def test_a_newer_version_of_a_record_set_aside_replaces_it(backend, tmp_path) -> None:
    server, tokens = backend
    publish(server.database, [GHOST_DECISION])
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    publish(server.database, [dict(GHOST_DECISION, customer="c-1")])  # corrected on the backend
    _, kept, _ = await sync_once(store, server, tokens["a-7"])
    assert kept == []
    assert rows(store, "SELECT customer_id FROM decision WHERE id = 'd-ghost'") == [("c-1",)]


def agentdesk(store: Path, server: Server, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(child_env(), AGENTDESK_TOKEN=token)
    return subprocess.run([sys.executable, "-m", "agentdesk", "--db", str(store), "--server", server.url, *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_agentdesk_sync_lists_what_it_set_aside_and_exits_1_while_any_is_kept(backend, tmp_path) -> None:
    server, tokens = backend
    publish(server.database, [GHOST_DECISION, GOOD_ENTRY])
    store = tmp_path / "jonas.sqlite3"

    plain = agentdesk(store, server, tokens["a-7"], "sync")
    assert plain.returncode == 1, plain.stderr
    assert plain.stdout.splitlines() == [
        f"could not apply decision d-ghost (change {head(server) - 1}) from the backend: "
        "it names customer c-404, which this workstation does not have"]
    assert "Traceback" not in plain.stderr and len(plain.stderr.splitlines()) == 1
    assert "1 set aside (could not be applied) kept" in plain.stderr

    answer = agentdesk(store, server, tokens["a-7"], "sync", "--json")
    assert answer.returncode == 1
    listed = json.loads(answer.stdout)
    assert listed["set_aside"] == [{"id": "d-ghost", "source": "change", "what": f"decision d-ghost (change "
                                    f"{head(server) - 1})", "reason": "it names customer c-404, which this "
                                    "workstation does not have"}]
    assert listed["rejected"] == []


def test_the_plain_session_lists_what_is_set_aside_on_sync(backend, tmp_path) -> None:
    server, tokens = backend
    publish(server.database, [GHOST_DECISION])
    store = tmp_path / "jonas.sqlite3"
    assert agentdesk(store, server, tokens["a-7"], "sync").returncode == 1
    session = subprocess.run(
        [sys.executable, "-m", "agentdesk", "--db", str(store), "--server", server.url, "--plain"],
        input="sync\nquit\n", capture_output=True, text=True, env=dict(child_env(), AGENTDESK_TOKEN=tokens["a-7"]),
        timeout=120)
    assert session.returncode == 0, session.stderr
    assert (f"sync: could not apply decision d-ghost (change {head(server)}) from the backend: it names customer "
            "c-404, which this workstation does not have") in session.stdout.splitlines(), session.stdout


def test_a_store_that_already_holds_the_records_syncs_against_an_earlier_upload_of_them(backend, tmp_path) -> None:
    """Finding 11: a store built locally (here: imported), then synced against a backend that holds an earlier
    upload where the same entry ids belong to another customer, stopped on its first pull with
    ``UNIQUE constraint failed: agentdesk_touched.customer_id`` and a traceback."""
    server, tokens = backend
    entries = [dict(GOOD_ENTRY, id=f"i-{n}", body=f"message {n}") for n in range(3)]
    upload(server, tokens["admin"], entries)
    local = [*records(), {"type": "customer", "id": "c-2", "name": "Ole Brandt"},
             *(dict(entry, customer="c-2", case=None) for entry in entries)]
    source = tmp_path / "local.jsonl"
    source.write_text("".join(json.dumps({k: v for k, v in obj.items() if v is not None}) + "\n" for obj in local))
    store = tmp_path / "built-here.sqlite3"
    built = subprocess.run([sys.executable, "-m", "agentdesk", "--db", str(store), "import", str(source)],
                           capture_output=True, text=True, env=child_env(), timeout=120)
    assert built.returncode == 0, built.stderr
    assert rows(store, "SELECT customer_id FROM waiting") == [("c-2",)]

    synced = agentdesk(store, server, tokens["a-7"], "sync")

    assert synced.returncode == 0, synced.stderr
    assert rows(store, "SELECT DISTINCT customer_id FROM timeline_entry WHERE id LIKE 'i-%'") == [("c-1",)]
    assert rows(store, "SELECT customer_id FROM waiting") == [("c-1",)]  # the waiting list followed them


def test_agentdesk_sync_says_an_unexpected_failure_in_one_line(backend, tmp_path) -> None:
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    assert agentdesk(store, server, tokens["a-7"], "sync").returncode == 0
    holder = sqlite3.connect(store, timeout=0)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another program holds the store for longer than the wait for it
        failed = agentdesk(store, server, tokens["a-7"], "sync")
    finally:
        holder.rollback()
        holder.close()
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        "agentdesk: sync failed: the local store failed: database is locked; nothing is lost, run agentdesk sync again"]


def test_the_backend_takes_reports_of_a_bounded_size_from_known_users_only(backend) -> None:
    server, tokens = backend
    item = {"type": "decision", "id": "d-x", "seq": 1, "reason": "it names customer c-9, which this workstation "
                                                                  "does not have"}

    def report(items: list[dict], token: str | None = tokens["a-7"]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{server.url}/reports/set-aside", json={"items": items}, headers=headers, timeout=10)

    assert report([item]).status_code == 204
    assert report([item], token=None).status_code == 401
    assert report([item] * 101).status_code == 422
    assert report([dict(item, reason="x" * 501)]).status_code == 422
    assert report([dict(item, id="d-\x1b[31mred\nsecond line")]).status_code == 204
    logged = [line for line in server.output().splitlines() if "could not apply" in line]
    assert len(logged) == 2 and "\x1b" not in logged[1] and "second line" in logged[1]  # one line each, inert
