"""The workstation's store as the sync loop sees it: the outbox to push, the cursor to pull from.

Everything the backend sends is applied through the store's writer, so pulled
records take the same idempotent upsert as an import, decisions get their timeline
lines, and the waiting list stays right. A page and the cursor after it are one
transaction; an answered mutation and the removal of its outbox row are one
transaction. A crash between two of them repeats work, never loses or doubles it.

One record the store cannot hold (it names a customer this store does not have, a time
the timeline cannot show, a shape the codec refuses) must not stop the pull: the page is
then applied in halves around it, and the record is kept in ``set_aside`` with the reason
in words, to be tried again at each pull (its customer may come later).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.exc import DataError, IntegrityError

from agentdesk.domain.text import one_line
from agentdesk.interchange.codec import RecordError
from agentdesk.interchange.load import to_row, to_rows
from agentdesk.store import first_fill, outbox, set_aside, sync_state
from agentdesk.store.outbox import APPROVE, DECISION, REPLY, OutboxItem
from agentdesk.store.sync_state import REJECTED
from agentdesk.store.writer import COLUMNS, REFERENCES, TIMELINE, StoreWriter, open_writer
from agentdesk.sync.mutations import describe
from agentdesk.sync.status import CHANGE, MUTATION, Kept

_ENTRY_CUSTOMER = COLUMNS[TIMELINE].index("customer_id")


REJECTED_BY_BACKEND = "rejected by the backend: "
"""How a decision whose mutation the backend rejected reads on the timeline (its refusal reason starts so)."""

UNAPPLICABLE = (RecordError, IntegrityError, DataError, ArithmeticError, ValueError, TypeError, KeyError)
"""What applying one record can raise when the record itself is the trouble (``ArithmeticError`` covers the
``OverflowError`` of a time the timeline cannot show). A busy or broken store file (``OperationalError``) is
not among them: that is no record's fault, and the pull fails whole and is tried again."""

_TABLE_NOUN = {"support_case": "case"}


class Counts(NamedTuple):
    waiting: int
    """Outbox rows still to push."""
    rejected: int
    """Outbox rows the backend rejected (kept, not pushed again)."""
    set_aside: int
    """Changes from the backend this store could not apply."""


class Change(NamedTuple):
    """A record from the backend and the seq of the change that brought it."""

    seq: int
    record: Mapping[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return str(self.record.get("type") or "record"), str(self.record.get("id") or "?")


@dataclass
class Pulled:
    applied: int = 0
    """Records stored (inserted or changed)."""
    set_aside: list[Kept] = field(default_factory=list)
    """Records newly set aside by this call."""


class Replica:
    """Sync state on one store file. Use :meth:`open` as an async context manager."""

    def __init__(self, writer: StoreWriter) -> None:
        self._writer = writer
        self._filling: bool | None = None
        """A first fill is under way (see :mod:`agentdesk.store.first_fill`): pages leave ``waiting`` to its end.
        None until the store's note is read, once: only an earlier process can have left a fill unfinished."""

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path | str) -> AsyncIterator[Replica]:
        writer = await open_writer(path)
        try:
            yield cls(writer)
        finally:
            await writer.close()

    # --- the outbox ---------------------------------------------------------------

    async def outbox(self, limit: int = 100, after: int = 0) -> list[OutboxItem]:
        """Mutations to push, oldest first, from after the outbox seq ``after``; those the backend rejected are left
        out."""
        rows = await self._writer.fetch(*sync_state.to_push(after, limit))
        return [OutboxItem.from_row(row) for row in rows]

    async def counts(self) -> Counts:
        (row,) = await self._writer.fetch(*sync_state.counts())
        return Counts(int(row[0]), int(row[1]), int(row[2]))

    async def rejected(self) -> list[OutboxItem]:
        rows = await self._writer.fetch(*sync_state.rejected_items())
        return [OutboxItem.from_row(row) for row in rows]

    async def answered(self, answers: Sequence[tuple[str, Iterable[Mapping[str, Any]], int | None]], *,
                       server: str | None = None) -> Pulled:
        """Store the backend's answers to mutations and take them off the outbox, all in one transaction.

        Each answer is ``(mutation id, its records, its cursor)``, the cursor being the seq of its
        last change on ``server``. When the pull from that server has already gone past it, the
        answer is old news: a repeat after a lost answer gets the result stored back then, and the
        pull may since have brought newer versions of its records (an escalation approved meanwhile),
        which the old ones must not overwrite. Then only what the pull cannot have brought is kept:
        the decision still waiting here for its answer, and its promise (a refusal the backend
        answered to its sender alone, because it named what the backend does not hold, is never
        pulled). A record of an answer that the store cannot hold is set aside as a pulled one is.
        """
        state = await self._pull_state() if server is not None else {}
        pulled_to = int(state.get("cursor", 0)) if state.get("server") == server else None
        kept: list[Mapping[str, Any]] = []
        seqs: list[int] = []
        for _mutation_id, records, cursor in answers:
            if pulled_to is not None and cursor is not None and pulled_to >= cursor:
                records = await self._still_unanswered(list(records))
            records = list(records)
            kept += records
            seqs += [cursor or 0] * len(records)
        return await self._apply_page(kept, seqs, 0,
                                      [sync_state.answered(mutation_id) for mutation_id, _, _ in answers])

    async def _still_unanswered(self, records: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The decisions of ``records`` that this store still holds as pending or queued, and their promises."""
        ids = [str(r.get("id")) for r in records if r.get("type") == "decision"]
        if not ids:
            return []
        waiting = {ident for (ident,) in await self._writer.fetch(*outbox.unanswered(ids))}
        return [r for r in records if (r.get("type") == "decision" and r.get("id") in waiting)
                or (r.get("type") == "promise" and r.get("decision") in waiting)]

    async def failed(self, mutation_id: str, error: str) -> int:
        """Count a failed attempt that may succeed later; returns the attempts so far."""
        await self._writer.apply({}, statements=[sync_state.attempt_failed(mutation_id, error)])
        rows = await self._writer.fetch(*sync_state.attempts(mutation_id))
        return int(rows[0][0]) if rows else 0

    async def reject(self, item: OutboxItem, reason: str) -> Kept:
        """The backend will never take this mutation: keep it (not pushed again), and let its decision say so.

        The decision it carried turns ``refused`` with the reason, as a refusal by the backend
        does (its timeline line and the notices say it, and it no longer counts against a
        limit); its promise is cancelled. One transaction.
        """
        await self._writer.apply({}, statements=outbox.rejected(item.id, REJECTED + reason, _carried_decision(item),
                                                                REJECTED_BY_BACKEND + reason, _carried_reply(item)))
        return _kept_mutation(item, reason)

    async def kept(self) -> list[Kept]:
        """Every rejected mutation and every change set aside, still kept here, oldest first."""
        mutations = [_kept_mutation(item, (item.last_error or "").removeprefix(REJECTED))
                     for item in await self.rejected()]
        rows = await self._writer.fetch(set_aside.KEPT)
        return mutations + [_kept_change(kind, ident, seq, reason) for kind, ident, seq, reason in rows]

    # --- the pull cursor ------------------------------------------------------------

    async def cursor(self, server: str) -> int:
        """Where the pull from ``server`` goes on; a different backend than last time starts from 0.

        A first fill that was stopped in the middle is finished first.
        """
        if self._filling is None:
            self._filling = bool(await self._writer.fetch(first_fill.FILLING))
        if self._filling:
            await self.end_fill()
        state = await self._pull_state()
        if state.get("server") != server:
            await self._writer.apply({}, statements=sync_state.pull_from(server))
            return 0
        return int(state.get("cursor", 0))

    async def _pull_state(self) -> dict[str, str]:
        """``server`` (the backend pulled from) and ``cursor`` (how far), as far as known."""
        return dict(await self._writer.fetch(sync_state.PULL_STATE))

    async def begin_fill(self) -> bool:
        """Write the pages that follow as a first fill, when the store holds no customer and no timeline entry yet.

        Returns whether it does; :meth:`end_fill` must follow (a later :meth:`cursor` does it when it did not).
        """
        ((holds,),) = await self._writer.fetch(first_fill.HOLDS_RECORDS)
        if holds:
            return False
        await self._writer.apply({}, statements=[first_fill.WAL_UNCHECKED, *first_fill.begin()])
        self._filling = True
        return True

    async def end_fill(self) -> None:
        """The timeline's index built and every customer's waiting row computed (in that order: the waiting rows are
        read through the index), then the WAL checkpointed once."""
        await self._writer.apply({}, statements=first_fill.build_index())
        customers = [ident for (ident,) in await self._writer.fetch(first_fill.CUSTOMERS)]
        await self._writer.apply({}, waiting_for=customers, statements=[first_fill.done(), first_fill.WAL_CHECKED])
        self._filling = False
        await self._writer.fetch(first_fill.WAL_CHECKPOINT)

    async def pulled(self, records: Iterable[Mapping[str, Any]], cursor: int,
                     seqs: Iterable[int] | None = None) -> Pulled:
        """Apply one page from the backend and move the cursor past it; ``seqs``: each record's change.

        A record the store cannot hold is set aside and the rest applied (see :meth:`_apply_around`).
        """
        return await self._apply_page(list(records), list(seqs) if seqs is not None else None, cursor,
                                      [sync_state.set_cursor(cursor)])

    async def pulled_part(self, records: Iterable[Mapping[str, Any]], seq: int = 0) -> Pulled:
        """Apply part of a snapshot taken at ``seq``; the cursor moves only when the whole snapshot is in
        (see :meth:`set_cursor`)."""
        return await self._apply_page(list(records), None, seq, [])

    async def retry_set_aside(self) -> tuple[int, list[Kept]]:
        """Try every change set aside again; those that apply leave the list. ``(applied, still kept)``."""
        rows = await self._writer.fetch(set_aside.RECORDS)
        if not rows:
            return 0, []
        changes = [Change(seq, json.loads(record)) for seq, record in rows]
        applied, failed = await self._apply_around(changes)
        await self._writer.apply({}, statements=self._set_aside_statements(changes, failed))
        return applied, [_kept_change(*change.key, change.seq, reason) for change, reason in failed]

    async def unreported(self) -> list[tuple[str, str, int, str]]:
        """``(type, id, seq, reason)`` of the changes set aside that the backend's log was not told of yet."""
        return [tuple(row) for row in await self._writer.fetch(set_aside.UNREPORTED)]

    async def reported(self, items: Iterable[tuple[str, str, int, str]]) -> None:
        await self._writer.apply({}, statements=set_aside.reported(items))

    async def _apply_page(self, records: list[Mapping[str, Any]], seqs: Iterable[int] | None, seq: int,
                          statements: list[tuple[str, tuple[Any, ...]]]) -> Pulled:
        """The page in one transaction with ``statements``; when a record spoils it, around that record.

        ``seqs``: each record's change (None: all ``seq``). The records are paired with their changes
        only when the set-aside list needs them (a page of a first sync has a million to go).
        """
        clearing = await self._clearing(records, seqs, seq)
        try:
            return Pulled(await self._apply(records, clearing + statements))
        except UNAPPLICABLE:
            if not records:
                raise
        changes = _changes(records, seqs, seq)
        applied, failed = await self._apply_around(changes)
        await self._writer.apply({}, statements=self._set_aside_statements(changes, failed) + statements)
        return Pulled(applied, [_kept_change(*change.key, change.seq, reason) for change, reason in failed])

    async def _apply_around(self, changes: Sequence[Change]) -> tuple[int, list[tuple[Change, str]]]:
        """Apply ``changes`` in halves until each part applies or is one record that cannot; in order, so a record
        still comes after what it names. Returns how many rows were stored and the records that failed, with why.

        Halving costs about two transactions per record that fails per doubling of the page, where one
        transaction per record would cost a page's worth."""
        try:
            return await self._apply([change.record for change in changes], []), []
        except UNAPPLICABLE as error:
            if len(changes) == 1:
                return 0, [(changes[0], await self._why(changes[0].record, error))]
        middle = len(changes) // 2
        first, first_failed = await self._apply_around(changes[:middle])
        second, second_failed = await self._apply_around(changes[middle:])
        return first + second, first_failed + second_failed

    async def _clearing(self, records: list[Mapping[str, Any]], seqs: Iterable[int] | None,
                        seq: int) -> list[tuple[str, tuple[Any, ...]]]:
        """A record set aside earlier leaves the list when a newer change of it applies (in the same transaction)."""
        if not records or not await self._writer.fetch(set_aside.ANY):
            return []
        return self._set_aside_statements(_changes(records, seqs, seq), [])

    @staticmethod
    def _set_aside_statements(changes: Sequence[Change],
                              failed: Sequence[tuple[Change, str]]) -> list[tuple[str, tuple[Any, ...]]]:
        """Clear what applied from the list, then keep what failed (a change seen before keeps its ``reported``)."""
        failed_keys = {change.key for change, _ in failed}
        applied = [(change.key, change.seq) for change in changes if change.key not in failed_keys]
        return [*set_aside.cleared(applied),
                *(set_aside.kept(change.key, change.seq, reason, change.record) for change, reason in failed)]

    async def _why(self, record: Mapping[str, Any], error: BaseException) -> str:
        """Why one record cannot be applied, in words (never the SQL that failed)."""
        if isinstance(error, RecordError):
            return f"it is not a record this workstation can read: {one_line(error.message, 200)}"
        if isinstance(error, IntegrityError):
            text = str(error.orig)
            if "FOREIGN KEY" in text:
                missing = await self._missing_reference(record)
                return f"it names {missing}, which this workstation does not have" if missing else \
                    "it names a record this workstation does not have"
            if "UNIQUE" in text:
                return "it conflicts with a record this workstation holds (a value that must be unique is taken)"
            return "this workstation's store refuses it (a value is missing or not allowed)"
        detail = one_line(str(error), 120) or type(error).__name__
        return f"a value in it cannot be stored or shown on this workstation ({detail})"

    async def _missing_reference(self, record: Mapping[str, Any]) -> str | None:
        """``customer c-77``: the first record ``record`` names that the store does not hold."""
        try:
            table, row = to_row(record)
        except RecordError:
            return None
        for position, referred, _name in REFERENCES[table]:
            value = row[position]
            if value is not None and not await self._writer.known_ids(referred, [value]):
                return f"{_TABLE_NOUN.get(referred, referred)} {value}"
        return None

    async def set_cursor(self, cursor: int) -> None:
        await self._writer.apply({}, statements=[sync_state.set_cursor(cursor)])

    async def synced_at(self, at: datetime) -> None:
        await self._writer.apply({}, statements=[sync_state.synced_at(at)])

    async def last_synced(self) -> datetime | None:
        rows = await self._writer.fetch(sync_state.LAST_SYNC)
        return datetime.fromisoformat(rows[0][0]) if rows else None

    async def user_of(self, token_key: str) -> str | None:
        """Who a token speaks for, as the backend said before (``token_key``: a one-way digest of the token).

        A token is never given to another user, so the answer holds for good; the workstation
        knows who is working even when it starts offline.
        """
        rows = await self._writer.fetch(*sync_state.user_of(token_key))
        return rows[0][0] if rows else None

    async def remember_user(self, token_key: str, name: str) -> None:
        await self._writer.apply({}, statements=[sync_state.remember_user(token_key, name)])

    async def _apply(self, records: Iterable[Mapping[str, Any]],
                     statements: list[tuple[str, tuple[Any, ...]]]) -> int:
        rows_by_table: dict[str, list[tuple[Any, ...]]] = {}
        customers: list[str] = []
        for table, row in to_rows(records):
            rows_by_table.setdefault(table, []).append(row)
            if table == TIMELINE:
                customers.append(row[_ENTRY_CUSTOMER])
        await self._writer.apply(rows_by_table, waiting_for=() if self._filling else customers, statements=statements)
        return sum(map(len, rows_by_table.values()))


def _changes(records: Iterable[Mapping[str, Any]], seqs: Iterable[int] | None, seq: int) -> list[Change]:
    records = list(records)
    return [Change(int(n), record) for n, record in zip(seqs if seqs is not None else [seq] * len(records), records,
                                                         strict=True)]


def _carried_decision(item: OutboxItem) -> str | None:
    if item.kind in (DECISION, APPROVE):
        decision = item.body.get("decision") or {}
        return decision.get("id")
    return None


def _carried_reply(item: OutboxItem) -> str | None:
    return (item.body.get("interaction") or {}).get("id") if item.kind == REPLY else None


def _kept_mutation(item: OutboxItem, reason: str) -> Kept:
    return Kept(MUTATION, item.id, describe(item), reason, _carried_decision(item))


def _kept_change(kind: str, ident: str, seq: int, reason: str) -> Kept:
    return Kept(CHANGE, ident, f"{kind} {ident} (change {seq})", reason)
