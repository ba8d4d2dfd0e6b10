"""``agentdesk --plain``: the workstation as a line-oriented session, for screen readers.

A prompt says where you are (``queue> ``, ``Petra Lindner> ``, ``approvals> ``); you
type a command; the answer is plain lines of text. No full-screen redraws, no
cursor movement, no colour, no escape sequence of any kind, on a terminal or not:
every line goes through :func:`agentdesk.domain.text.display_text` on its way out,
and customer text was already made inert by :func:`~agentdesk.domain.text.one_line`.

The commands mirror the workstation's actions by name: :data:`COMMANDS` names, for
each command, the TUI binding ids it stands for, and ``help`` shows them, so users
of both can talk about the same thing. What the TUI binds and this session does not
mirror is in :data:`NOT_IN_PLAIN`, with the reason (a test holds the two to the
TUI's bindings).

It honours ``--read-only``, ``--as``, ``--authority``, ``--undo-window`` and the
settings file exactly as the workstation does; read-only opens no ledger at all.
Nothing here imports Textual: it reads through
:class:`~agentdesk.store.reader.StoreReader` and decides through
:class:`~agentdesk.store.ledger.Ledger` (see :mod:`agentdesk.plain.deciding`).

Unknown commands and bad arguments are answered in one line and change nothing;
end of input (ctrl+d) or ``quit`` ends the session with exit status 0; ctrl+c
discards the line being typed, as in Python's own prompt.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from agentdesk.desk.errors import CommandError
from agentdesk.desk.identity import resolve
from agentdesk.desk.knowledge import articles_at_hand
from agentdesk.desk.store import LedgerError, StoreReader
from agentdesk.desk.watch import StoreWatch
from agentdesk.domain.decision_text import DECISIONS_NOT_AVAILABLE
from agentdesk.domain.knowledge import article_line
from agentdesk.domain.model import Agent, Article, Customer
from agentdesk.domain.queue import order_queue
from agentdesk.domain.text import display_text, known_agents_words, one_line
from agentdesk.domain.timefmt import duration
from agentdesk.plain.deciding import Bad, DecideState, Deciding, unquote
from agentdesk.plain.lines import day_time, promise_cells, queue_cells, timeline_line
from agentdesk.plain.text import (
    authority_lines,
    case_line,
    entry_lines,
    header_lines,
    promise_when,
    wrapped,
)

if TYPE_CHECKING:
    from agentdesk.desk.identity import BackendLink
    from agentdesk.desk.store import Ledger
    from agentdesk.domain.authority import AuthorityMatrix
    from agentdesk.sync.background import BackgroundSync

QUEUE, CUSTOMER, APPROVALS = "queue", "customer", "approvals"
EVERYWHERE = (QUEUE, CUSTOMER, APPROVALS)
PLACE_WORDS = {QUEUE: "on the queue", CUSTOMER: "with a customer open", APPROVALS: "in the approvals list"}
LIST_PAGE = 20
"""Lines of a list (queue, search, promises, approvals) shown at a time; ``more`` shows the next."""
TIMELINE_PAGE = 10
TEXT_PAGE = 60
"""Lines of an entry's text shown at a time (a body may be megabytes); ``more`` shows the next."""
LEAVING_SECONDS = 5.0
"""How long quitting waits for decisions still being sent to the backend (offline: not at all)."""
SHORT_BODY = 160
"""Characters of an entry's text on its timeline line; ``show N`` reads it all."""


# --------------------------------------------------------------------------- the commands


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str
    summary: str
    mirrors: tuple[str, ...]
    """The TUI binding ids this command stands for (``help`` shows them)."""
    where: tuple[str, ...] = EVERYWHERE
    detail: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        return f"{self.name} {self.args}".strip()


COMMANDS: tuple[Command, ...] = (
    Command("help", "[COMMAND]", "the commands in force here; help COMMAND explains one, with examples",
            ("app.help",), aliases=("?",),
            detail=("Examples: help · help refund · help open",)),
    Command("queue", "", "the queue in fair order, numbered, 20 at a time", ("queue.reload",),
            detail=("Each line: number, name, customer id, the channels they wrote on, how long they waited, "
                    "the nearest deadline, and why they are at that place.",
                    "The order is the effective waiting time: the real wait plus published credits for urgency "
                    "and for a promised deadline drawing near; never a value score.",
                    "The numbers stay as listed until you list again: open 3 opens the third.")),
    Command("more", "", "the next page of the last list, of the timeline, or of a long entry",
            ("queue.page_down", "search.page_down", "approvals.page_down", "customer.detail_page_down")),
    Command("search", "TEXT", "customers whose name, e-mail or phone contains TEXT, numbered", ("queue.search",),
            detail=("Examples: search Lindner · search p.lindner@example.net · search 0199",)),
    Command("open", "N|CUSTOMER", "open customer N of the last list, or a customer by id, e-mail or phone",
            ("queue.open", "search.open", "approvals.open_customer"),
            detail=("N counts in the last list shown: the queue, search results, promises or approvals.",
                    "Opening shows who the customer is, their open cases and promises, what you may decide "
                    "here, and the newest 10 entries of their timeline.",
                    "Examples: open 1 · open c-1001 · open p.lindner@example.net · open +49 170 555 0199")),
    Command("promises", "[all]", "open promises, due first, numbered: the open customer's, or all", (),
            detail=("With a customer open, their promises; promises all (and on the queue) every customer's, "
                    "as 'agentdesk promises' lists them. open N opens the customer of promise N.",)),
    Command("floor", "", "the floor: agents and whom they are on, the queue's longest waits, missed deadlines, "
            "escalations waiting, promises by owner", ("queue.floor",),
            detail=("As 'agentdesk floor' prints it. Who is at a workstation comes from the backend; without one it "
                    "reads unknown.",)),
    Command("approvals", "", "the escalations waiting for your approval, numbered, oldest first",
            ("queue.approvals",),
            detail=("For roles that approve (a lead). Then: approve N, decline N [because REASON], open N.",)),
    Command("approve", "N", "approve escalation N: you take the proposed decision as your own",
            ("approvals.approve",), where=(APPROVALS,),
            detail=("Checked against your own limits, then queued at once; the agent who escalated is told.",
                    "Example: approve 1")),
    Command("decline", "N [because REASON]", "decline escalation N, saying why",
            ("approvals.decline", "approvals.decline_with_reason"), where=(APPROVALS,),
            detail=("The agent who escalated sees the reason. Without one it says who declined.",
                    "Examples: decline 2 · decline 2 because no proof of the double charge")),
    Command("back", "", "back to the queue (to the approvals list when you came from there)",
            ("customer.back", "approvals.back"), where=(CUSTOMER, APPROVALS)),
    Command("timeline", "", "the current page of the timeline again", (), where=(CUSTOMER,),
            detail=("Entries are numbered from 1, the oldest; the newest is last. Pages are 10 entries.",)),
    Command("previous", "", "the 10 older entries before this page", ("customer.page_up",),
            where=(CUSTOMER,), aliases=("prev",)),
    Command("next", "", "the 10 newer entries after this page", ("customer.page_down",), where=(CUSTOMER,)),
    Command("top", "", "the oldest 10 entries", ("customer.jump_start",), where=(CUSTOMER,), aliases=("first",)),
    Command("end", "", "the newest 10 entries", ("customer.jump_end",), where=(CUSTOMER,), aliases=("last",)),
    Command("show", "N", "entry N in full: every field and the whole text", ("customer.read_entry",),
            where=(CUSTOMER,),
            detail=("The text is wrapped at 80 columns; a long one comes 60 lines at a time (more goes on).",
                    "Example: show 12")),
    Command("cases", "", "open cases, open promises and your authority (limits, 30-day budget left)",
            ("customer.side_panel",), where=(CUSTOMER,)),
    Command("refund", "[AMOUNT] [because REASON]", "refund: the disputed amount still open, or AMOUNT",
            ("customer.refund", "customer.adjust_refund"), where=(CUSTOMER,),
            detail=("AMOUNT is in the case's currency: 39.90, 39,90 or 39.90 EUR.",
                    "It stays pending for the undo window (undo takes it back, send queues it now).",
                    "Beyond your limit it is refused, naming the limit and the rule, and the escalate "
                    "command is printed.",
                    "Examples: refund · refund 19.90 · refund 20 because fee for our own fault")),
    Command("voucher", "[AMOUNT] [because REASON]", "goodwill voucher: the default amount, or AMOUNT",
            ("customer.voucher", "customer.adjust_voucher"), where=(CUSTOMER,),
            detail=("Examples: voucher · voucher 10 · voucher 25,00 because three calls for nothing",)),
    Command("callback", "[TIME] [because REASON]", "promise a callback: the next free slot, or TIME",
            ("customer.callback", "customer.adjust_callback"), where=(CUSTOMER,),
            detail=("TIME is on the customer's clock: 15:30 (the next time it is that late), tomorrow 09:00, "
                    "Mon 10:15, 2026-11-24 14:30.",
                    "Examples: callback · callback 15:30 · callback tomorrow 09:00 because wants the specialist")),
    Command("escalate", "[refund|voucher|callback [AMOUNT|TIME]] [because REASON]",
            "ask the role above to decide; alone: what was just refused here",
            ("customer.escalate", "customer.adjust_escalate"), where=(CUSTOMER,),
            detail=("It waits for approval by the role above (a lead), who is shown it under approvals.",
                    "Examples: escalate · escalate refund 80.00 · escalate voucher 40 because a loyal customer")),
    Command("note", "TEXT", "an internal note: colleagues see it, the customer does not", ("customer.note",),
            where=(CUSTOMER,), detail=("Example: note asked for paper invoices from now on",)),
    Command("log", "CHANNEL in|out SUMMARY", "log a contact: a letter, a shop visit, a call on another phone",
            ("customer.log_contact",), where=(CUSTOMER,),
            detail=("CHANNEL: letter, shop, phone, email, sms, chat, social, app or portal. in: from the customer "
                    "(they wait for an answer); out: to the customer (it answers what waited).",
                    "It is on the timeline at once and sent to the backend like a decision.",
                    "Examples: log letter in cancels the contract · log shop out handed over the new SIM")),
    Command("reply", "[email|sms] [TEXT]", "answer the customer by e-mail or SMS, signed by you; the backend sends it",
            ("customer.reply", "customer.reply_send", "customer.reply_channel", "customer.reply_keep"),
            where=(CUSTOMER,),
            detail=("Without a channel: the customer's preferred one. With TEXT it goes at once; without, you write "
                    "it in lines: a line with only . sends it, ~ keeps it as a draft (reply opens it again), "
                    "! throws it away.",
                    "Its delivery is announced: SENT, or NOT SENT with the reason.",
                    "Examples: reply Your eSIM is active now. · reply sms Your QR code is on its way · reply")),
    Command("adjust", "[refund|voucher|callback AMOUNT|TIME]",
            "explains adjusting: give the amount or time with the decision itself",
            ("customer.adjust", "customer.adjust_take"), where=(CUSTOMER,),
            detail=("adjust refund 20 is the same as refund 20.",)),
    Command("undo", "", "take back your last pending decision on this customer", ("customer.undo",),
            where=(CUSTOMER,), detail=("Only while its undo window is open: nothing was sent yet.",)),
    Command("send", "", "queue your last pending decision on this customer now", ("customer.send_now",),
            where=(CUSTOMER,)),
    Command("k", "[WORDS]", "knowledge articles holding every word, best first, numbered (alone: all, by title)",
            ("customer.knowledge", "knowledge.to_results"), aliases=("knowledge",),
            detail=("Words are words: quotes, *, - or NEAR mean nothing special. A word also finds longer ones "
                    "it starts (mirr finds mirror). With a customer open, cases also names the articles that "
                    "fit their open cases.",
                    "Examples: k mirror · k esim travel · k")),
    Command("article", "N|ID", "knowledge article N of the last k list (or by its id) in full", ("knowledge.open",),
            detail=("Its title, what it is filed under, then its text as written (Markdown), 60 lines at a time.",
                    "Examples: article 1 · article camper-mirror")),
    Command("notices", "", "the announcements of this session again, newest first", ("app.notices",),
            detail=("Announcements are said before the prompt as they happen: decisions queued when their "
                    "undo window ended, callbacks falling due, escalations approved or declined.",)),
    Command("sync", "", "where syncing with the backend stands, in words", (),
            detail=("With a backend (--server, $AGENTDESK_SERVER or agentdesk login) decisions are pushed and "
                    "changes pulled while the session runs; a change of state (offline, back online) is "
                    "announced before the prompt.",
                    "Examples: 'offline: 2 decisions waiting', 'synced 3 s ago', 'local only'.",
                    "Then one line for each decision the backend rejected and each change from it that could "
                    "not be applied, with the reason; each is also announced once when it happens.")),
    Command("quit", "", "leave the session (ctrl+d too)", ("app.quit", "app.quit_anywhere"), aliases=("exit",)),
)

DECIDING = frozenset({"refund", "voucher", "callback", "escalate", "note", "log", "reply", "adjust", "undo", "send"})
APPROVING = frozenset({"approvals", "approve", "decline"})
LOOKUP: dict[str, Command] = {name: command for command in COMMANDS for name in (command.name, *command.aliases)}

_NO_CURSOR = "no cursor in a line session: lists are printed numbered; more pages on, open N picks"
_NO_DIALOG = "no dialogs in a line session: every command is one line, amount or time included"
NOT_IN_PLAIN: dict[str, str] = {
    "app.command_palette": "every command is typed by name; help lists them",
    "app.help_quit": "ctrl+c discards the line being typed; quit or ctrl+d leaves",
    "screen.focus_next": "no areas in a line session",
    "screen.focus_previous": "no areas in a line session",
    "queue.cursor_up": _NO_CURSOR,
    "queue.cursor_down": _NO_CURSOR,
    "queue.page_up": "a list is read once, forward: queue starts it again from the top",
    "queue.jump_start": "queue lists again from the first",
    "queue.jump_end": _NO_CURSOR,
    "queue.close_search": "search results are printed; there is nothing to close",
    "search.to_results": "search results are printed numbered at once",
    "search.cursor_up": _NO_CURSOR,
    "search.cursor_down": _NO_CURSOR,
    "search.page_up": "a list is read once, forward: search again to start from the top",
    "search.jump_start": _NO_CURSOR,
    "search.jump_end": _NO_CURSOR,
    "customer.reply_article": "k WORDS lists the articles and article N shows one to copy into reply",
    "floor.cursor_up": _NO_CURSOR,
    "floor.cursor_down": _NO_CURSOR,
    "floor.page_up": "floor says the whole floor at once",
    "floor.page_down": "floor says the whole floor at once",
    "floor.jump_start": _NO_CURSOR,
    "floor.jump_end": _NO_CURSOR,
    "floor.open": "open CUSTOMER opens whom a floor line names",
    "floor.queue": "queue lists the queue from anywhere",
    "approvals.cursor_up": _NO_CURSOR,
    "approvals.cursor_down": _NO_CURSOR,
    "approvals.page_up": "approvals lists them again from the first",
    "approvals.jump_start": _NO_CURSOR,
    "approvals.jump_end": _NO_CURSOR,
    "list.cursor_up": _NO_CURSOR,
    "list.cursor_down": _NO_CURSOR,
    "list.page_up": _NO_CURSOR,
    "list.page_down": _NO_CURSOR,
    "list.jump_start": _NO_CURSOR,
    "list.jump_end": _NO_CURSOR,
    "list.open": "open N picks from the last list",
    "customer.cursor_up": "no cursor: previous and next page the timeline, show N reads one entry",
    "customer.cursor_down": "no cursor: previous and next page the timeline, show N reads one entry",
    "customer.detail_up": "show N prints the whole entry; more goes on with a long one",
    "customer.detail_down": "show N prints the whole entry; more goes on with a long one",
    "customer.detail_page_up": "show N prints the entry again from its start",
    "customer.detail_top": "show N prints the entry again from its start",
    "customer.detail_bottom": "more goes on with a long entry, page by page",
    "customer.detail_back": "no detail pane: the timeline commands work at once",
    "customer.adjust_cancel": _NO_DIALOG,
    "customer.adjust_kind_previous": "the kind is the command's first word",
    "customer.adjust_kind_next": "the kind is the command's first word",
    "customer.adjust_next_field": _NO_DIALOG,
    "customer.adjust_previous_field": _NO_DIALOG,
    "prompt.cancel": "no dialogs: an empty line does nothing, ctrl+c discards the line",
    "customer.contact_cancel": "no dialogs: an empty line does nothing, ctrl+c discards the line",
    "customer.contact_choice_previous": "the channel and direction are log's first words",
    "customer.contact_choice_next": "the channel and direction are log's first words",
    "customer.contact_choice_done": _NO_DIALOG,
    "customer.contact_next_field": _NO_DIALOG,
    "customer.contact_previous_field": _NO_DIALOG,
    "pane.text_up": "text is printed whole; more goes on with a long one",
    "pane.text_down": "text is printed whole; more goes on with a long one",
    "pane.text_page_up": "text is printed whole; more goes on with a long one",
    "pane.text_page_down": "text is printed whole; more goes on with a long one",
    "pane.text_top": "text is printed whole; more goes on with a long one",
    "pane.text_bottom": "text is printed whole; more goes on with a long one",
    "help.scroll_up": "help is printed as lines, nothing to scroll",
    "help.scroll_down": "help is printed as lines, nothing to scroll",
    "help.page_up": "help is printed as lines, nothing to scroll",
    "help.page_down": "help is printed as lines, nothing to scroll",
    "help.top": "help is printed as lines, nothing to scroll",
    "help.bottom": "help is printed as lines, nothing to scroll",
    "help.close": "help is printed as lines, nothing to close",
    "notices.scroll_up": "notices are printed as lines, nothing to scroll",
    "notices.scroll_down": "notices are printed as lines, nothing to scroll",
    "notices.page_up": "notices are printed as lines, nothing to scroll",
    "notices.page_down": "notices are printed as lines, nothing to scroll",
    "notices.top": "notices are printed as lines, nothing to scroll",
    "notices.bottom": "notices are printed as lines, nothing to scroll",
    "notices.close": "notices are printed as lines, nothing to close",
    **{f"customer.side.{action}": "cases prints the whole panel as lines, nothing to scroll"
       for action in ("scroll_up", "scroll_down", "page_up", "page_down", "top", "bottom")},
    "knowledge.close": "k prints the articles found; there is nothing to close",
    "knowledge.focus_next": "no areas in a line session",
    "knowledge.focus_previous": "no areas in a line session",
    **{f"knowledge.{action}": _NO_CURSOR
       for action in ("cursor_up", "cursor_down", "page_up", "page_down", "jump_start", "jump_end")},
    **{f"knowledge.article_{action}": "article N prints the whole article; more goes on with a long one"
       for action in ("up", "down", "page_up", "page_down", "top", "bottom", "back")},
}
"""TUI binding ids with no command of their own here, and why."""


# --------------------------------------------------------------------------- running it


def run_plain(store: Path, *, read_only: bool, asked_as: str | None, matrix: AuthorityMatrix | None,
              undo_window: timedelta | None, backend: BackendLink | None) -> int:
    """The ``--plain`` session on ``store`` (which must exist), until ``quit`` or end of input.

    ``matrix`` None: read-only (it decides nothing); ``backend``: the one to sync with beside the
    session (None: local only). Who works is resolved here, before the first prompt
    (:func:`agentdesk.desk.identity.resolve`).
    """
    if not store.exists():
        raise CommandError(f"no store at {store} (create one with 'agentdesk import FILE' or try 'agentdesk demo')")
    for stream in (sys.stdin, sys.stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")  # a stray byte is shown as �, never the end of the session
    sync, agent_id, note = _backend(store, backend, asked_as)
    if sync is not None:
        sync.start()
    try:
        with _ctrl_c_discards_the_line():
            return asyncio.run(_main(store, agent_id, read_only, matrix, undo_window, sys.stdin, sys.stdout,
                                     Syncing(sync, note if sync is None else None,
                                             identity=note if sync is not None else None, link=backend)))
    finally:
        if sync is not None:
            sync.stop()


def _backend(store: Path, link: BackendLink | None,
             asked_as: str | None) -> tuple[BackgroundSync | None, str | None, str | None]:
    """The sync to run beside the session (None: local only), who is working, and what to say about it."""
    resolved = resolve(link, asked_as, store)
    token = link.find_token() if link is not None else None
    if link is None:
        return None, resolved.user, resolved.note
    if not token:
        return None, resolved.user, resolved.note or f"{link.no_token}; working locally"
    from agentdesk.sync.background import BackgroundSync

    return BackgroundSync(store, link.url, token), resolved.user, resolved.note


@contextmanager
def _ctrl_c_discards_the_line() -> Iterator[None]:
    """Ctrl+c raises KeyboardInterrupt where the session reads a line (asyncio would cancel instead)."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, interrupt)
    except ValueError:  # not the main thread: leave ctrl+c as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def _main(store: Path, agent_id: str | None, read_only: bool, matrix: AuthorityMatrix | None,
                undo_window: timedelta | None, stdin: TextIO, stdout: TextIO, syncing: Syncing) -> int:
    async with AsyncExitStack() as stack:
        try:
            reader = await stack.enter_async_context(StoreReader.open(store, query_only=read_only))
            agents = {agent.id: agent for agent in await reader.agents()}
        except (sqlite3.Error, OSError) as error:
            raise CommandError(f"cannot open {store}: {error}") from None
        agent = agents.get(agent_id) if agent_id else None
        ledger = watch = None
        if agent is not None and not read_only and matrix is not None:
            from agentdesk.desk.store import Ledger  # read-only opens no ledger: there is no write path

            ledger = await stack.enter_async_context(Ledger.open(store, matrix))
            watch = await stack.enter_async_context(StoreWatch.open(store))
        session = Session(reader, ledger, watch, store=store, agent=agent, agents=agents, asked_for=agent_id,
                          read_only=read_only, matrix=matrix, undo_window=undo_window, stdin=stdin, stdout=stdout,
                          syncing=syncing)
        return await session.run()
    return 0  # pragma: no cover - the stack never swallows


@dataclass
class Syncing:
    """The backend sync running beside the session, and the state last announced."""

    sync: BackgroundSync | None
    note: str | None = None
    """Why there is no sync although a backend is named (no token)."""
    identity: str | None = None
    """What to say about who works, with a sync running (the token overruled ``--as``, or named nobody)."""
    announced: tuple[object, ...] | None = None
    link: BackendLink | None = None
    """The backend named (for who is present on the floor)."""

    def words(self) -> str:
        if self.sync is None:
            return self.note or "local only: no backend (--server, $AGENTDESK_SERVER or agentdesk login)"
        status = self.sync.status()
        return status.words(datetime.now(timezone.utc)) if status is not None else "connecting to the backend"

    def change(self) -> str | None:
        """The state in words when it changed in kind (offline, online, stopped) since last said; else None."""
        status = self.sync.status() if self.sync is not None else None
        if status is None:
            return None
        kind = (status.online, status.problem, status.rejected, status.set_aside)
        if kind == self.announced:
            return None
        self.announced = kind
        return self.words()


@dataclass
class Listing:
    """A numbered list as shown: ``open N`` counts in it, ``more`` shows its next page."""

    lines: list[str]
    targets: list[str]
    """The customer id of each number."""
    shown: int = 0


@dataclass
class View:
    """The customer open, and where its timeline stands."""

    customer: Customer
    owner_name: str | None
    count: int = 0
    offset: int = 0
    back_to: str = QUEUE


class Session(Deciding):
    """One plain session: read a line, answer in lines, until ``quit`` or end of input."""

    def __init__(self, reader: StoreReader, ledger: Ledger | None, watch: StoreWatch | None, *, store: Path,
                 agent: Agent | None, agents: dict[str, Agent], asked_for: str | None, read_only: bool,
                 matrix: AuthorityMatrix | None, undo_window: timedelta | None,
                 stdin: TextIO, stdout: TextIO, syncing: Syncing) -> None:
        self.reader = reader
        self.ledger = ledger
        self.watch = watch
        self.store = store
        self.agent = agent
        self.agents = agents
        self.asked_for = asked_for
        self.read_only = read_only
        self.matrix = matrix
        self.undo_window = undo_window
        self.syncing = syncing
        self.cannot_decide = self.why_not(read_only, agent, matrix)
        self.stdin = stdin
        self.stdout = stdout
        self.echo = not _is_terminal(stdin)
        """Input from a file or a pipe is not echoed by a terminal: print it after the prompt, for the transcript."""
        self.place = QUEUE
        self.view: View | None = None
        self.listing: Listing | None = None
        self.more: Callable[[], Awaitable[None]] | None = None
        self.decide = DecideState()
        self.articles: list[Article] = []
        """The last k list, for article N."""

    @property
    def customer(self) -> Customer | None:  # type: ignore[override]
        return self.view.customer if self.view is not None and self.place == CUSTOMER else None

    # --- in and out -------------------------------------------------------------------

    def say(self, *lines: str) -> None:
        """Plain lines out; whatever they hold, nothing a terminal would act on gets through."""
        for line in lines:
            self.stdout.write(display_text(line) + "\n")

    @property
    def prompt(self) -> str:
        if self.place == CUSTOMER and self.view is not None:
            return f"{one_line(self.view.customer.name, 40)}> "
        return f"{self.place}> "

    def read_line(self, prompt: str | None = None) -> str | None:
        """The next line typed, without its line end; None at the end of input (ctrl+d)."""
        while True:
            self.stdout.write(display_text(prompt or self.prompt))
            self.stdout.flush()
            try:
                line = self.stdin.readline()
            except KeyboardInterrupt:
                self.stdout.write("\n")
                self.say("ctrl+c: line discarded; quit or ctrl+d leaves")
                continue
            if not line:
                self.stdout.write("\n")
                return None
            line = line.rstrip("\r\n")
            if self.echo:
                self.stdout.write(one_line(line) + "\n")
            return line

    async def run(self) -> int:
        await self.greet()
        while True:
            await self.announce()
            line = self.read_line()
            if line is None or not await self.handle(line):
                break
        await self.farewell()
        self.stdout.flush()
        return 0

    async def handle(self, line: str) -> bool:
        """Run one command line; False when it ends the session. Errors are one line and change nothing."""
        words = line.strip().split(None, 1)
        if not words:
            return True
        typed = words[0]
        rest = words[1].strip() if len(words) > 1 else ""
        command = LOOKUP.get(typed.lower())
        if command is None:
            self.say(f"unknown command '{one_line(typed, 40)}'; type help for the commands")
            return True
        if self.place not in command.where:
            self.say(self._not_here(command))
            return True
        if command.name == "quit":
            return False
        try:
            await getattr(self, f"cmd_{command.name}")(rest)
        except Bad as error:
            self.say(str(error))
        except LedgerError as error:
            self.say(f"NOT DONE: {one_line(str(error), 300)}")
        except sqlite3.Error as error:
            self.say(f"NOT DONE: the store did not answer ({one_line(str(error), 200)}); try again")
        except Exception as error:  # noqa: BLE001 - one line, and the session goes on (a decision is atomic)
            self.say(f"NOT DONE: {type(error).__name__}: {one_line(str(error), 200)}")
        finally:
            self.stdout.flush()
        return True

    def _not_here(self, command: Command) -> str:
        if command.where == (CUSTOMER,):
            return f"{command.name} works with a customer open: open one first (open N or open CUSTOMER)"
        if command.where == (APPROVALS,):
            return f"{command.name} works in the approvals list: type approvals first"
        return "you are on the queue already" if command.name == "back" else \
            f"{command.name} does not work {PLACE_WORDS[self.place]}"

    # --- start and end ----------------------------------------------------------------

    async def greet(self) -> None:
        who = (f"{one_line(self.agent.name, 60)} · {one_line(self.agent.role, 30)}" if self.agent is not None
               else "no agent selected")
        self.say(f"{who} · agentdesk plain session on {one_line(str(self.store), 200)}")
        if self.syncing.identity is not None:
            self.say(self.syncing.identity)
        if self.read_only:
            self.say("READ-ONLY: you can read everything and change nothing.")
        elif self.agent is None and self.asked_for:
            self.say(f"no agent '{one_line(self.asked_for, 40)}' in this store: {DECISIONS_NOT_AVAILABLE}",
                     "--as takes one of: " + known_agents_words([(a.id, a.name, a.role) for a in self.agents.values()]))
        elif self.cannot_decide is not None:
            self.say(self.cannot_decide)
        elif self.undo_window is None:
            self.say("Decisions stay pending until you type send or undo.")
        elif self.undo_window > timedelta(0):
            self.say(f"Decisions stay pending for {duration(self.undo_window)}: undo takes one back, "
                     "send queues it at once.")
        else:
            self.say("Decisions are queued at once (no undo window).")
        self.say(f"sync: {self.syncing.words()}")
        await self.greet_outcomes()
        if self.ledger is not None and self.agent is not None and self.cannot_decide is None \
                and self.role is not None and self.role.approves:
            waiting = len(await self.ledger.waiting_approvals(self.agent.id))
            if waiting:
                self.say(f"Approvals: {waiting} {'escalation waits' if waiting == 1 else 'escalations wait'} "
                         "for you; approvals lists them.")
        listing = await self._queue_listing()
        if listing.lines:
            self.say(f"Queue: {len(listing.lines)} waiting; queue lists them, open 1 opens the first, "
                     f"{one_line(self._queue_names[0], 60)}.")
        else:
            self.say("Queue: nobody is waiting.")
        self.listing = listing
        self.say("Type help for the commands; quit or ctrl+d leaves.")

    async def cmd_sync(self, rest: str) -> None:
        self.syncing.change()  # said now: not again before the next prompt
        self.say(f"sync: {self.syncing.words()}")
        if self.syncing.sync is not None:
            self.say(*(f"sync: {one_line(item.line(), 400)}"
                       for item in await asyncio.to_thread(self.syncing.sync.kept)))

    async def announce(self) -> None:
        await super().announce()
        if self.syncing.sync is not None:
            self.syncing.sync.nudge()  # whatever the last command queued goes out now
            for item in self.syncing.sync.take_fresh():
                self.notice(f"sync: {one_line(item.line(), 400)}")
        changed = self.syncing.change()
        if changed is not None:
            self.notice(f"sync: {changed}")

    async def farewell(self) -> None:
        sync = self.syncing.sync
        status = sync.status() if sync is not None else None
        if sync is not None and (status is None or status.online is not False):
            status = await asyncio.to_thread(sync.drain, LEAVING_SECONDS)
        if status is not None and status.waiting:
            self.say(f"{status.waiting} decision{'s' if status.waiting != 1 else ''} still waiting for the backend: "
                     "sent the next time agentdesk or agentdesk sync runs on this store.")
        if self.ledger is None or self.agent is None:
            return
        try:
            pending = await self.ledger.pending(self.agent.id)
        except (sqlite3.Error, LedgerError):
            return
        for decision in pending:
            customer = await self.reader.customer(decision.customer)
            what = self.pending_line(decision, customer).removeprefix("PENDING ").split(" · ")[0]
            if decision.undo_until is None:
                self.say(f"Still pending: {what}; it stays pending until you send or undo it.")
            else:
                self.say(f"Still pending: {what}; it is queued when its undo window has ended "
                         "and agentdesk runs on this store again.")

    # --- lists ------------------------------------------------------------------------

    _queue_names: list[str]

    async def _queue_listing(self) -> Listing:
        now = self.now()
        places = order_queue(await self.reader.waiting(now), now)
        self._queue_names = [place.waiting.name for place in places]
        lines = []
        for place in places:
            # `agentdesk queue`'s cells, read aloud: the number opens it, so the id is left out,
            # and a missing deadline goes unsaid.
            number, name, _id, channels, waited, deadline, why = queue_cells(place, now)
            cells = [name, channels.replace("+", ", ") or "callback", waited]
            if place.waiting.deadline is not None:
                cells.append(deadline)
            lines.append(f"{number} " + " · ".join([*cells, why]))
        return Listing(lines, [place.waiting.customer_id for place in places])

    async def _show_listing(self, listing: Listing) -> None:
        self.listing = listing
        await self._next_of(listing)

    async def _next_of(self, listing: Listing) -> None:
        start = listing.shown
        page = listing.lines[start:start + LIST_PAGE]
        self.say(*page)
        listing.shown = start + len(page)
        total = len(listing.lines)
        if listing.shown < total:
            self.say(f"{listing.shown} of {total}; more shows the next {min(LIST_PAGE, total - listing.shown)}")
            self.more = lambda: self._next_of(listing)
        else:
            if start > 0:
                self.say(f"That was the last of {total}.")
            self.more = None

    async def cmd_queue(self, rest: str) -> None:
        listing = await self._queue_listing()
        self.place = QUEUE
        if not listing.lines:
            self.listing = listing
            self.more = None
            self.say("Queue: nobody is waiting.")
            return
        self.say(f"Queue: {len(listing.lines)} waiting, in fair order:")
        await self._show_listing(listing)

    async def cmd_help(self, rest: str) -> None:
        name = rest.strip().lower()
        if name:
            command = LOOKUP.get(name)
            if command is None:
                raise Bad(f"no command '{one_line(name, 40)}'; type help for the commands")
            self.say(f"{command.usage}: {command.summary}", *command.detail)
            self.say(f"TUI binding: {', '.join(command.mirrors) or 'none, plain mode only'}")
            where = "everywhere" if command.where == EVERYWHERE else \
                " and ".join(PLACE_WORDS[place] for place in command.where)
            also = f"; also typed as {', '.join(command.aliases)}" if command.aliases else ""
            self.say(f"Works {where}{also}.")
            return
        hidden: set[str] = set()
        if self.cannot_decide is not None:
            hidden |= DECIDING | APPROVING
        elif self.role is None or not self.role.approves:
            hidden |= APPROVING
        here = [c for c in COMMANDS if self.place in c.where and c.where != EVERYWHERE and c.name not in hidden]
        everywhere = [c for c in COMMANDS if c.where == EVERYWHERE and c.name not in hidden]
        self.say("Commands (help COMMAND names the workstation key it mirrors):")
        if here:
            where = f"with {one_line(self.view.customer.name, 40)} open" \
                if self.place == CUSTOMER and self.view is not None else PLACE_WORDS[self.place]
            self.say(f"Here, {where}:", *(_help_line(command) for command in here))
        self.say("Everywhere:" if here else f"Here, {PLACE_WORDS[self.place]}, and everywhere:",
                 *(_help_line(command) for command in everywhere))
        if self.cannot_decide is not None and self.place == CUSTOMER:
            self.say(f"Decisions: {self.cannot_decide}")
        self.say("help COMMAND explains one, with examples. ctrl+c discards a line; quit or ctrl+d leaves.")

    async def cmd_more(self, rest: str) -> None:
        if self.more is None:
            raise Bad("nothing more to show")
        await self.more()

    async def cmd_search(self, rest: str) -> None:
        text = unquote(rest)
        if not text:
            raise Bad("search what? search TEXT, e.g. search Lindner")
        limit = 200
        found = await self.reader.search_customers(text, limit=limit)
        shown = one_line(text, 60)
        if not found:
            self.more = None
            self.say(f"No customer's name, e-mail or phone contains '{shown}'.")
            return
        lines = []
        for number, customer in enumerate(found, start=1):
            parts = [f"{number}. {one_line(customer.name, 60)} ({one_line(customer.id, 40)})"]
            parts += [one_line(value, 60) for value in (customer.email, customer.phone, customer.location) if value]
            lines.append(" · ".join(parts))
        many = f"the first {limit}; narrow the search" if len(found) == limit else f"{len(found)}"
        self.say(f"Search '{shown}': {many} {'customer' if len(found) == 1 else 'customers'}:")
        await self._show_listing(Listing(lines, [customer.id for customer in found]))

    async def cmd_floor(self, rest: str) -> None:
        from agentdesk.desk.floor import backend_presence, read_floor
        from agentdesk.domain.floor import floor_lines

        presence, why = await backend_presence(self.syncing.link)
        floor = await read_floor(self.reader, self.matrix, presence, self.now())
        self.say(*([f"({why})"] if why else []), *floor_lines(floor))

    async def cmd_promises(self, rest: str) -> None:
        now = self.now()
        view = self.view
        everyone = rest.strip().lower() == "all" or self.place != CUSTOMER or view is None
        only = None if everyone or view is None else view.customer
        promises = await self.reader.open_promises(None if only is None else only.id)
        if not promises:
            self.more = None
            self.say("No open promises." if only is None
                     else f"No open promises to {one_line(only.name, 60)}; promises all lists everyone's.")
            return
        names: dict[str, str] = {}
        for promise in promises:
            if promise.customer not in names:
                customer = await self.reader.customer(promise.customer)
                names[promise.customer] = customer.name if customer is not None else promise.customer
        lines = []
        for number, promise in enumerate(promises, start=1):
            at, _, who, what, _ = promise_cells(promise, names, now)
            lines.append(f"{number}. {promise_when(promise, now)} · {who} · {what} · due {at}")
        whose = "" if only is None else f" to {one_line(only.name, 60)} (promises all lists everyone's)"
        self.say(f"Promises{whose}: {len(promises)} open, due first:")
        await self._show_listing(Listing(lines, [promise.customer for promise in promises]))

    async def cmd_approvals(self, rest: str) -> None:
        lines, targets = await self.approval_lines()
        self.place = APPROVALS
        if not lines:
            self.listing = Listing([], [])
            self.more = None
            self.say("Approvals: no escalation waits for your approval.")
            return
        self.say(f"Approvals: {len(lines)} waiting for you, oldest first:")
        await self._show_listing(Listing(lines, targets))

    # --- a customer ---------------------------------------------------------------------

    async def cmd_open(self, rest: str) -> None:
        reference = unquote(rest)
        if not reference:
            raise Bad("open what? a number from the last list, or a customer id, e-mail or phone")
        listing = self.listing
        digits = reference.isdigit() and len(reference) <= 6
        if digits and listing is not None and 1 <= int(reference) <= len(listing.targets):
            await self._open(listing.targets[int(reference) - 1])
            return
        customer = await self.reader.find_customer(reference)
        if customer is not None:
            await self._open(customer.id)
            return
        if digits:
            if listing is None or not listing.targets:
                raise Bad(f"no number {reference}: no list was shown; type queue, search TEXT, promises "
                          "or approvals first")
            raise Bad(f"no number {reference} in the last list (1 to {len(listing.targets)})")
        raise Bad(f"no customer with id, e-mail or phone '{one_line(reference, 60)}'; search TEXT finds them by name")

    async def _open(self, customer_id: str) -> None:
        card = await self.reader.customer_card(customer_id)
        if card is None:
            raise Bad(f"customer '{one_line(customer_id, 40)}' is not in this store any more")
        back_to = self.view.back_to if self.place == CUSTOMER and self.view is not None else \
            (APPROVALS if self.place == APPROVALS else QUEUE)
        self.view = View(card.customer, card.owner.name if card.owner else None, back_to=back_to)
        self.place = CUSTOMER
        customer = card.customer
        now = self.now()
        self.say(*header_lines(customer, self.view.owner_name, self.their_zone(), now))
        await self._say_cases_and_promises()
        self.say(*await self.decision_lines())
        await self._page(None)

    async def _say_cases_and_promises(self) -> None:
        assert self.view is not None
        customer_id = self.view.customer.id
        now = self.now()
        cases = await self.reader.open_cases(customer_id)
        promises = await self.reader.open_promises(customer_id)
        if cases:
            self.say(f"Open cases: {len(cases)}", *(case_line(case, now) for case in cases))
        else:
            self.say("Open cases: none")
        if promises:
            self.say(f"Open promises: {len(promises)}",
                     *(f"{promise_when(p, now)}: {one_line(p.what, 120)} · due {day_time(p.due)}" for p in promises))
        else:
            self.say("Open promises: none")

    async def cmd_cases(self, rest: str) -> None:
        await self._say_cases_and_promises()
        role, choices = await self.authority()
        if role is None or choices is None:
            self.say(f"Your authority: {self.cannot_decide or 'you decide nothing here'}")
        else:
            self.say(f"Your authority as {one_line(role.name, 30)}:", *authority_lines(role, choices.options))
        await self._say_articles_at_hand()

    async def _say_articles_at_hand(self) -> None:
        """The side panel's articles: those that fit the open cases, numbered for article N."""
        assert self.view is not None
        found = await articles_at_hand(self.reader, self.view.customer.id)
        if not found:
            self.say("Articles: none fits the open cases; k WORDS searches them all.")
            return
        self.articles = found
        self.say("Articles for the open cases (article N shows one):",
                 *(f"{number}. {article_line(article, 200)}" for number, article in enumerate(found, 1)))

    async def cmd_back(self, rest: str) -> None:
        if self.place == CUSTOMER and self.view is not None and self.view.back_to == APPROVALS:
            await self.cmd_approvals("")  # the list again: it may have changed meanwhile
            return
        self.place = QUEUE
        waiting = len(await self.reader.waiting())
        self.say(f"Back on the queue: {waiting} waiting; queue lists them.")

    # --- the timeline -------------------------------------------------------------------

    async def _page(self, offset: int | None) -> None:
        """Show the page of the timeline starting at ``offset`` (None: the newest page)."""
        view = self.view
        assert view is not None
        count = await self.reader.timeline_count(view.customer.id)
        view.count = count
        if count == 0:
            self.more = None
            self.say("Timeline: no entries yet.")
            return
        if offset is None:
            offset = max(count - TIMELINE_PAGE, 0)
        offset = min(max(offset, 0), count - 1)
        entries = await self.reader.timeline_page(view.customer.id, offset, TIMELINE_PAGE, total=count)
        view.offset = offset
        last = offset + len(entries)
        self.say(f"Timeline: entries {offset + 1} to {last} of {count}, newest last")
        names = {agent_id: agent.name for agent_id, agent in self.agents.items()}
        for number, entry in enumerate(entries, start=offset + 1):
            short = entry if len(entry.body) <= SHORT_BODY else replace(entry, body=entry.body[:SHORT_BODY])
            line = f"{number}. {timeline_line(short, names)}"
            if short is not entry:
                line += f" … (show {number} for all)"
            self.say(line)
        self.more = (lambda: self._page(last)) if last < count else None

    async def cmd_timeline(self, rest: str) -> None:
        assert self.view is not None
        await self._page(self.view.offset)

    async def cmd_previous(self, rest: str) -> None:
        assert self.view is not None
        if self.view.offset <= 0:
            raise Bad("already at the first entry; next goes forward, end to the newest")
        await self._page(self.view.offset - TIMELINE_PAGE)

    async def cmd_next(self, rest: str) -> None:
        view = self.view
        assert view is not None
        count = await self.reader.timeline_count(view.customer.id)
        if view.offset + TIMELINE_PAGE >= count:
            raise Bad("already at the newest entry; previous goes back, top to the oldest")
        await self._page(view.offset + TIMELINE_PAGE)

    async def cmd_top(self, rest: str) -> None:
        await self._page(0)

    async def cmd_end(self, rest: str) -> None:
        await self._page(None)

    async def cmd_show(self, rest: str) -> None:
        view = self.view
        assert view is not None
        text = rest.strip().removeprefix("entry").strip().replace(",", "")
        if not text:
            raise Bad("show which entry? give its number, e.g. show 12")
        if not text.isdigit():
            raise Bad(f"show: '{one_line(text, 30)}' is not an entry number")
        number = int(text)
        count = await self.reader.timeline_count(view.customer.id)
        view.count = count
        if not 1 <= number <= count:
            raise Bad(f"no entry {number}: entries are 1 to {count}" if count else "no entry: the timeline is empty")
        (entry,) = await self.reader.timeline_page(view.customer.id, number - 1, 1, total=count)
        self.say(*entry_lines(entry, number, count, self.person, self.their_zone()), "Text:")
        lines = wrapped(entry.body)
        await self._text_page(lines, number)

    async def _text_page(self, lines: Iterator[str], number: int, what: str = "entry") -> None:
        shown = 0
        for line in lines:
            if shown == TEXT_PAGE:
                # one line read ahead: there is more; keep it for the next page
                rest = _prepend(line, lines)
                self.say(f"more shows more of {what} {number}'s text")
                self.more = functools.partial(self._text_page, rest, number, what)
                return
            self.say(line)
            shown += 1
        self.more = None


    # --- knowledge articles -------------------------------------------------------------

    async def cmd_k(self, rest: str) -> None:
        found = await self.reader.search_articles(rest, LIST_PAGE)
        self.articles = found
        self.more = None
        if not found:
            self.say("No article holds these words." if rest.strip() else "No knowledge articles in this store.")
            return
        self.say(f"{len(found)} article{'s' if len(found) != 1 else ''}"
                 + (" (the best 20; more words narrow it down)" if len(found) == LIST_PAGE else "") + ":")
        self.say(*(f"{number}. {article_line(article, 200)}" for number, article in enumerate(found, 1)))
        self.say("article N shows one in full.")

    async def cmd_article(self, rest: str) -> None:
        wanted = rest.strip()
        if not wanted:
            raise Bad("article which? give its number in the last k list, e.g. article 1")
        if wanted.isdigit():
            if not 1 <= int(wanted) <= len(self.articles):
                raise Bad(f"no article {wanted} in the last k list" if self.articles else
                          "no k list yet: k WORDS lists the articles first")
            number, article = int(wanted), self.articles[int(wanted) - 1]
        else:
            found = await self.reader.article(wanted)
            if found is None:
                raise Bad(f"no article '{one_line(wanted, 60)}'; k WORDS finds articles")
            number, article = 0, found
        filed = [*article.products, *article.tags]
        self.say(f"Article {article.id}: {one_line(article.title, 200)}")
        if filed:
            self.say(f"Filed under: {one_line(', '.join(filed), 300)}")
        self.say("Text:")
        await self._text_page(wrapped(article.body), number, "article")


def _help_line(command: Command) -> str:
    return f"{command.usage} — {command.summary}"


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
