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

from agentdesk.desk.errors import CommandError
from agentdesk.desk.identity import BackendLink
from agentdesk.desk.store import StoreReader
from agentdesk.domain import reply
from agentdesk.domain.authority import AuthorityMatrix
from agentdesk.domain.model import EntryKind, Promise, TimelineEntry
from agentdesk.domain.queue import URGENCY_WORDS, QueuePlace, order_queue
from agentdesk.domain.text import json_safe, one_line
from agentdesk.domain.timefmt import duration, until


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True, emoji=False, markup=False)


def print_json(obj: dict) -> None:
    """One JSON object on one line; characters a terminal would act on are escaped."""
    from agentdesk.interchange.codec import dumps

    sys.stdout.write(json_safe(dumps(obj)) + "\n")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_time(at: datetime, *, year: bool = False) -> str:
    """``Thu 26 Nov 13:00 CET`` in the viewer's zone (the machine's), in English whatever the locale."""
    local = at.astimezone()
    day = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if year:
        day += f" {local.year}"
    return f"{day} {local:%H:%M} {local.tzname()}"


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns two spaces apart; the last column is never padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    # One width short of the cells: zip stops before the last cell, which is added unpadded.
    return ["  ".join([cell.ljust(w) for cell, w in zip(row, widths, strict=False)] + [row[-1]]) for row in rows]


async def print_queue(store: Path, *, as_json: bool) -> int:
    now = datetime.now(timezone.utc)
    async with StoreReader.open(store) as reader:
        places = order_queue(await reader.waiting(), now)
    if as_json:
        for place in places:
            print_json(_queue_json(place))
        return 0
    console = _console()
    if not places:
        console.print("Nobody is waiting.")
        return 0
    rows = [queue_cells(place, now) for place in places]
    for place, line in zip(places, _columns(rows), strict=True):
        style = "bold" if place.position == 1 else ""
        console.print(Text(line, style=style))
    return 0


def queue_cells(place: QueuePlace, now: datetime) -> list[str]:
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


async def print_floor(store: Path, matrix: AuthorityMatrix | None, link: BackendLink | None, *,
                      as_json: bool) -> int:
    """The supervisor's floor as of now: agents, queue, missed deadlines, escalations, promises by owner."""
    from agentdesk.desk.floor import backend_presence, read_floor
    from agentdesk.domain.floor import floor_json, floor_lines

    presence, why = await backend_presence(link)
    async with StoreReader.open(store) as reader:
        floor = await read_floor(reader, matrix, presence, datetime.now(timezone.utc))
    if as_json:
        print_json(floor_json(floor))
        return 0
    console = _console()
    if why is not None:
        console.print(Text(f"({why})"))
    for line in floor_lines(floor):
        console.print(Text(line))
    return 0


async def print_timeline(store: Path, reference: str, *, as_json: bool) -> int:
    async with StoreReader.open(store) as reader:
        customer = await reader.find_customer(reference)
        if customer is None:
            raise CommandError(f"no customer with id, e-mail or phone {reference!r}")
        names = {agent.id: agent.name for agent in await reader.agents()}
        if as_json:
            from agentdesk.interchange.codec import to_json_obj

            async for entry in reader.timeline(customer.id):
                if entry.kind is EntryKind.DECISION:
                    # A decision's line is derived from the decision: print the decision record itself.
                    decision = await reader.decision(entry.decision_id) if entry.decision_id else None
                    if decision is not None:
                        print_json(to_json_obj(decision))
                    continue
                print_json(to_json_obj(entry))
            return 0
        console = _console()
        async for entry in reader.timeline(customer.id):
            console.print(Text(timeline_line(entry, names)), no_wrap=True, overflow="ignore", crop=False)
    return 0


def timeline_line(entry: TimelineEntry, names: dict[str, str]) -> str:
    at = entry.at.astimezone().strftime("%Y-%m-%d %H:%M %Z")
    author = one_line(names.get(entry.author, entry.author), 40)
    if entry.kind is EntryKind.DECISION:
        # The body already says what was decided (``refund 39.90 EUR · reason``); the state is as of now.
        channel = "decision"
        text = f"{entry.body} [{entry.decision_state}]" if entry.decision_state else entry.body
    else:
        channel = entry.channel.value if entry.channel else "event"
        text = entry.body if entry.event_kind is None else f"{entry.event_kind}: {entry.body}"
        if (delivery := reply.delivery(entry)) is not None:
            text = f"[{delivery}] {text}"
    return f"{at}  {channel:<8}  {entry.direction.value:<8}  {author}  {one_line(text)}"


async def print_promises(store: Path, *, as_json: bool) -> int:
    """Open promises of every customer, due first; overdue ones say so in words."""
    now = datetime.now(timezone.utc)
    async with StoreReader.open(store) as reader:
        promises = await reader.open_promises()
        names: dict[str, str] = {}
        for promise in promises:
            if promise.customer not in names:
                customer = await reader.customer(promise.customer)
                names[promise.customer] = customer.name if customer is not None else promise.customer
    if as_json:
        from agentdesk.interchange.codec import to_json_obj

        for promise in promises:
            obj = to_json_obj(promise)
            obj["customer_name"] = names[promise.customer]
            obj["overdue"] = _overdue(promise, now)
            obj["due_in_s"] = int((promise.due - now).total_seconds())
            print_json(obj)
        return 0
    console = _console()
    if not promises:
        console.print("No open promises.")
        return 0
    rows = [promise_cells(promise, names, now) for promise in promises]
    for promise, line in zip(promises, _columns(rows), strict=True):
        console.print(Text(line, style="bold" if _overdue(promise, now) else ""),
                      no_wrap=True, overflow="ignore", crop=False)
    return 0


def _overdue(promise: Promise, now: datetime) -> bool:
    return promise.state == "overdue" or promise.due < now


def promise_cells(promise: Promise, names: dict[str, str], now: datetime) -> list[str]:
    if _overdue(promise, now):
        when = f"OVERDUE by {duration(now - promise.due)}"
    else:
        when = f"due in {duration(promise.due - now)}"
    return [
        day_time(promise.due, year=promise.due.astimezone().year != now.astimezone().year),
        when,
        f"{one_line(names[promise.customer], 40)} ({promise.customer})",
        one_line(promise.what, 80),
        promise.decision or "-",
    ]
