"""The workstation says in words what it set aside or what the backend rejected (issue 12, findings 1 and 12).

Real ``agentdesk serve`` processes, a real store, the real sync loop in the app's worker;
nothing sleeps (see ``tests.test_tui_sync``).
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from tests.backend import add_user
from tests.test_sync_set_aside import GHOST_DECISION, publish
from tests.test_tui_sync import (  # noqa: F401 - fixture
    backend,
    detail_head,
    header,
    make_app,
    open_customer,
    records,
    timeline_text,
    until,
)

GHOST_REASON = "it names customer c-404, which this workstation does not have"


def set_aside_notices(app) -> list:  # noqa: ANN001
    return [notice for notice in app.notice_log.newest_first() if notice.title == "Set aside"]


async def test_a_change_that_cannot_be_applied_is_said_in_the_header_and_once_in_a_notice(
        make_store, backend) -> None:  # noqa: ANN001
    path = await make_store(records())
    backend.server.start()
    backend.seed(records())
    publish(backend.database, [GHOST_DECISION])
    app = make_app(path, backend.link(user="a-7"))
    async with app.run_test(size=(160, 30)) as pilot:
        await until(pilot, lambda: "1 change from the backend could not be applied" in header(app))
        await until(pilot, lambda: bool(set_aside_notices(app)))
        screen = await open_customer(app, pilot, "c-1")
        backend.upload([{"type": "interaction", "id": "i-next", "customer": "c-1", "case": "k-1", "channel": "sms",
                         "direction": "in", "at": "2026-11-21T10:00:00+01:00", "author": "Petra Lindner",
                         "body": "Hello again"}])
        await until(pilot, lambda: "Hello again" in timeline_text(screen))  # the sync goes on past it
        assert "1 change from the backend could not be applied" in header(app)
    (notice,) = set_aside_notices(app)  # once, though every later pull tries it again
    assert notice.message == f"could not apply decision d-ghost (change {_seq_of(backend.database)}) from the " \
                             f"backend: {GHOST_REASON}"
    assert notice.severity == "warning"


def _seq_of(database: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT seq FROM change_log WHERE record_id = 'd-ghost'").fetchone()[0]


async def test_a_decision_the_backend_will_not_take_reads_rejected_on_the_timeline_and_in_a_notice(
        make_store, backend) -> None:  # noqa: ANN001
    path = await make_store(records())
    backend.server.start()
    backend.token = add_user(backend.database, "a-7", "supervisor")  # read-only on the backend, an agent here
    backend.seed(records())
    app = make_app(path, backend.link(user="a-7"), undo_window=timedelta(0))
    async with app.run_test(size=(160, 30)) as pilot:
        screen = await open_customer(app, pilot, "c-1")
        await until(pilot, lambda: "synced" in header(app))
        await pilot.press("v")
        await until(pilot, lambda: "1 decision rejected by the backend" in header(app))
        await until(pilot, lambda: "[refused: rejected by the backe" in timeline_text(screen))  # cut to its width
        await until(pilot, lambda: "[refused: rejected by the backend: the supervisor role is read-only and decides "
                                   "nothing]" in detail_head(screen))
        await until(pilot, lambda: any(n.title == "Refused by the backend" for n in app.notice_log.newest_first()))
    (notice,) = [n for n in app.notice_log.newest_first() if n.title == "Refused by the backend"]
    assert notice.message.endswith("was not carried out: rejected by the backend: "
                                   "the supervisor role is read-only and decides nothing")
    assert set_aside_notices(app) == []  # told once, as a refusal of the agent's own decision


async def test_sync_stopped_by_an_unexpected_failure_says_so_in_words_without_sql(
        make_store, backend, monkeypatch) -> None:  # noqa: ANN001
    from sqlalchemy.exc import IntegrityError

    async def failing_cursor(self, server: str) -> int:  # noqa: ANN001
        raise IntegrityError('INSERT INTO "timeline_entry" ("id", "customer_id") VALUES (?, ?)', ("i-1", "c-1"),
                             sqlite3.IntegrityError("UNIQUE constraint failed: agentdesk_touched.customer_id"))

    # A failure nothing in the loop expects (finding 11's was one): the store's own error is stood in for.
    monkeypatch.setattr("agentdesk.sync.replica.Replica.cursor", failing_cursor)
    path = await make_store(records())
    backend.server.start()
    backend.seed(records())
    app = make_app(path, backend.link(user="a-7"))
    async with app.run_test(size=(200, 30)) as pilot:
        await until(pilot, lambda: "sync stopped" in header(app))
        words = header(app)
    assert "sync stopped: the local store failed: UNIQUE constraint failed: agentdesk_touched.customer_id; " \
           "trying again in 30 s" in words
    for leak in ("[SQL", "INSERT", "sqlite3.", "(Background"):
        assert leak not in words
