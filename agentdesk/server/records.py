"""Storing uploaded interchange records: checked one by one, idempotent by (type, id).

Each record is read by the same codec as the workstation's import and stored as its
canonical JSON; a record whose canonical text is already stored is unchanged and
writes no change, so uploading the same file twice costs the clients nothing.

An id stays bound to what first took it: a record stored with one customer is not
moved to another by an upload, a decision keeps its agent and a promise its decision.
A decision still ``pending`` or ``queued`` is refused: only the workstation that took
it sends it, as a mutation the backend checks and answers.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

from agentdesk.interchange.codec import RecordError, parse_record
from agentdesk.server.changes import Change, write_changes
from agentdesk.server.database import Database, transaction_retries
from agentdesk.server.tables import record

MAX_RECORDS = 5000

DEPENDENCY_ORDER = ("agent", "customer", "case", "interaction", "event", "decision", "promise", "audit", "article")
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

BOUND = {"decision": "agent", "promise": "decision"}
"""Besides its customer, what a stored record of each type keeps for good."""

UNSENT_STATES = ("pending", "queued")


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
        if change.type == "decision" and change.obj.get("state") in UNSENT_STATES:
            report.errors.append((index, f"decision {change.id} is {change.obj['state']}: only the workstation "
                                         "that took it sends it: agentdesk sync"))
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


def _rebound(ordered: list[Change],
             stored: dict[tuple[str, str], tuple[str | None, str]]) -> dict[tuple[str, str], str]:
    """Records whose id is stored with another customer (or agent, or decision), with the reason."""
    refused: dict[tuple[str, str], str] = {}
    for change in ordered:
        key = (change.type, change.id)
        if key not in stored:
            continue
        customer_id, body = stored[key]
        if customer_id != change.customer_id:
            refused[key] = _bound(change, "customer", customer_id, change.customer_id)
        elif change.type in BOUND:
            field_name = BOUND[change.type]
            first, now = json.loads(body).get(field_name), change.obj.get(field_name)
            if first != now:
                refused[key] = _bound(change, field_name, first, now)
    return refused


def _bound(change: Change, owner: str, first: Any, now: Any) -> str:
    return f"{change.type} {change.id} belongs to {owner} {first!r}, not {now!r}: an id stays with its first {owner}"


async def _cases_of_others(connection: Any, found: dict[tuple[str, str], Change]) -> dict[tuple[str, str], str]:
    """Records naming a case that belongs to another customer, with the reason."""
    named = {change.obj["case"] for change in found.values()
             if change.type != "case" and isinstance(change.obj.get("case"), str)}
    if not named:
        return {}
    rows = await connection.execute(
        select(record.c.id, record.c.customer_id).where(record.c.type == "case", record.c.id.in_(sorted(named))))
    owner = {ident: customer_id for ident, customer_id in rows}  # the stored owner wins: an id stays with it
    for (kind, ident), change in found.items():
        if kind == "case":
            owner.setdefault(ident, change.customer_id)
    refused: dict[tuple[str, str], str] = {}
    for key, change in found.items():
        case_id = change.obj.get("case")
        if change.type != "case" and case_id in owner and owner[case_id] != change.customer_id:
            refused[key] = (f"{change.type} {change.id}: case {case_id!r} belongs to customer "
                            f"{owner[case_id]!r}, not {change.customer_id!r}")
    return refused


async def store_records(database: Database, objects: Sequence[Any], *, keep_changes: int | None = None) -> StoreReport:
    report = StoreReport()
    found = _changes(objects, report)
    by_type: dict[str, list[str]] = defaultdict(list)
    for kind, ident in found:
        by_type[kind].append(ident)
    # In dependency order (a client's page never holds a record before what it names), and within
    # a type by id, so two uploads that touch the same rows lock them in the same order.
    ordered = sorted(found.values(), key=_order)
    async for attempt in transaction_retries():
        with attempt:
            return await _store(database, ordered, by_type, report, keep_changes)
    raise AssertionError("unreachable")  # the last failed attempt raises


async def _store(database: Database, ordered: list[Change], by_type: dict[str, list[str]], report: StoreReport,
                 keep_changes: int | None) -> StoreReport:
    async with database.write() as connection:
        by_key = {(c.type, c.id): c for c in ordered}
        stored: dict[tuple[str, str], tuple[str | None, str]] = {}
        for kind, idents in by_type.items():
            rows = await connection.execute(select(record.c.id, record.c.customer_id, record.c.body)
                                            .where(record.c.type == kind, record.c.id.in_(idents)))
            stored.update(((kind, ident), (customer_id, body)) for ident, customer_id, body in rows)
        unknown = {**await _cases_of_others(connection, by_key), **await _unknown_references(connection, by_key),
                   **_rebound(ordered, stored)}
        unknown = _with_dependents(ordered, unknown)
        ordered = [c for c in ordered if (c.type, c.id) not in unknown]
        changed = [c for c in ordered if (c.type, c.id) not in stored or stored[(c.type, c.id)][1] != c.body]
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
