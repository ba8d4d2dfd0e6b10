"""The workstation: opens the store, knows who is working, and starts on the queue.

Start-up stays cheap: nothing imported here pulls in SQLAlchemy, SQLModel,
pydantic or Alembic (the reader is hand-written SQL over aiosqlite).

Hooks for benchmarks and tests
------------------------------
* ``AGENTDESK_EXIT_AFTER_FIRST_PAINT=1`` in the environment: the app exits as soon
  as the queue screen has drawn its first rows with data (or its empty sentence).
* :attr:`AgentDeskApp.queue_painted` is an :class:`asyncio.Event` set at that moment.
* The timeline (``CustomerScreen.timeline``, a :class:`~agentdesk.tui.widgets.line_list.LineList`)
  posts ``LineList.Painted`` after an open or a jump once the rows in view are drawn
  with data; ``await timeline.wait_painted()`` returns then.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from functools import partial
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.message import Message
from textual.binding import Binding, BindingType
from textual.screen import Screen

from agentdesk.domain.model import Agent
from agentdesk.domain.text import one_line
from agentdesk.store.reader import StoreReader
from agentdesk.tui.messages import OpenCustomer, QueuePainted

EXIT_AFTER_FIRST_PAINT_ENV = "AGENTDESK_EXIT_AFTER_FIRST_PAINT"
CUSTOMER_SCREEN = "customer"


def _real_now() -> datetime:
    return datetime.now(timezone.utc)


async def _none() -> None:
    return None


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
    _reader: StoreReader | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def reader(self) -> StoreReader:
        if self._reader is None:
            raise RuntimeError("the store is not open yet (await Desk.wait_ready())")
        return self._reader

    async def wait_ready(self) -> StoreReader:
        await self.ready.wait()
        return self.reader

    def opened(self, reader: StoreReader, agent: Agent | None, agents: list[Agent]) -> None:
        self._reader = reader
        self.agent = agent
        self.agents = {agent_.id: agent_ for agent_ in agents}
        self.ready.set()

    def now(self) -> datetime:
        """Now, aware, in UTC."""
        return self.clock()

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
            return "no agent selected"
        return f"{one_line(self.agent.name, 60)} · {one_line(self.agent.role, 30)}"


class AgentDeskApp(App[None], inherit_bindings=False):
    """The agentdesk workstation on one store file."""

    TITLE = "agentdesk"
    CSS_PATH: ClassVar[list[str]] = ["app.tcss", "screens/queue.tcss"]
    """The first screen's styles; the others are read right after the first paint (see ``_warm_up``)."""
    HELP_TITLE: ClassVar[str] = "Everywhere"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True,
                id="app.command_palette"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit (from anywhere)", show=False, priority=True, id="app.quit_anywhere"),
        Binding("ctrl+c", "help_quit", "How to quit", show=False, system=True, id="app.help_quit"),
    ]

    def __init__(self, store_path: Path, agent_id: str | None = None, read_only: bool = False,
                 clock: Callable[[], datetime] | None = None, *,
                 viewer_zone: tzinfo | None = None) -> None:
        super().__init__()
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

    # --- life cycle -----------------------------------------------------------------

    def on_mount(self) -> None:
        from agentdesk.tui.screens.queue import QueueScreen

        self.desk = Desk(clock=self.clock, read_only=self.read_only, viewer_zone=self.viewer_zone)
        if self.read_only:
            self.sub_title = "READ-ONLY"
        self._open_store(self.desk)  # the store opens while the queue screen is built
        self.push_screen(QueueScreen(self.desk))

    @work(group="store", exit_on_error=False)
    async def _open_store(self, desk: Desk) -> None:
        """Worker: open the store for the app's lifetime and learn who is working."""
        try:
            reader = await self._stack.enter_async_context(StoreReader.open(self.store_path))
            agent, agents = await asyncio.gather(
                reader.agent(self.agent_id) if self.agent_id else _none(), reader.agents())
        except Exception as error:  # noqa: BLE001 - reported in one line, then exit 1
            self.post_message(self._StoreFailed(f"agentdesk: cannot open {self.store_path}: {error}"))
            return
        desk.opened(reader, agent, agents)

    class _StoreFailed(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def on_agent_desk_app__store_failed(self, message: _StoreFailed) -> None:
        self.exit(return_code=1, message=message.reason)

    async def on_unmount(self) -> None:
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

    def _warm_up(self) -> None:
        """After the first paint: import the other screens and read their styles.

        Done while the agent looks at the queue, so the first open of a customer does
        not pay for a full re-parse of the stylesheet (Textual does one when a screen
        brings CSS it has not seen). Only the new files are parsed here, and nothing
        on screen is restyled: their rules name screens that are not mounted yet.
        """
        from agentdesk.tui.screens.customer import CustomerScreen
        from agentdesk.tui.screens.help import HelpScreen

        for screen_class in (CustomerScreen, HelpScreen):
            path = Path(inspect.getfile(screen_class)).with_name(str(screen_class.CSS_PATH))
            if not self.stylesheet.has_source(str(path), ""):
                self.stylesheet.read(path)
        self.stylesheet.parse()

    # --- actions --------------------------------------------------------------------

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
