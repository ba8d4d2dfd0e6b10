"""``agentdesk serve`` (the backend) and ``agentdesk users add|rotate|remove|list`` (its users and tokens)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from agentdesk.cli.workers import MAX_WORKERS, supervise
from agentdesk.config import default_server_database

DATABASE_ENV = "AGENTDESK_DATABASE"
MIN_ALLOWANCE_DAYS, MAX_ALLOWANCE_DAYS = 1, 3650
"""At least a day: a decision takes a moment to reach the backend. At most ten years: the bound must stay a
date the clock can reach, and no workstation stays offline longer."""


def _database(args: argparse.Namespace):  # noqa: ANN202 - a sqlalchemy URL, imported late
    from agentdesk.server.database import DatabaseUrlError, database_url

    value = args.database or os.environ.get(DATABASE_ENV) or default_server_database()
    try:
        return database_url(value)
    except DatabaseUrlError as exc:
        raise _Usage(f"--database: {exc}") from None


class _Usage(Exception):
    """Bad usage: one line, exit 2."""


class _Failed(Exception):
    """A failure: one line, exit 1."""


def _matrix(args: argparse.Namespace) -> tuple[str, str]:
    """The matrix text and its name: ``--authority FILE``, else the demo's."""
    from agentdesk.domain.authority import MatrixError, parse_matrix
    from agentdesk.server.app import demo_matrix_path

    if args.authority is not None:
        path, source = Path(args.authority), str(args.authority)
    else:
        path, source = demo_matrix_path(), "demo authority.toml"
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise _Failed(f"{source}: cannot read the authority matrix: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise _Failed(f"{source}: not UTF-8 text (byte {exc.start})") from None
    try:
        parse_matrix(text, source)
    except MatrixError as exc:
        raise _Failed(str(exc)) from None
    return text, source


def _channels(args: argparse.Namespace):  # noqa: ANN202 - a ChannelsConfig, imported late
    """The channels file of ``--channels`` (None without one); a channel whose secret is not set stops the start."""
    from agentdesk.channels.config import ChannelsError, load_channels

    if args.channels is None:
        return None
    try:
        config = load_channels(Path(args.channels))
    except ChannelsError as exc:
        raise _Failed(str(exc)) from None
    missing = config.missing_secrets()
    if missing:
        raise _Failed(f"{args.channels}: {missing[0]}")
    return config


def _channels_line(config) -> str:  # noqa: ANN001 - a ChannelsConfig or None
    """What the server log says of the channels: which are on, and where providers call; never a secret."""
    if config is None or not config.enabled():
        return "channels: none (agentdesk serve --channels FILE)"
    where = f" (public URL {config.public_url})" if config.public_url else ""
    return f"channels on: {', '.join(config.enabled())}{where}"


def _reported(run):  # noqa: ANN001, ANN202 - a command body
    def command(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except _Usage as exc:
            print(f"agentdesk: {exc}", file=sys.stderr)
            return 2
        except _Failed as exc:
            print(f"agentdesk: {exc}", file=sys.stderr)
            return 1
    return command


def _database_failure(exc: BaseException, url) -> _Failed:  # noqa: ANN001
    from agentdesk.server.database import describe

    reason = " ".join(str(getattr(exc, "orig", None) or exc).split()) or type(exc).__name__
    # A driver's message may quote the URL; never its password.
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return _Failed(f"database {describe(url)}: {reason[:300]}")


# --- serve ------------------------------------------------------------------------------


@_reported
def serve(args: argparse.Namespace) -> int:
    from agentdesk.server.database import describe
    from agentdesk.server.migrate import upgrade

    url = _database(args)
    matrix_text, source = _matrix(args)
    channels = _channels(args)
    if args.keep_changes is not None and args.keep_changes < 1:
        raise _Usage("--keep-changes must be at least 1")
    if not MIN_ALLOWANCE_DAYS <= args.offline_allowance <= MAX_ALLOWANCE_DAYS:
        raise _Usage(f"--offline-allowance must be between {MIN_ALLOWANCE_DAYS} and {MAX_ALLOWANCE_DAYS} days")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise _Usage(f"--workers must be between 1 and {MAX_WORKERS}")
    try:
        asyncio.run(upgrade(url))
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, it is one line for the user
        raise _database_failure(exc, url) from None
    listening = _listen(args.host, args.port)

    def worker(started: Callable[[], None]) -> int:
        with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
            return runner.run(_serve(url, matrix_text, source, listening, args.keep_changes,
                                     timedelta(days=args.offline_allowance), channels, started))

    def announce() -> None:
        bound = listening.getsockname()[1]
        shown_host = f"[{args.host}]" if ":" in args.host else args.host
        workers = f", {args.workers} processes" if args.workers > 1 else ""
        print(f"agentdesk backend on http://{shown_host}:{bound} (database {describe(url)}{workers})", flush=True)
        print(f"agentdesk {_channels_line(channels)}", flush=True)

    try:
        if args.workers == 1:
            return worker(announce)
        return supervise(args.workers, worker, announce)
    finally:
        listening.close()


def _event_loop_factory():  # noqa: ANN202 - a callable making an event loop, or None for asyncio's own
    """uvloop's event loop when it is installed: its sockets and scheduling in C cost a fraction of asyncio's
    per request (the webhook routes answer hundreds a second)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(url, matrix_text: str, source: str, listening: socket.socket, keep: int | None,  # noqa: ANN001
                 offline_allowance: timedelta, channels, started: Callable[[], None]) -> int:  # noqa: ANN001
    import uvicorn

    from agentdesk.server.app import create_app

    _log_to_stderr()
    app = create_app(url, matrix_text, matrix_source=source, keep_changes=keep, offline_allowance=offline_allowance,
                     channels=channels)
    # No access log: nothing of a request (headers least of all) is ever written out.
    config = uvicorn.Config(app, access_log=False, log_level="warning",
                            timeout_graceful_shutdown=2, lifespan="on", server_header=False)
    loop = asyncio.get_running_loop()

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame) -> None:  # noqa: ANN001
            # Event streams never end by themselves; end them, so shutdown need not wait for them.
            loop.call_soon_threadsafe(app.state.backend.watch.close)
            super().handle_exit(sig, frame)

    server = Server(config)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again under the
    # handlers it found; with these, that second delivery is a no-op and we exit with 0.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda _signum, _frame: None)
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.02)
    if server.started:
        started()
    try:
        await serving
    except SystemExit:  # uvicorn's way of saying the start failed; it has logged why
        return 1
    # uvicorn returns normally after SIGTERM/SIGINT: a clean stop.
    return 0 if server.started else 1


def _log_to_stderr() -> None:
    """The backend's own log (what each connector and webhook does, at INFO) on stderr. Without a handler
    Python prints only warnings, bare, and the connectors' work would be invisible to the operator."""
    logger = logging.getLogger("agentdesk")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a port in use is one line, not uvicorn's traceback."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind, proto)
    except OSError as exc:
        raise _Failed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
    except OSError as exc:
        listening.close()
        raise _Failed(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return listening


# --- users ------------------------------------------------------------------------------


@_reported
def users(args: argparse.Namespace) -> int:
    from agentdesk.server import users as accounts

    url = _database(args)
    if args.users_command == "add":
        _check_role(args)
        issued = _on_users(url, accounts.add_user, args.name, args.role, expires_in_days=args.expires_in)
        if issued.existed:
            print(f"agentdesk: user {args.name} existed; its old token no longer works", file=sys.stderr)
        _print_token(issued)
    elif args.users_command == "rotate":
        issued = _on_users(url, accounts.rotate_token, args.name, expires_in_days=args.expires_in)
        print(f"agentdesk: the old token of {args.name} no longer works", file=sys.stderr)
        _print_token(issued)
    elif args.users_command == "remove":
        _on_users(url, accounts.remove_user, args.name)
        print(f"removed user {args.name}: their token no longer works; their agent record and history stay")
    else:
        _list_users(_on_users(url, accounts.list_users), as_json=args.json)
    return 0


def _check_role(args: argparse.Namespace) -> None:
    from agentdesk.domain.authority import parse_matrix
    from agentdesk.server.users import ADMIN

    matrix_text, source = _matrix(args)
    roles = [*parse_matrix(matrix_text, source).roles, ADMIN]
    if args.role not in roles:
        raise _Usage(f"role {args.role!r} is not in the authority matrix (roles: {', '.join(roles)})")


def _print_token(issued) -> None:  # noqa: ANN001 - agentdesk.server.users.Issued, imported late
    from agentdesk.server.users import expiry_text

    print(f"agentdesk: the token expires on {expiry_text(issued.expires_at_us)}", file=sys.stderr)
    print(issued.token, flush=True)


def _list_users(found: list, *, as_json: bool) -> None:
    import json

    from agentdesk.domain.timeline import from_utc_micros
    from agentdesk.server.changes import now_us
    from agentdesk.server.users import expiry_text

    now = now_us()
    for user in found:
        at = user.expires_at_us
        if as_json:
            print(json.dumps({"name": user.name, "role": user.role,
                              "expires_at": None if at is None else from_utc_micros(at).isoformat(),
                              "expired": at is not None and at <= now}))
        elif at is None:
            print(f"{user.name}\t{user.role}\tnever expires (made before tokens expired; rotate it)")
        else:
            print(f"{user.name}\t{user.role}\t{'expired' if at <= now else 'expires'} {expiry_text(at)}")


def _on_users(url, action, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    """``action(database, *args, **kwargs)`` (from ``agentdesk.server.users``) on the migrated database."""
    from agentdesk.server.database import Database
    from agentdesk.server.migrate import upgrade
    from agentdesk.server.users import NoSuchUser, UserError

    async def run():  # noqa: ANN202
        await upgrade(url)
        async with Database.open(url) as database:
            return await action(database, *args, **kwargs)

    try:
        return asyncio.run(run())
    except NoSuchUser as exc:
        raise _Failed(str(exc)) from None
    except UserError as exc:
        raise _Usage(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - whatever the driver raises, it is one line for the user
        raise _database_failure(exc, url) from None
