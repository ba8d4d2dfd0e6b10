"""What each command does. Exit status: 0 success, 1 refused or failed (one line on stderr)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from agentdesk.config import default_demo_store_path, default_store_path
from agentdesk.store.files import StoreError


class CommandError(Exception):
    """A refusal or failure the user can act on; printed as one line."""


def _store_path(args: argparse.Namespace) -> Path:
    return args.db if args.db is not None else default_store_path()


def run(args: argparse.Namespace) -> int:
    handlers = {
        None: _workstation,
        "demo": _demo,
        "import": _import,
        "export": _export,
        "queue": _queue,
        "timeline": _timeline,
    }
    try:
        return handlers[args.command](args)
    except (CommandError, StoreError) as exc:
        print(f"agentdesk: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`); that is not our failure.
        sys.stderr.close()
        return 0


def _open_workstation(store: Path, agent: str | None, read_only: bool) -> int:
    from agentdesk.tui.app import AgentDeskApp

    app = AgentDeskApp(store_path=store, agent_id=agent, read_only=read_only)
    app.run()
    return app.return_code or 0


def _workstation(args: argparse.Namespace) -> int:
    return _open_workstation(_store_path(args), args.agent, args.read_only)


def _demo(args: argparse.Namespace) -> int:
    from agentdesk.demo.build import DEMO_AGENT, build_demo

    store = args.db if args.db is not None else default_demo_store_path()
    print(f"Building the demo store in {store} …", file=sys.stderr)
    started = time.perf_counter()
    report = asyncio.run(build_demo(store, seed=args.seed))
    print(f"{report.summary()} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if args.build_only:
        return 0
    return _open_workstation(store, args.agent or DEMO_AGENT, args.read_only)


def _import(args: argparse.Namespace) -> int:
    from agentdesk.interchange.load import load_jsonl

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
    for message in report.messages():
        print(f"agentdesk: {message}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    return 1 if report.errors else 0


def _export(args: argparse.Namespace) -> int:
    from agentdesk.interchange.dump import dump_jsonl

    store = _store_path(args)
    if not store.exists():
        raise CommandError(f"no store at {store}")
    asyncio.run(dump_jsonl(store, sys.stdout.buffer))
    sys.stdout.buffer.flush()
    return 0


def _queue(args: argparse.Namespace) -> int:
    from agentdesk.cli.plain import print_queue

    return asyncio.run(print_queue(_existing_store(args), as_json=args.json))


def _timeline(args: argparse.Namespace) -> int:
    from agentdesk.cli.plain import print_timeline

    return asyncio.run(print_timeline(_existing_store(args), args.customer, as_json=args.json))


def _existing_store(args: argparse.Namespace) -> Path:
    store = _store_path(args)
    if not store.exists():
        raise CommandError(f"no store at {store} (create one with 'agentdesk import FILE' or try 'agentdesk demo')")
    return store
