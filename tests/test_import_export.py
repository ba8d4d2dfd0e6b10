"""Import and export of interchange JSONL against real store files."""

from __future__ import annotations

import io
import json
import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentdesk.domain.timeline import utc_micros
from agentdesk.interchange.codec import dumps, parse_line, to_json_obj
from agentdesk.interchange.dump import dump_jsonl
from agentdesk.interchange.load import LoadReport, load_jsonl, load_records

CORPUS = Path(__file__).parent / "corpus"
STORIES = (CORPUS / "stories.jsonl").read_bytes()


async def load_bytes(data: bytes, store: Path, **options) -> LoadReport:
    return await load_jsonl(io.BytesIO(data), store, **options)


async def dump_bytes(store: Path) -> bytes:
    out = io.BytesIO()
    await dump_jsonl(store, out)
    return out.getvalue()


def canonical(data: bytes) -> list[dict]:
    """The canonical objects of every good line, as the codec writes them."""
    return [json.loads(dumps(to_json_obj(parse_line(line)))) for line in data.splitlines() if line.strip()]


def by_id(objects: list[dict]) -> dict[tuple[str, str], dict]:
    return {(o["type"], o["id"]): o for o in objects}


def query(store: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(store) as conn:
        return conn.execute(sql).fetchall()


# ---------------------------------------------------------------------------
# Round trips


async def test_round_trip_is_byte_identical(tmp_path: Path) -> None:
    report = await load_bytes(STORIES, tmp_path / "one.db")
    assert report.ok and report.records == len(STORIES.splitlines())
    first = await dump_bytes(tmp_path / "one.db")
    # The corpus is canonical and in dependency order: the dump is the file itself.
    assert first == STORIES
    await load_bytes(first, tmp_path / "two.db")
    assert await dump_bytes(tmp_path / "two.db") == first


async def test_dump_is_the_canonical_form_of_any_spelling(tmp_path: Path) -> None:
    """Non-canonical input: other field order, 'Z', short amounts, explicit defaults, unknown fields."""
    lines = [
        b'{"role":"agent","name":"Jonas","id":"a-7","type":"agent","shoe_size":44}',
        b'{"id":"c-1","type":"customer","name":"Petra","owner":"a-7","timezone":"Europe/Berlin","vip":{"since":2001}}',
        b'{"type":"case","id":"k-1","customer":"c-1","subject":"s","status":"open","opened_at":"2026-07-14T07:02Z",'
        b'"disputed_amount":"39.9","currency":"EUR","urgency":"normal"}',
        b'{"type":"interaction","id":"i-1","customer":"c-1","case":"k-1","channel":"chat","direction":"in",'
        b'"at":"2026-07-14T09:31:00.500+02:00","author":"Petra","body":"hi \\u00e9 \\ud83d\\ude90","score":1.10}',
        b'{"type":"event","id":"e-1","customer":"c-1","at":"2026-07-14T04:31:00-05:00","author":"a-7",'
        b'"kind":"note","body":""}',
        b'{"type":"decision","id":"d-1","customer":"c-1","kind":"voucher","amount":"5","currency":"EUR",'
        b'"agent":"a-7","at":"2026-07-14T10:00:00+05:45","state":"pending","case":null}',
        b'{"type":"promise","id":"p-1","customer":"c-1","what":"voucher","due":"2026-07-20T10:00:00+05:45",'
        b'"state":"open","decision":"d-1"}',
    ]
    data = b"\n".join(lines) + b"\n"
    store = tmp_path / "store.db"
    report = await load_bytes(data, store)
    assert report.ok, report.messages()
    dumped = (await dump_bytes(store)).decode("utf-8").splitlines()
    assert by_id([json.loads(line) for line in dumped]) == by_id(canonical(data))
    got = by_id([json.loads(line) for line in dumped])
    assert got[("agent", "a-7")]["shoe_size"] == 44
    assert got[("customer", "c-1")]["vip"] == {"since": 2001}
    assert got[("case", "k-1")]["opened_at"] == "2026-07-14T07:02:00+00:00"
    assert got[("case", "k-1")]["disputed_amount"] == "39.90"
    assert got[("interaction", "i-1")]["at"] == "2026-07-14T09:31:00.500000+02:00"
    assert got[("interaction", "i-1")]["body"] == "hi é 🚐"
    assert got[("event", "e-1")]["at"] == "2026-07-14T04:31:00-05:00"
    assert got[("decision", "d-1")]["at"] == "2026-07-14T10:00:00+05:45"
    assert [json.loads(line)["type"] for line in dumped] == [
        "agent", "customer", "case", "interaction", "event", "decision", "promise",
    ]
    # Compact, UTF-8, one record a line.
    assert all(", " not in line[:20] and '": ' not in line for line in dumped)


async def test_dump_to_a_text_stream(tmp_path: Path) -> None:
    await load_bytes(STORIES, tmp_path / "store.db")
    out = io.StringIO()
    count = await dump_jsonl(tmp_path / "store.db", out)
    assert count == len(STORIES.splitlines())
    assert out.getvalue().encode("utf-8") == STORIES


async def test_dump_of_an_empty_store(tmp_path: Path) -> None:
    assert await dump_bytes(tmp_path / "empty.db") == b""


# ---------------------------------------------------------------------------
# Idempotence


async def test_reimport_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    first = await load_bytes(STORIES, store)
    assert first.written == first.records
    before = await dump_bytes(store)
    rowids = query(store, "SELECT rowid, id FROM timeline_entry ORDER BY id")
    waiting = query(store, "SELECT * FROM waiting ORDER BY customer_id")
    with sqlite3.connect(store) as watcher:
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        again = await load_bytes(STORIES, store)
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    assert again.written == 0 and again.unchanged == again.records == first.records
    assert again.summary() == f"{first.records} records: 0 new or changed, {first.records} unchanged, 0 skipped"
    assert await dump_bytes(store) == before
    assert query(store, "SELECT rowid, id FROM timeline_entry ORDER BY id") == rowids
    assert query(store, "SELECT * FROM waiting ORDER BY customer_id") == waiting


async def test_changed_records_are_counted(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    await load_bytes(STORIES, store)
    changed = STORIES.replace(b'"body":"Anyone?"', b'"body":"Anyone there?"')
    report = await load_bytes(changed, store)
    assert (report.written, report.unchanged) == (1, report.records - 1)
    assert query(store, "SELECT body FROM timeline_entry WHERE id = 'i-3002'") == [("Anyone there?",)]


def test_summary_wording() -> None:
    report = LoadReport(lines=200_514, records=200_512, written=200_512, errors=[(3, "x"), (9, "y")])
    assert report.summary() == "200,512 records: 200,512 new or changed, 0 unchanged, 2 skipped"
    assert report.messages() == ["line 3: x", "line 9: y"]


# ---------------------------------------------------------------------------
# The decision workflow: new decision fields, audit records, decisions' timeline lines

WORKFLOW = [
    b'{"type":"agent","id":"a-7","name":"Jonas Weber","role":"agent"}',
    b'{"type":"agent","id":"a-9","name":"Mira Scholz","role":"lead"}',
    b'{"type":"customer","id":"c-1","name":"Petra Lindner","timezone":"Europe/Berlin"}',
    b'{"type":"case","id":"k-1","customer":"c-1","subject":"Double charge","status":"open",'
    b'"opened_at":"2026-11-20T09:00:00+01:00","disputed_amount":"80.00","currency":"EUR"}',
    b'{"type":"interaction","id":"i-1","customer":"c-1","case":"k-1","channel":"chat","direction":"in",'
    b'"at":"2026-11-23T13:55:00+01:00","author":"Petra Lindner","body":"Charged twice!"}',
    # The approving refund comes before the escalation it approves: any order loads.
    b'{"type":"decision","id":"d-2","customer":"c-1","case":"k-1","kind":"refund","amount":"80.00","currency":"EUR",'
    b'"agent":"a-9","at":"2026-11-23T14:10:00+01:00","state":"queued","approves":"d-1"}',
    b'{"type":"decision","id":"d-1","customer":"c-1","case":"k-1","kind":"escalate","amount":"80.00","currency":"EUR",'
    b'"agent":"a-7","at":"2026-11-23T14:02:00+01:00","state":"confirmed","reason":"charged twice",'
    b'"escalate_to":"lead","proposal_kind":"refund","approval":"approved","approval_by":"a-9",'
    b'"approval_at":"2026-11-23T14:10:00+01:00"}',
    b'{"type":"decision","id":"d-3","customer":"c-1","kind":"callback","agent":"a-7","at":"2026-11-23T14:03:00+01:00",'
    b'"state":"pending","scheduled":"2026-11-24T14:30:00+01:00","phone":"+49 170 555 0199",'
    b'"undo_until":"2026-11-23T13:03:10+00:00"}',
    b'{"type":"decision","id":"d-4","customer":"c-1","kind":"voucher","amount":"5.00","currency":"EUR","agent":"a-7",'
    b'"at":"2026-11-23T14:04:00+01:00","state":"undone"}',
    b'{"type":"promise","id":"p-1","decision":"d-2","customer":"c-1","what":"refund 80.00 EUR",'
    b'"due":"2026-11-26T14:10:00+01:00","state":"open"}',
    b'{"type":"audit","id":"au-1","at":"2026-11-23T14:01:00+01:00","actor":"a-7","action":"refused","customer":"c-1",'
    b'"kind":"refund","amount":"80.00","currency":"EUR","rule":"agent.refund.max","limit":"50.00"}',
    b'{"type":"audit","id":"au-2","at":"2026-11-23T14:10:00+01:00","actor":"a-9","action":"approved",'
    b'"customer":"c-1","decision":"d-1"}',
]
WORKFLOW_DATA = b"\n".join(WORKFLOW) + b"\n"


async def test_workflow_records_round_trip_and_decisions_get_their_lines(tmp_path: Path) -> None:
    store = tmp_path / "one.db"
    report = await load_bytes(WORKFLOW_DATA, store)
    assert report.ok, report.messages()
    assert report.records == report.written == len(WORKFLOW)  # the lines of decisions are not records
    assert query(store, "SELECT id, body FROM timeline_entry WHERE kind = 'decision' ORDER BY id") == [
        ("decision:d-1", "escalate to lead: refund 80.00 EUR · charged twice"),
        ("decision:d-2", "refund 80.00 EUR"),
        ("decision:d-3", "callback Tue 24 Nov 14:30 (Europe/Berlin) on +49 170 555 0199"),
    ]  # d-4 was undone: no line
    dumped = await dump_bytes(store)
    assert b'"decision:' not in dumped  # derived lines stay in the store
    assert [json.loads(line)["type"] for line in dumped.splitlines()] == [
        "agent", "agent", "customer", "case", "interaction", "decision", "decision", "decision", "decision",
        "promise", "audit", "audit",
    ]
    assert by_id([json.loads(line) for line in dumped.splitlines()]) == by_id(canonical(WORKFLOW_DATA))
    again = tmp_path / "two.db"
    assert (await load_bytes(dumped, again)).ok
    assert await dump_bytes(again) == dumped
    lines = "SELECT * FROM timeline_entry ORDER BY id"
    assert query(again, lines) == query(store, lines)


async def test_reimporting_the_workflow_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    await load_bytes(WORKFLOW_DATA, store)
    with sqlite3.connect(store) as watcher:
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        again = await load_bytes(WORKFLOW_DATA, store)
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    assert again.summary() == f"{len(WORKFLOW)} records: 0 new or changed, {len(WORKFLOW)} unchanged, 0 skipped"


async def test_an_imported_audit_record_is_never_changed(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    await load_bytes(WORKFLOW_DATA, store)
    rewritten = WORKFLOW_DATA.replace(b'"action":"refused"', b'"action":"taken"')
    report = await load_bytes(rewritten, store)
    assert report.ok and report.written == 0
    assert query(store, "SELECT action FROM audit WHERE id = 'au-1'") == [("refused",)]


async def test_a_decision_approving_a_missing_escalation_is_named(tmp_path: Path) -> None:
    data = b"\n".join(WORKFLOW[:6]) + b"\n"  # without d-1, the escalation d-2 approves
    report = await load_bytes(data, tmp_path / "store.db")
    assert report.messages() == ["line 6: decision d-2: approves d-1 does not exist"]


# ---------------------------------------------------------------------------
# Bad lines


def broken_corpus() -> bytes:
    huge = json.dumps(
        {"type": "interaction", "id": "i-huge", "customer": "c-1001", "channel": "email", "direction": "in",
         "at": "2026-07-14T09:40:00+02:00", "author": "Petra Lindner", "body": "x" * 5_000_000}
    ).encode()
    invalid = (
        b'{"type":"interaction","id":"i-utf","customer":"c-1001","channel":"chat","direction":"in",'
        b'"at":"2026-07-14T09:41:00+02:00","author":"Petra Lindner","body":"caf\xe9"}'
    )
    data = (CORPUS / "broken.jsonl").read_bytes()
    return data.replace(b"@@HUGE_BODY@@", huge).replace(b"@@INVALID_UTF8@@", invalid)


BROKEN_ERRORS = {
    3: "invalid JSON: Expecting property name enclosed in double quotes (column 154)",
    5: "interaction i-9: unknown channel 'fax' "
       "(expected one of email, phone, chat, sms, social, letter, shop, app, portal)",
    6: "interaction i-10: customer c-404 does not exist",
    8: "case k-5: opened_at '2026-07-14T09:02:00' has no UTC offset",
    9: 'case k-6: disputed_amount 39.9 must be a decimal string such as "39.90", not a number',
    10: "record is 5.0 MB; the limit is 1.0 MB (raise it with --max-record-bytes)",
    11: "not valid UTF-8 (byte 0xe9 at column 159)",
    12: "not a JSON object (got array)",
    13: "unknown record type 'foo' "
        "(expected one of agent, customer, case, interaction, event, decision, promise, audit, article)",
    14: "interaction: missing required field 'id'",
    17: "interaction i-11: at 'yesterday' is not an ISO 8601 time such as '2026-07-14T09:02:00+02:00'",
    19: "customer c-9: unknown time zone 'Mars/Olympus_Mons' (expected an IANA name such as 'Europe/Berlin')",
    20: "decision d-2: unknown currency 'XXY' (expected an ISO 4217 code such as 'EUR')",
    21: "interaction i-12: duration_s -5 must not be negative",
    22: "interaction i-13: body must be a string, not number",
    24: "promise p-2: decision d-404 does not exist",
}
BROKEN_GOOD = {
    "agent": {"a-7"},
    "customer": {"c-1001"},
    "support_case": {"k-55"},
    "timeline_entry": {"i-2", "e-1", "i-14"},
    "decision": {"d-1"},
    "promise": {"p-1"},
}


@pytest.mark.parametrize("batch_size", [5000, 2])
async def test_bad_lines_are_reported_and_good_lines_load(tmp_path: Path, batch_size: int) -> None:
    store = tmp_path / "store.db"
    report = await load_bytes(broken_corpus(), store, batch_size=batch_size)
    assert dict(report.errors) == BROKEN_ERRORS
    assert [number for number, _ in report.errors] == sorted(BROKEN_ERRORS)
    assert report.messages()[0] == "line 3: " + BROKEN_ERRORS[3]
    assert report.lines == 25
    assert report.records == sum(len(ids) for ids in BROKEN_GOOD.values())
    assert report.skipped == len(BROKEN_ERRORS)
    assert not report.ok
    lines_of_decisions = {"timeline_entry": {"decision:d-1"}}  # derived on import, not counted as records
    for table, ids in BROKEN_GOOD.items():
        assert {row[0] for row in query(store, f"SELECT id FROM {table}")} == ids | lines_of_decisions.get(table, set())


IMPORT_NOW = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


def _case(ident: str, **fields: str) -> dict:
    return {"type": "case", "id": ident, "customer": "c-1", "subject": "s", "status": "open",
            "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": "39.90", "currency": "EUR", **fields}


def _entry(ident: str, at: str) -> dict:
    return {"type": "interaction", "id": ident, "customer": "c-1", "channel": "chat", "direction": "in",
            "at": at, "author": "P", "body": "hi"}


def _decision(ident: str, **fields: str) -> dict:
    return {"type": "decision", "id": ident, "customer": "c-1", "kind": "note", "agent": "a-7",
            "at": "2026-12-01T10:00:00+01:00", "state": "queued", **fields}


HOSTILE_IMPORT = [
    ({"type": "agent", "id": "a-7", "name": "Jonas", "role": "agent"}, None),
    ({"type": "customer", "id": "c-1", "name": "Petra"}, None),
    (_case("k-ok"), None),
    (_case("k-wide", disputed_amount="１０.００"),
     "case k-wide: disputed_amount '１０.００' has digits other than 0-9"),
    (_case("k-arabic", disputed_amount="٣٠.٠٠"), "case k-arabic: disputed_amount '٣٠.٠٠' has digits other than 0-9"),
    (_case("k-neg", disputed_amount="-5.00"), "case k-neg: disputed_amount -5.00 must be more than zero"),
    (_case("k-zero", disputed_amount="0.00"), "case k-zero: disputed_amount 0.00 must be more than zero"),
    (_case("k-ahead", opened_at="9999-01-01T00:00:00+00:00"),
     "case k-ahead: opened_at '9999-01-01T00:00:00+00:00' is not before 3000-01-01, the latest time a record may hold"),
    (_case("k-soon", opened_at="2026-12-07T09:00:00+00:00"),
     "case k-soon: opened_at '2026-12-07T09:00:00+00:00' is more than 1 day ahead of now (2026-12-05T09:00Z)"),
    (_case("k-old", opened_at="0001-01-01T00:30:00+01:00"),
     "case k-old: opened_at '0001-01-01T00:30:00+01:00' is before 1900-01-01, the earliest time a record may hold"),
    (_entry("i-ok", "2026-12-06T08:59:00+00:00"), None),
    (_entry("i-ahead", "2026-12-06T09:01:00+00:00"),
     "interaction i-ahead: at '2026-12-06T09:01:00+00:00' is more than 1 day ahead of now (2026-12-05T09:00Z)"),
    (_entry("i-old", "1899-12-31T12:00:00+00:00"),
     "interaction i-old: at '1899-12-31T12:00:00+00:00' is before 1900-01-01, the earliest time a record may hold"),
    (_decision("d-ok", reason="x" * 10_000), None),
    (_decision("d-long", reason="x" * 10_001), "decision d-long: reason is 10,001 characters; the limit is 10,000"),
    (_decision("d-surrogate", reason="\ud800"), "not valid Unicode (lone surrogate \\ud800 in a string)"),
]


async def test_import_refuses_foreign_digits_bad_amounts_times_and_text_line_by_line(tmp_path: Path) -> None:
    data = b"".join(json.dumps(obj).encode() + b"\n" for obj, _ in HOSTILE_IMPORT)
    report = await load_bytes(data, tmp_path / "store.db", now=IMPORT_NOW)
    expected = {number: reason for number, (_, reason) in enumerate(HOSTILE_IMPORT, 1) if reason is not None}
    assert dict(report.errors) == expected
    assert report.records == len(HOSTILE_IMPORT) - len(expected)
    assert {row[0] for row in query(tmp_path / "store.db", "SELECT id FROM support_case")} == {"k-ok"}
    assert {row[0] for row in query(tmp_path / "store.db", "SELECT id FROM timeline_entry WHERE kind != 'decision'")} \
        == {"i-ok"}
    assert {row[0] for row in query(tmp_path / "store.db", "SELECT id FROM decision")} == {"d-ok"}


async def test_in_memory_records_are_held_to_the_same_bounds(tmp_path: Path) -> None:
    objects = [obj for obj, _ in HOSTILE_IMPORT]
    report = await load_records(objects, tmp_path / "store.db", now=IMPORT_NOW)
    reasons = dict(report.errors)
    assert reasons[len(objects)] == "decision d-surrogate: reason is not valid Unicode (lone surrogate \\ud800)"
    assert {number: reason for number, reason in reasons.items() if number != len(objects)} == {
        number: reason for number, (_, reason) in enumerate(HOSTILE_IMPORT, 1)
        if reason is not None and number != len(objects)}


async def test_record_limit_can_be_raised(tmp_path: Path) -> None:
    report = await load_bytes(broken_corpus(), tmp_path / "store.db", max_record_bytes=8 << 20)
    assert 10 not in dict(report.errors)
    assert query(tmp_path / "store.db", "SELECT length(body) FROM timeline_entry WHERE id = 'i-huge'") == [(5_000_000,)]


async def test_blank_lines_crlf_and_a_text_stream(tmp_path: Path) -> None:
    data = b"\r\n\n   \n" + STORIES.replace(b"\n", b"\r\n") + b"\n\n"
    report = await load_bytes(data, tmp_path / "a.db")
    assert report.ok and report.records == len(STORIES.splitlines())
    text = io.TextIOWrapper(io.BytesIO(STORIES), encoding="utf-8")  # like sys.stdin
    report = await load_jsonl(text, tmp_path / "b.db")  # type: ignore[arg-type]
    assert report.ok
    assert await dump_bytes(tmp_path / "a.db") == await dump_bytes(tmp_path / "b.db") == STORIES


async def test_over_long_last_line_without_newline(tmp_path: Path) -> None:
    data = STORIES + b'{"type":"agent","id":"a-big","name":"' + b"n" * 3000 + b'","role":"agent"}'
    report = await load_bytes(data, tmp_path / "store.db", max_record_bytes=1000)
    assert report.errors == [(31, "record is 3,054 bytes; the limit is 1,000 bytes (raise it with --max-record-bytes)")]


# ---------------------------------------------------------------------------
# Order and references


@pytest.mark.parametrize("order", ["reversed", "shuffled"])
@pytest.mark.parametrize("batch_size", [5000, 3])
async def test_any_order_loads_fully(tmp_path: Path, order: str, batch_size: int) -> None:
    lines = STORIES.splitlines(keepends=True)
    if order == "reversed":
        lines.reverse()
    else:
        random.Random(7).shuffle(lines)
    first_interaction = next(n for n, line in enumerate(lines) if b'"interaction"' in line)
    first_customer = next(n for n, line in enumerate(lines) if b'"customer","id"' in line)
    assert first_interaction < first_customer
    report = await load_bytes(b"".join(lines), tmp_path / "store.db", batch_size=batch_size)
    assert report.ok, report.messages()
    assert report.records == len(lines)
    assert await dump_bytes(tmp_path / "store.db") == STORIES


async def test_references_to_records_already_in_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    lines = STORIES.splitlines(keepends=True)
    people = [line for line in lines if b'"type":"agent"' in line or b'"type":"customer"' in line]
    rest = [line for line in lines if line not in people]
    assert (await load_bytes(b"".join(people), store)).ok
    report = await load_bytes(b"".join(rest), store, batch_size=4)
    assert report.ok, report.messages()
    assert await dump_bytes(store) == STORIES


async def test_missing_references_are_named(tmp_path: Path) -> None:
    data = b"\n".join([
        b'{"type":"customer","id":"c-1","name":"x","owner":"a-404"}',
        b'{"type":"case","id":"k-1","customer":"c-1","subject":"s","status":"open","opened_at":"2026-07-14T09:02:00+02:00"}',
        b'{"type":"interaction","id":"i-1","customer":"c-1","case":"k-1","channel":"chat","direction":"in","at":"2026-07-14T09:31:00+02:00","author":"x","body":"y"}',
        b'{"type":"decision","id":"d-1","customer":"c-2","kind":"note","agent":"a-1","at":"2026-07-14T12:02:00+02:00","state":"pending"}',
        b'{"type":"customer","id":"c-2","name":"y"}',
    ])
    report = await load_bytes(data, tmp_path / "store.db")
    assert report.errors == [
        (1, "customer c-1: owner a-404 does not exist"),
        (2, "case k-1: customer c-1 does not exist"),
        (3, "interaction i-1: customer c-1 does not exist"),
        (4, "decision d-1: agent a-1 does not exist"),
    ]
    assert query(tmp_path / "store.db", "SELECT id FROM customer") == [("c-2",)]


# ---------------------------------------------------------------------------
# waiting


def interaction(ident: str, customer: str, minutes: int, direction: str, channel: str = "chat") -> dict:
    at = datetime(2026, 7, 14, 9, 0, tzinfo=timezone(timedelta(hours=2))) + timedelta(minutes=minutes)
    return {"type": "interaction", "id": ident, "customer": customer, "channel": channel, "direction": direction,
            "at": at.isoformat(), "author": "x", "body": "y"}


def jsonl(objects: list[dict]) -> bytes:
    return b"".join(dumps(o).encode() + b"\n" for o in objects)


async def test_waiting_after_import(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    people = [{"type": "customer", "id": c, "name": c} for c in ("c-wait", "c-answered", "c-new")]
    timeline = [
        interaction("i-1", "c-wait", 0, "in", "chat"),
        interaction("i-2", "c-wait", 10, "out", "phone"),
        interaction("i-3", "c-wait", 20, "in", "sms"),
        interaction("i-4", "c-wait", 30, "in", "email"),
        interaction("i-5", "c-wait", 35, "internal", "shop"),
        interaction("i-6", "c-answered", 0, "in"),
        interaction("i-7", "c-answered", 5, "out"),
    ]
    await load_bytes(jsonl(timeline + people), store)  # timeline first: any order
    since = utc_micros(datetime(2026, 7, 14, 9, 20, tzinfo=timezone(timedelta(hours=2))))
    expected = [("c-wait", since, "sms,email", 2)]
    assert query(store, "SELECT * FROM waiting") == expected
    with sqlite3.connect(store) as watcher:
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        await load_bytes(jsonl(timeline + people), store)
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    assert query(store, "SELECT * FROM waiting") == expected
    # An answer in a later import clears it; a new inbound message elsewhere adds one.
    answer_and_new = [interaction("i-8", "c-wait", 40, "out"), interaction("i-9", "c-new", 41, "in", "app")]
    await load_bytes(jsonl(answer_and_new), store)
    assert query(store, "SELECT customer_id, channels, unanswered FROM waiting") == [("c-new", "app", 1)]


# ---------------------------------------------------------------------------
# In-memory records


async def test_load_records_without_json(tmp_path: Path) -> None:
    objects = [json.loads(line) for line in STORIES.splitlines()]
    objects[12]["at"] = datetime.fromisoformat(objects[12]["at"])  # an aware datetime is fine too
    objects.insert(5, {"type": "interaction", "id": "bad"})
    objects.insert(6, {"type": "case", "id": "k-float", "customer": "c-1001", "subject": "s", "status": "open",
                       "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": 39.9, "currency": "EUR"})
    objects.insert(7, ["not", "an", "object"])
    report = await load_records(iter(objects), tmp_path / "store.db", batch_size=4)
    assert report.messages() == [
        "record 6: interaction bad: missing required field 'customer'",
        'record 7: case k-float: disputed_amount 39.9 must be a decimal string such as "39.90", not a number',
        "record 8: not a JSON object (got array)",
    ]
    assert report.records == len(STORIES.splitlines())
    assert await dump_bytes(tmp_path / "store.db") == STORIES


async def test_many_records_across_batches(tmp_path: Path) -> None:
    people = [{"type": "customer", "id": f"c-{n}", "name": f"Customer {n}"} for n in range(50)]
    timeline = [interaction(f"i-{n:05d}", f"c-{n % 50}", n % 997, "in" if n % 3 else "out") for n in range(12_000)]
    store = tmp_path / "store.db"
    report = await load_bytes(jsonl(timeline[:6000] + people + timeline[6000:]), store, batch_size=1000)
    assert report.ok and report.records == 12_050 and report.written == 12_050
    assert query(store, "SELECT count(*) FROM timeline_entry") == [(12_000,)]
    waiting_rows = query(store, "SELECT count(*) FROM waiting")[0][0]
    assert 0 < waiting_rows <= 50
    dumped = await dump_bytes(store)
    assert len(dumped.splitlines()) == 12_050
    again = tmp_path / "again.db"
    await load_bytes(dumped, again)
    assert await dump_bytes(again) == dumped
    waiting = "SELECT * FROM waiting ORDER BY customer_id"
    assert query(again, waiting) == query(store, waiting)


# ---------------------------------------------------------------------------
# The fast lane gives exactly the rows of the checked lane

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from agentdesk.interchange import load as load_module  # noqa: E402
from agentdesk.interchange.codec import RecordError, decode_line, parse_record  # noqa: E402
from agentdesk.store.rows import row as record_row  # noqa: E402

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _text | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(_text, inner, max_size=2),
    max_leaves=4,
)
_times = st.builds(
    lambda naive, seconds: naive.replace(tzinfo=timezone(timedelta(seconds=seconds))),
    st.datetimes(min_value=datetime(1899, 12, 1), max_value=datetime(2200, 12, 30)),
    st.integers(-86_399, 86_399),
).map(lambda at: at.isoformat())
_NOW = datetime(2100, 1, 1, tzinfo=timezone.utc)
"""Generated times fall on both sides of the bounds: before 1900 and more than a day after this."""
_timeline_objects = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["interaction", "event"]),
        "id": _text,
        "customer": _text,
        "at": _times | _text,
        "author": _text,
        "body": _text,
    },
    optional={
        "case": st.none() | _text,
        "channel": st.sampled_from(
            ["email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal", "fax"]),
        "direction": st.sampled_from(["in", "out", "internal", "up"]),
        "kind": _text,
        "duration_s": st.integers(-5, 2**64) | _json,
        "wait_s": st.none() | st.integers(0, 10**6),
        "extra_field": _json,
    },
)


def test_fast_lane_is_in_use() -> None:
    plain = interaction("i-1", "c-1", 1, "in")
    assert load_module._FAST["interaction"](plain, load_module._latest_us(_NOW)) == record_row(
        parse_record(plain, now=_NOW))[1]


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(_timeline_objects,
       st.dictionaries(st.sampled_from(["id", "customer", "at", "author", "body", "case", "kind", "channel"]), _json,
                       max_size=2))
def test_fast_lane_agrees_with_the_checked_lane(obj: dict, damage: dict) -> None:
    for candidate in (obj, obj | damage):
        try:
            expected = record_row(parse_record(candidate, now=_NOW))
        except RecordError:
            expected = None
        lane = load_module._FAST[candidate["type"]](candidate, load_module._latest_us(_NOW))
        if lane is not None:
            assert expected == ("timeline_entry", lane)
        if expected is not None:
            assert load_module.to_row(candidate, now=_NOW) == expected
            line = dumps(candidate).encode()
            decoded = decode_line(line)
            assert load_module.to_row(decoded, now=_NOW) == record_row(parse_record(decoded, now=_NOW))


async def test_text_the_store_cannot_hold_is_reported_against_its_record(tmp_path: Path) -> None:
    objects = [json.loads(line) for line in STORIES.splitlines()]
    bad = interaction("i-bad", "c-1001", 1, "in") | {"body": "lone \ud800 surrogate"}
    report = await load_records([*objects, bad], tmp_path / "store.db")
    assert report.messages() == [
        f"record {len(objects) + 1}: interaction i-bad: refused by the store: "
        "text is not valid Unicode (a lone surrogate)"
    ]
    assert report.records == len(objects)
    assert await dump_bytes(tmp_path / "store.db") == STORIES


async def test_in_memory_unknown_fields_must_be_json(tmp_path: Path) -> None:
    objects = [
        {"type": "agent", "id": "a-1", "name": "x", "role": "agent", "since": datetime(2020, 1, 1)},
        {"type": "agent", "id": "a-2", "name": "y", "role": "agent", "score": float("nan")},
        {"type": "agent", "id": "a-3", "name": "z", "role": "agent", "tags": ["fine"]},
    ]
    report = await load_records(objects, tmp_path / "store.db")
    assert [number for number, _ in report.errors] == [1, 2]
    assert report.errors[0][1].startswith("agent a-1: unknown fields must hold JSON values (Object of type datetime")
    assert query(tmp_path / "store.db", "SELECT id, extra FROM agent") == [("a-3", '{"tags":["fine"]}')]


async def test_garbage_collector_state_is_restored(tmp_path: Path) -> None:
    import gc

    assert gc.isenabled()
    await load_bytes(STORIES, tmp_path / "a.db")
    assert gc.isenabled()
    gc.disable()
    try:
        await load_bytes(b"{broken\n", tmp_path / "b.db")
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_a_refused_batch_is_narrowed_down_to_its_bad_rows(tmp_path: Path) -> None:
    people = [{"type": "customer", "id": f"c-{n}", "name": f"n{n}"} for n in range(20)]
    timeline = [interaction(f"i-{n}", f"c-{n % 20}", n, "in") for n in range(500)]
    timeline[137]["body"] = "bad \ud800"
    timeline[402]["author"] = "also \udfff bad"
    report = await load_records([*people, *timeline], tmp_path / "store.db")
    assert [number for number, _ in report.errors] == [20 + 138, 20 + 403]
    assert report.records == 518 and report.written == 518
    assert query(tmp_path / "store.db", "SELECT count(*) FROM timeline_entry") == [(498,)]
