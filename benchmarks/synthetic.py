"""Generated interchange records for the import and timeline benchmarks, and the same as table rows.

The rows are what the store keeps for the records (``ARCHITECTURE.md``, "Store
schema"), so a raw ``executemany`` of them is the floor any importer is held to.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from agentdesk.domain.contact import email_key, phone_key
from agentdesk.store.convert import to_columns
from agentdesk.store.files import CONNECTION_PRAGMAS

AGENT_ID = "a-7"
START = datetime(2024, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))
SPACING = timedelta(seconds=30)
"""Between two generated interactions: a million of them end in mid-2024, long before any run's "now"
(the backend refuses times more than a day ahead)."""
CHANNELS = ("email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal")
WORDS = ("invoice", "contract", "router", "refund", "eSIM", "portal", "tariff", "outage", "letter",
         "appointment", "please", "again", "still", "not", "working", "since", "Monday", "thanks")

INSERT_AGENT = "INSERT INTO agent (id, name, role, email, phone, extra) VALUES (?, ?, ?, ?, ?, ?)"
INSERT_CUSTOMER = (
    "INSERT INTO customer (id, name, email, phone, email_key, phone_key, preferred_channel, language, "
    "timezone, location, owner, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_ENTRY = (
    "INSERT INTO timeline_entry (id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, "
    "author, body, event_kind, duration_s, wait_s, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_WAITING = "INSERT INTO waiting (customer_id, since_us, channels, unanswered) VALUES (?, ?, ?, ?)"


def agent() -> dict:
    return {"type": "agent", "id": AGENT_ID, "name": "Jonas Weber", "role": "agent"}


def customer(number: int) -> dict:
    return {
        "type": "customer", "id": f"c-{number}", "name": f"Customer {number}",
        "email": f"customer.{number}@example.net", "phone": f"+49 170 555 {number:04d}",
        "preferred_channel": CHANNELS[number % len(CHANNELS)], "language": "de",
        "timezone": "Europe/Berlin", "location": "Nürnberg, DE", "owner": AGENT_ID,
    }


def interactions(customer_ids: list[str], count: int, *, prefix: str, seed: int = 7) -> Iterator[dict]:
    """``count`` interactions spread over the customers, :data:`SPACING` apart, the last ones inbound."""
    rng = random.Random(seed)
    for n in range(count):
        inbound = n >= count - len(customer_ids) or rng.random() < 0.6
        customer_id = customer_ids[n % len(customer_ids)]
        yield {
            "type": "interaction", "id": f"{prefix}-{n}", "customer": customer_id,
            "channel": rng.choice(CHANNELS), "direction": "in" if inbound else "out",
            "at": (START + n * SPACING).isoformat(),
            "author": customer_id if inbound else AGENT_ID,
            "body": " ".join(rng.choices(WORDS, k=rng.randint(6, 18))),
        }


# --- the same records as rows ---------------------------------------------------------

def agent_row(record: dict) -> tuple:
    return (record["id"], record["name"], record["role"], record.get("email"), record.get("phone"), None)


def customer_row(record: dict) -> tuple:
    return (
        record["id"], record["name"], record.get("email"), record.get("phone"),
        email_key(record.get("email")), phone_key(record.get("phone")), record.get("preferred_channel"),
        record.get("language"), record.get("timezone"), record.get("location"), record.get("owner"), None,
    )


def entry_row(record: dict) -> tuple:
    at_us, offset_s = to_columns(datetime.fromisoformat(record["at"]))
    return (
        record["id"], record["customer"], record.get("case"), "interaction", record["channel"],
        record["direction"], at_us, offset_s, record["author"], record["body"], None,
        record.get("duration_s"), record.get("wait_s"), None,
    )


def waiting_rows(entries: Iterable[tuple]) -> list[tuple]:
    """``waiting`` as the writer keeps it: inbound interactions after the customer's last answer."""
    by_customer: dict[str, list[tuple]] = {}
    for row in entries:
        by_customer.setdefault(row[1], []).append(row)
    waiting = []
    for customer_id, rows in by_customer.items():
        answered = max((r[6] for r in rows if r[5] == "out"), default=None)
        open_rows = [r for r in rows if r[5] == "in" and (answered is None or r[6] > answered)]
        if open_rows:
            channels = ",".join(dict.fromkeys(r[4] for r in sorted(open_rows, key=lambda r: r[6])))
            waiting.append((customer_id, min(r[6] for r in open_rows), channels, len(open_rows)))
    return waiting


def insert_rows(path: Path, agents: list[tuple], customers: list[tuple], entries: list[tuple],
                waiting: list[tuple] = ()) -> None:
    """Plain ``executemany`` into a prepared store file, in one transaction, with the store's pragmas."""
    con = sqlite3.connect(path)
    try:
        for pragma in CONNECTION_PRAGMAS:
            con.execute(pragma)
        with con:
            con.executemany(INSERT_AGENT, agents)
            con.executemany(INSERT_CUSTOMER, customers)
            con.executemany(INSERT_ENTRY, entries)
            con.executemany(INSERT_WAITING, waiting)
    finally:
        con.close()
