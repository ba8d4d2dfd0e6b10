"""Plain output of the queue and a timeline: one record a line, or JSON Lines with ``--json``.

Colour only when stdout is a terminal (Rich decides, and honours NO_COLOR);
customer text always goes through :func:`one_line`, so no control sequence and
no line break from a customer ever reaches the terminal or splits a record.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.text import Text

from agentdesk.cli.commands import CommandError
from agentdesk.domain.model import TimelineEntry
from agentdesk.domain.queue import URGENCY_WORDS, QueuePlace, order_queue
from agentdesk.domain.text import json_safe, one_line
from agentdesk.domain.timefmt import duration, until
from agentdesk.store.reader import StoreReader


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True, emoji=False, markup=False)


def _print_json(obj: dict) -> None:
    from agentdesk.interchange.codec import dumps

    sys.stdout.write(json_safe(dumps(obj)) + "\n")


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; the last column is never padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([cell.ljust(w) for cell, w in zip(row, widths)] + [row[-1]]) for row in rows]


async def print_queue(store: Path, *, as_json: bool) -> int:
    now = datetime.now(timezone.utc)
    async with StoreReader.open(store) as reader:
        places = order_queue(await reader.waiting(), now)
    if as_json:
        for place in places:
            _print_json(_queue_json(place))
        return 0
    console = _console()
    if not places:
        console.print("Nobody is waiting.")
        return 0
    rows = [_queue_cells(place, now) for place in places]
    for place, line in zip(places, _columns(rows)):
        style = "bold" if place.position == 1 else ""
        console.print(Text(line, style=style))
    return 0


def _queue_cells(place: QueuePlace, now: datetime) -> list[str]:
    item = place.waiting
    deadline = ""
    if item.deadline is not None:
        deadline = f"{one_line(item.deadline_what or 'promise', 32)} {until(item.deadline, now)}"
    return [
        f"{place.position}.",
        one_line(item.name, 40),
        item.customer_id,
        "+".join(channel.value for channel in item.channels),
        f"waited {duration(place.waited)}",
        deadline or "no deadline",
        f"why: {one_line(place.reason)}",
    ]


def _queue_json(place: QueuePlace) -> dict:
    item = place.waiting
    return {
        "position": place.position,
        "customer": item.customer_id,
        "name": item.name,
        "channels": [channel.value for channel in item.channels],
        "waiting_since": item.since.isoformat(),
        "waited_s": int(place.waited.total_seconds()),
        "urgency": item.urgency.value,
        "urgency_text": URGENCY_WORDS[item.urgency] or None,
        "deadline": item.deadline.isoformat() if item.deadline else None,
        "deadline_what": item.deadline_what,
        "reason": place.reason,
    }


async def print_timeline(store: Path, reference: str, *, as_json: bool) -> int:
    async with StoreReader.open(store) as reader:
        customer = await reader.find_customer(reference)
        if customer is None:
            raise CommandError(f"no customer with id, e-mail or phone {reference!r}")
        names = {agent.id: agent.name for agent in await reader.agents()}
        if as_json:
            from agentdesk.interchange.codec import to_json_obj

            async for entry in reader.timeline(customer.id):
                _print_json(to_json_obj(entry))
            return 0
        console = _console()
        async for entry in reader.timeline(customer.id):
            console.print(Text(_timeline_line(entry, names)), no_wrap=True, overflow="ignore", crop=False)
    return 0


def _timeline_line(entry: TimelineEntry, names: dict[str, str]) -> str:
    at = entry.at.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    channel = entry.channel.value if entry.channel else "event"
    author = one_line(names.get(entry.author, entry.author), 40)
    text = entry.body if entry.event_kind is None else f"{entry.event_kind}: {entry.body}"
    return f"{at}  {channel:<6}  {entry.direction.value:<8}  {author}  {one_line(text)}"
