"""One bad mutation never blocks the outbox behind it (issue 12, findings 7 and 12).

A 4xx answer is final: the mutation is kept as rejected with the backend's reason, its
decision reads so on the timeline, and the queue behind it moves on (a real ``agentdesk
serve``). A 500 is tried again after growing waits and then set aside; 502/503/504 only
wait. For those an ``httpx.MockTransport`` stands in for the backend: a real backend that
fails one request on purpose does not exist, and the client's reaction to the status code is
what is tested.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from agentdesk.domain.authority import Proposal
from agentdesk.server.limits import MAX_REQUEST_BYTES
from agentdesk.store.ledger import Ledger
from agentdesk.store.reader import TIMELINE_DECISION_STATE
from agentdesk.sync.client import BackendClient, Unreachable
from agentdesk.sync.engine import SERVER_FAILURES, Syncer
from agentdesk.sync.mutations import mutation_body
from agentdesk.sync.replica import Replica
from agentdesk.sync.status import MUTATION
from tests.test_ledger import MATRIX, Clock, eur, records, rows
from tests.test_outbox import outbox
from tests.test_sync_set_aside import backend  # noqa: F401 - fixture

QUEUED = timedelta(0)


async def take_two(store: Path, clock: Clock | None = None) -> tuple[str, str]:
    """A refund, then a note behind it, both queued for the backend; their decision ids."""
    async with Ledger.open(store, MATRIX, clock) as ledger:
        refund = await ledger.take("a-7", "c-1", Proposal("refund", eur("20.00")), case_id="k-1", undo_window=QUEUED)
        note = await ledger.take("a-7", "c-1", Proposal("note", reason="called back"), undo_window=QUEUED)
    assert refund.decision is not None and note.decision is not None
    return refund.decision.id, note.decision.id


def shown(store: Path, decision_id: str) -> str:
    """What the decision's line on the timeline says of its state (the reader's own SQL)."""
    ((state,),) = rows(store, f"SELECT {TIMELINE_DECISION_STATE} FROM timeline_entry WHERE decision_id = ?",
                       decision_id)
    return state


async def test_a_mutation_the_backend_refuses_to_take_is_kept_with_its_reason_and_the_queue_moves_on(
        backend, tmp_path) -> None:  # noqa: ANN001
    server, tokens = backend
    store, elsewhere = tmp_path / "jonas.sqlite3", tmp_path / "elsewhere.sqlite3"
    for path in (store, elsewhere):
        async with Replica.open(path) as replica, BackendClient(server.url, tokens["a-7"]) as client:
            await Syncer(replica, client).once()
    refund, note = await take_two(store)
    first = outbox(store)[0]
    async with Ledger.open(elsewhere, MATRIX) as ledger:  # another body that took the refund's mutation id first
        await ledger.take("a-7", "c-1", Proposal("note", reason="elsewhere"), undo_window=QUEUED)
    taken = httpx.put(f"{server.url}/mutations/{first.id}", json=mutation_body(outbox(elsewhere)[0]),
                      headers={"Authorization": f"Bearer {tokens['a-7']}"}, timeout=30)
    assert taken.status_code == 200, taken.text

    async with Replica.open(store) as replica, BackendClient(server.url, tokens["a-7"]) as client:
        syncer = Syncer(replica, client)
        report = await syncer.once()
        kept, status = await syncer.kept(), await syncer.status()

    assert report.applied == 1  # the note behind it went through
    assert rows(store, "SELECT state FROM decision WHERE id = ?", note) == [("confirmed",)]
    (rejected,) = report.rejected
    assert rejected.id == first.id and rejected.decision == refund and rejected.source == MUTATION
    assert rejected.what == "refund 20.00 EUR for c-1"
    assert rejected.reason == f"mutation {first.id} was already applied with a different body"
    assert kept == [rejected]
    assert shown(store, refund) == f"refused: rejected by the backend: {rejected.reason}"
    assert rows(store, "SELECT state FROM promise WHERE decision_id = ?", refund) == [("cancelled",)]
    assert [item.id for item in outbox(store)] == [first.id]  # kept, for the user to see, and never sent again
    assert status.rejected == 1 and status.waiting == 0
    assert status.words(status.last_synced).endswith(" · 1 decision rejected by the backend")


class FailingBackend:
    """Answers a push request with ``status`` while it carries a mutation whose id is in ``failing``; takes every
    other one."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.failing: set[str] = set()
        self.tried: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/mutations/batch":
            ids = [pushed["id"] for pushed in json.loads(request.content)["mutations"]]
            self.tried += ids
            if self.failing.intersection(ids):
                return httpx.Response(self.status, json={"detail": "internal error (ValueError)"})
            return httpx.Response(200, json={"results": [{"id": ident, "status": "applied", "records": [],
                                                          "cursor": None} for ident in ids]})
        return httpx.Response(200, json={"changes": [], "cursor": 0, "head": 0, "more": False})


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


async def test_a_mutation_the_backend_fails_on_is_tried_again_later_and_then_set_aside(store: Path) -> None:
    clock = Clock()
    refund, _note = await take_two(store, clock)
    first, second = outbox(store)
    backend = FailingBackend(500)
    backend.failing.add(first.id)
    async with Replica.open(store) as replica, \
            BackendClient("http://backend.test", "token", transport=httpx.MockTransport(backend)) as client:
        syncer = Syncer(replica, client, clock=clock)
        report = await syncer.push()
        assert backend.tried == [first.id, second.id]  # the one behind it did not wait
        assert [item.id for item in outbox(store)] == [first.id]
        assert report.retrying == ["refund 20.00 EUR for c-1: the backend failed on this request "
                                   f"(internal error (ValueError)); tried 1 of {SERVER_FAILURES} times"]
        await syncer.push()
        assert backend.tried == [first.id, second.id]  # not at once again
        waits = []
        for attempt in range(2, SERVER_FAILURES + 1):
            waited = 0
            while backend.tried.count(first.id) < attempt:
                clock.advance(seconds=1)
                waited += 1
                report = await syncer.push()
            waits.append(waited)
        kept = await syncer.kept()
        status = await syncer.status()
    assert backend.tried.count(first.id) == SERVER_FAILURES
    assert waits == sorted(set(waits)) and waits[-1] >= 4 * waits[0]  # the waits grow
    (rejected,) = report.rejected
    assert kept == [rejected] and rejected.decision == refund
    assert rejected.reason == ("the backend failed on this request (internal error (ValueError)); "
                               f"tried {SERVER_FAILURES} times")
    assert shown(store, refund) == f"refused: rejected by the backend: {rejected.reason}"
    assert status.waiting == 0 and status.rejected == 1


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_an_unavailable_backend_only_waits(store: Path, status: int) -> None:
    clock = Clock()
    await take_two(store, clock)
    backend = FailingBackend(status)
    backend.failing.update(item.id for item in outbox(store))
    async with Replica.open(store) as replica, \
            BackendClient("http://backend.test", "token", transport=httpx.MockTransport(backend)) as client:
        syncer = Syncer(replica, client, clock=clock)
        for _ in range(SERVER_FAILURES * 2):
            with pytest.raises(Unreachable):
                await syncer.push()
            clock.advance(hours=1)
        status_now = await syncer.status()
    assert status_now.waiting == 2 and status_now.rejected == 0
    assert [item.attempts for item in outbox(store)] == [0, 0]  # nothing counts against them


async def test_a_page_of_long_mutations_goes_in_requests_the_backend_takes(store: Path) -> None:
    """Long notes (four bytes a character) add up to several MiB: no request passes the backend's cap."""
    async with Ledger.open(store, MATRIX) as ledger:
        for n in range(120):
            await ledger.take("a-7", "c-1", Proposal("note", reason=f"{n} " + "🙂" * 9_000), undo_window=QUEUED)
    sizes: list[int] = []
    applied: list[str] = []

    def backend(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/mutations/batch":
            return httpx.Response(200, json={"changes": [], "cursor": 0, "head": 0, "more": False})
        sizes.append(len(request.content))
        if len(request.content) > MAX_REQUEST_BYTES:
            return httpx.Response(413, json={"detail": "too large"})
        ids = [pushed["id"] for pushed in json.loads(request.content)["mutations"]]
        applied.extend(ids)
        return httpx.Response(200, json={"results": [{"id": ident, "status": "applied", "records": [], "cursor": None}
                                                     for ident in ids]})

    async with Replica.open(store) as replica, \
            BackendClient("http://backend.test", "token", transport=httpx.MockTransport(backend)) as client:
        report = await Syncer(replica, client).push()
    assert report.applied == 120 and not report.rejected
    assert len(applied) == 120 and outbox(store) == []
    assert max(sizes) <= MAX_REQUEST_BYTES and sum(sizes) > 3 * MAX_REQUEST_BYTES
