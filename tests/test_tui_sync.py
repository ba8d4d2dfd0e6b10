"""The workstation with a backend: the sync state in the header, live records, refusals, offline and back.

Real ``agentdesk serve`` processes (``tests.backend``) on loopback, a real store, the real
sync loop in the app's worker, keys pressed through Textual's pilot. Nothing sleeps: the
tests let the app run (``pilot.pause``) until what they wait for is on screen, with a
generous bound so a broken build fails instead of hanging.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from agentdesk.desk.identity import BackendLink
from tests.backend import Server, add_user, fetch, refused_url
from tests.test_tui_support import VIEWER, people, screen_text, widget_strips

WAIT = 30.0
"""Seconds: covers a server start and the sync loop's backoff; a broken build fails instead of hanging."""


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(delta: timedelta) -> str:
    return (now() + delta).isoformat()


def records(case_status: str = "open") -> list[dict]:
    """Petra with a case disputing 39.90 EUR (within an agent's 50.00 refund limit) and one waiting message."""
    return people() + [
        {"type": "customer", "id": "c-1", "name": "Petra Lindner", "email": "p.lindner@example.net",
         "phone": "+49 170 555 0199", "preferred_channel": "email", "language": "de",
         "timezone": "Europe/Berlin", "location": "Nürnberg, DE", "owner": "a-7"},
        {"type": "case", "id": "k-1", "customer": "c-1", "subject": "Double charge", "status": case_status,
         "opened_at": iso(-timedelta(days=2)), "disputed_amount": "39.90", "currency": "EUR"},
        {"type": "interaction", "id": "i-1", "customer": "c-1", "case": "k-1", "channel": "chat",
         "direction": "in", "at": iso(-timedelta(hours=1)), "author": "Petra Lindner",
         "body": "I was charged twice."},
    ]


class Backend:
    """One backend database with an admin and the agent ``a-7``, and the server process: on the port the
    kernel gave its first start (it prints it), then on the same port again after each stop."""

    def __init__(self, tmp_path: Path) -> None:
        self.database = str(tmp_path / "server.db")
        self.server = Server(self.database)
        self.admin = add_user(self.database, "admin", "admin")
        self.token = ""

    @property
    def url(self) -> str:
        return self.server.url

    def seed(self, objects: list[dict]) -> None:
        """Upload ``objects`` (the server must run), then make ``a-7`` a user (their agent record stays)."""
        self.upload(objects)
        self.token = self.token or add_user(self.database, "a-7", "agent")

    def upload(self, objects: list[dict]) -> None:
        answer = httpx.post(f"{self.url}/records", json={"records": objects},
                            headers={"Authorization": f"Bearer {self.admin}"}, timeout=10).json()
        assert not answer["errors"], answer

    def stored(self, record_type: str, record_id: str) -> str:
        (row,) = fetch(self.database, f"SELECT body FROM record WHERE type = '{record_type}' AND id = '{record_id}'")
        return row[0]

    def link(self, **options: object) -> BackendLink:
        token = self.token
        return BackendLink(self.url, lambda: token, **options)  # type: ignore[arg-type]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    made = Backend(tmp_path)
    try:
        yield made
    finally:
        made.server.stop()


def make_app(path: Path, link: BackendLink | None, **options: object):  # noqa: ANN201
    from agentdesk.tui.app import AgentDeskApp

    options.setdefault("agent_id", "a-7")
    return AgentDeskApp(path, clock=now, viewer_zone=VIEWER, backend=link, **options)  # type: ignore[arg-type]


def header(app) -> str:  # noqa: ANN001
    from agentdesk.tui.widgets.desk_header import DeskHeader

    return app.screen.query_one(DeskHeader).render().plain


async def until(pilot, what: Callable[[], object], timeout: float = WAIT) -> None:  # noqa: ANN001
    """Let the app run until ``what()`` is true; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "not reached in time"
        await pilot.pause()


async def open_customer(app, pilot, customer_id: str):  # noqa: ANN001, ANN202
    from agentdesk.tui.messages import OpenCustomer
    from agentdesk.tui.screens.customer import CustomerScreen

    await asyncio.wait_for(app.queue_painted.wait(), WAIT)
    await asyncio.wait_for(app.desk.wait_ledger(), WAIT)
    app.post_message(OpenCustomer(customer_id))
    await until(pilot, lambda: isinstance(app.screen, CustomerScreen) and app.screen.data is not None)
    screen = app.screen
    await asyncio.wait_for(screen.timeline.wait_painted(), WAIT)
    await until(pilot, lambda: screen.data.decisions.choices is not None)
    return screen


def timeline_text(screen) -> str:  # noqa: ANN001
    return "\n".join(strip.text for strip in widget_strips(screen.timeline))


def detail_head(screen) -> str:  # noqa: ANN001
    return str(screen.query_one("#detail-head").render())


def outbox(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM outbox").fetchone()[0]


# --------------------------------------------------------------------------- the words


def test_a_refusal_reads_with_its_reason_and_before_an_escalations_approval() -> None:
    from agentdesk.domain.decision_text import shown_state
    from agentdesk.domain.model import Decision

    def decision(kind: str = "refund", **fields: object) -> Decision:
        return Decision(id="d-1", customer="c-1", kind=kind, agent="a-7", at=now(), **fields)  # type: ignore[arg-type]

    assert shown_state(decision(state="refused", extra={"refusal": "case k-1 is closed"})) == (
        "refused: case k-1 is closed")
    assert shown_state(decision(state="refused")) == "refused"
    assert shown_state(decision(state="refused", extra={"refusal": "case k-1 is closed"}, kind="escalate",
                                approval="waiting")) == "refused: case k-1 is closed"
    assert shown_state(decision(state="confirmed")) == "confirmed"


# --------------------------------------------------------------------------- without a backend


async def test_without_a_backend_the_header_says_local_only(make_store) -> None:  # noqa: ANN001
    path = await make_store(records())
    app = make_app(path, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await asyncio.wait_for(app.queue_painted.wait(), WAIT)
        await pilot.pause()
        assert "local only" in header(app)
        assert app.syncer is None


async def test_a_backend_without_a_token_is_named_and_the_desk_works_locally(make_store) -> None:  # noqa: ANN001
    path = await make_store(records())
    app = make_app(path, BackendLink("http://127.0.0.1:9", lambda: None), undo_window=timedelta(0))
    async with app.run_test(size=(140, 30)) as pilot:
        await until(pilot, lambda: "no token for http://127.0.0.1:9: run agentdesk login" in header(app))
        assert "Jonas Weber" in header(app)  # --as decides: there is no token to
        screen = await open_customer(app, pilot, "c-1")
        await pilot.press("v")
        await until(pilot, lambda: "[queued]" in timeline_text(screen))
    assert outbox(path) == 1  # kept for the day a token is there


# --------------------------------------------------------------------------- offline


async def test_offline_the_header_counts_what_waits(make_store) -> None:  # noqa: ANN001
    path = await make_store(records())
    app = make_app(path, BackendLink(refused_url(), lambda: "adk_nobody", user="a-7"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, "c-1")
        await until(pilot, lambda: "offline: nothing waiting" in header(app))
        await pilot.press("v")  # voucher: pending in its undo window, nothing waits yet
        await until(pilot, lambda: bool(screen.pending))
        assert "offline: nothing waiting" in header(app)
        await pilot.press("s")  # send now: queued, in the outbox
        await until(pilot, lambda: "offline: 1 decision waiting" in header(app))
        # deciding goes on offline: a second decision, then undo of a third
        await pilot.press("r", "s")
        await until(pilot, lambda: "offline: 2 decisions waiting" in header(app))
        await pilot.press("c")
        await until(pilot, lambda: bool(screen.pending))
        await pilot.press("u")
        await until(pilot, lambda: not screen.pending)
        assert "offline: 2 decisions waiting" in header(app)
        assert len(header(app)) <= 80 and "Petra" in header(app)  # at 80 columns the sync words stay whole
    assert outbox(path) == 2


async def test_offline_decide_then_the_backend_comes_back_and_the_outbox_drains(make_store, backend) -> None:  # noqa: ANN001
    path = await make_store(records())
    backend.server.start()
    backend.seed(records())
    backend.server.stop()
    app = make_app(path, backend.link(user="a-7"), undo_window=timedelta(0))
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_customer(app, pilot, "c-1")
        await pilot.press("v")
        await until(pilot, lambda: "offline: 1 decision waiting" in header(app))
        (decision_id,) = [d.id for d in await app.desk.reader.decisions("c-1")]
        backend.server.start()
        await until(pilot, lambda: "synced" in header(app))
        await until(pilot, lambda: "[confirmed]" in timeline_text(screen))
    assert outbox(path) == 0
    assert '"state":"confirmed"' in backend.stored("decision", decision_id)


# --------------------------------------------------------------------------- online


async def test_a_sync_report_that_arrives_as_the_app_closes_is_let_go(make_store) -> None:  # noqa: ANN001
    # The sync worker reports about once a second: one may be handled after the last screen has gone.
    from agentdesk.sync.status import SyncStatus
    from agentdesk.tui.messages import SyncStatusChanged

    app = make_app(await make_store(records()), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    assert not app.screen_stack
    app.on_sync_status_changed(SyncStatusChanged(SyncStatus(True, last_synced=now())))


async def test_synced_and_its_age_in_the_header(make_store, backend) -> None:  # noqa: ANN001
    from agentdesk.tui.app import AgentDeskApp

    path = await make_store(records())
    backend.server.start()
    backend.seed(records())
    clock = [now()]
    app = AgentDeskApp(path, agent_id="a-7", clock=lambda: clock[0], viewer_zone=VIEWER,
                       backend=backend.link(user="a-7"))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "synced just now" in header(app))
        clock[0] += timedelta(seconds=2)  # no new report: the words age by themselves
        assert "synced 2 s ago" in header(app)


async def test_a_record_written_on_the_backend_reaches_the_open_customer_by_the_live_path(
        make_store, backend, monkeypatch) -> None:  # noqa: ANN001
    # The store watcher's own look comes once a minute here, and the sync loop pulls only when the backend's
    # stream announces a change: what arrives before the minute came by the live path. How fast it comes is
    # the live_latency benchmark's business.
    monkeypatch.setattr("agentdesk.tui.app.WATCH_SECONDS", 60.0)
    path = await make_store(records())
    backend.server.start()
    backend.seed(records())
    app = make_app(path, backend.link(user="a-7"))
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_customer(app, pilot, "c-1")
        await until(pilot, lambda: "synced" in header(app))
        body = "Any news on my refund? (sent from the app)"
        await asyncio.to_thread(backend.upload, [{
            "type": "interaction", "id": "i-live", "customer": "c-1", "case": "k-1", "channel": "app",
            "direction": "in", "at": iso(timedelta(0)), "author": "Petra Lindner", "body": body}])
        await until(pilot, lambda: "Any news on my refund?" in timeline_text(screen), timeout=WAIT)


async def test_a_decision_queued_online_is_pushed_at_once(make_store, backend, monkeypatch) -> None:  # noqa: ANN001
    # The loop's own idle look comes once a minute here: a push in time came from the nudge.
    monkeypatch.setattr("agentdesk.sync.engine.IDLE_SECONDS", 60.0)
    path = await make_store(records())
    backend.server.start()
    backend.seed(records())
    app = make_app(path, backend.link(user="a-7"))
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_customer(app, pilot, "c-1")
        await until(pilot, lambda: "synced" in header(app))
        await pilot.press("v")
        await until(pilot, lambda: bool(screen.pending))
        await pilot.press("s")  # send now
        await until(pilot, lambda: "[confirmed]" in timeline_text(screen), timeout=5)
        assert "synced" in header(app)
    assert outbox(path) == 0


async def test_a_decision_the_backend_refuses_says_so_on_the_timeline_and_in_a_notice(
        make_store, backend) -> None:  # noqa: ANN001
    path = await make_store(records())
    backend.server.start()
    backend.seed(records(case_status="closed"))  # closed on the backend; this store has not heard yet
    backend.server.stop()
    app = make_app(path, backend.link(user="a-7"), undo_window=timedelta(0))
    async with app.run_test(size=(140, 30)) as pilot:
        screen = await open_customer(app, pilot, "c-1")
        await pilot.press("r")  # refund 39.90 EUR on k-1: allowed here, queued at once
        await until(pilot, lambda: "offline: 1 decision waiting" in header(app))
        backend.server.start()
        await until(pilot, lambda: "[refused: case k-1" in timeline_text(screen))  # the row, cut to its width
        assert "refund 39.90" in timeline_text(screen)  # and it still says what was refused
        await until(pilot, lambda: "[refused: case k-1 is closed]" in detail_head(screen))  # the whole reason
        await until(pilot, lambda: any("was not carried out" in n.message for n in app.notice_log.newest_first()))
        await until(pilot, lambda: "synced" in header(app))
        notices = [n for n in app.notice_log.newest_first() if n.title == "Refused by the backend"]
        (promise,) = [p for p in await app.desk.reader.promises(("cancelled",), "c-1")]
        assert not await app.desk.reader.open_promises("c-1")
        assert "No open promises." in str(screen.query_one("#promises").render())
        await until(pilot, lambda: "REFUSED  refund 39.90 EUR · by the backend: case k-1 is closed"
                    in screen_text(app))  # the bar's outcome line said QUEUED; now it says what became of it
    assert len(notices) == 1  # once, however often the store changes afterwards
    assert notices[0].message == "refund 39.90 EUR for Petra Lindner was not carried out: case k-1 is closed"
    assert notices[0].severity == "warning"
    assert promise.state == "cancelled"


OLD_REFUSAL = {"type": "decision", "id": "d-old", "customer": "c-1", "case": "k-1", "kind": "voucher",
               "amount": "10.00", "currency": "EUR", "agent": "a-7", "at": iso(-timedelta(days=20)),
               "state": "refused", "refusal": "over this customer's 30-day budget"}


async def test_a_fresh_store_takes_who_works_and_everything_else_from_the_backend(
        make_store, backend) -> None:  # noqa: ANN001
    path = await make_store([])
    backend.server.start()
    backend.seed(records())
    app = make_app(path, backend.link(asked_as="a-9"), agent_id=None)  # $AGENTDESK_TOKEN: nobody known yet
    async with app.run_test(size=(140, 30)) as pilot:
        await asyncio.wait_for(app.queue_painted.wait(), WAIT)
        await until(pilot, lambda: app.desk.agent is not None and app.desk.ledger is not None)
        assert app.desk.agent.id == "a-7"
        assert "Jonas Weber" in header(app)
        screen = await open_customer(app, pilot, "c-1")
        # History arriving later (a big first pull comes in pages) holds refusals nobody here waits for.
        await asyncio.to_thread(backend.upload, [OLD_REFUSAL])
        await until(pilot, lambda: "[refused: over this" in timeline_text(screen))
        await until(pilot, lambda: "synced" in header(app))
        notices = [notice.message for notice in app.notice_log.newest_first()]
    assert any("--as a-9 does not apply" in notice for notice in notices)
    assert not any("not carried out" in notice for notice in notices)  # history is not news

    backend.server.stop()  # the next start is offline: the backend's answer was kept
    again = make_app(path, backend.link(), agent_id=None, undo_window=timedelta(0))
    async with again.run_test(size=(140, 30)) as pilot:
        screen = await open_customer(again, pilot, "c-1")  # the ledger is open: deciding is offered
        await until(pilot, lambda: again.desk.agent is not None)
        assert again.desk.agent.id == "a-7"
        await pilot.press("v")
        await until(pilot, lambda: "offline: 1 decision waiting" in header(again))


async def test_read_only_pulls_shows_the_state_and_writes_no_outbox(make_store, backend) -> None:  # noqa: ANN001
    path = await make_store(people())
    backend.server.start()
    backend.seed(records())
    supervisor = add_user(backend.database, "s-1", "supervisor")
    app = make_app(path, BackendLink(backend.url, lambda: supervisor, user="s-1"), agent_id="s-1",
                   read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "synced" in header(app))
        assert "READ-ONLY" in header(app)
        await until(pilot, lambda: app.desk.agent is not None)  # s-1's record came with the pull
        assert app.desk.ledger is None
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM customer").fetchone()[0] == 1
    assert outbox(path) == 0


# --------------------------------------------------------------------------- what the command line gives the app


@pytest.fixture
def command_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201
    """``main`` with the workstation's run recorded, not run; no saved login, no token, no server in the env."""
    from tests.test_config import Opened

    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("AGENTDESK_CONFIG", str(config))
    for name in ("AGENTDESK_TOKEN", "AGENTDESK_SERVER"):
        monkeypatch.delenv(name, raising=False)
    return Opened(monkeypatch)


def test_without_a_backend_the_workstation_is_local_and_as_decides(command_line, tmp_path: Path) -> None:  # noqa: ANN001
    from agentdesk.cli import main

    assert main(["--db", str(tmp_path / "s.sqlite3"), "--as", "a-7"]) == 0
    assert command_line.app.backend is None and command_line.app.agent_id == "a-7"


def test_with_a_token_in_the_environment_the_backend_names_the_agent(command_line, monkeypatch,  # noqa: ANN001
                                                                     tmp_path: Path) -> None:
    from agentdesk.cli import main

    monkeypatch.setenv("AGENTDESK_TOKEN", "adk_secret")
    assert main(["--db", str(tmp_path / "s.sqlite3"), "--server", "http://127.0.0.1:8470/", "--as", "a-9"]) == 0
    app = command_line.app
    assert app.agent_id is None  # asked of /me in the app, after the first paint
    assert (app.backend.url, app.backend.user, app.backend.asked_as) == ("http://127.0.0.1:8470", None, "a-9")
    assert app.backend.find_token() == "adk_secret"


def test_the_saved_login_names_the_agent_and_its_token_is_looked_up_later(command_line, monkeypatch,  # noqa: ANN001
                                                                         tmp_path: Path) -> None:
    from agentdesk.cli import main
    from agentdesk.sync.credentials import login_path

    login_path().write_text('{"server": "http://127.0.0.1:8470", "user": "a-7"}\n', encoding="utf-8")
    assert main(["--db", str(tmp_path / "s.sqlite3")]) == 0
    app = command_line.app
    assert (app.agent_id, app.backend.url, app.backend.user) == ("a-7", "http://127.0.0.1:8470", "a-7")


def test_a_backend_without_any_token_leaves_as_in_charge_and_the_demo_never_syncs(command_line, monkeypatch,  # noqa: ANN001
                                                                                   tmp_path: Path) -> None:
    from agentdesk.cli import main

    monkeypatch.setenv("AGENTDESK_SERVER", "http://127.0.0.1:8470")
    assert main(["--db", str(tmp_path / "s.sqlite3"), "--as", "a-9"]) == 0
    app = command_line.apps[-1]
    assert app.agent_id == "a-9" and app.backend.find_token() is None
    assert main(["demo", "--db", str(tmp_path / "demo.sqlite3")]) == 0
    assert command_line.apps[-1].backend is None
