"""Shared data and helpers for the workstation tests (no tests here).

Times are relative to a frozen clock; the viewer sits in Europe/Berlin.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.segment import Segment
from textual.strip import Strip

FROZEN = datetime(2026, 7, 14, 12, 0, tzinfo=timezone.utc)
VIEWER = ZoneInfo("Europe/Berlin")
BERLIN = timezone(timedelta(hours=2))


def clock() -> datetime:
    return FROZEN


def ago(**delta: float) -> str:
    """An ISO time ``delta`` before the frozen now, with a +02:00 offset."""
    return (FROZEN - timedelta(**delta)).astimezone(BERLIN).isoformat()


def later(**delta: float) -> str:
    return (FROZEN + timedelta(**delta)).astimezone(BERLIN).isoformat()


def people() -> list[dict]:
    return [
        {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent",
         "email": "jonas.weber@example.com", "phone": "+49 911 555 0107"},
        {"type": "agent", "id": "a-9", "name": "Mira Scholz", "role": "lead"},
    ]


def queue_records() -> list[dict]:
    """Four waiting customers whose fair order differs from plain waiting time, and one who is not waiting.

    Effective waits at the frozen now: Tobias 20 min + overdue promise (2 h + 1 h) = 3 h 20;
    Petra 3 h; Ole 40 min + no service (2 h) = 2 h 40; Aylin 10 min.
    """
    rows = people() + [
        {"type": "customer", "id": "c-1", "name": "Petra Lindner", "email": "p.lindner@example.net",
         "phone": "+49 170 555 0199", "preferred_channel": "email", "language": "de",
         "timezone": "Europe/Berlin", "location": "Nürnberg, DE", "owner": "a-7"},
        {"type": "customer", "id": "c-2", "name": "Ole Brandt", "email": "ole@example.org",
         "phone": "+49 40 555 0123", "preferred_channel": "phone", "timezone": "Europe/Berlin",
         "location": "Hamburg, DE", "owner": "a-9"},
        {"type": "customer", "id": "c-3", "name": "Tobias Unruh", "email": "tobias@example.com",
         "phone": "+1 415 555 0142", "timezone": "America/Los_Angeles", "location": "Oakland, US",
         "owner": "a-7"},
        {"type": "customer", "id": "c-4", "name": "Aylin Demir", "email": "aylin.demir@example.de",
         "phone": "+49 30 555 0177", "owner": "a-7"},
        {"type": "customer", "id": "c-5", "name": "Ingrid Holm", "email": "ingrid.holm@example.no",
         "phone": "+47 22 55 50 11", "location": "Oslo, NO", "owner": "a-9"},
        {"type": "case", "id": "k-2", "customer": "c-2", "subject": "No dial tone since the storm",
         "status": "open", "opened_at": ago(hours=5), "urgency": "no_service"},
        {"type": "case", "id": "k-3", "customer": "c-3", "subject": "Double charge in June",
         "status": "open", "opened_at": ago(days=3), "disputed_amount": "39.90", "currency": "EUR"},
        {"type": "interaction", "id": "i-1a", "customer": "c-1", "channel": "chat", "direction": "in",
         "at": ago(hours=3), "author": "Petra Lindner", "body": "My contract is not shown in the portal."},
        {"type": "interaction", "id": "i-1b", "customer": "c-1", "channel": "sms", "direction": "in",
         "at": ago(hours=1), "author": "Petra Lindner", "body": "Hello? Still waiting."},
        {"type": "interaction", "id": "i-2a", "customer": "c-2", "case": "k-2", "channel": "phone",
         "direction": "in", "at": ago(minutes=40), "author": "Ole Brandt", "body": "Line is dead.",
         "duration_s": 125, "wait_s": 600},
        {"type": "interaction", "id": "i-3a", "customer": "c-3", "case": "k-3", "channel": "email",
         "direction": "in", "at": ago(days=2), "author": "Tobias Unruh", "body": "I was charged twice."},
        {"type": "interaction", "id": "i-3b", "customer": "c-3", "case": "k-3", "channel": "phone",
         "direction": "out", "at": ago(days=1, hours=23), "author": "a-7",
         "body": "Promised a refund within a day.", "duration_s": 540, "wait_s": 900},
        {"type": "event", "id": "e-3", "customer": "c-3", "case": "k-3", "at": ago(days=1, hours=22),
         "author": "a-7", "kind": "refund_requested", "body": "Refund 39.90 EUR requested"},
        {"type": "interaction", "id": "i-3c", "customer": "c-3", "case": "k-3", "channel": "email",
         "direction": "in", "at": ago(minutes=20), "author": "Tobias Unruh", "body": "Where is my refund?"},
        {"type": "decision", "id": "d-3", "customer": "c-3", "case": "k-3", "kind": "refund",
         "amount": "39.90", "currency": "EUR", "agent": "a-7", "at": ago(days=1, hours=22),
         "state": "confirmed", "reason": "double charge"},
        {"type": "promise", "id": "p-3", "decision": "d-3", "customer": "c-3",
         "what": "refund 39.90 EUR", "due": ago(hours=1), "state": "open"},
        {"type": "interaction", "id": "i-4a", "customer": "c-4", "channel": "app", "direction": "in",
         "at": ago(minutes=10), "author": "Aylin Demir", "body": "The app crashes on login."},
        {"type": "interaction", "id": "i-5a", "customer": "c-5", "channel": "letter", "direction": "in",
         "at": ago(days=10), "author": "Ingrid Holm", "body": "Please cancel my contract."},
        {"type": "interaction", "id": "i-5b", "customer": "c-5", "channel": "letter", "direction": "out",
         "at": ago(days=8), "author": "a-9", "body": "Your contract is cancelled."},
    ]
    return rows


BIG_ID = "c-big"
BIG_START = datetime(2015, 1, 1, 8, 0, tzinfo=timezone.utc)


def big_records(count: int) -> list[dict]:
    """One customer with ``count`` entries, ``entry number N`` oldest first, the last one inbound."""
    channels = ("email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal")
    rows = people() + [
        {"type": "customer", "id": BIG_ID, "name": "Bettina Großmann", "email": "b.grossmann@example.net",
         "phone": "+49 89 555 0100", "preferred_channel": "chat", "language": "de",
         "timezone": "Europe/Berlin", "location": "München, DE", "owner": "a-7"},
    ]
    for n in range(count):
        inbound = n % 2 == 1 or n == count - 1
        rows.append({
            "type": "interaction", "id": f"b-{n:06d}", "customer": BIG_ID,
            "channel": channels[n % len(channels)], "direction": "in" if inbound else "out",
            "at": (BIG_START + timedelta(minutes=30 * n)).isoformat(),
            "author": "Bettina Großmann" if inbound else "a-7",
            "body": f"entry number {n}",
        })
    return rows


HOSTILE_ID = "c-hostile"
HOSTILE_BODIES = {
    "h-markup": "[bold]not bold[/bold] and [red]not red[/]",
    "h-link": "[link=http://x]click[/link] here",
    "h-bracket": "unbalanced [ bracket and [/ closing",
    "h-ansi": "\x1b[31mred\x1b[0m and \x1b]8;;http://evil\x07link\x1b]8;;\x07",
    "h-bidi": "abc\u202eevil\u202c def",
    "h-zero": "zero\u200bwidth",
    "h-long": "L" + "x" * 9_998 + "E",
}
FIVE_MB_ID = "h-5mb"


def five_mb_body() -> str:
    line = "[bold]five megabytes[/bold] of text \x1b[1m with markup and escapes, wrapped lazily.\n"
    return (line * (5_000_000 // len(line) + 1))[:5_000_000]


def hostile_records(with_five_mb: bool = True) -> list[dict]:
    """Each hostile body followed by a plain entry ``plain after <id>``; the 5 MB body last."""
    rows = people() + [
        {"type": "customer", "id": HOSTILE_ID, "name": "[bold]Mallory[/bold] \x1b[31mO'Hostile\u202e",
         "email": "mallory@example.com", "timezone": "Europe/Berlin",
         "location": "[link=http://x]Nowhere[/link]", "owner": "a-7"},
    ]
    minute = 0
    for entry_id, body in HOSTILE_BODIES.items():
        minute += 1
        rows.append({"type": "interaction", "id": entry_id, "customer": HOSTILE_ID, "channel": "chat",
                     "direction": "in", "at": ago(hours=5, minutes=-minute),
                     "author": "[i]Mallory[/i]\x1b[0m", "body": body})
        minute += 1
        rows.append({"type": "interaction", "id": f"plain-{entry_id}", "customer": HOSTILE_ID,
                     "channel": "chat", "direction": "in", "at": ago(hours=5, minutes=-minute),
                     "author": "Mallory", "body": f"plain after {entry_id}"})
    if with_five_mb:
        rows.append({"type": "interaction", "id": FIVE_MB_ID, "customer": HOSTILE_ID, "channel": "email",
                     "direction": "in", "at": ago(hours=1), "author": "Mallory", "body": five_mb_body()})
    return rows


def build(records: list[dict], path: Path) -> Path:
    """Load ``records`` through the real importer (synchronously, for session fixtures)."""
    from agentdesk.interchange.load import load_records

    report = asyncio.run(load_records(records, path))
    assert not report.errors, report.messages()
    return path


def make_app(path: Path, **options):  # noqa: ANN003, ANN201 - test helper
    from agentdesk.tui.app import AgentDeskApp

    options.setdefault("agent_id", "a-7")
    return AgentDeskApp(path, clock=clock, viewer_zone=VIEWER, **options)


def screen_lines(app) -> list[str]:  # noqa: ANN001
    """The text of the screen as drawn (the topmost screen, modals included)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def screen_text(app) -> str:  # noqa: ANN001
    return "\n".join(screen_lines(app))


def widget_strips(widget) -> list[Strip]:  # noqa: ANN001
    """The strips a line-API widget draws for its visible lines."""
    return [widget.render_line(y) for y in range(widget.size.height)]


def segments(strip: Strip) -> list[Segment]:
    return [segment for segment in strip if segment.text]


async def settle(app, pilot) -> None:  # noqa: ANN001
    """Let workers finish and the screen catch up (no sleeping)."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


class MovableClock:
    """A frozen clock that a test moves forward by hand (no sleeping)."""

    def __init__(self, now: datetime = FROZEN) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def story_records(bulk_customers: int = 10) -> list[dict]:
    """The demo's five stories, with a little bulk, placed around the frozen now."""
    from agentdesk.demo.records import demo_records

    return list(demo_records(now=FROZEN, bulk_customers=bulk_customers, bulk_interactions=100,
                             heavy_customers=0))


def make_clocked_app(path: Path, clock, **options):  # noqa: ANN001, ANN003, ANN201 - test helper
    """Like :func:`make_app`, on a clock of the test's own (e.g. a :class:`MovableClock`)."""
    from agentdesk.tui.app import AgentDeskApp

    options.setdefault("agent_id", "a-7")
    return AgentDeskApp(path, clock=clock, viewer_zone=VIEWER, **options)
