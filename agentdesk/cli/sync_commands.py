"""``agentdesk login``, ``agentdesk sync`` and ``agentdesk import --server``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from agentdesk.cli.commands import CommandError, UsageError, say_skipped
from agentdesk.desk.errors import StoreError
from agentdesk.domain.text import one_line
from agentdesk.sync.credentials import (
    TOKEN_ENV,
    CredentialsError,
    server_url,
    store_login,
    token_for,
    usable_keyring,
)
from agentdesk.sync.status import CHANGE, MUTATION, Kept

if TYPE_CHECKING:
    from rich.console import Console

    from agentdesk.domain.authority import AuthorityMatrix
    from agentdesk.sync.engine import SyncReport


def _server(args: argparse.Namespace) -> str:
    server = server_url(args.server)
    if server is None:
        raise CommandError("no backend: give --server URL, set $AGENTDESK_SERVER, or run agentdesk login")
    if not server.startswith(("http://", "https://")):
        raise UsageError(f"--server {server!r} is not an http:// or https:// address")
    return server


def _token(server: str) -> str:
    token = token_for(server)
    if not token:
        raise CommandError(f"no token for {server}: run 'agentdesk login --server {server} --user NAME' "
                           f"or set {TOKEN_ENV}")
    return token


# --- login ------------------------------------------------------------------------------


def login(args: argparse.Namespace) -> int:
    from agentdesk.sync.client import BackendClient, BackendRefused, Unreachable

    server = _server(args)
    try:  # before the token is asked for: a keyring that cannot keep it well is said at once
        usable_keyring(plaintext_accepted=args.plaintext_keyring)
    except CredentialsError as exc:
        raise CommandError(str(exc)) from None
    token = _read_token()
    try:
        me = asyncio.run(_who(BackendClient(server, token)))
    except BackendRefused as exc:
        raise CommandError(f"{server} does not accept this token ({exc}); nothing was stored") from None
    except Unreachable as exc:
        raise CommandError(f"{exc}; the token was not checked and not stored") from None
    if me.get("name") != args.user:
        raise CommandError(f"this token belongs to {me.get('name')!r}, not {args.user!r}; nothing was stored")
    try:
        keyring_name = store_login(server, args.user, token, plaintext_accepted=args.plaintext_keyring)
    except CredentialsError as exc:
        raise CommandError(str(exc)) from None
    print(f"logged in to {server} as {args.user} ({me.get('role')}); the token is in the keyring ({keyring_name})"
          + _expiry_words(me.get("expires_at")))
    return 0


def _expiry_words(expires_at: object) -> str:
    """``; it expires on 2027-03-05 14:30 UTC`` from /me's ``expires_at``; nothing when it does not say."""
    from datetime import datetime, timezone

    if not isinstance(expires_at, str):
        return ""
    try:
        at = datetime.fromisoformat(expires_at).astimezone(timezone.utc)
    except ValueError:
        return ""
    return f"; it expires on {at:%Y-%m-%d %H:%M} UTC"


async def _who(backend: Any) -> dict[str, Any]:
    async with backend:
        return await backend.me()


def _read_token() -> str:
    if sys.stdin.isatty():
        token = getpass.getpass("token (as printed by 'agentdesk users add'): ")
    else:
        token = sys.stdin.readline()
    token = token.strip()
    if not token:
        raise UsageError("no token given: paste the token printed by 'agentdesk users add'")
    return token


# --- sync -------------------------------------------------------------------------------


def sync(store: Path, args: argparse.Namespace, matrix: AuthorityMatrix) -> int:
    """One push and one pull; every rejected and set-aside item still kept is listed, and keeps the exit at 1."""
    server = _server(args)
    token = _token(server)
    try:
        outcome = asyncio.run(_sync_once(store, server, token, matrix))
    except (CommandError, StoreError):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever failed, the user gets one line, never a traceback
        from agentdesk.sync.status import failure_words

        raise CommandError(f"sync failed: {failure_words(exc)}; nothing is lost, run agentdesk sync again") from None
    report, waiting, kept = outcome.report, outcome.waiting, outcome.kept
    if args.json:
        print(json.dumps({"server": server, "online": outcome.error is None, "pushed": report.applied,
                          "refused": report.refused, "retrying": report.retrying,
                          "rejected": [item.as_json() for item in kept if item.source == MUTATION],
                          "set_aside": [item.as_json() for item in kept if item.source == CHANGE],
                          "pulled": report.pulled, "waiting": waiting}, ensure_ascii=False))
    else:
        for line in report.refused:
            print(f"refused: {one_line(line)}")
        for line in report.retrying:
            print(f"will try again: {one_line(line)}")
        for item in kept:
            print(one_line(item.line()))
    if outcome.error is not None:
        raise CommandError(outcome.error)
    summary = (f"pushed {report.applied}" + (f" ({len(report.refused)} refused)" if report.refused else "")
               + f", pulled {report.pulled:,} records; "
               + ("nothing waiting" if not waiting else f"{waiting} still waiting")
               + (f"; {_kept_words(kept)} kept, listed above" if kept else ""))
    print(summary, file=sys.stderr)
    return 0 if waiting == 0 and not kept else 1


def _kept_words(kept: list[Kept]) -> str:
    rejected = sum(item.source == MUTATION for item in kept)
    set_aside = len(kept) - rejected
    parts = ([f"{rejected} rejected by the backend"] if rejected else []) + \
        ([f"{set_aside} set aside (could not be applied)"] if set_aside else [])
    return " and ".join(parts)


@dataclass
class _Outcome:
    report: SyncReport
    waiting: int
    kept: list[Kept]
    error: str | None


async def _sync_once(store: Path, server: str, token: str, matrix: AuthorityMatrix) -> _Outcome:
    from agentdesk.desk.store import Ledger
    from agentdesk.retry import SYNC_COMMAND, SYNC_COMMAND_ATTEMPTS
    from agentdesk.sync.client import BackendClient, BackendRefused, Unreachable
    from agentdesk.sync.engine import Syncer, SyncReport
    from agentdesk.sync.replica import Replica

    # Decisions left pending by a workstation that closed (or crashed) in their undo window
    # are due once the window is over: queue them, so this sync sends them too.
    async with Ledger.open(store, matrix) as ledger:
        await ledger.release_due()
    backoff = SYNC_COMMAND.backoff()
    async with Replica.open(store) as replica, BackendClient(server, token) as backend:
        syncer = Syncer(replica, backend)
        report, error = SyncReport(), None
        for attempt in range(SYNC_COMMAND_ATTEMPTS):
            try:
                part = await syncer.once()
            except Unreachable as exc:
                error = str(exc)
                if attempt + 1 < SYNC_COMMAND_ATTEMPTS:
                    await asyncio.sleep(backoff.next())
                continue
            except BackendRefused as exc:
                error = f"{server} refused: {exc}"
                break
            report.add(part)
            error = None
            break
        waiting = (await replica.counts()).waiting
        if error is not None and waiting:
            error = f"offline: {waiting} decision{'s' if waiting != 1 else ''} waiting ({error})"
        return _Outcome(report, waiting, await syncer.kept(), error)


# --- import --server --------------------------------------------------------------------


def upload(args: argparse.Namespace) -> int:
    server = _server(args)
    token = _token(server)
    if args.file == "-":
        return asyncio.run(_upload(sys.stdin.buffer, server, token, args.max_record_bytes))
    try:
        source = open(args.file, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
    with source:
        return asyncio.run(_upload(source, server, token, args.max_record_bytes))


async def _upload(source: BinaryIO, server: str, token: str, max_record_bytes: int,
                  console: Console | None = None) -> int:
    """Upload ``source``; a progress bar on ``console`` (stderr) when it is a terminal, then one count line."""
    from rich.console import Console

    from agentdesk.cli.upload_progress import count_records, upload_progress
    from agentdesk.interchange.codec import RecordError, decode_line
    from agentdesk.sync.client import BackendClient, BackendRefused, Unreachable
    from agentdesk.sync.upload import UploadSummary, upload

    errors: list[tuple[int, str]] = []
    numbers: list[int] = []
    """The line number of each record sent, by its position in the upload."""
    progress = upload_progress(console or Console(stderr=True))
    task = progress.add_task("upload", total=count_records(source))

    def good_records() -> Iterator[Any]:
        for number, raw in enumerate(source, 1):
            if raw.isspace():
                continue
            try:
                obj = decode_line(raw, max_record_bytes=max_record_bytes)
            except RecordError as exc:
                errors.append((number, exc.message))
                progress.advance(task)
                continue
            numbers.append(number)
            yield obj

    summary = UploadSummary()
    try:
        with progress:
            async with BackendClient(server, token) as backend:
                summary = await upload(backend, good_records(), on_sent=lambda sent: progress.advance(task, sent))
    except BackendRefused as exc:
        raise CommandError(f"{server} refused the upload: {exc}") from None
    except Unreachable as exc:
        raise CommandError(f"{exc}; what was sent before stays stored (uploading again is harmless)") from None
    errors += [(numbers[index], reason) for index, reason in summary.errors]
    say_skipped([f"line {number}: {reason}" for number, reason in sorted(errors)])
    print(f"uploaded to {server}: {summary.changed:,} new or changed, {summary.unchanged:,} unchanged, "
          f"{len(errors):,} skipped", file=sys.stderr)
    return 1 if errors else 0
