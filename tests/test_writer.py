"""The bulk writer: idempotent upserts, the row mapping, the waiting list, the dump reader."""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from agentdesk.domain.contact import email_key, phone_key
from agentdesk.domain.model import (
    Agent,
    Article,
    AuditEntry,
    Case,
    CaseStatus,
    Channel,
    Customer,
    Decision,
    Direction,
    EntryKind,
    Promise,
    TimelineEntry,
    Urgency,
)
from agentdesk.domain.money import Money
from agentdesk.domain.timeline import utc_micros
from agentdesk.store import rows
from agentdesk.store import writer as w
from agentdesk.store.convert import from_columns
from agentdesk.store.tables import TimelineEntryRow
from agentdesk.store.writer import (
    COLUMNS,
    TABLE_ORDER,
    StoreWriter,
    open_writer,
    record_row,
    row_record,
    upsert_sql,
)

MIGRATION_0002 = Path(__file__).parent.parent / "migrations" / "versions" / "0002_waiting_decisions_promises.py"

CEST = timezone(timedelta(hours=2))
EDT = timezone(timedelta(hours=-4))
T0 = datetime(2026, 7, 14, 9, 0, tzinfo=CEST)


def at(minutes: int, zone: timezone = CEST) -> datetime:
    return (T0 + timedelta(minutes=minutes)).astimezone(zone)


AGENT = Agent(id="a-7", name="Jonas Weber", role="agent", email="jonas@example.com", extra={"team": "eSIM"})
CUSTOMER = Customer(
    id="c-1", name="Petra Lindner", email="P.Lindner@Example.NET", phone="+49 (170) 555-0199",
    preferred_channel=Channel.EMAIL, language="de", timezone="Europe/Berlin", location="Nürnberg", owner="a-7",
)
CASE = Case(
    id="k-1", customer="c-1", subject="eSIM", status=CaseStatus.OPEN, opened_at=at(0, EDT),
    disputed=Money(Decimal("39.9"), "EUR"), urgency=Urgency.NO_SERVICE,
)


def entry(ident: str, minutes: int, direction: Direction = Direction.IN, channel: Channel = Channel.CHAT,
          customer: str = "c-1", **more) -> TimelineEntry:
    return TimelineEntry(
        id=ident, customer=customer, kind=EntryKind.INTERACTION, at=at(minutes), author="someone", body="text",
        direction=direction, channel=channel, **more,
    )


def event(ident: str, minutes: int, customer: str = "c-1") -> TimelineEntry:
    return TimelineEntry(
        id=ident, customer=customer, kind=EntryKind.EVENT, at=at(minutes), author="a-7", body="",
        direction=Direction.INTERNAL, event_kind="sim_deactivated",
    )


DECISION = Decision(
    id="d-1", customer="c-1", kind="refund", agent="a-7", at=at(30), state="confirmed", case="k-1",
    amount=Money(Decimal("39.90"), "EUR"), reason="double charge",
)
PROMISE = Promise(id="p-1", customer="c-1", what="refund", due=at(3000, EDT), state="open", decision="d-1")
ESCALATION = Decision(
    id="d-2", customer="c-1", kind="escalate", agent="a-7", at=at(40), state="queued", case="k-1",
    amount=Money(Decimal("80.00"), "EUR"), reason="loyal customer", scheduled=at(600, EDT), phone="+49 170 555 0199",
    undo_until=at(41).astimezone(timezone.utc), escalate_to="lead", proposal_kind="refund", approval="declined",
    approval_by="a-9", approval_at=at(90, EDT), approval_reason="not this time",
)
APPROVING = Decision(
    id="d-3", customer="c-1", kind="refund", agent="a-7", at=at(95), state="queued",
    amount=Money(Decimal("80.00"), "EUR"), approves="d-2",
)
AUDIT = AuditEntry(
    id="au-1", at=at(40, EDT), actor="a-7", action="refused", customer="c-1", decision="d-2", kind="refund",
    amount=Money(Decimal("80.00"), "EUR"), rule="agent.refund.max", limit=Money(Decimal("50.00"), "EUR"),
    detail="over the limit", extra={"screen": "customer"},
)
ARTICLE = Article(id="mirror", title="A loose mirror", body="Tape it.", products=("Camper Assistance Plus",),
                  tags=("mirror",))


@pytest.fixture
async def writer(tmp_path: Path):
    store = await open_writer(tmp_path / "store.db")
    try:
        yield store
    finally:
        await store.close()


def db(writer: StoreWriter) -> sqlite3.Connection:
    return sqlite3.connect(writer.path)


async def test_open_writer_creates_the_store_with_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "new.db"
    store = await open_writer(path)
    try:
        conn = await store.connection()
        result = await conn.exec_driver_sql("PRAGMA foreign_keys")
        assert result.scalar() == 1
        result = await conn.exec_driver_sql("PRAGMA journal_mode")
        assert result.scalar() == "wal"
    finally:
        await store.close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_sql_comes_from_the_table_metadata() -> None:
    columns = [column.name for column in TimelineEntryRow.__table__.columns]
    assert COLUMNS["timeline_entry"] == tuple(columns)
    sql = upsert_sql("timeline_entry", 2)
    assert sql.count("(" + ", ".join(["?"] * len(columns)) + ")") == 2
    assert 'ON CONFLICT("id") DO UPDATE SET' in sql
    assert "WHERE (" in sql and ") IS NOT (excluded." in sql
    assert TABLE_ORDER == ("agent", "customer", "support_case", "timeline_entry", "decision", "promise", "audit",
                           "article")
    assert upsert_sql("audit").endswith('ON CONFLICT("id") DO NOTHING')  # append-only: never updated


def test_row_mapping() -> None:
    table, row = record_row(CUSTOMER)
    values = dict(zip(COLUMNS[table], row, strict=True))
    assert values["email_key"] == "p.lindner@example.net"
    assert values["phone_key"] == "+491705550199"
    assert values["preferred_channel"] == "email"
    assert values["extra"] is None
    table, row = record_row(CASE)
    values = dict(zip(COLUMNS[table], row, strict=True))
    assert values["opened_at_us"] == utc_micros(CASE.opened_at)
    assert values["opened_at_offset_s"] == -4 * 3600
    assert (values["disputed_amount"], values["currency"]) == ("39.90", "EUR")
    assert values["urgency"] == "no_service"
    table, row = record_row(AGENT)
    assert dict(zip(COLUMNS[table], row, strict=True))["extra"] == '{"team":"eSIM"}'
    table, row = record_row(event("e-1", 5))
    values = dict(zip(COLUMNS[table], row, strict=True))
    assert (values["kind"], values["direction"], values["channel"], values["event_kind"]) == (
        "event", "internal", None, "sim_deactivated",
    )


def test_phone_and_email_keys() -> None:
    assert phone_key("+49 911 555-0107") == "+499115550107"
    assert phone_key("(555) 010-4477") == "5550104477"
    assert phone_key("  +1 555") == "+1555"
    assert phone_key("n/a") is None and phone_key(None) is None
    assert email_key("Jonas.Weber@Example.COM") == "jonas.weber@example.com"
    assert email_key(None) is None


@pytest.mark.parametrize(
    "record",
    [AGENT, CUSTOMER, CASE, entry("i-1", 1, case="k-1", duration_s=5, wait_s=0, extra={"a": [1, 2.5]}),
     event("e-1", 2), DECISION, ESCALATION, APPROVING, PROMISE, AUDIT,
     AuditEntry(id="au-2", at=at(1), actor="a-9", action="approved", customer="c-1", limit=Money(Decimal("5"), "BHD"))],
)
def test_row_and_back(record) -> None:
    table, row = record_row(record)
    again = row_record(table, row)
    assert again == record
    for name in ("at", "opened_at", "due", "scheduled", "approval_at"):
        if getattr(record, name, None) is not None:
            assert getattr(again, name).utcoffset() == getattr(record, name).utcoffset()


def test_an_undo_deadline_is_kept_in_utc() -> None:
    """The undo window's end is a machine deadline: the store keeps its instant, not its offset."""
    pending = Decision(id="d-9", customer="c-1", kind="refund", agent="a-7", at=at(0), state="pending",
                       undo_until=at(1))
    again = row_record(*record_row(pending))
    assert again.undo_until == pending.undo_until and again.undo_until.utcoffset() == timedelta(0)


def test_stored_time_keeps_extreme_local_times() -> None:
    late = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert from_columns(utc_micros(late), -5 * 3600) == late
    early = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert from_columns(utc_micros(early), 3600) == early


async def test_upsert_is_idempotent_and_keeps_rowids(writer: StoreWriter) -> None:
    records = [AGENT, CUSTOMER, CASE, entry("i-1", 1), entry("i-2", 2), DECISION, PROMISE]
    assert await writer.upsert(records) == len(records)
    with db(writer) as conn:
        before_rowids = conn.execute("SELECT rowid, id FROM timeline_entry ORDER BY id").fetchall()
        before_version = conn.execute("PRAGMA data_version").fetchone()[0]
        before_changes = conn.total_changes
        assert await writer.upsert(records) == 0
        assert await writer.upsert_timeline([entry("i-1", 1)]) == 0
        assert conn.execute("PRAGMA data_version").fetchone()[0] == before_version
        assert conn.execute("SELECT rowid, id FROM timeline_entry ORDER BY id").fetchall() == before_rowids
        assert conn.total_changes == before_changes


async def test_changed_record_is_updated_in_place(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, entry("i-1", 1)])
    with db(writer) as conn:
        rowid = conn.execute("SELECT rowid FROM timeline_entry WHERE id = 'i-1'").fetchone()
    assert await writer.upsert_timeline([entry("i-1", 1, channel=Channel.SMS)]) == 1
    with db(writer) as conn:
        updated = conn.execute("SELECT rowid, channel FROM timeline_entry WHERE id = 'i-1'").fetchone()
        assert updated == (rowid[0], "sms")


async def test_per_table_methods(writer: StoreWriter) -> None:
    assert await writer.upsert_agents([AGENT]) == 1
    assert await writer.upsert_customers([CUSTOMER]) == 1
    assert await writer.upsert_cases([CASE]) == 1
    assert await writer.upsert_timeline([entry("i-1", 1), event("e-1", 2)]) == 2
    assert await writer.upsert_decisions([DECISION]) == 1
    assert await writer.upsert_promises([PROMISE]) == 1
    assert await writer.append_audit([AUDIT]) == 1
    assert await writer.upsert([ARTICLE]) == 1
    with db(writer) as conn:
        for table in TABLE_ORDER:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1


async def test_many_rows_span_several_statements(writer: StoreWriter) -> None:
    per_statement = writer._statement_rows["timeline_entry"]
    entries = [entry(f"i-{n:06d}", n) for n in range(per_statement * 2 + 7)]
    await writer.upsert([AGENT, CUSTOMER])
    assert await writer.upsert_timeline(entries) == len(entries)
    assert await writer.upsert_timeline(entries) == 0
    with db(writer) as conn:
        assert conn.execute("SELECT count(*) FROM timeline_entry").fetchone()[0] == len(entries)


async def test_foreign_keys_are_enforced_and_the_batch_rolled_back(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER])
    with pytest.raises(Exception, match="FOREIGN KEY"):
        await writer.upsert([entry("i-1", 1), entry("i-2", 2, customer="c-404")])
    with db(writer) as conn:
        assert conn.execute("SELECT count(*) FROM timeline_entry").fetchone()[0] == 0
    assert await writer.upsert([entry("i-1", 1)]) == 1


async def test_known_ids(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, CASE])
    assert await writer.known_ids("customer", ["c-1", "c-2", "c-1"]) == {"c-1"}
    assert await writer.known_ids("support_case", ["k-1"]) == {"k-1"}
    assert await writer.known_ids("agent", []) == set()
    with pytest.raises(ValueError):
        await writer.known_ids("waiting; DROP TABLE agent", ["x"])


async def test_stream_rows_in_dump_order(writer: StoreWriter) -> None:
    second = Customer(id="c-0", name="Zed")
    entries = [entry("i-b", 5), entry("i-a", 5), entry("i-c", 1), entry("i-z", 0, customer="c-0")]
    await writer.upsert([AGENT, CUSTOMER, second, *entries])
    seen = [(table, row[0]) async for table, rows in writer.stream_rows(chunk=2) for row in rows]
    assert seen == [
        ("agent", "a-7"), ("customer", "c-0"), ("customer", "c-1"),
        ("timeline_entry", "i-z"), ("timeline_entry", "i-c"), ("timeline_entry", "i-a"), ("timeline_entry", "i-b"),
    ]


# ---------------------------------------------------------------------------
# waiting


def waiting(writer: StoreWriter) -> dict[str, tuple]:
    with db(writer) as conn:
        return {row[0]: row[1:] for row in conn.execute("SELECT * FROM waiting")}


async def test_inbound_after_outbound_waits(writer: StoreWriter) -> None:
    entries = [
        entry("i-1", 0, Direction.IN, Channel.CHAT),
        entry("i-2", 10, Direction.OUT, Channel.PHONE),
        entry("i-3", 20, Direction.IN, Channel.SMS),
        event("e-1", 25),
        entry("i-4", 30, Direction.INTERNAL, Channel.SHOP),
        entry("i-5", 40, Direction.IN, Channel.EMAIL),
        entry("i-6", 50, Direction.IN, Channel.SMS),
    ]
    await writer.upsert([AGENT, CUSTOMER, *entries])
    await writer.recompute_waiting(["c-1"])
    assert waiting(writer) == {"c-1": (utc_micros(at(20)), "sms,email", 3)}


async def test_answered_customer_does_not_wait(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, entry("i-1", 0), entry("i-2", 10, Direction.OUT)])
    await writer.recompute_waiting(["c-1"])
    assert waiting(writer) == {}
    await writer.upsert([entry("i-3", 20)])
    await writer.recompute_waiting(["c-1"])
    assert waiting(writer) == {"c-1": (utc_micros(at(20)), "chat", 1)}
    await writer.upsert([entry("i-4", 30, Direction.OUT)])
    await writer.recompute_waiting(["c-1"])
    assert waiting(writer) == {}


async def test_recompute_only_touches_the_given_customers(writer: StoreWriter) -> None:
    other = Customer(id="c-2", name="Other")
    await writer.upsert([AGENT, CUSTOMER, other, entry("i-1", 0), entry("i-2", 0, customer="c-2")])
    await writer.recompute_waiting(["c-1", "c-404"])
    assert set(waiting(writer)) == {"c-1"}


async def test_recompute_that_changes_nothing_writes_nothing(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, entry("i-1", 0), entry("i-2", 5, channel=Channel.SMS)])
    await writer.recompute_waiting(["c-1"])
    with db(writer) as conn:
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        await writer.recompute_waiting(["c-1"])
        assert conn.execute("PRAGMA data_version").fetchone()[0] == version


async def test_entry_moving_to_another_customer_updates_both(writer: StoreWriter) -> None:
    other = Customer(id="c-2", name="Other")
    await writer.upsert([AGENT, CUSTOMER, other, entry("i-1", 0)])
    await writer.recompute_waiting(["c-1"])
    assert set(waiting(writer)) == {"c-1"}
    await writer.upsert([entry("i-1", 0, customer="c-2")])
    await writer.recompute_waiting(["c-2"])  # the writer remembers that c-1 lost an entry
    assert set(waiting(writer)) == {"c-2"}


async def test_two_entries_of_one_customer_moving_in_one_write_update_both_customers(writer: StoreWriter) -> None:
    """Issue 12, finding 11: a store built locally, synced against a backend whose records put the same
    entry ids on other customers, stopped with ``UNIQUE constraint failed: agentdesk_touched.customer_id``."""
    other = Customer(id="c-2", name="Other")
    await writer.upsert([AGENT, CUSTOMER, other, entry("i-1", 0), entry("i-2", 1)])
    await writer.recompute_waiting(["c-1"])
    assert set(waiting(writer)) == {"c-1"}
    await writer.apply({w.TIMELINE: [record_row(entry(ident, n, customer="c-2"))[1]
                                     for n, ident in enumerate(("i-1", "i-2"))]}, waiting_for=["c-2"])
    assert set(waiting(writer)) == {"c-2"}


async def test_recompute_agrees_with_the_migration_backfill(writer: StoreWriter) -> None:
    spec = importlib.util.spec_from_file_location("migration_0002", MIGRATION_0002)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    customers = [Customer(id=f"c-{n}", name=f"n{n}") for n in range(30)]
    directions = [Direction.IN, Direction.IN, Direction.OUT, Direction.INTERNAL]
    channels = list(Channel)
    entries = []
    for n in range(600):
        kind_event = n % 11 == 0
        customer = f"c-{(n * 7) % 30}"
        if kind_event:
            entries.append(event(f"e-{n}", (n * 37) % 500, customer=customer))
        else:
            entries.append(entry(f"i-{n}", (n * 37) % 500, directions[(n * 5) % 4], channels[n % 9], customer=customer))
    await writer.upsert([AGENT, *customers, *entries])
    await writer.recompute_waiting(c.id for c in customers)
    mine = waiting(writer)
    with db(writer) as conn:
        conn.execute("DELETE FROM waiting")
        conn.execute(module.BACKFILL_WAITING)
        theirs = {row[0]: row[1:] for row in conn.execute("SELECT * FROM waiting")}
        conn.rollback()
    assert mine and set(mine) == set(theirs)
    for customer, (since, channels, count) in theirs.items():
        assert mine[customer][0] == since and mine[customer][2] == count
        assert sorted(mine[customer][1].split(",")) == sorted(channels.split(","))


def test_the_row_mapping_names_the_columns_of_the_tables_in_their_order() -> None:
    assert rows.COLUMNS == COLUMNS
    assert set(rows.TABLE_OF.values()) == set(TABLE_ORDER)


async def test_one_row_statements_behave_the_same(tmp_path: Path) -> None:
    store = await open_writer(tmp_path / "odd näme.db", rows_per_statement=1)
    try:
        records = [AGENT, CUSTOMER, CASE, entry("i-1", 1), entry("i-2", 2), DECISION, PROMISE]
        assert await store.upsert(records) == len(records)
        assert await store.upsert(records) == 0
        assert await store.upsert([entry("i-2", 2, channel=Channel.SMS)]) == 1
    finally:
        await store.close()
    assert (tmp_path / "odd näme.db").exists()


async def test_unknown_table_is_refused_before_writing(writer: StoreWriter) -> None:
    with pytest.raises(ValueError, match="not a table of records: waiting"):
        await writer.write_rows({"agent": [record_row(AGENT)[1]], "waiting": [("c-1", 0, "chat", 1)]})
    with db(writer) as conn:
        assert conn.execute("SELECT count(*) FROM agent").fetchone()[0] == 0


async def test_same_id_twice_in_one_batch_the_later_wins(writer: StoreWriter) -> None:
    other = Customer(id="c-0", name="Another")
    await writer.upsert([AGENT, CUSTOMER, other])
    first, second = entry("i-1", 5, customer="c-1"), entry("i-1", 1, customer="c-0", channel=Channel.SMS)
    await writer.upsert_timeline([entry("i-0", 0), first, entry("i-2", 3), second])
    with db(writer) as conn:
        kept = conn.execute("SELECT customer_id, channel FROM timeline_entry WHERE id = 'i-1'").fetchone()
        assert kept == ("c-0", "sms")


# ---------------------------------------------------------------------------
# decisions on the timeline, and the audit log


def lines(writer: StoreWriter) -> list[tuple]:
    with db(writer) as conn:
        return conn.execute(
            "SELECT id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body, event_kind,"
            " decision_id FROM timeline_entry WHERE kind = 'decision' ORDER BY id"
        ).fetchall()


async def test_a_decision_gets_its_timeline_line_in_the_same_write(writer: StoreWriter) -> None:
    assert await writer.upsert([AGENT, CUSTOMER, CASE, DECISION, ESCALATION, APPROVING]) == 6  # lines are not counted
    assert lines(writer) == [
        ("decision:d-1", "c-1", "k-1", "decision", None, "internal", utc_micros(DECISION.at), 7200, "a-7",
         "refund 39.90 EUR · double charge", "refund", "d-1"),
        ("decision:d-2", "c-1", "k-1", "decision", None, "internal", utc_micros(ESCALATION.at), 7200, "a-7",
         "escalate to lead: refund 80.00 EUR · loyal customer", "escalate", "d-2"),
        ("decision:d-3", "c-1", None, "decision", None, "internal", utc_micros(APPROVING.at), 7200, "a-7",
         "refund 80.00 EUR", "refund", "d-3"),
    ]


async def test_a_callback_line_shows_the_time_in_the_customer_s_zone(writer: StoreWriter) -> None:
    call = Decision(id="d-5", customer="c-1", kind="callback", agent="a-7", at=at(0), state="queued",
                    scheduled=datetime(2026, 11, 24, 13, 30, tzinfo=timezone.utc), phone="+49 170 555 0199")
    await writer.upsert([AGENT, CUSTOMER, call])
    assert lines(writer)[0][9] == "callback Tue 24 Nov 14:30 (Europe/Berlin) on +49 170 555 0199"


async def test_writing_the_same_decisions_again_writes_nothing(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, CASE, DECISION, ESCALATION])
    with db(writer) as conn:
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        assert await writer.upsert([DECISION, ESCALATION]) == 0
        assert conn.execute("PRAGMA data_version").fetchone()[0] == version


async def test_a_line_keeps_the_words_it_was_made_with_and_goes_when_the_decision_is_undone(
    writer: StoreWriter,
) -> None:
    await writer.upsert([AGENT, CUSTOMER, CASE, DECISION])
    before = lines(writer)
    assert await writer.upsert([replace(DECISION, state="queued", reason="charged twice")]) == 1
    assert lines(writer) == before
    assert await writer.upsert([replace(DECISION, state="undone")]) == 1
    assert lines(writer) == []
    await writer.upsert([replace(DECISION, state="pending")])
    assert [line[0] for line in lines(writer)] == ["decision:d-1"]


async def test_lines_of_decisions_do_not_make_anyone_wait(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, CASE, entry("i-1", 0), entry("i-2", 10, Direction.OUT), DECISION])
    await writer.recompute_waiting(["c-1"])
    assert waiting(writer) == {}


async def test_the_dump_reader_leaves_the_lines_of_decisions_out(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER, CASE, entry("i-1", 0), DECISION, AUDIT])
    seen = [(table, row[0]) async for table, rows in writer.stream_rows() for row in rows]
    assert [ident for table, ident in seen if table == "timeline_entry"] == ["i-1"]
    assert seen[-1] == ("audit", "au-1")


async def test_an_audit_record_is_written_once_and_never_changed(writer: StoreWriter) -> None:
    await writer.upsert([AGENT, CUSTOMER])
    assert await writer.append_audit([AUDIT]) == 1
    assert await writer.append_audit([replace(AUDIT, detail="rewritten history")]) == 0
    with db(writer) as conn:
        assert conn.execute("SELECT detail, limit_amount, currency FROM audit").fetchall() == [
            ("over the limit", "50.00", "EUR"),
        ]


async def test_a_read_cancelled_mid_query_ends_cancelled_and_leaves_the_writer_usable(writer: StoreWriter) -> None:
    """Stopping the sync thread cancels whatever read it is in; that must stay a plain cancellation."""
    entered, release = threading.Event(), threading.Event()

    def hold(value: int) -> int:
        entered.set()
        release.wait(10)
        return value

    raw = await (await writer.connection()).get_raw_connection()
    await raw.driver_connection.create_function("hold", 1, hold)
    read = asyncio.create_task(writer.fetch("SELECT hold(1)"))
    await asyncio.to_thread(entered.wait, 10)
    read.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert await writer.fetch("SELECT 2") == [(2,)]
