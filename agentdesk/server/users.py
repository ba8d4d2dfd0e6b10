"""Backend users and their tokens.

A token is ``adk_`` + 256 random bits (url-safe base64). The database holds only its
sha256: a copy of the database lets nobody in. A plain hash (no salt, no slow KDF)
is enough because the token is random and long, not a password a person chose; it
also makes the look-up one indexed equality.

Every request looks its token up in the database: no process remembers a token, so
``users remove``, ``users rotate`` and ``users add`` on an existing name take effect at
once on every backend process. (The look-up costs about 0.8 ms on SQLite and on a
local PostgreSQL, about what a whole ``GET /me`` costs with the look-up cached.)

A token expires (``DEFAULT_EXPIRY_DAYS`` unless given); ``expires_at_us`` NULL is a
user made before tokens expired, whose token stays good until it is rotated.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from agentdesk.domain.model import Agent
from agentdesk.domain.timeline import from_utc_micros
from agentdesk.interchange.codec import parse_record
from agentdesk.server.changes import Change, now_us, write_changes
from agentdesk.server.database import Database
from agentdesk.server.tables import api_user, record
from agentdesk.server.token_terms import DEFAULT_EXPIRY_DAYS, expiry_days_problem

ADMIN = "admin"
TOKEN_PREFIX = "adk_"
_DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    expires_at_us: int | None = None


class Issued(NamedTuple):
    """A token just made: shown once, never stored."""

    token: str
    existed: bool
    expires_at_us: int


class UserError(ValueError):
    """A user that cannot be made, changed or removed as asked; one line."""


class NoSuchUser(UserError):
    """``rotate`` or ``remove`` named a user the backend does not have."""


class UnknownToken(Exception):
    """No user has this token (never issued, replaced, or its user removed)."""


class TokenExpired(Exception):
    """The token is a user's, but past its expiry; the message says what to run."""

    def __init__(self, user: User) -> None:
        assert user.expires_at_us is not None
        super().__init__(f"the token of {user.name} expired on {expiry_text(user.expires_at_us)}: an admin makes "
                         f"a new one with 'agentdesk users rotate {user.name}', then run 'agentdesk login'")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def expiry_text(at_us: int) -> str:
    """``2027-03-05 14:30 UTC``."""
    return from_utc_micros(at_us).strftime("%Y-%m-%d %H:%M UTC")


def _expiry(days: int) -> int:
    problem = expiry_days_problem(days)
    if problem is not None:
        raise UserError(problem)
    return now_us() + days * _DAY_US


async def user_for_token(connection: AsyncConnection, token: str) -> User | None:
    row = (await connection.execute(
        select(api_user.c.name, api_user.c.role, api_user.c.expires_at_us)
        .where(api_user.c.token_hash == token_hash(token)))).first()
    return User(*row) if row is not None else None


async def authenticate(database: Database, token: str) -> User:
    """The user ``token`` speaks for; :class:`UnknownToken` or :class:`TokenExpired` otherwise."""
    async with database.read() as connection:
        user = await user_for_token(connection, token)
    if user is None:
        raise UnknownToken
    if user.expires_at_us is not None and user.expires_at_us <= now_us():
        raise TokenExpired(user)
    return user


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or any(ch.isspace() or not ch.isprintable() for ch in name):
        raise UserError(f"user name {name!r} must be non-empty, without spaces")
    return name


async def add_user(database: Database, name: str, role: str, *, expires_in_days: int = DEFAULT_EXPIRY_DAYS,
                   keep_changes: int | None = None) -> Issued:
    """Create user ``name`` (or give an existing one ``role`` and a new token).

    The user is also an agent (id = name): its ``agent`` record is created, or its role
    updated, through the change log, so every workstation learns of it.
    """
    name = _checked_name(name)
    token, expires = new_token(), _expiry(expires_in_days)
    async with database.write() as connection:
        existed = (await connection.execute(
            select(api_user.c.name).where(api_user.c.name == name).with_for_update())).first() is not None
        insert = (postgresql if database.postgres else sqlite).insert(api_user)
        await connection.execute(
            insert.values(name=name, role=role, token_hash=token_hash(token), created_at_us=now_us(),
                          expires_at_us=expires)
            .on_conflict_do_update(index_elements=[api_user.c.name],
                                   set_={"role": insert.excluded.role, "token_hash": insert.excluded.token_hash,
                                         "expires_at_us": insert.excluded.expires_at_us}))
        agent = await _agent_record(connection, name, role)
        if agent is not None:
            await write_changes(connection, [agent], postgres=database.postgres, keep=keep_changes)
    return Issued(token, existed, expires)


async def rotate_token(database: Database, name: str, *, expires_in_days: int = DEFAULT_EXPIRY_DAYS) -> Issued:
    """A new token for user ``name``; the old one stops working at commit."""
    token, expires = new_token(), _expiry(expires_in_days)
    async with database.write() as connection:
        changed = await connection.execute(
            update(api_user).where(api_user.c.name == name)
            .values(token_hash=token_hash(token), expires_at_us=expires))
    if changed.rowcount != 1:
        raise _no_such_user(name)
    return Issued(token, True, expires)


async def remove_user(database: Database, name: str) -> None:
    """User ``name`` can no longer sign in; their ``agent`` record and everything they did stay."""
    async with database.write() as connection:
        removed = await connection.execute(delete(api_user).where(api_user.c.name == name))
    if removed.rowcount != 1:
        raise _no_such_user(name)


async def list_users(database: Database) -> list[User]:
    async with database.read() as connection:
        rows = await connection.execute(
            select(api_user.c.name, api_user.c.role, api_user.c.expires_at_us).order_by(api_user.c.name))
        return [User(*row) for row in rows]


def _no_such_user(name: str) -> NoSuchUser:
    return NoSuchUser(f"no user {name!r} (agentdesk users list shows them)")


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
