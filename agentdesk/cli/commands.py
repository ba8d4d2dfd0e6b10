"""What each command does. Exit status: 0 success, 1 refused or failed (one line on stderr), 2 bad usage."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agentdesk.config import Settings, SettingsError, default_demo_store_path, default_store_path, load_settings
from agentdesk.desk.errors import CommandError, StoreError

if TYPE_CHECKING:
    from agentdesk.desk.identity import BackendLink
    from agentdesk.domain.authority import AuthorityMatrix


class UsageError(CommandError):
    """A value the command cannot understand (say, an amount written ``12,50``); one line, exit 2."""


def _store_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_store_path()


def run(args: argparse.Namespace) -> int:
    handlers = {
        None: _workstation,
        "demo": _demo,
        "import": _import,
        "export": _export,
        "knowledge": _knowledge,
        "queue": _queue,
        "floor": _floor,
        "timeline": _timeline,
        "decide": _decide,
        "reply": _reply,
        "promises": _promises,
        "login": _login,
        "sync": _sync,
        "serve": _serve,
        "web": _web,
        "users": _users,
        "channels": _channels,
    }
    try:
        return handlers[args.command](args)
    except UsageError as exc:
        print(f"agentdesk: {exc}", file=sys.stderr)
        return 2
    except (CommandError, StoreError, SettingsError) as exc:
        print(f"agentdesk: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`); that is not our failure.
        sys.stderr.close()
        return 0


# --- settings, matrix, undo window ------------------------------------------------------


class _Context:
    """The user's settings, read only when a command needs one of them."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._settings: Settings | None = None
        self._matrix: AuthorityMatrix | None = None
        self._keymap: dict[str, str] | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def matrix(self) -> AuthorityMatrix:
        """``--authority FILE``, else the settings' ``authority``, else the demo's matrix."""
        from agentdesk.authority_file import demo_matrix, load_matrix
        from agentdesk.domain.authority import MatrixError

        if self._matrix is None:
            path = self.args.authority if self.args.authority is not None else self.settings.authority
            try:
                self._matrix = load_matrix(path) if path is not None else demo_matrix()
            except MatrixError as exc:
                raise CommandError(str(exc)) from None
        return self._matrix

    def keymap(self) -> dict[str, str]:
        """The settings' ``[keys]`` and ``single_key_shortcuts``, checked against every binding."""
        from agentdesk.tui.keymap import KeymapError, resolve_keymap

        if self._keymap is None:
            try:
                self._keymap = resolve_keymap(self.settings)
            except KeymapError as exc:
                raise CommandError(str(exc)) from None
        return self._keymap

    def undo_window(self) -> timedelta | None:
        """``--undo-window``, else the settings' ``undo_window_seconds`` (None: no time limit)."""
        from agentdesk.config import undo_window_from_text

        given = getattr(self.args, "undo_window", None)
        return undo_window_from_text(given) if given is not None else self.settings.undo_window


# --- the workstation -------------------------------------------------------------------


def _open_workstation(store: Path, args: argparse.Namespace, agent: str | None,
                      context: _Context | None = None) -> int:
    context = context or _Context(args)
    if getattr(args, "plain", False):  # a line-oriented session for screen readers; no Textual
        from agentdesk.desk.identity import backend_link
        from agentdesk.plain.session import run_plain

        return run_plain(store, read_only=bool(args.read_only), asked_as=agent,
                         matrix=None if args.read_only else context.matrix(),  # read-only decides nothing
                         undo_window=context.undo_window(),
                         backend=backend_link(args.server, agent) if args.command != "demo" else None)
    # Read-only decides nothing: no matrix to read before the first paint.
    matrix = None if args.read_only else context.matrix()
    undo_window = context.undo_window()
    settings = context.settings
    keymap = context.keymap()
    backend, agent = _backend_link(args, agent)
    from agentdesk.tui.app import AgentDeskApp

    app = AgentDeskApp(store_path=store, agent_id=agent, read_only=args.read_only,
                       matrix=matrix, undo_window=undo_window, theme=settings.theme, keymap=keymap,
                       animations=settings.animations, backend=backend)
    app.run()
    return app.return_code or 0


def _backend_link(args: argparse.Namespace, agent: str | None) -> tuple[BackendLink | None, str | None]:
    """The backend the workstation syncs with (None: local only; the demo's store is never synced), and
    who is working as far as known before the first paint (see :mod:`agentdesk.desk.identity`)."""
    from agentdesk.desk.identity import backend_link, first_guess

    link = backend_link(args.server, agent) if args.command != "demo" else None
    return link, first_guess(link, agent)


def _workstation(args: argparse.Namespace) -> int:
    return _open_workstation(_store_path(args), args, args.agent)


def _demo(args: argparse.Namespace) -> int:
    from agentdesk.demo.build import DEMO_AGENT, build_demo

    context = _Context(args)
    context.undo_window()  # a bad setting stops us before the build, not after it
    context.keymap()
    if not args.read_only:
        context.matrix()
    store = args.db if args.db is not None else default_demo_store_path()
    print(f"Building the demo store in {store} …", file=sys.stderr)
    started = time.perf_counter()
    report = asyncio.run(build_demo(store, seed=args.seed))
    print(f"{report.summary()} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    for line in demo_identities(store):
        print(line, file=sys.stderr)
    if args.build_only:
        return 0
    return _open_workstation(store, args, args.agent or DEMO_AGENT, context)


DEMO_ROLES = (("a-7", "an agent, the default"), ("a-9", "an agent: the eSIM and callback specialist"),
              ("a-2", "a team lead: approves what agents escalate (w)"),
              ("a-1", "the supervisor: add --read-only to watch the floor"))
"""Whom to try the demo as: one of each kind of user in its stories."""


def demo_identities(store: Path) -> list[str]:
    """``--as a-2  Markus Brandt · a team lead: …``, one line each, and how the other commands find the store."""
    from agentdesk.demo.stories import STAFF_BY_ID

    lines = ["Sign in as any of them with agentdesk demo --as ID:"]
    lines += [f"  --as {ident:<5} {STAFF_BY_ID[ident].name} · {words}" for ident, words in DEMO_ROLES]
    lines.append(f"The other commands read it with --db {store} (or AGENTDESK_DB={store}), e.g. agentdesk --db "
                 f"{store} queue")
    return lines


# --- data in and out --------------------------------------------------------------------

IMPORT_ERRORS_SHOWN = 20
"""Lines of a bad import that are said one by one; the rest are counted (a broken file is not a flood)."""


def _import(args: argparse.Namespace) -> int:
    from agentdesk.interchange.load import load_jsonl

    if args.server is not None:
        from agentdesk.cli.sync_commands import upload

        return upload(args)
    store = _store_path(args)
    if args.file == "-":
        report = asyncio.run(load_jsonl(sys.stdin.buffer, store, max_record_bytes=args.max_record_bytes))
    else:
        try:
            source = open(args.file, "rb")  # noqa: SIM115 - closed below, after the async load
        except OSError as exc:
            raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
        with source:
            report = asyncio.run(load_jsonl(source, store, max_record_bytes=args.max_record_bytes))
    say_skipped(report.messages())
    print(report.summary(), file=sys.stderr)
    return 1 if report.errors else 0


def say_skipped(messages: list[str]) -> None:
    """The first :data:`IMPORT_ERRORS_SHOWN` reasons for skipped lines on stderr, then how many more there were."""
    for message in messages[:IMPORT_ERRORS_SHOWN]:
        print(f"agentdesk: {message}", file=sys.stderr)
    if len(messages) > IMPORT_ERRORS_SHOWN:
        print(f"agentdesk: and {len(messages) - IMPORT_ERRORS_SHOWN:,} more lines skipped for a reason of their own "
              f"(the first {IMPORT_ERRORS_SHOWN} are above)", file=sys.stderr)


def _knowledge(args: argparse.Namespace) -> int:
    from agentdesk.cli.knowledge import import_articles

    return import_articles(_store_path(args), args)


def _export(args: argparse.Namespace) -> int:
    from agentdesk.interchange.dump import dump_jsonl

    store = _store_path(args)
    if not store.exists():
        raise CommandError(f"no store at {store}")
    asyncio.run(dump_jsonl(store, sys.stdout.buffer))
    sys.stdout.buffer.flush()
    return 0


def _queue(args: argparse.Namespace) -> int:
    from agentdesk.plain.lines import print_queue

    return asyncio.run(print_queue(_existing_store(args), as_json=args.json))


def _floor(args: argparse.Namespace) -> int:
    from agentdesk.desk.identity import backend_link
    from agentdesk.plain.lines import print_floor

    store = _existing_store(args)
    return asyncio.run(print_floor(store, _Context(args).matrix(), backend_link(args.server, args.agent),
                                   as_json=args.json))


def _timeline(args: argparse.Namespace) -> int:
    from agentdesk.plain.lines import print_timeline

    return asyncio.run(print_timeline(_existing_store(args), args.customer, as_json=args.json))


def _promises(args: argparse.Namespace) -> int:
    from agentdesk.plain.lines import print_promises

    return asyncio.run(print_promises(_existing_store(args), as_json=args.json))


# --- the backend ------------------------------------------------------------------------


def _login(args: argparse.Namespace) -> int:
    from agentdesk.cli.sync_commands import login

    return login(args)


def _sync(args: argparse.Namespace) -> int:
    from agentdesk.cli.sync_commands import sync

    return sync(_store_path(args), args, _Context(args).matrix())  # a new workstation's first sync makes its store


def _serve(args: argparse.Namespace) -> int:
    from agentdesk.cli.serve import serve

    return serve(args)


def _web(args: argparse.Namespace) -> int:
    from agentdesk.cli.web import serve_web

    return serve_web(args)


def _users(args: argparse.Namespace) -> int:
    from agentdesk.cli.serve import users

    return users(args)


def _channels(args: argparse.Namespace) -> int:
    from agentdesk.cli.channels_check import channels_check

    return channels_check(args)


# --- deciding ---------------------------------------------------------------------------


def _writing(args: argparse.Namespace, what: str) -> Path:
    """The store a command writes to, with ``args.agent`` set to who works (the token decides with a backend)."""
    if args.read_only:
        raise CommandError(f"read-only: no {what}")
    store = _existing_store(args)
    from agentdesk.desk.identity import backend_link, decision_maker

    who = decision_maker(backend_link(args.server, args.agent), args.agent, store)
    if who.note:
        print(f"agentdesk: {who.note}", file=sys.stderr)
    args.agent = who.user
    return store


def _decide(args: argparse.Namespace) -> int:
    store = _writing(args, "decisions")
    from agentdesk.cli.decide import decide

    return asyncio.run(decide(store, args, _Context(args).matrix()))


def _reply(args: argparse.Namespace) -> int:
    store = _writing(args, "replies")
    from agentdesk.cli.reply import send_reply

    return asyncio.run(send_reply(store, args, _Context(args).matrix()))


def _existing_store(args: argparse.Namespace) -> Path:
    store = _store_path(args)
    if not store.exists():
        raise CommandError(f"no store at {store} (create one with 'agentdesk import FILE' or try 'agentdesk demo')")
    return store
