"""Backend users and their tokens.

A token is ``adk_`` + 256 random bits (url-safe base64). The database holds only its
sha256: a copy of the database lets nobody in. A plain hash (no salt, no slow KDF)
is enough because the token is random and long, not a password a person chose; it
also makes the look-up one indexed equality.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain.model import Agent
from agentdesk.interchange.codec import parse_record
from agentdesk.server.changes import Change, now_us, write_changes
from agentdesk.server.database import Database
from agentdesk.server.tables import api_user, record

ADMIN = "admin"
TOKEN_PREFIX = "adk_"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str


class UserError(ValueError):
    """A user that cannot be made as asked; one line."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def user_for_token(connection: AsyncConnection, token: str) -> User | None:
    row = (await connection.execute(
        select(api_user.c.name, api_user.c.role).where(api_user.c.token_hash == token_hash(token)))).first()
    return User(row[0], row[1]) if row is not None else None


class TokenCache:
    """Who each token is, remembered for a few seconds, so a busy workstation costs one look-up, not one a request.

    Only known tokens are kept; a token replaced by ``users add`` stops working once its
    entry expires (5 s by default).
    """

    def __init__(self, database: Database, seconds: float = 5.0) -> None:
        self._database = database
        self._seconds = seconds
        self._known: dict[str, tuple[User, float]] = {}

    async def user_for(self, token: str) -> User | None:
        digest = token_hash(token)
        now = time.monotonic()
        known = self._known.get(digest)
        if known is not None and known[1] > now:
            return known[0]
        async with self._database.read() as connection:
            user = await user_for_token(connection, token)
        if user is None:
            self._known.pop(digest, None)
        else:
            if len(self._known) > 10_000:  # many distinct tokens: start afresh rather than grow
                self._known.clear()
            self._known[digest] = (user, now + self._seconds)
        return user


async def add_user(database: Database, name: str, role: str, *, keep_changes: int | None = None) -> tuple[str, bool]:
    """Create user ``name`` (or give an existing one ``role`` and a new token); returns ``(token, existed)``.

    The user is also an agent (id = name): its ``agent`` record is created, or its role
    updated, through the change log, so every workstation learns of it.
    """
    name = name.strip()
    if not name or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise UserError(f"user name {name!r} must be non-empty, without spaces")
    token = new_token()
    async with database.write() as connection:
        existed = (await connection.execute(
            select(api_user.c.name).where(api_user.c.name == name).with_for_update())).first() is not None
        insert = (postgresql if database.postgres else sqlite).insert(api_user)
        await connection.execute(
            insert.values(name=name, role=role, token_hash=token_hash(token), created_at_us=now_us())
            .on_conflict_do_update(index_elements=[api_user.c.name],
                                   set_={"role": insert.excluded.role, "token_hash": insert.excluded.token_hash}))
        agent = await _agent_record(connection, name, role)
        if agent is not None:
            await write_changes(connection, [agent], postgres=database.postgres, keep=keep_changes)
    return token, existed


async def _agent_record(connection: AsyncConnection, name: str, role: str) -> Change | None:
    """The agent record to write for this user, or None when it already says so."""
    row = (await connection.execute(
        select(record.c.body).where(record.c.type == "agent", record.c.id == name))).first()
    if row is None:
        return Change.of(Agent(id=name, name=name, role=role))
    obj = json.loads(row[0])
    if obj.get("role") == role:
        return None
    return Change.of(parse_record({**obj, "role": role}))
