"""The ``agentdesk`` command: one entry point for the workstation and the plain commands.

Only argument parsing happens here; each command imports what it needs when it
runs, so opening the workstation never pays for the importer or the ORM.
"""

from __future__ import annotations

import sys

from agentdesk.cli.parser import build_parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from agentdesk.cli.commands import run

    try:
        return run(args)
    except KeyboardInterrupt:
        print("agentdesk: interrupted", file=sys.stderr)
        return 1
