"""The workstation's sync against the real backend (SQLite and PostgreSQL): push, pull, refusals, refetch.

Each test drives :class:`agentdesk.sync.engine.Syncer` on a real store file against the
backend's app on a real database, in this process through httpx's ASGI transport (the test of an
unreachable backend stops and starts a real ``agentdesk serve``); nothing is mocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from agentdesk.domain.authority import Proposal
from agentdesk.store.ledger import Ledger
from agentdesk.sync.client import BackendClient, Unreachable
from agentdesk.sync.engine import Syncer
from agentdesk.sync.replica import Replica
from tests.backend import InProcess, Server, add_user, database, fetch, in_process, refused_url, server  # noqa: F401 - fixtures
from tests.test_ledger import MATRIX, eur, records, rows

QUEUED = timedelta(0)


USERS = (("admin", "admin"), ("a-7", "agent"), ("a-8", "agent"), ("a-2", "lead"))


async def upload(backend: InProcess | Server, admin: str, objects: list[dict]) -> dict:
    http = backend.client(admin) if isinstance(backend, InProcess) else httpx.AsyncClient(
        base_url=backend.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
    async with http:
        answer = await http.post("/records", json={"records": objects})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def holding_the_ledger_records(backend: InProcess | Server) -> dict[str, str]:
    """The ledger tests' agents, customer and cases on the backend; a token per user."""
    tokens = {name: add_user(backend.database, name, role) for name, role in USERS}
    report = await upload(backend, tokens["admin"], records())
    assert report["errors"] == []
    return tokens


@pytest.fixture
async def backend(database: str) -> AsyncIterator[tuple[InProcess, dict[str, str]]]:
    """The backend in this process, holding the ledger tests' records, with a token per agent."""
    async with in_process(database) as served:
        yield served, await holding_the_ledger_records(served)


async def sync_once(store: Path, backend: InProcess | Server | str, token: str, **kwargs) -> object:
    """One sync of ``store`` with the backend (in this process, a real one, or at a URL)."""
    if isinstance(backend, InProcess):
        kwargs.setdefault("transport", backend.transport)
    url = backend if isinstance(backend, str) else backend.url
    async with Replica.open(store) as replica, BackendClient(url, token, **kwargs) as client:
        return await Syncer(replica, client).once()


async def test_a_fresh_workstation_pulls_everything_and_a_decision_comes_back_confirmed(backend, tmp_path) -> None:
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    assert rows(store, "SELECT id FROM support_case ORDER BY id") == [("k-1",), ("k-2",)]
    async with Ledger.open(store, MATRIX) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("refund", eur("20.00")), case_id="k-1", undo_window=QUEUED)
    report = await sync_once(store, server, tokens["a-7"])
    assert report.applied == 1 and report.refused == []
    assert rows(store, "SELECT state FROM decision WHERE id = ?", taken.decision.id) == [("confirmed",)]
    assert rows(store, "SELECT state FROM promise WHERE decision_id = ?", taken.decision.id) == [("kept",)]
    assert rows(store, "SELECT count(*) FROM outbox") == [(0,)]
    stored = fetch(server.database, f"SELECT body FROM record WHERE type = 'decision' AND id = '{taken.decision.id}'")
    assert '"state":"confirmed"' in stored[0][0]


async def test_two_workstations_over_one_disputed_amount_one_is_refused_and_its_queue_moves_on(backend, tmp_path):
    server, tokens = backend
    stores = {agent: tmp_path / f"{agent}.sqlite3" for agent in ("a-7", "a-8")}
    taken = {}
    for agent, store in stores.items():
        await sync_once(store, server, tokens[agent])
        async with Ledger.open(store, MATRIX) as ledger:  # each store alone allows it
            refund = await ledger.take(agent, "c-1", Proposal("refund", eur("30.00")), case_id="k-1",
                                       undo_window=QUEUED)
            note = await ledger.take(agent, "c-1", Proposal("note", reason=f"{agent} refunded"), undo_window=QUEUED)
        assert refund.decision is not None and note.decision is not None
        taken[agent] = (refund.decision.id, note.decision.id)
    first = await sync_once(stores["a-7"], server, tokens["a-7"])
    second = await sync_once(stores["a-8"], server, tokens["a-8"])
    assert first.applied == 2 and first.refused == []
    assert second.applied == 1 and len(second.refused) == 1  # the note behind the refusal still went through
    assert "disputed" in second.refused[0]
    refund_id, note_id = taken["a-8"]
    state, extra = rows(stores["a-8"], "SELECT state, extra FROM decision WHERE id = ?", refund_id)[0]
    assert state == "refused" and "disputed" in extra
    assert rows(stores["a-8"], "SELECT state FROM promise WHERE decision_id = ?", refund_id) == [("cancelled",)]
    assert rows(stores["a-8"], "SELECT state FROM decision WHERE id = ?", note_id) == [("confirmed",)]
    # The other workstation learns of the refusal too, and both views agree with the backend's.
    await sync_once(stores["a-7"], server, tokens["a-7"])
    decisions = "SELECT id, state, amount FROM decision ORDER BY id"
    assert rows(stores["a-7"], decisions) == rows(stores["a-8"], decisions)


async def test_a_refusal_the_backend_answers_to_its_sender_alone_still_marks_the_senders_copy(backend, tmp_path):
    """A decision on a customer only this store holds: refused, never published, and refused here too.

    The answer's cursor is the head the pull has already reached, so it reads as old news;
    the decision still waiting here for it must take it all the same.
    """
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    from agentdesk.interchange.load import load_records

    report = await load_records([{"type": "customer", "id": "c-local", "name": "Only Here",
                                  "timezone": "Europe/Berlin"}], store)
    assert not report.errors
    async with Ledger.open(store, MATRIX) as ledger:
        taken = await ledger.take("a-7", "c-local", Proposal("note", reason="local only"), undo_window=QUEUED)
    assert taken.decision is not None
    result = await sync_once(store, server, tokens["a-7"])
    assert len(result.refused) == 1 and "no customer c-local" in result.refused[0]
    state, extra = rows(store, "SELECT state, extra FROM decision WHERE id = ?", taken.decision.id)[0]
    assert state == "refused" and "no customer c-local" in extra
    assert fetch(server.database, "SELECT count(*) FROM record WHERE customer_id = 'c-local'") == [(0,)]


async def test_unreachable_backend_keeps_the_outbox_and_a_later_sync_drains_it(server, tmp_path) -> None:
    tokens = await holding_the_ledger_records(server)
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    async with Ledger.open(store, MATRIX) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("10.00")), undo_window=QUEUED)
    with pytest.raises(Unreachable):
        await sync_once(store, refused_url(), tokens["a-7"])
    assert rows(store, "SELECT count(*) FROM outbox") == [(1,)]
    server.stop()
    with pytest.raises(Unreachable):
        await sync_once(store, server, tokens["a-7"])
    server.start()
    report = await sync_once(store, server, tokens["a-7"])
    assert report.applied == 1
    assert rows(store, "SELECT state FROM decision WHERE id = ?", taken.decision.id) == [("confirmed",)]


async def test_a_lost_answer_is_repaired_by_sending_the_same_mutation_again(backend, tmp_path) -> None:
    from tests.faults import FaultyTransport

    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    async with Ledger.open(store, MATRIX) as ledger:
        taken = await ledger.take("a-7", "c-1", Proposal("refund", eur("39.90")), case_id="k-1", undo_window=QUEUED)
    faulty = FaultyTransport(inner=server.transport)
    faulty.plan.extend(["drop_response", "duplicate"])
    with pytest.raises(Unreachable):
        await sync_once(store, server, tokens["a-7"], transport=faulty)
    assert rows(store, "SELECT count(*) FROM outbox") == [(1,)]  # the backend has it; we do not know yet
    report = await sync_once(store, server, tokens["a-7"], transport=faulty)
    assert report.applied == 1 and faulty.injected["drop_response"] == faulty.injected["duplicate"] == 1
    audits = fetch(server.database, "SELECT body FROM record WHERE type = 'audit'")
    assert sum(taken.decision.id in body and '"confirmed"' in body for (body,) in audits) == 1


async def test_a_cursor_older_than_the_change_log_refetches_a_snapshot(database, tmp_path) -> None:
    async with in_process(database, keep_changes=3) as server:
        admin = add_user(database, "admin", "admin")
        agent = add_user(database, "a-7", "agent")
        store = tmp_path / "jonas.sqlite3"
        await sync_once(store, server, agent)  # an old cursor: the store only holds the users' agents
        await upload(server, admin, records())
        await sync_once(store, server, agent)
    assert rows(store, "SELECT id FROM customer") == [("c-1",)]
    assert rows(store, "SELECT count(*) FROM agent") == [(5,)]
    (cursor,) = rows(store, "SELECT value FROM sync_state WHERE key = 'cursor'")[0]
    assert int(cursor) == fetch(database, "SELECT last FROM change_counter")[0][0]


async def test_an_upload_in_any_order_arrives_in_pages_a_store_can_hold(backend, tmp_path, monkeypatch) -> None:
    server, tokens = backend
    customers = [{"type": "customer", "id": f"c-{n}", "name": f"Customer {n}", "owner": "a-7"} for n in range(100, 130)]
    talk = [{"type": "interaction", "id": f"i-{n}", "customer": f"c-{n}", "channel": "chat", "direction": "in",
             "at": "2026-12-01T10:00:00+01:00", "author": "them", "body": "hello"} for n in range(100, 130)]
    orphan = {"type": "interaction", "id": "i-x", "customer": "c-nobody", "channel": "sms", "direction": "in",
              "at": "2026-12-01T10:00:00+01:00", "author": "?", "body": "?"}
    report = await upload(server, tokens["admin"], [*talk, orphan, *customers])  # interactions before their customers
    assert report["changed"] == 60
    assert [(e["index"], "c-nobody" in e["reason"]) for e in report["errors"]] == [(30, True)]
    monkeypatch.setattr("agentdesk.sync.engine.PAGE", 7)  # page boundaries everywhere
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    assert rows(store, "SELECT count(*) FROM timeline_entry WHERE id LIKE 'i-1%'") == [(30,)]
    assert rows(store, "SELECT count(*) FROM waiting WHERE customer_id LIKE 'c-1%'") == [(30,)]


def _waiting_and_index(store: Path) -> tuple[list, list, list]:
    return (rows(store, "SELECT customer_id, since_us, channels, unanswered FROM waiting ORDER BY customer_id"),
            rows(store, "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ix_timeline_customer_at'"),
            rows(store, "SELECT key FROM sync_state WHERE key = 'filling'"))


async def _holding_a_busy_floor(server: InProcess, admin: str) -> None:
    customers = [{"type": "customer", "id": f"c-{n}", "name": f"Customer {n}", "owner": "a-7"} for n in range(100, 112)]
    talk = [{"type": "interaction", "id": f"i-{n}", "customer": f"c-{100 + n % 12}", "channel": ("chat", "sms")[n % 2],
             "direction": ("in", "out", "in")[n % 3], "at": f"2026-12-01T10:{n:02d}:00+01:00", "author": "them",
             "body": "hello"} for n in range(60)]
    report = await upload(server, admin, [*customers, *talk])
    assert report["errors"] == []


async def test_a_first_sync_of_many_pages_into_an_empty_store_ends_as_a_page_by_page_sync_would(
        backend, tmp_path, monkeypatch) -> None:
    server, tokens = backend
    await _holding_a_busy_floor(server, tokens["admin"])
    in_one_page = tmp_path / "one_page.sqlite3"
    await sync_once(in_one_page, server, tokens["a-7"])  # a single page: no bulk load
    monkeypatch.setattr("agentdesk.sync.engine.PAGE", 7)
    filled = tmp_path / "filled.sqlite3"
    await sync_once(filled, server, tokens["a-7"])
    waiting, index, filling = _waiting_and_index(filled)
    assert len(waiting) == 8 and (waiting, index, filling) == _waiting_and_index(in_one_page)
    assert index and not filling
    entries = "SELECT * FROM timeline_entry ORDER BY id"
    assert rows(filled, entries) == rows(in_one_page, entries)


async def test_a_first_fill_stopped_in_the_middle_is_finished_by_the_next_sync(backend, tmp_path) -> None:
    server, tokens = backend
    await _holding_a_busy_floor(server, tokens["admin"])
    store = tmp_path / "stopped.sqlite3"
    async with Replica.open(store) as replica:
        assert await replica.begin_fill()
        await replica.pulled(records(), 0)  # a first page, then the workstation stopped
    assert _waiting_and_index(store)[1:] == ([], [("filling",)])
    await sync_once(store, server, tokens["a-7"])
    reference = tmp_path / "reference.sqlite3"
    await sync_once(reference, server, tokens["a-7"])
    assert _waiting_and_index(store) == _waiting_and_index(reference)
    assert _waiting_and_index(store)[1:] == ([("ix_timeline_customer_at",)], [])


async def test_a_store_that_holds_records_is_never_filled_as_an_empty_one(backend, tmp_path) -> None:
    server, tokens = backend
    store = tmp_path / "jonas.sqlite3"
    await sync_once(store, server, tokens["a-7"])
    async with Replica.open(store) as replica:
        assert not await replica.begin_fill()
