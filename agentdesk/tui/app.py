"""The workstation: opens the store, knows who is working, and starts on the queue.

Start-up stays cheap: nothing imported here pulls in SQLAlchemy, SQLModel,
pydantic or Alembic (the reader is hand-written SQL over aiosqlite).

Hooks for benchmarks and tests
------------------------------
* ``AGENTDESK_EXIT_AFTER_FIRST_PAINT=1`` in the environment: the app exits as soon
  as the queue screen has drawn its first rows with data (or its empty sentence).
* :attr:`AgentDeskApp.queue_painted` is an :class:`asyncio.Event` set at that moment.
* :meth:`AgentDeskApp.check_store` looks once at the store's ``PRAGMA data_version`` (the
  watcher does it every second) and delivers :class:`~agentdesk.tui.messages.StoreChanged`
  when another connection committed; :meth:`AgentDeskApp.check_callbacks` looks for callbacks
  that fell due (every 30 s). Tests call both directly instead of waiting.
* The timeline (``CustomerScreen.timeline``, a :class:`~agentdesk.tui.widgets.line_list.LineList`)
  posts ``LineList.Painted`` after an open or a jump once the rows in view are drawn
  with data; ``await timeline.wait_painted()`` returns then.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, get_args

from rich.text import Text
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import WorkerCancelled, WorkerFailed

from agentdesk.desk.identity import ASKING_WHO, BackendLink
from agentdesk.desk.store import StoreReader
from agentdesk.desk.watch import StoreWatch
from agentdesk.domain import reply
from agentdesk.domain.decision_text import DECISIONS_NOT_AVAILABLE
from agentdesk.domain.model import Agent
from agentdesk.domain.presence import Seen
from agentdesk.domain.text import known_agents_words, one_line
from agentdesk.domain.timefmt import duration
from agentdesk.sync.presence import Presence
from agentdesk.tui.messages import (
    CallbacksDue,
    DecisionsQueued,
    DueCallback,
    EscalationOutcome,
    OpenCustomer,
    PresenceSeen,
    Presenting,
    QueuePainted,
    RefusedDecision,
    RepliesQueued,
    StoreChanged,
    SyncApplied,
    SyncIdentity,
    SyncKept,
    SyncStatusChanged,
    SyncStopped,
)
from agentdesk.tui.notice_log import Notice, NoticeLog
from agentdesk.tui.syncing import LOCAL_ONLY, follow, status_line
from agentdesk.tui.widgets.desk_header import DeskHeader, SyncLine

if TYPE_CHECKING:
    from agentdesk.desk.store import Ledger
    from agentdesk.domain.authority import AuthorityMatrix
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.status import SyncStatus

EXIT_AFTER_FIRST_PAINT_ENV = "AGENTDESK_EXIT_AFTER_FIRST_PAINT"
CUSTOMER_SCREEN = "customer"
WATCH_SECONDS = 1.0
"""How often the store file is asked whether anyone committed (one cheap pragma)."""
RELEASE_SECONDS = 2
"""How often the app queues decisions whose undo window ended (the customer screen counts down itself)."""
CALLBACK_SECONDS = 30.0
"""How often the signed-in agent's callbacks are checked for falling due."""
SEVERITY_TITLES = {"warning": "Warning", "error": "Error"}
AnimationLevel = Literal["none", "basic", "full"]
"""Textual's values of ``$TEXTUAL_ANIMATIONS``."""
ANIMATION_LEVELS: tuple[AnimationLevel, ...] = get_args(AnimationLevel)
MAX_CALLBACK_NOTICES = 2
"""More callbacks falling due at one look than this are told in one notice."""


def _real_now() -> datetime:
    return datetime.now(timezone.utc)


async def _none() -> None:
    return None


def _demo_matrix() -> AuthorityMatrix:
    from agentdesk.authority_file import demo_matrix

    return demo_matrix()


@dataclass
class Desk:
    """What every screen needs: the store, the clock, who is working and how times are shown.

    The store opens while the first screen is being built: :meth:`wait_ready` returns
    the reader once it is open (and the signed-in agent is known).
    """

    clock: Callable[[], datetime]
    read_only: bool = False
    viewer_zone: tzinfo | None = None
    """The viewer's zone; None means the machine's local zone."""
    agent: Agent | None = None
    agents: dict[str, Agent] = field(default_factory=dict)
    matrix: AuthorityMatrix | None = None
    undo_window: timedelta | None = timedelta(seconds=10)
    """How long a decision stays pending and undoable; None: until the agent sends it."""
    ledger: Ledger | None = None
    """Where decisions are taken; None when read-only (no write path at all) or no agent is signed in."""
    identity_note: str | None = None
    """Why nobody is signed in yet, when that is not for ``--as`` to fix (the backend is asked who the token is)."""
    sync_status: SyncStatus | None = None
    """The sync loop's last report; None when it is not running."""
    presence: tuple[Seen, ...] = ()
    """Who else has which customer open, as the backend last said."""
    presence_known: bool = False
    """The backend has said who is present (with no backend, or none that answered, nobody is known to be)."""
    sync_note: SyncLine = LOCAL_ONLY
    """What the header says about the backend when no sync loop reports (no backend, no token, stopped)."""
    _reader: StoreReader | None = None
    _failure: str | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the store is open for reading (what the first paint needs)."""
    ledger_ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when it is known whether, and through which ledger, this workstation may decide."""

    @property
    def reader(self) -> StoreReader:
        if self._reader is None:
            raise RuntimeError("the store is not open yet (await Desk.wait_ready())")
        return self._reader

    async def wait_ready(self) -> StoreReader:
        """The reader once the store is open; raises RuntimeError when it could not be opened."""
        await self.ready.wait()
        if self._failure is not None:
            raise RuntimeError(self._failure)
        return self.reader

    def failed(self, reason: str) -> None:
        """The store cannot be opened: whoever waits for it is told now, instead of waiting forever."""
        self._failure = reason
        self.ready.set()
        self.ledger_ready.set()

    def opened(self, reader: StoreReader, agent: Agent | None, agents: list[Agent]) -> None:
        self._reader = reader
        self.agent = agent
        self.agents = {agent_.id: agent_ for agent_ in agents}
        self.ready.set()

    def ledger_opened(self, ledger: Ledger | None) -> None:
        """After the first paint: the write path (None when read-only or nobody is signed in)."""
        self.ledger = ledger
        self.ledger_ready.set()

    async def wait_ledger(self) -> Ledger | None:
        """The ledger once it is open, or None when this workstation may not decide."""
        await self.ready.wait()
        await self.ledger_ready.wait()
        return self.ledger

    def now(self) -> datetime:
        """Now, aware, in UTC."""
        return self.clock()

    def sync_line(self) -> SyncLine:
        """The header's words about the backend: the loop's state as of now, else why there is none."""
        if self.sync_status is not None:
            return status_line(self.sync_status, self.clock())
        return self.sync_note

    @property
    def approves(self) -> bool:
        """Does the signed-in agent's role approve escalations (and may it write at all)?"""
        if self.read_only or self.ledger is None or self.agent is None or self.matrix is None:
            return False
        role = self.matrix.role(self.agent.role)
        return role is not None and not role.read_only and bool(role.approves)

    def to_viewer(self, at: datetime) -> datetime:
        return at.astimezone(self.viewer_zone) if self.viewer_zone is not None else at.astimezone()

    def viewer_now(self) -> datetime:
        return self.to_viewer(self.clock())

    def person(self, author: str | None) -> str:
        """An agent's name for an agent id; anything else as given (the caller makes it safe to show)."""
        if not author:
            return ""
        agent = self.agents.get(author)
        return agent.name if agent is not None else author

    @property
    def person_label(self) -> str:
        """``Jonas Weber · agent`` (store data, made safe to draw), or ``no agent selected``."""
        if not self.ready.is_set():
            return "…"
        if self.agent is None:
            return self.identity_note or "no agent selected"
        return f"{one_line(self.agent.name, 60)} · {one_line(self.agent.role, 30)}"


class AgentDeskApp(App[None], inherit_bindings=False):
    """The agentdesk workstation on one store file."""

    TITLE = "agentdesk"
    CSS_PATH = ["app.tcss", "screens/queue.tcss"]
    """The first screen's styles; the others are read right after the first paint (see ``_warm_up``)."""
    HELP_TITLE: ClassVar[str] = "Everywhere"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True,
                id="app.command_palette"),
        Binding("ctrl+n", "notices", "Recent notices", show=False, id="app.notices"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit (from anywhere)", show=False, priority=True, id="app.quit_anywhere"),
        Binding("ctrl+c", "help_quit", "How to quit", show=False, system=True, id="app.help_quit"),
    ]

    def __init__(self, store_path: Path, agent_id: str | None = None, read_only: bool = False,
                 clock: Callable[[], datetime] | None = None, *,
                 viewer_zone: tzinfo | None = None, matrix: AuthorityMatrix | None = None,
                 undo_window: timedelta | None = timedelta(seconds=10), theme: str = "default",
                 keymap: Mapping[str, str] | None = None, animations: bool = False,
                 backend: BackendLink | None = None) -> None:
        """``matrix``: the authority matrix (default: the demo's); ``undo_window``: None for no time limit.

        ``backend``: the backend to sync with continuously (None: local only). With a backend the
        token decides who is working: ``agent_id`` is then the token's user when known, else None
        until the backend says (see :class:`~agentdesk.tui.syncing.BackendLink`).

        ``theme``: one of ``agentdesk.config.THEMES``; ``keymap``: binding id → keys, as made by
        :func:`agentdesk.tui.keymap.resolve_keymap`; ``animations``: Textual's animations, unless
        ``$TEXTUAL_ANIMATIONS`` says otherwise (motion can distract and sicken: off by default).
        """
        super().__init__()
        level = os.environ.get("TEXTUAL_ANIMATIONS", "").strip().lower()
        asked_for: AnimationLevel = "full" if animations else "none"
        self.animation_level = next((known for known in ANIMATION_LEVELS if known == level), asked_for)
        self.theme_name = theme
        from agentdesk.tui.themes import apply_theme

        apply_theme(self, theme)  # before the first style pass, so it costs nothing at start
        if keymap:
            self.set_keymap(dict(keymap))
        self.matrix = matrix
        self.undo_window = undo_window
        self.store_path = Path(store_path)
        self.agent_id = agent_id
        self.read_only = read_only
        self.clock = clock or _real_now
        self.viewer_zone = viewer_zone
        self.desk: Desk | None = None
        self.queue_painted = asyncio.Event()
        """Set when the queue screen has drawn its first rows with data."""
        self._exit_after_first_paint = bool(os.environ.get(EXIT_AFTER_FIRST_PAINT_ENV))
        self._stack = AsyncExitStack()
        self._watch: StoreWatch | None = None
        self._alerted_callbacks: set[str] = set()
        """Promise ids of callbacks already alerted."""
        self._store_lock = asyncio.Lock()
        self._callback_lock = asyncio.Lock()
        self._warned_pending = False
        """Quit was pressed once with decisions pending and the agent was told; the next press quits."""
        self.notice_log = NoticeLog()
        """Every notification of this session, for the notices screen (they vanish from view)."""
        self.backend = backend
        self.presence = Presence(None, reports=False) if backend is not None else None
        """What this workstation tells the backend it has open, and who else is where (with a backend)."""
        self.syncer: Syncer | None = None
        """The running sync loop (to nudge it when something is queued); None without a backend, or until it runs."""
        self._signing_in = False
        """A worker is reading the signed-in agent's record (after the backend named them, or a pull)."""

    # --- life cycle -----------------------------------------------------------------

    def on_mount(self) -> None:
        from agentdesk.tui.screens.queue import QueueScreen

        self.desk = Desk(clock=self.clock, read_only=self.read_only, viewer_zone=self.viewer_zone,
                         undo_window=self.undo_window)
        if self.backend is not None and self.agent_id is None:
            self.desk.identity_note = ASKING_WHO
        elif self.backend is not None:
            self._said_who()
        if self.read_only:
            self.sub_title = "READ-ONLY"
        self._open_store(self.desk)  # the store opens while the queue screen is built
        self.push_screen(QueueScreen(self.desk))
        if self.read_only:  # a supervisor watches the floor first; escape shows the queue below it
            from agentdesk.tui.screens.floor import FloorScreen

            self.push_screen(FloorScreen(self.desk))

    @work(group="store", exit_on_error=False)
    async def _open_store(self, desk: Desk) -> None:
        """Worker: open the store for the app's lifetime and learn who is working."""
        try:
            reader = await self._stack.enter_async_context(StoreReader.open(self.store_path,
                                                                            query_only=self.read_only))
            agent, agents = await asyncio.gather(
                reader.agent(self.agent_id) if self.agent_id else _none(), reader.agents())
        except Exception as error:  # noqa: BLE001 - reported in one line, then exit 1
            reason = f"agentdesk: cannot open {self.store_path}: {error}"
            desk.failed(reason)  # the queue screen's first read waits for the store: it gives up now
            self.post_message(self._StoreFailed(reason))
            return
        if agent is None and self.agent_id and self.backend is not None:
            desk.identity_note = f"{one_line(self.agent_id, 60)}: not in this store yet, waiting for the backend"
        elif agent is None and self.agent_id:
            desk.identity_note = f"no agent {one_line(self.agent_id, 40)!r}"
            known = known_agents_words([(a.id, a.name, a.role) for a in agents])
            self.call_later(self.notify, f"No agent {one_line(self.agent_id, 40)!r} in this store. --as takes one "
                            f"of: {known}", title="Who is working?", severity="warning", timeout=60, markup=False)
        desk.opened(reader, agent, agents)  # the queue can paint now; deciding follows in a moment
        try:
            ledger = await self._open_ledger(desk, agent)
            # The watcher's baseline is taken before anyone is told the store is open, so every
            # later commit, and every escalation decided after this moment, is noticed.
            self._watch = await self._stack.enter_async_context(StoreWatch.open(self.store_path))
            if agent is not None and ledger is not None:
                await self._watch.follow(agent.id)
        except Exception as error:  # noqa: BLE001 - reported in one line, then exit 1
            reason = f"agentdesk: cannot open {self.store_path}: {error}"
            desk.failed(reason)
            self.post_message(self._StoreFailed(reason))
            return
        desk.ledger_opened(ledger)
        self.post_message(self._StoreOpened())

    async def _open_ledger(self, desk: Desk, agent: Agent | None) -> Ledger | None:
        """The write path for ``agent``, open for the app's lifetime; None when read-only or nobody is signed in."""
        desk.matrix = self.matrix or _demo_matrix()  # read too by the floor and for customers' time zones
        if agent is None or self.read_only:
            return None  # read-only opens no ledger: there is no write path to refuse
        from agentdesk.desk.store import Ledger

        return await self._stack.enter_async_context(Ledger.open(self.store_path, desk.matrix, self.clock))

    class _StoreOpened(Message):
        pass

    def on_agent_desk_app__store_opened(self, message: _StoreOpened) -> None:
        """Start watching the store; check the agent's callbacks now and every 30 s."""
        self.screen.refresh_bindings()  # the keys that decide depend on the ledger, open only now
        self.set_interval(WATCH_SECONDS, self._poll_store)
        self._start_deciding()

    def _start_deciding(self) -> None:
        """With a ledger open: callbacks falling due, and undo windows ending, are looked after from now on."""
        if self.presence is not None and self.desk is not None and self.desk.agent is not None:
            self.presence.user = self.desk.agent.id
            self.presence.reports = self.desk.ledger is not None  # read-only: no write path, so no presence
        if self.desk is not None and self.desk.ledger is not None:
            self._poll_callbacks()
            self.set_interval(CALLBACK_SECONDS, self._poll_callbacks)
            # Undo windows end whatever screen is showing, and those left open by a crash end now.
            self._release_windows()
            self.set_interval(RELEASE_SECONDS, self._release_windows)

    @work(group="release", exclusive=True, exit_on_error=False,
          description="queueing decisions whose undo window ended")
    async def _release_windows(self) -> None:
        """Worker: queue what left its undo window; the watcher then tells the screens."""
        if self.desk is not None and self.desk.ledger is not None:
            released = await self.desk.ledger.release_due()
            if released:
                self.post_message(DecisionsQueued(tuple(decision.id for decision in released)))

    # --- the backend ----------------------------------------------------------------

    def _start_sync(self) -> None:
        """After the first paint: the sync loop with the backend (if any), for as long as the app runs."""
        if self.backend is not None and self.syncer is None:
            self._sync_worker(self.backend)

    @work(group="sync", exclusive=True, exit_on_error=False, description="syncing with the backend")
    async def _sync_worker(self, backend: BackendLink) -> None:
        """Worker: push, pull and follow the backend until the app ends; it reports in messages only."""
        await follow(backend, self.store_path, self.clock, self.post_message, self._sync_started, self.presence)

    def _sync_started(self, syncer: Syncer) -> None:
        self.post_message(self._SyncStarted(syncer))

    class _SyncStarted(Message):
        def __init__(self, syncer: Syncer) -> None:
            super().__init__()
            self.syncer = syncer

    def on_agent_desk_app__sync_started(self, message: _SyncStarted) -> None:
        self.syncer = message.syncer

    def on_sync_status_changed(self, message: SyncStatusChanged) -> None:
        if self.desk is not None:
            self.desk.sync_status = message.status
            self._redraw_header()

    def on_sync_stopped(self, message: SyncStopped) -> None:
        if self.desk is None:
            return
        self.desk.sync_status, self.desk.sync_note = None, SyncLine(message.words, alert=True)
        if self.desk.agent is None:
            self.desk.identity_note = None  # no backend to wait for: this workstation works locally
        self.syncer = None
        self._redraw_header()

    def on_sync_kept(self, message: SyncKept) -> None:
        """One notice per item set aside, with its reason; a rejected decision is told by the refusal watch instead,
        since the decision itself now reads as refused (see :meth:`check_store`)."""
        for item in message.items:
            if item.decision is None:
                self.notify(one_line(item.line(), 400), title="Set aside", severity="warning", timeout=30,
                            markup=False)

    def on_sync_applied(self, message: SyncApplied) -> None:
        """Records came from the backend: look at the store now, not at the next second."""
        self._check_store_worker()
        if self.desk is not None and self.desk.agent is None and self.agent_id is not None:
            self._want_agent()  # the signed-in agent's own record may just have arrived

    def on_sync_identity(self, message: SyncIdentity) -> None:
        """The backend said who the token is: that agent is signed in (once the store has their record)."""
        desk = self.desk
        if desk is None:
            return
        if desk.agent is not None and desk.agent.id == message.name:
            return  # asked again after the loop started over: nothing new
        if message.name is None:
            desk.identity_note = message.reason
            self.notify(f"{DECISIONS_NOT_AVAILABLE.capitalize()}: {message.reason}.", severity="error", markup=False)
            self._redraw_header()
            return
        self.agent_id = message.name
        desk.identity_note = f"{one_line(message.name, 60)}: not in this store yet, waiting for the backend"
        self._said_who()
        self._want_agent()

    def _want_agent(self) -> None:
        """Sign the agent in, unless that is already on its way (one ledger, never two)."""
        if not self._signing_in:
            self._signing_in = True
            self._resolve_agent()

    def _said_who(self) -> None:
        from agentdesk.desk.identity import overruled

        asked = self.backend.asked_as if self.backend is not None else None
        said = overruled(self.agent_id, asked) if self.agent_id else None
        if said is not None:
            self.notify(said[0].upper() + said[1:] + ".", severity="warning", markup=False)

    @work(group="agent", exit_on_error=False, description="signing in")
    async def _resolve_agent(self) -> None:
        """Worker: read the signed-in agent's record and open their ledger; posts them, touches no widget."""
        desk, agent_id = self.desk, self.agent_id
        agent: Agent | None = None
        agents: list[Agent] = []
        ledger: Ledger | None = None
        try:
            assert desk is not None and agent_id is not None  # _want_agent is asked only then
            reader = await desk.wait_ready()
            await desk.wait_ledger()  # the start's own attempt first: one ledger, never two
            if desk.agent is None and self._watch is not None:
                agent, agents = await asyncio.gather(reader.agent(agent_id), reader.agents())
            if agent is not None:
                ledger = await self._open_ledger(desk, agent)
                if ledger is not None and self._watch is not None:
                    await self._watch.follow(agent.id)
        finally:  # even when it failed: the next records from the backend try again
            self.post_message(self._AgentKnown(agent, agents, ledger))

    class _AgentKnown(Message):
        """The signed-in agent's record and ledger, or ``agent`` None: not in the store (yet)."""

        def __init__(self, agent: Agent | None, agents: list[Agent], ledger: Ledger | None) -> None:
            super().__init__()
            self.agent, self.agents, self.ledger = agent, agents, ledger

    def on_agent_desk_app__agent_known(self, message: _AgentKnown) -> None:
        self._signing_in = False
        desk = self.desk
        if desk is None or desk.agent is not None or message.agent is None:
            return
        desk.agent, desk.ledger, desk.identity_note = message.agent, message.ledger, None
        desk.agents = {agent.id: agent for agent in message.agents}
        self._start_deciding()
        self._redraw_header()
        # Every screen reads again: the decision bar, the keys in force and the queue depend on who works.
        for screen in self.screen_stack:
            screen.refresh_bindings()
            screen.post_message(StoreChanged(self._watch.version or 0 if self._watch is not None else 0))

    def on_decisions_queued(self, message: DecisionsQueued) -> None:
        """Something waits in the outbox: the sync loop pushes it now, not at its next look."""
        if self._watch is not None:
            self._watch.awaiting(message.decision_ids)
        if self.syncer is not None:
            self.syncer.nudge()

    def on_presence_seen(self, message: PresenceSeen) -> None:
        if self.desk is not None:
            self.desk.presence, self.desk.presence_known = message.seen, True
            for screen in self.screen_stack:
                screen.post_message(PresenceSeen(message.seen))

    def on_presenting(self, message: Presenting) -> None:
        if self.presence is not None:
            self.presence.set(message.customer_id, message.typing)

    def on_replies_queued(self, message: RepliesQueued) -> None:
        if self._watch is not None:
            self._watch.awaiting_reply(message.entry_id)
        if self.syncer is not None:
            self.syncer.nudge()

    def _redraw_header(self) -> None:
        if not self.screen_stack:  # a sync report that arrives while the app closes has no header to redraw
            return
        for header in self.screen.query(DeskHeader):
            header.refresh()

    # --- the store watcher ----------------------------------------------------------

    def _poll_store(self) -> None:
        if not self._store_lock.locked():  # the last look is still on its way: skip this one
            self._check_store_worker()

    @work(group="watch", exit_on_error=False)
    async def _check_store_worker(self) -> None:
        """Worker: one look at the store (see :meth:`check_store`); short, so waiting for workers never hangs."""
        try:
            await self.check_store()
        except sqlite3.Error:
            pass  # busy or briefly unavailable: the next look is in a second

    async def check_store(self) -> bool:
        """Look once: when another connection committed since the last look, deliver :class:`StoreChanged`.

        Also reads which of the signed-in agent's escalations were decided since; the
        handler tells the agent. Returns whether the store changed.
        """
        watch = self._watch
        if watch is None or self.desk is None:
            return False
        async with self._store_lock:
            news = await watch.look()
        if news is None:
            return False
        self.post_message(StoreChanged(news.version, news.outcomes, news.refusals, news.replies))
        return True

    def on_store_changed(self, message: StoreChanged) -> None:
        for outcome in message.outcomes:
            approved = outcome.escalation.approval == "approved"
            self.notify(self.outcome_line(outcome), title="Escalation approved" if approved else "Escalation declined",
                        severity="information" if approved else "warning", timeout=15, markup=False)
        for refusal in message.refusals:
            self.notify(self.refusal_line(refusal), title="Refused by the backend", severity="warning", timeout=30,
                        markup=False)
        for sent in message.replies:
            if sent.state == reply.FAILED:
                line = reply.outcome_sentence(sent.channel, sent.customer_name, sent.state, sent.detail)
                self.notify(line, title="Reply not sent", severity="warning", timeout=30, markup=False)
        for screen in self.screen_stack:
            screen.post_message(StoreChanged(message.version, message.outcomes, message.refusals, message.replies))

    def refusal_line(self, refusal: RefusedDecision) -> str:
        """``refund 39.90 EUR for Petra Lindner was not carried out: case k-55 is closed``."""
        from agentdesk.domain.decision_text import backend_refusal_sentence

        return backend_refusal_sentence(refusal.decision, refusal.customer_name)

    def outcome_line(self, outcome: EscalationOutcome) -> str:
        """``Markus Brandt approved your refund 80.00 EUR for Petra Lindner`` (or declined …: reason)."""
        from agentdesk.domain.decision_text import outcome_sentence

        assert self.desk is not None
        escalation = outcome.escalation
        return outcome_sentence(escalation, outcome.customer_name, self.desk.person(escalation.approval_by) or None,
                                outcome.customer_zone)

    # --- callbacks falling due ------------------------------------------------------

    def _poll_callbacks(self) -> None:
        self._check_callbacks_worker()

    @work(group="callbacks", exclusive=True, exit_on_error=False)
    async def _check_callbacks_worker(self) -> None:
        await self.check_callbacks()

    async def check_callbacks(self) -> tuple[DueCallback, ...]:
        """Look once for the signed-in agent's callbacks that fell due and were not alerted yet.

        Delivers :class:`CallbacksDue` (the handler rings the bell and says who to call)
        and returns them. Nothing in read-only mode: there is no ledger, and nothing to do.
        """
        desk = self.desk
        if desk is None or desk.ledger is None or desk.agent is None:
            return ()
        async with self._callback_lock:
            due = await desk.ledger.due_callbacks(desk.agent.id, desk.now())
            fresh = [(decision, promise) for decision, promise in due if promise.id not in self._alerted_callbacks]
            if not fresh:
                return ()
            customers = await asyncio.gather(*(desk.reader.customer(decision.customer) for decision, _ in fresh))
            self._alerted_callbacks.update(promise.id for _, promise in fresh)
        callbacks = tuple(DueCallback(decision, promise, customer)
                          for (decision, promise), customer in zip(fresh, customers, strict=True))
        self.post_message(CallbacksDue(callbacks))
        return callbacks

    def on_callbacks_due(self, message: CallbacksDue) -> None:
        self.bell()
        callbacks = message.callbacks
        if len(callbacks) <= MAX_CALLBACK_NOTICES:
            for callback in callbacks:
                self.notify(self.callback_line(callback), title="Callback", severity="warning", timeout=30,
                            markup=False)
        else:  # e.g. at start after a day away: one notice, not a wall of them
            self.notify(f"{len(callbacks)} of your callbacks are due; they head the queue, earliest first. "
                        f"{self.callback_line(callbacks[0])}", title="Callbacks", severity="warning",
                        timeout=30, markup=False)
        for screen in self.screen_stack:
            screen.post_message(CallbacksDue(message.callbacks))

    def callback_line(self, callback: DueCallback) -> str:
        """``Callback due now: Petra Lindner on +49 170 555 0199 — 14:15 their time (14:15 yours)``."""
        assert self.desk is not None
        desk = self.desk
        decision, promise, customer = callback.decision, callback.promise, callback.customer
        at = decision.scheduled or promise.due
        now = desk.now()
        late = now - at
        head = f"Callback overdue by {duration(late)}" if late.total_seconds() >= 60 else "Callback due now"
        name = one_line(customer.name, 60) if customer is not None else decision.customer
        phone = decision.phone or (customer.phone if customer is not None else None)
        line = f"{head}: {name}"
        if phone:
            line += f" on {one_line(phone, 40)}"
        yours = desk.to_viewer(at)
        if customer is not None and desk.matrix is not None:
            from agentdesk.domain.authority import customer_zone

            theirs = at.astimezone(customer_zone(desk.matrix, customer))
            line += f" — {theirs:%H:%M} their time ({yours:%H:%M} yours)"
        else:
            line += f" — {yours:%H:%M} your time"
        return line

    class _StoreFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def on_agent_desk_app__store_failed(self, message: _StoreFailed) -> None:
        self.exit(return_code=1, message=message.reason)

    async def on_unmount(self) -> None:
        # Textual has cancelled the workers without waiting for them: the sync loop closes
        # its own store connection and HTTP client before the event loop goes away.
        for worker in [worker for worker in self.workers if worker.group == "sync"]:
            if not worker.is_cancelled:
                worker.cancel()  # once: a second cancel would break into the clean-up itself
            with suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await self._stack.aclose()

    # --- messages -------------------------------------------------------------------

    def on_open_customer(self, message: OpenCustomer) -> None:
        """Read the customer first, then push the screen built with its data: it paints once."""
        self._read_customer(message.customer_id)

    @work(group="open-customer", exclusive=True, exit_on_error=False)
    async def _read_customer(self, customer_id: str) -> None:
        """Worker: read what the customer screen shows first; posts it, touches no widget."""
        from agentdesk.tui.screens.customer import read_customer

        assert self.desk is not None
        self.post_message(self._CustomerRead(customer_id, await read_customer(self.desk, customer_id)))

    class _CustomerRead(Message):
        def __init__(self, customer_id: str, data: object) -> None:
            super().__init__()
            self.customer_id = customer_id
            self.data = data

    def on_agent_desk_app__customer_read(self, message: _CustomerRead) -> None:
        from agentdesk.tui.screens.customer import CustomerScreen

        assert self.desk is not None
        if message.data is None:
            self.notify(f"No customer {one_line(message.customer_id, 60)!r} in this store.",
                        severity="error", markup=False)
            return
        current = self.screen
        if isinstance(current, CustomerScreen):
            if current.customer_id != message.customer_id:
                current.show_customer(message.customer_id, message.data)  # type: ignore[arg-type]
            return
        # One customer screen, installed and reused: opening the next customer only
        # swaps its data, instead of composing, mounting and styling a new screen.
        if not self.is_screen_installed(CUSTOMER_SCREEN):
            self.install_screen(CustomerScreen(self.desk, message.customer_id), CUSTOMER_SCREEN)
        screen = self.get_screen(CUSTOMER_SCREEN)
        screen.show_customer(message.customer_id, message.data)  # type: ignore[attr-defined]
        self.push_screen(screen)

    def on_queue_painted(self, message: QueuePainted) -> None:
        if self.queue_painted.is_set():
            return
        self.queue_painted.set()
        if self._exit_after_first_paint:
            self.exit()
            return
        self.call_after_refresh(self._warm_up)
        self.call_after_refresh(self._start_sync)

    def _warm_up(self) -> None:
        """After the first paint: import the other screens, read their styles, and collect start-up's garbage.

        Done while the agent looks at the queue, so the first open of a customer does
        not pay for a full re-parse of the stylesheet (Textual does one when a screen
        brings CSS it has not seen). Only the new files are parsed here, and nothing
        on screen is restyled: their rules name screens that are not mounted yet.
        """
        from agentdesk.tui.screens.customer import CustomerScreen
        from agentdesk.tui.screens.help import HelpScreen
        from agentdesk.tui.screens.knowledge import KnowledgeScreen
        from agentdesk.tui.screens.notices import NoticesScreen

        screens: list[type[Screen]] = [CustomerScreen, HelpScreen, NoticesScreen, KnowledgeScreen]
        if not self.read_only:
            from agentdesk.tui.screens.adjust import AdjustScreen
            from agentdesk.tui.screens.approvals import ApprovalsScreen
            from agentdesk.tui.screens.contact import ContactScreen
            from agentdesk.tui.screens.prompt import PromptScreen

            screens += [AdjustScreen, PromptScreen, ContactScreen, ApprovalsScreen]
        for screen_class in screens:
            path = Path(inspect.getfile(screen_class)).with_name(str(screen_class.CSS_PATH))
            if not self.stylesheet.has_source(str(path), ""):
                self.stylesheet.read(path)
        self.stylesheet.parse()
        # Start-up leaves enough new objects behind that the next full collection (about 90 ms with the
        # workstation's 150,000 objects) would fall due during the first open: it is done now, in idle time.
        gc.collect()

    # --- actions --------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Show a notification and keep it for the notices screen (as plain text, markup or not).

        A warning or error without a title is titled in words, so its severity is not told by colour alone.
        """
        plain = Text.from_markup(message).plain if markup else message
        self.notice_log.add(Notice(self.clock(), title, plain, severity))  # the log says the severity itself
        super().notify(message, title=title or SEVERITY_TITLES.get(severity, ""), severity=severity,
                       timeout=timeout, markup=markup)

    async def action_quit(self) -> None:
        """Quit; with decisions still in their undo window, say so first and quit on the second press.

        A pending decision is queued when its window ends, and with the app closed that is the
        next start: the agent should know they are leaving their last chance to undo it.
        """
        desk = self.desk
        if not self._warned_pending and desk is not None and desk.ledger is not None and desk.agent is not None:
            pending = await desk.ledger.pending(desk.agent.id)
            if pending:
                self._warned_pending = True
                from agentdesk.tui.keymap import key_shown

                what = "1 decision is" if len(pending) == 1 else f"{len(pending)} decisions are"
                again = key_shown(self.screen, "quit") or "q"
                self.notify(f"{what} still in the undo window and will be queued. Press {again} again to quit, "
                            "or undo first.", severity="warning", markup=False)
                return
        self.exit()

    def action_notices(self) -> None:
        from agentdesk.tui.screens.notices import NoticesScreen

        if isinstance(self.screen, NoticesScreen):
            return
        to_viewer = self.desk.to_viewer if self.desk is not None else (lambda at: at.astimezone())
        self.push_screen(NoticesScreen(self.notice_log.newest_first(), to_viewer))

    def action_help(self) -> None:
        from agentdesk.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    # --- command palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's defaults plus every action bound on ``screen``, by description and key."""
        from agentdesk.tui.screens.help import binding_rows

        defaults = list(super().get_system_commands(screen))
        yield from defaults
        taken = {command.title for command in defaults}
        for row in binding_rows(screen):
            if row.action in ("command_palette", "help_quit", "quit"):
                continue
            title = row.description
            if title in taken:
                title = f"{row.description} ({row.scope})"
            if title in taken:
                continue
            taken.add(title)
            yield SystemCommand(
                title,
                f"key {', '.join(row.keys)} · {row.binding_id or 'built in'}",
                partial(self.run_action, row.action, row.node),
            )
