"""Command-line grammar (contract.md, "Commands")."""

from __future__ import annotations

import argparse
from pathlib import Path

from agentdesk import __version__


def _add_shared_options(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Shared options may stand before or after the subcommand. The subcommand's
    # copies default to SUPPRESS so they never overwrite a value given earlier.
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument("--db", type=Path, default=default, metavar="PATH",
                        help="the local store (default: $AGENTDESK_DB or the user data directory)")
    parser.add_argument("--as", dest="agent", default=default, metavar="AGENT",
                        help="who is working, by agent id")
    parser.add_argument("--json", action="store_true", default=False if top_level else argparse.SUPPRESS,
                        help="print JSON, one object a line")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentdesk",
        description="A terminal workstation for customer-service agents. "
        "Without a command it opens the workstation on the local store.",
    )
    parser.add_argument("--version", action="version", version=f"agentdesk {__version__}")
    parser.add_argument("--read-only", action="store_true",
                        help="open the workstation read-only, as a supervisor would")
    _add_shared_options(parser, top_level=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _add_shared_options(sub, top_level=False)
        return sub

    demo = command("demo", "open the workstation on a fresh demo store (no server needed)")
    demo.add_argument("--seed", type=int, default=7, help="seed of the generated data (default 7)")
    demo.add_argument("--build-only", action="store_true", help="build the demo store and exit")

    load = command("import", "read interchange JSONL into the local store; '-' is stdin")
    load.add_argument("file", metavar="FILE")
    load.add_argument("--max-record-bytes", type=int, default=1 << 20, metavar="N",
                      help="refuse records longer than N bytes (default 1 MiB)")

    command("export", "write the store as interchange JSONL to stdout")
    command("queue", "the queue in fair order, one customer a line, with the reason for its place")
    timeline = command("timeline", "a customer's merged timeline, oldest first, one entry a line")
    timeline.add_argument("customer", metavar="CUSTOMER", help="customer id, e-mail address or phone number")
    return parser
