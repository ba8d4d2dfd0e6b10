"""A small, hand-written store: three customers, all nine channels, an event, a promise."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHANNELS = ["email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal"]
HOSTILE_BODY = "[bold red]ALERT[/] \x1b[31mred\x1b[0m \u202eevil\u202c zero\u200bwidth\nsecond line"


def records() -> list[dict]:
    """The records, timed back from now: the plain commands read the real clock, so the store is made when used."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)

    def at(minutes_ago: int) -> str:
        return (now - timedelta(minutes=minutes_ago)).astimezone(timezone(timedelta(hours=1))).isoformat()

    rows: list[dict] = [
        {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent",
         "email": "jonas.weber@example.com", "phone": "+49 911 555 0107"},
        {"type": "agent", "id": "a-9", "name": "Mira Scholz", "role": "lead"},
        {"type": "customer", "id": "c-1001", "name": "Petra Lindner", "email": "p.lindner@example.net",
         "phone": "+49 170 555 0199", "preferred_channel": "email", "language": "de",
         "timezone": "Europe/Berlin", "location": "Nürnberg, DE", "owner": "a-7"},
        {"type": "customer", "id": "c-1002", "name": "Ole Brandt", "email": "ole@example.org",
         "phone": "+49 40 555 0123", "preferred_channel": "phone", "timezone": "Europe/Berlin",
         "location": "Hamburg, DE", "owner": "a-9"},
        {"type": "customer", "id": "c-1003", "name": "Tobias Unruh", "owner": "a-7"},
        {"type": "case", "id": "k-55", "customer": "c-1001", "subject": "eSIM activation", "status": "open",
         "opened_at": at(600), "disputed_amount": "39.90", "currency": "EUR", "urgency": "no_service"},
        {"type": "case", "id": "k-56", "customer": "c-1002", "subject": "Invoice", "status": "open",
         "opened_at": at(3000)},
    ]
    for n, channel in enumerate(CHANNELS):
        rows.append({"type": "interaction", "id": f"i-{n:03d}", "customer": "c-1001", "case": "k-55",
                     "channel": channel, "direction": "in" if n % 2 == 0 else "out",
                     "at": at(500 - n * 10), "author": "Petra Lindner" if n % 2 == 0 else "a-7",
                     "body": f"Message {n} on {channel}"})
    rows += [
        {"type": "event", "id": "e-1", "customer": "c-1001", "case": "k-55", "at": at(300),
         "author": "a-7", "kind": "sim_deactivated", "body": "Physical SIM deactivated"},
        {"type": "interaction", "id": "i-100", "customer": "c-1002", "case": "k-56", "channel": "letter",
         "direction": "in", "at": at(2000), "author": "Ole Brandt", "body": "Dear Sir or Madam"},
        {"type": "interaction", "id": "i-200", "customer": "c-1003", "channel": "chat", "direction": "in",
         "at": at(30), "author": "Tobias Unruh", "body": HOSTILE_BODY},
        {"type": "decision", "id": "d-1", "customer": "c-1001", "case": "k-55", "kind": "callback",
         "agent": "a-7", "at": at(200), "state": "confirmed", "reason": "promised a call back"},
        {"type": "promise", "id": "p-1", "decision": "d-1", "customer": "c-1001",
         "what": "callback", "due": at(20), "state": "open"},
    ]
    return rows
