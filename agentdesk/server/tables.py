"""The backend's tables (PostgreSQL and SQLite alike); their migrations are in ``migrations/server/``.

Every record is kept whole, as its canonical interchange JSON: the backend checks
decisions and hands records on, it never needs them cut into columns. Counters and
times are BIGINT, so they do not overflow PostgreSQL's 32-bit INTEGER.

The tables live on a registry of their own, apart from the workstation store's
tables, so neither side's metadata ever sees the other's.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ServerTable(SQLModel, registry=registry()):
    """Base of the backend's tables."""


class ApiUser(ServerTable, table=True):
    __tablename__ = "api_user"

    name: str = Field(primary_key=True)
    role: str
    token_hash: str = Field(unique=True)
    """sha256 hex of the token; the token itself is never stored."""
    created_at_us: int = Field(sa_type=BigInteger)
    expires_at_us: int | None = Field(default=None, sa_type=BigInteger)
    """When the token stops working (None: a user made before tokens expired)."""


class StoredRecord(ServerTable, table=True):
    __tablename__ = "record"
    __table_args__ = (
        Index("ix_record_customer_type", "customer_id", "type"),
        Index("ix_record_seq", "seq"),
    )

    type: str = Field(primary_key=True)
    id: str = Field(primary_key=True)
    customer_id: str | None = None
    """The customer the record belongs to (a customer's own id for a customer; none for agents)."""
    body: str = Field(sa_type=Text)
    seq: int = Field(sa_type=BigInteger)
    """The change that last wrote it."""
    received_us: int | None = Field(default=None, sa_type=BigInteger)
    """When a workstation's mutation first stored it (None for uploaded records)."""


class ChangeLogEntry(ServerTable, table=True):
    __tablename__ = "change_log"

    seq: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    record_type: str
    record_id: str
    body: str = Field(sa_type=Text)
    at_us: int = Field(sa_type=BigInteger)


class ChangeCounter(ServerTable, table=True):
    __tablename__ = "change_counter"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(sa_type=BigInteger)
    """The highest seq given out."""
    floor: int = Field(sa_type=BigInteger)
    """Every seq up to and including this one has been trimmed from the change log."""


class AppliedMutation(ServerTable, table=True):
    __tablename__ = "mutation"

    id: str = Field(primary_key=True)
    user_name: str
    body_hash: str
    status: str
    result: str = Field(sa_type=Text)
    applied_at_us: int = Field(sa_type=BigInteger)


api_user = ApiUser.__table__
record = StoredRecord.__table__
change_log = ChangeLogEntry.__table__
change_counter = ChangeCounter.__table__
mutation = AppliedMutation.__table__
