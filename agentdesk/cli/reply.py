"""``agentdesk reply``: one reply from a script, through the workstation's own write path.

The reply is queued in the store's outbox like one written in the workstation; ``agentdesk sync``
(or any workstation syncing this store) hands it to the backend, which sends it. One line out:
``queued: e-mail reply to Petra Lindner (c-1001) to p.lindner@example.net, case k-1 · i-01…``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentdesk.cli.commands import CommandError
from agentdesk.desk.store import Ledger, LedgerError, StoreReader
from agentdesk.domain import reply
from agentdesk.domain.authority import AuthorityMatrix
from agentdesk.domain.text import one_line
from agentdesk.plain.lines import print_json


async def send_reply(store: Path, args: argparse.Namespace, matrix: AuthorityMatrix) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    async with StoreReader.open(store) as reader:
        customer = await reader.find_customer(args.customer)
    if customer is None:
        raise CommandError(f"no customer with id, e-mail or phone {args.customer!r}")
    channel = reply.channel_named(args.channel) if args.channel else None
    try:
        async with Ledger.open(store, matrix) as ledger:
            entry = await ledger.reply(args.agent, customer.id, text, channel, args.case)
    except LedgerError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        from agentdesk.interchange.codec import to_json_obj

        print_json({"outcome": "queued", "customer": {"id": customer.id, "name": customer.name},
                    "reply": to_json_obj(entry)})
    else:
        assert entry.channel is not None  # a reply always has its channel
        where = f"{reply.channel_words(entry.channel)} reply to {one_line(customer.name, 60)} ({customer.id})"
        case = f", case {entry.case}" if entry.case else ""
        sys.stdout.write(f"queued: {where} to {one_line(str(entry.extra[reply.TO]), 80)}{case} · {entry.id}\n")
    sys.stdout.flush()
    return 0
