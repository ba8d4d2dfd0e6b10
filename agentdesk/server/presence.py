"""Presence: which customer each workstation has open and whether its agent is typing a reply.

Workstations say it (``PUT /presence``) when it changes and every few seconds while it does not;
a row not refreshed within :data:`EXPIRY` means the workstation went quiet and counts for nothing.
Presence is never customer data and never audited; only roles that may write report it (a
supervisor has no write path at all, so a supervisor's presence is never shown to anyone).

Also here: the audit of writes refused to read-only roles (``access_refusal``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from agentdesk.server.changes import now_us
from agentdesk.server.database import Database
from agentdesk.server.tables import access_refusal, presence, record

EXPIRY = timedelta(seconds=30)
"""A workstation not heard from for this long has gone: its mark goes."""
_EXPIRY_US = int(EXPIRY.total_seconds() * 1_000_000)


@dataclass(frozen=True, slots=True)
class Present:
    user: str
    name: str
    """The agent record's name (the user name when there is no record)."""
    customer: str | None
    typing: bool
    seen_us: int


async def report(database: Database, user: str, customer: str | None, typing: bool) -> None:
    """``user``'s workstation has ``customer`` open (None: none), typing a reply or not; expired rows go."""
    now = now_us()
    insert = (postgresql if database.postgres else sqlite).insert(presence)
    async with database.write() as connection:
        await connection.execute(insert.values(user_name=user, customer_id=customer, typing=typing and customer
                                               is not None, seen_us=now)
                                 .on_conflict_do_update(index_elements=["user_name"], set_={
                                     "customer_id": insert.excluded.customer_id, "typing": insert.excluded.typing,
                                     "seen_us": insert.excluded.seen_us}))
        await connection.execute(delete(presence).where(presence.c.seen_us < now - _EXPIRY_US))


async def leave(database: Database, user: str) -> None:
    async with database.write() as connection:
        await connection.execute(delete(presence).where(presence.c.user_name == user))


async def present(database: Database) -> list[Present]:
    """Every workstation heard from within the expiry, by agent name."""
    since = now_us() - _EXPIRY_US
    async with database.read() as connection:
        rows = (await connection.execute(
            select(presence.c.user_name, presence.c.customer_id, presence.c.typing, presence.c.seen_us, record.c.body)
            .select_from(presence.outerjoin(record, (record.c.type == "agent") & (record.c.id == presence.c.user_name)))
            .where(presence.c.seen_us >= since).order_by(presence.c.user_name))).all()
    return [Present(user, _name(body, user), customer, bool(typing), int(seen)) for user, customer, typing, seen, body
            in rows]


def _name(body: str | None, user: str) -> str:
    if body is None:
        return user
    name = json.loads(body).get("name")
    return name if isinstance(name, str) and name.strip() else user


async def refused_access(database: Database, user: str, role: str, route: str, reason: str) -> None:
    """Keep a write refused to a role that may not make it (who, which route, why, when)."""
    async with database.write() as connection:
        await connection.execute(access_refusal.insert().values(user_name=user, role=role, route=route,
                                                                reason=reason, at_us=now_us()))
