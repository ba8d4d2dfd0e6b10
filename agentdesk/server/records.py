"""Storing uploaded interchange records: checked one by one, idempotent by (type, id).

Each record is read by the same codec as the workstation's import and stored as its
canonical JSON; a record whose canonical text is already stored is unchanged and
writes no change, so uploading the same file twice costs the clients nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from agentdesk.interchange.codec import RecordError, parse_record
from agentdesk.server.changes import Change, write_changes
from agentdesk.server.database import RETRIES, Database, worth_retrying
from agentdesk.server.tables import record

MAX_RECORDS = 5000

DEPENDENCY_ORDER = ("agent", "customer", "case", "interaction", "event", "decision", "promise", "audit")
"""Seqs are handed out in this order, so a client that pulls a page never meets a record before what it names."""

REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "customer": (("owner", "agent"),),
    "case": (("customer", "customer"),),
    "interaction": (("customer", "customer"), ("case", "case")),
    "event": (("customer", "customer"), ("case", "case")),
    "decision": (("customer", "customer"), ("case", "case"), ("agent", "agent"), ("approves", "decision")),
    "promise": (("customer", "customer"), ("decision", "decision")),
    "audit": (("customer", "customer"),),
}
"""What each type names (field, type): the backend stores nothing that names a record it does not hold,
because every workstation's store enforces these as foreign keys."""


@dataclass
class StoreReport:
    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    cursor: int | None = None
    index_of: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)


def _order(change: Change) -> tuple[int, str]:
    return DEPENDENCY_ORDER.index(change.type), change.id


def _changes(objects: Sequence[Any], report: StoreReport) -> dict[tuple[str, str], Change]:
    """The good records by key (a key given twice: the later one wins, as in a file import)."""
    found: dict[tuple[str, str], Change] = {}
    index_of: dict[tuple[str, str], int] = {}
    for index, obj in enumerate(objects):
        try:
            change = Change.of(parse_record(obj))
        except RecordError as exc:
            report.errors.append((index, str(exc)))
            continue
        except (TypeError, ValueError) as exc:  # a record the codec reads but the domain refuses
            report.errors.append((index, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            continue
        key = (change.type, change.id)
        if key in found:
            report.unchanged += 1  # counted once below
        found[key] = change
        index_of[key] = index
    report.index_of = index_of
    return found


async def _unknown_references(connection: Any, found: dict[tuple[str, str], Change]) -> dict[tuple[str, str], str]:
    """Records naming something neither this upload nor the backend holds, with the reason."""
    wanted: dict[str, set[str]] = defaultdict(set)
    named: list[tuple[tuple[str, str], str, str, str]] = []
    for key, change in found.items():
        obj = change.obj
        for field_name, target in REFERENCES.get(change.type, ()):
            value = obj.get(field_name)
            if isinstance(value, str) and (target, value) not in found:
                wanted[target].add(value)
                named.append((key, field_name, target, value))
    known: set[tuple[str, str]] = set()
    for target, idents in wanted.items():
        rows = await connection.execute(
            select(record.c.id).where(record.c.type == target, record.c.id.in_(sorted(idents))))
        known.update((target, ident) for (ident,) in rows)
    unknown: dict[tuple[str, str], str] = {}
    for key, field_name, target, value in named:
        if (target, value) not in known and key not in unknown:
            unknown[key] = f"{key[0]} {key[1]}: {field_name} {value!r} is not known to the backend"
    return unknown


async def store_records(database: Database, objects: Sequence[Any], *, keep_changes: int | None = None) -> StoreReport:
    report = StoreReport()
    found = _changes(objects, report)
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, ident in found:
        by_type[kind].append(ident)
    # In dependency order (a client's page never holds a record before what it names), and within
    # a type by id, so two uploads that touch the same rows lock them in the same order.
    ordered = sorted(found.values(), key=_order)
    for attempt in range(1, RETRIES + 1):
        try:
            return await _store(database, ordered, by_type, report, keep_changes)
        except DBAPIError as exc:
            if not worth_retrying(exc) or attempt == RETRIES:
                raise
    raise AssertionError("unreachable")


async def _store(database: Database, ordered: list[Change], by_type: dict[str, list[str]], report: StoreReport,
                 keep_changes: int | None) -> StoreReport:
    async with database.write() as connection:
        by_key = {(c.type, c.id): c for c in ordered}
        unknown = _with_dependents(ordered, await _unknown_references(connection, by_key))
        ordered = [c for c in ordered if (c.type, c.id) not in unknown]
        stored: dict[tuple[str, str], str] = {}
        for kind, idents in by_type.items():
            rows = await connection.execute(
                select(record.c.id, record.c.body).where(record.c.type == kind, record.c.id.in_(idents)))
            stored.update(((kind, ident), body) for ident, body in rows)
        changed = [c for c in ordered if stored.get((c.type, c.id)) != c.body]
        cursor = await write_changes(connection, changed, postgres=database.postgres, keep=keep_changes)
    errors = sorted([*report.errors, *((report.index_of[key], reason) for key, reason in unknown.items())])
    return replace(report, changed=len(changed), unchanged=report.unchanged + len(ordered) - len(changed),
                   cursor=cursor, errors=errors)


def _with_dependents(ordered: list[Change], unknown: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """``unknown`` plus what names a refused record (say, the interactions of a refused case)."""
    unknown = dict(unknown)
    for change in ordered:  # dependency order: a record comes after everything it may name
        key = (change.type, change.id)
        if key in unknown:
            continue
        obj = change.obj
        for field_name, target in REFERENCES.get(change.type, ()):
            named = (target, obj.get(field_name))
            if named in unknown:
                unknown[key] = f"{change.type} {change.id}: {field_name} {named[1]!r} was refused"
                break
    return unknown
