"""Import: interchange JSONL (or in-memory interchange objects) into the store.

Streams: a line is read, checked and turned into a store row, then written with
its batch (one transaction, :data:`DEFAULT_BATCH_SIZE` records); memory holds the
batch being parsed and the one being written, the ids that other records may
refer to (agents, customers, cases, decisions) and the records still waiting for
a reference.

- A bad line is reported as ``line N: reason`` and skipped; every good line loads.
- Records may come in any order: a record whose reference (its customer, case,
  owner agent, deciding agent, a promise's decision, or the escalation a decision
  approves) is neither in the store nor in the input so far waits until the end
  of the input; still missing then, it is reported (``line 7: interaction i-9: customer c-404 does not exist``).
- Idempotent by record id: a record already stored with the same values is not
  written again, so loading a file twice changes nothing the second time. Audit
  records are append-only: an id already stored is never changed.
- Each decision gets its line on the customer's timeline in the same transaction
  (derived, so not counted as a record; see ``StoreWriter.write_rows``).
- Parsing the next batch overlaps with SQLite writing the previous one (the
  statements run in aiosqlite's thread, mostly with the GIL released).

Speed: interactions and events, the bulk of any file, take a fast lane straight
from the JSON object to the row when they have the plain shape (strings where
strings belong, a known channel, an ISO time with an offset, ...). Everything
else, and every refusal, goes through :func:`codec.parse_record` and
:func:`agentdesk.store.rows.row`; a test holds both lanes to the same rows.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

from agentdesk.domain.limits import EARLIEST_TIME, FUTURE_ALLOWANCE
from agentdesk.domain.model import Channel, Direction
from agentdesk.domain.timeline import utc_micros
from agentdesk.interchange import codec
from agentdesk.interchange.codec import DEFAULT_MAX_RECORD_BYTES, RecordError, decode_line, parse_record, size_refusal
from agentdesk.store import rows
from agentdesk.store.convert import extra_to_column
from agentdesk.store.files import StoreError
from agentdesk.store.writer import (
    COLUMNS,
    REFERENCES,
    TABLE_ORDER,
    TIMELINE,
    StoreWriter,
    open_writer,
)

__all__ = ["DEFAULT_BATCH_SIZE", "LoadReport", "load_jsonl", "load_records", "to_row", "to_rows"]

DEFAULT_BATCH_SIZE = 50_000
"""Records per write transaction. Fewer, larger transactions write each index page to
the WAL once per batch instead of again and again: 50,000 is about 1.6x faster than
5,000, for some 20 MB of memory per batch."""
_YIELD_EVERY = 64  # lines between chances for the in-flight write to move on
_BATCH_BYTES = 32 << 20  # a batch also ends after this many bytes of input


@dataclass
class LoadReport:
    """What an import did. ``errors`` holds ``(line, reason)`` in line order."""

    lines: int = 0
    """Lines read (blank ones included), or objects given to :func:`load_records`."""
    records: int = 0
    """Good records: written, or already stored as they are."""
    written: int = 0
    """Records inserted or changed."""
    errors: list[tuple[int, str]] = field(default_factory=list)
    elapsed: float = 0.0
    """Seconds."""
    unit: str = "line"

    @property
    def unchanged(self) -> int:
        return max(self.records - self.written, 0)

    @property
    def skipped(self) -> int:
        return len(self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def rate(self) -> float:
        """Good records per second."""
        return self.records / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        """``200,512 records: 200,512 new or changed, 0 unchanged, 2 skipped``."""
        return (
            f"{self.records:,} records: {self.written:,} new or changed, "
            f"{self.unchanged:,} unchanged, {self.skipped:,} skipped"
        )

    def messages(self) -> list[str]:
        """One line per skipped record: ``line 7: interaction i-9: unknown channel 'fax' …``."""
        return [f"{self.unit} {number}: {reason}" for number, reason in self.errors]


# ---------------------------------------------------------------------------
# Rows: what the loader carries around

Row = tuple[Any, ...]
Part = tuple[list[int], list[Row]]  # line numbers and their rows, side by side (no tuple per row)
Batch = dict[str, Part]  # table -> part
Progress = Callable[[LoadReport], object]

_ID = {table: columns.index("id") for table, columns in COLUMNS.items()}
_TIMELINE_KIND = COLUMNS[TIMELINE].index("kind")
_TIMELINE_CUSTOMER = COLUMNS[TIMELINE].index("customer_id")
_TIMELINE_CASE = COLUMNS[TIMELINE].index("case_id")
_TYPE_NAMES = {"support_case": "case"}
_REFERRED = tuple(sorted({target for refs in REFERENCES.values() for _, target, _ in refs}))


def _label(table: str, row: Row) -> str:
    """``interaction i-9``: how messages name the record of a row."""
    kind = row[_TIMELINE_KIND] if table == TIMELINE else _TYPE_NAMES.get(table, table)
    return f"{kind} {row[_ID[table]]}"


# ---------------------------------------------------------------------------
# The fast lane for timeline entries

_timeline_row = rows.timeline_row  # the fast lane names each column; store.rows puts them in order
_CHANNEL_NAMES = frozenset(channel.value for channel in Channel)
_DIRECTION_NAMES = frozenset(direction.value for direction in Direction)
_INTERACTION_FIELDS = frozenset(codec.FIELDS["interaction"])
_EVENT_FIELDS = frozenset(codec.FIELDS["event"])
_MAX_INT = (1 << 63) - 1
_fromisoformat = datetime.fromisoformat
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
# utc_micros(at) == (at - _EPOCH) // _MICROSECOND, in two C calls; a test holds the lanes to rows.row.
_EARLIEST_US = utc_micros(EARLIEST_TIME)


def _latest_us(now: datetime) -> int:
    """The latest ``at`` the fast lane takes (as microseconds): anything later goes to the checked lane,
    which refuses it in words."""
    return utc_micros(now + FUTURE_ALLOWANCE)


def _interaction_row(obj: dict[str, Any], latest_us: int) -> Row | None:
    """The row of a plainly valid interaction, or None to take the checked lane."""
    get = obj.get
    ident = get("id")
    customer = get("customer")
    case = get("case")
    channel = get("channel")
    direction = get("direction")
    author = get("author")
    body = get("body")
    at = get("at")
    if not (
        type(ident) is str and ident and type(customer) is str and customer
        and type(channel) is str and channel in _CHANNEL_NAMES
        and type(direction) is str and direction in _DIRECTION_NAMES
        and type(author) is str and type(body) is str and type(at) is str
        and (case is None or (type(case) is str and case))
    ):
        return None
    duration = get("duration_s")
    wait = get("wait_s")
    if not (
        (duration is None or (type(duration) is int and 0 <= duration <= _MAX_INT))
        and (wait is None or (type(wait) is int and 0 <= wait <= _MAX_INT))
    ):
        return None
    try:
        when = _fromisoformat(at)
    except ValueError:
        return None
    offset = when.utcoffset()
    if offset is None or offset.microseconds:
        return None
    at_us = (when - _EPOCH) // _MICROSECOND
    if not _EARLIEST_US <= at_us <= latest_us:
        return None
    extra = None
    if not obj.keys() <= _INTERACTION_FIELDS:
        extra = extra_to_column({key: value for key, value in obj.items() if key not in _INTERACTION_FIELDS})
    return _timeline_row(
        id=ident, customer_id=customer, case_id=case, kind="interaction", channel=channel, direction=direction,
        at_us=at_us, at_offset_s=offset.days * 86_400 + offset.seconds, author=author, body=body, event_kind=None,
        duration_s=duration, wait_s=wait, extra=extra, decision_id=None,
    )


def _event_row(obj: dict[str, Any], latest_us: int) -> Row | None:
    """The row of a plainly valid event, or None to take the checked lane."""
    get = obj.get
    ident = get("id")
    customer = get("customer")
    case = get("case")
    kind = get("kind")
    author = get("author")
    body = get("body")
    at = get("at")
    if not (
        type(ident) is str and ident and type(customer) is str and customer
        and type(kind) is str and kind and type(author) is str and type(at) is str
        and (body is None or type(body) is str) and (case is None or (type(case) is str and case))
    ):
        return None
    try:
        when = _fromisoformat(at)
    except ValueError:
        return None
    offset = when.utcoffset()
    if offset is None or offset.microseconds:
        return None
    at_us = (when - _EPOCH) // _MICROSECOND
    if not _EARLIEST_US <= at_us <= latest_us:
        return None
    extra = None
    if not obj.keys() <= _EVENT_FIELDS:
        extra = extra_to_column({key: value for key, value in obj.items() if key not in _EVENT_FIELDS})
    return _timeline_row(
        id=ident, customer_id=customer, case_id=case, kind="event", channel=None, direction="internal",
        at_us=at_us, at_offset_s=offset.days * 86_400 + offset.seconds, author=author, body=body or "",
        event_kind=kind, duration_s=None, wait_s=None, extra=extra, decision_id=None,
    )


_FAST: dict[Any, Callable[[dict[str, Any], int], Row | None]] = {"interaction": _interaction_row, "event": _event_row}


def to_row(obj: Mapping[str, Any], *, now: datetime | None = None,
           max_record_bytes: int | None = DEFAULT_MAX_RECORD_BYTES) -> tuple[str, Row]:
    """``(table, row)`` for one interchange object, or :class:`RecordError` saying why not.

    ``now`` and ``max_record_bytes`` as for :func:`codec.parse_record`.
    """
    now = now if now is not None else datetime.now(timezone.utc)
    return _to_row(obj, now, _latest_us(now), max_record_bytes)


def to_rows(objs: Iterable[Mapping[str, Any]], *, now: datetime | None = None) -> Iterator[tuple[str, Row]]:
    """:func:`to_row` of each object, on one reading of the clock (``now``, default: the time of the call)."""
    now = now if now is not None else datetime.now(timezone.utc)
    latest_us = _latest_us(now)
    for obj in objs:
        yield _to_row(obj, now, latest_us, DEFAULT_MAX_RECORD_BYTES)


def _to_row(obj: Mapping[str, Any], now: datetime, latest_us: int, max_record_bytes: int | None) -> tuple[str, Row]:
    if type(obj) is dict:
        kind = obj.get("type")
        fast = _FAST.get(kind) if type(kind) is str else None
        if fast is not None:
            row = fast(obj, latest_us)
            if row is not None:
                return TIMELINE, row
    return rows.row(parse_record(obj, now=now, max_record_bytes=max_record_bytes))


# ---------------------------------------------------------------------------
# References, batches, writes


class _Loader:
    """The part of a load shared by files and in-memory records."""

    def __init__(
        self, writer: StoreWriter, report: LoadReport, progress: Progress | None, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> None:
        self.writer = writer
        self.batch_size = batch_size
        self.report = report
        self.progress = progress
        self.known: dict[str, set[str]] = {table: set() for table in _REFERRED}
        self.absent: dict[str, set[str]] = {table: set() for table in _REFERRED}
        self.deferred: Batch = _new_batch()
        self.touched: set[str] = set()
        self.in_flight: asyncio.Future[dict[str, int]] | None = None
        self.in_flight_parts: Batch = {}

    # -- writes -------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait for the write in flight; on a refused batch, write its rows one by one."""
        task, parts = self.in_flight, self.in_flight_parts
        if task is None:
            return
        self.in_flight, self.in_flight_parts = None, {}
        try:
            counts = await task
        except Exception as exc:  # noqa: BLE001 - sorted out row by row below
            _raise_if_store_broken(exc, self.writer)
            await self._one_by_one(parts)
        else:
            self.report.written += sum(counts.values())
            self.report.records += sum(len(rows) for _, rows in parts.values())
        if self.progress is not None:
            self.progress(self.report)

    async def _one_by_one(self, parts: Batch) -> None:
        """Write a refused batch in halves, down to the rows the store refuses, and report those.

        The rows stay in foreign-key order (a half never needs a row of a later half).
        """
        items = [
            (table, number, row)
            for table in TABLE_ORDER
            for number, row in zip(*parts.get(table, ((), ())), strict=True)
        ]
        await self._write_or_split(items)

    async def _write_or_split(self, items: list[tuple[str, int, Row]]) -> None:
        rows_by_table: dict[str, list[Row]] = {}
        for table, _, row in items:
            rows_by_table.setdefault(table, []).append(row)
        try:
            counts = await self.writer.write_rows(rows_by_table)
        except Exception as exc:  # noqa: BLE001 - narrowed down below, reported against its line
            _raise_if_store_broken(exc, self.writer)
            if len(items) > 1:
                middle = len(items) // 2
                await self._write_or_split(items[:middle])
                await self._write_or_split(items[middle:])
                return
            table, number, row = items[0]
            self.report.errors.append((number, f"{_label(table, row)}: refused by the store: {_reason(exc)}"))
            if table in self.known:
                self.known[table].discard(row[_ID[table]])
        else:
            self.report.written += sum(counts.values())
            self.report.records += len(items)

    # -- references ---------------------------------------------------------------

    def _missing(self, table: str, row: Row) -> tuple[str, str, str] | None:
        """The first reference of ``row`` not known yet: (table, name, id)."""
        known = self.known
        for index, target, what in REFERENCES[table]:
            value = row[index]
            if value is not None and value not in known[target]:
                return target, what, value
        return None

    async def flush(self, batch: Batch, *, final: bool = False) -> None:
        """Check the batch's references, then start writing what is ready (in the background).

        Tables are taken in foreign-key order, so a record may refer to one
        anywhere in the same batch. An unknown reference is looked up in the
        store; still unknown, the record waits for the end of the input (or,
        when ``final``, is reported).
        """
        await self.settle()
        accepted: Batch = {}
        unsure: list[tuple[str, int, Row]] = []
        for table in TABLE_ORDER:
            part = batch.get(table)
            if part is not None and part[1]:
                self._accept(table, part, accepted, unsure)
        if unsure:
            await self._look_up(unsure)
            for table, number, row in unsure:  # in table order: a record may need one accepted just before
                missing = self._missing(table, row)
                if missing is None:
                    self._accept(table, ([number], [row]), accepted, None)
                elif final:
                    _, what, value = missing
                    self.report.errors.append((number, f"{_label(table, row)}: {what} {value} does not exist"))
                else:
                    numbers, rows = self.deferred[table]
                    numbers.append(number)
                    rows.append(row)
        if accepted:
            self.in_flight = asyncio.ensure_future(
                self.writer.write_rows({table: rows for table, (_, rows) in accepted.items()})
            )
            self.in_flight_parts = accepted
            await asyncio.sleep(0)  # let the write reach SQLite's thread before parsing goes on

    def _accept(self, table: str, part: Part, accepted: Batch, unsure: list[tuple[str, int, Row]] | None) -> None:
        """Queue the rows whose references are known; the others go to ``unsure`` (when given)."""
        numbers, rows = part
        if table not in accepted:
            accepted[table] = ([], [])
        to_numbers, to_rows = accepted[table]
        if table == TIMELINE:  # the bulk of any file: checked inline
            customers, cases = self.known["customer"], self.known["support_case"]
            touch = self.touched.add
            if unsure is None:
                to_numbers.extend(numbers)
                to_rows.extend(rows)
                for row in rows:
                    touch(row[_TIMELINE_CUSTOMER])
                return
            for number, row in zip(numbers, rows, strict=True):
                customer, case = row[_TIMELINE_CUSTOMER], row[_TIMELINE_CASE]
                if customer in customers and (case is None or case in cases):
                    to_numbers.append(number)
                    to_rows.append(row)
                    touch(customer)
                else:
                    unsure.append((table, number, row))
            return
        own_ids = self.known.get(table)
        id_index = _ID[table]
        for number, row in zip(numbers, rows, strict=True):
            if unsure is not None and self._missing(table, row) is not None:
                unsure.append((table, number, row))
                continue
            to_numbers.append(number)
            to_rows.append(row)
            if own_ids is not None:
                own_ids.add(row[id_index])

    async def _look_up(self, unsure: list[tuple[str, int, Row]]) -> None:
        """Ask the store about the unknown references of ``unsure`` (each id at most once per load)."""
        wanted: dict[str, set[str]] = {}
        known, absent = self.known, self.absent
        for table, _, row in unsure:
            for index, target, _what in REFERENCES[table]:
                value = row[index]
                if value is not None and value not in known[target] and value not in absent[target]:
                    wanted.setdefault(target, set()).add(value)
        for target, ids in wanted.items():
            found = await self.writer.known_ids(target, ids)
            known[target] |= found
            absent[target] |= ids - found

    async def finish(self) -> None:
        """Write what waited for a reference (in foreign-key order), then bring ``waiting`` up to date."""
        await self.settle()
        deferred, self.deferred = self.deferred, _new_batch()
        size = self.batch_size
        for table in TABLE_ORDER:
            numbers, rows = deferred[table]
            for start in range(0, len(rows), size):
                part = (numbers[start : start + size], rows[start : start + size])
                await self.flush({table: part}, final=True)
        await self.settle()
        if self.touched:
            await self.writer.recompute_waiting(self.touched)

    async def abandon(self) -> None:
        task, self.in_flight = self.in_flight, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except BaseException:  # noqa: BLE001 - already failing or cancelled
                pass


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, UnicodeEncodeError):
        return "text is not valid Unicode (a lone surrogate)"
    if isinstance(orig, OverflowError):
        return "a number is too large for the store"
    text = str(orig)
    return text.splitlines()[0] if text else type(orig).__name__


def _raise_if_store_broken(exc: BaseException, writer: StoreWriter) -> None:
    """A locked, read-only, full or damaged store is not the line's fault: stop the import."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, sqlite3.IntegrityError) or not isinstance(orig, sqlite3.DatabaseError):
        return
    raise StoreError(f"cannot write to {writer.path}: {_reason(orig)}") from exc


def _not_json(obj: Any, exc: Exception) -> str:
    kind, ident = obj.get("type"), obj.get("id")
    label = f"{kind} {ident}" if isinstance(kind, str) and isinstance(ident, str) else str(kind)
    return f"{label}: unknown fields must hold JSON values ({exc})"


def _binary(source: Any) -> Any:
    """The byte stream under a text stream (``sys.stdin`` -> ``sys.stdin.buffer``)."""
    buffer = getattr(source, "buffer", None)
    if buffer is not None and hasattr(source, "encoding"):
        return buffer
    return source


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows stream through.

    A load allocates a few container objects per record and frees them by
    reference counting; it creates no reference cycles. The collector would still
    run every few hundred allocations and rescan the batches in flight (about a
    tenth of an import's time). Its previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _new_batch() -> Batch:
    return {table: ([], []) for table in TABLE_ORDER}


# ---------------------------------------------------------------------------
# Entry points

# What a source hands the loader, one per line or object: its number, its size in
# bytes (0 where unknown), and the object, the reason it was refused, or None for
# a blank line.
Numbered = Iterator[tuple[int, int, "Mapping[str, Any] | RecordError | None"]]


async def load_jsonl(
    source: BinaryIO,
    store_path: Path | str,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> LoadReport:
    """Load interchange JSONL from ``source`` (bytes; a text stream's buffer is used) into the store.

    Never reads the whole input at once; a line longer than ``max_record_bytes``
    is skipped without being held in memory. Blank lines are ignored.
    ``progress`` (if given) is called with the report after each batch. ``now``
    (aware; default: the clock when the load starts) bounds the times of what has
    happened, as in :func:`codec.parse_record`.
    """
    if max_record_bytes < 1:
        raise ValueError("max_record_bytes must be positive")
    lines = _lines(_binary(source).readline, max_record_bytes)
    # Each line's bytes were counted against max_record_bytes already.
    return await _load(lines, store_path, LoadReport(), batch_size, progress, now, None)


def _lines(readline: Callable[[int], bytes], max_record_bytes: int) -> Numbered:
    cap = max_record_bytes + 2  # room for CR LF
    number = 0
    while True:
        raw = readline(cap)
        if not raw:
            return
        number += 1
        if len(raw) == cap and raw[-1] != 10:
            size = len(raw) + _skip_rest_of_line(readline)
            yield number, 0, RecordError(size_refusal(size, max_record_bytes))
        elif raw.isspace():
            yield number, 0, None
        else:
            try:
                yield number, len(raw), decode_line(raw, max_record_bytes=max_record_bytes)
            except RecordError as exc:
                yield number, 0, exc


def _skip_rest_of_line(readline: Callable[[int], bytes]) -> int:
    """Read past the end of an over-long line; returns how many more bytes of content it had."""
    extra = 0
    while True:
        chunk = readline(1 << 20)
        if not chunk:
            return extra
        if chunk.endswith(b"\n"):
            return extra + len(chunk.rstrip(b"\r\n"))
        extra += len(chunk)


async def load_records(
    records: Iterable[Mapping[str, Any]],
    store_path: Path | str,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> LoadReport:
    """Load interchange objects (dicts as JSON would give them) into the store.

    The same checks as :func:`load_jsonl`, without encoding to JSON and back.
    Errors are numbered by position (1-based) and reported as ``record N: …``.
    Time fields may also be given as aware ``datetime`` objects.
    """
    numbered = ((number, 0, obj) for number, obj in enumerate(records, 1))
    return await _load(numbered, store_path, LoadReport(unit="record"), batch_size, progress, now,
                       DEFAULT_MAX_RECORD_BYTES)


async def _load(numbered: Numbered, store_path: Path | str, report: LoadReport, batch_size: int,
                progress: Progress | None, now: datetime | None, max_record_bytes: int | None) -> LoadReport:
    """Turn what a source hands over into rows and write them in batches."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    now = now if now is not None else datetime.now(timezone.utc)
    latest_us = _latest_us(now)
    started = time.perf_counter()
    writer = await open_writer(store_path)
    loader = _Loader(writer, report, progress, batch_size)
    errors = report.errors
    try:
        with _cyclic_gc_paused():
            batch = _new_batch()
            count = batch_bytes = number = 0
            for number, size, obj in numbered:
                if obj is None:
                    continue
                if isinstance(obj, RecordError):
                    errors.append((number, obj.message))
                    continue
                try:
                    table, row = _to_row(obj, now, latest_us, max_record_bytes)
                except RecordError as exc:
                    errors.append((number, exc.message))
                    continue
                except (TypeError, ValueError) as exc:  # an unknown field holding something JSON cannot
                    errors.append((number, _not_json(obj, exc)))
                    continue
                numbers, rows = batch[table]
                numbers.append(number)
                rows.append(row)
                count += 1
                batch_bytes += size
                if count >= batch_size or batch_bytes >= _BATCH_BYTES:
                    await loader.flush(batch)
                    batch = _new_batch()
                    count = batch_bytes = 0
                elif not number % _YIELD_EVERY and loader.in_flight is not None:
                    await asyncio.sleep(0)
            report.lines = number
            await loader.flush(batch)
            await loader.finish()
    except BaseException:
        await loader.abandon()
        raise
    finally:
        await writer.close()
    errors.sort(key=lambda item: item[0])
    report.elapsed = time.perf_counter() - started
    return report
