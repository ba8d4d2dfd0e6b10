"""The interchange codec: one JSON object <-> one domain record, and every refusal in words."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.domain.entry_parse import EntryError, parse_money
from agentdesk.domain.model import (
    Agent,
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
from agentdesk.domain.money import MINOR_UNITS, Money, MoneyError
from agentdesk.interchange import codec
from agentdesk.interchange.codec import (
    APPROVAL_STATES,
    AUDIT_ACTIONS,
    DECISION_KINDS,
    DECISION_STATES,
    PROMISE_STATES,
    PROPOSAL_KINDS,
    JsonNumber,
    RecordError,
    decode_line,
    dumps,
    parse_line,
    parse_record,
    record_label,
    size_refusal,
    to_json_obj,
)

CORPUS = Path(__file__).parent / "corpus"

# The examples of the published interchange format, verbatim (docs/interchange.md keeps them too).
CONTRACT_LINES = (CORPUS / "contract.jsonl").read_text(encoding="utf-8").splitlines()

# The decision workflow's records (issue 3): every new field, in canonical order.
WORKFLOW_LINES = (CORPUS / "workflow.jsonl").read_text(encoding="utf-8").splitlines()

CEST = timezone(timedelta(hours=2))


def obj(line: str) -> dict:
    return json.loads(line)


# ---------------------------------------------------------------------------
# Valid records


@pytest.mark.parametrize("line", CONTRACT_LINES)
def test_contract_examples_round_trip_exactly(line: str) -> None:
    record = parse_line(line.encode())
    assert dumps(to_json_obj(record)) == line


@pytest.mark.parametrize("line", WORKFLOW_LINES)
def test_workflow_records_round_trip_exactly(line: str) -> None:
    assert dumps(to_json_obj(parse_line(line.encode()))) == line


def test_decision_workflow_fields() -> None:
    record = parse_line(WORKFLOW_LINES[0].encode())
    assert isinstance(record, Decision)
    cet = timezone(timedelta(hours=1))
    assert record.scheduled == datetime(2026, 11, 24, 14, 30, tzinfo=cet)
    assert record.undo_until == datetime(2026, 11, 23, 13, 2, 10, tzinfo=timezone.utc)
    assert (record.escalate_to, record.proposal_kind) == ("lead", "refund")
    assert record.amount == Money(Decimal("80.00"), "EUR")
    assert (record.approval, record.approval_by, record.approval_reason) == ("declined", "a-9", "not this time")
    assert record.approval_at == datetime(2026, 11, 23, 15, 10, tzinfo=cet)
    assert (record.phone, record.approves, record.extra) == ("+49 170 555 0199", "d-1", {})


def test_audit_fields() -> None:
    record = parse_line(WORKFLOW_LINES[2].encode())
    assert record == AuditEntry(
        id="au-1", at=datetime(2026, 11, 23, 14, 1, tzinfo=timezone(timedelta(hours=1))), actor="a-7",
        action="refused", customer="c-1001", decision="d-2", kind="refund", amount=Money(Decimal("80.00"), "EUR"),
        rule="agent.refund.max", limit=Money(Decimal("50.00"), "EUR"), detail="over the agent's limit",
    )
    assert record_label(record) == "audit au-1"
    only_limit = parse_line(WORKFLOW_LINES[3].encode())
    assert (only_limit.amount, only_limit.limit) == (None, Money(Decimal("500.00"), "EUR"))


def test_audit_amount_and_limit_share_one_currency() -> None:
    with pytest.raises(ValueError, match="must share one currency"):
        AuditEntry(id="au-9", at=datetime(2026, 1, 1, tzinfo=timezone.utc), actor="a-7", action="refused",
                   customer="c-1", amount=Money(Decimal("1"), "EUR"), limit=Money(Decimal("1"), "USD"))


def test_a_decision_s_timeline_line_is_not_an_interchange_record() -> None:
    line = TimelineEntry(id="decision:d-1", customer="c-1", kind=EntryKind.DECISION,
                         at=datetime(2026, 1, 1, tzinfo=CEST), author="a-7", body="refund 39.90 EUR",
                         direction=Direction.INTERNAL, decision_id="d-1")
    with pytest.raises(TypeError, match="derived from its decision"):
        to_json_obj(line)


@pytest.mark.parametrize("line", (CORPUS / "stories.jsonl").read_text(encoding="utf-8").splitlines())
def test_story_corpus_is_canonical(line: str) -> None:
    assert dumps(to_json_obj(parse_line(line.encode()))) == line


def test_interaction_fields() -> None:
    record = parse_record(obj(CONTRACT_LINES[4]))
    assert record == TimelineEntry(
        id="i-9002",
        customer="c-1001",
        kind=EntryKind.INTERACTION,
        at=datetime(2026, 7, 14, 11, 5, tzinfo=CEST),
        author="a-7",
        body="Explained eSIM steps",
        direction=Direction.OUT,
        channel=Channel.PHONE,
        case="k-55",
        duration_s=540,
        wait_s=900,
    )
    assert record.at.utcoffset() == timedelta(hours=2)


def test_event_is_an_internal_timeline_entry() -> None:
    record = parse_record(obj(CONTRACT_LINES[5]))
    assert isinstance(record, TimelineEntry)
    assert record.kind is EntryKind.EVENT
    assert record.event_kind == "sim_deactivated"
    assert record.direction is Direction.INTERNAL
    assert record.channel is None
    assert record.is_internal
    assert record_label(record) == "event e-77"


def test_event_without_body() -> None:
    line = ('{"type":"event","id":"e-2","customer":"c-1","at":"2026-07-14T11:40:00+02:00",'
            '"author":"system","kind":"handover"}')
    record = parse_line(line.encode())
    assert record.body == ""
    assert dumps(to_json_obj(record)) == line


def test_case_money_and_urgency() -> None:
    record = parse_record(obj(CONTRACT_LINES[2]))
    assert isinstance(record, Case)
    assert record.disputed == Money(Decimal("39.90"), "EUR")
    assert record.urgency is Urgency.NORMAL
    assert record.status is CaseStatus.OPEN
    urgent = parse_record({**obj(CONTRACT_LINES[2]), "urgency": "no_service"})
    assert urgent.urgency is Urgency.NO_SERVICE
    assert to_json_obj(urgent)["urgency"] == "no_service"
    assert "urgency" not in to_json_obj(record)


def test_money_is_written_at_the_currency_precision() -> None:
    record = parse_record({**obj(CONTRACT_LINES[2]), "disputed_amount": "39.9"})
    assert to_json_obj(record)["disputed_amount"] == "39.90"
    yen = parse_record({**obj(CONTRACT_LINES[2]), "disputed_amount": "1200", "currency": "JPY"})
    assert to_json_obj(yen)["disputed_amount"] == "1200"


def test_unknown_fields_are_kept_and_written_back_last() -> None:
    line = (
        '{"type":"interaction","id":"i-1","customer":"c-1","channel":"sms","direction":"in",'
        '"at":"2026-07-14T09:31:00-05:00","author":"x","body":"y",'
        '"attachments":[{"name":"a.pdf","bytes":12}],"sentiment":-0.25,"flag":true,"none":null}'
    )
    record = parse_line(line.encode())
    assert record.extra == {
        "attachments": [{"name": "a.pdf", "bytes": 12}],
        "sentiment": -0.25,
        "flag": True,
        "none": None,
    }
    assert dumps(to_json_obj(record)) == line


def test_original_offset_is_kept() -> None:
    for text in ("2026-07-14T09:31:00-05:00", "2026-07-14T09:31:00+05:45", "2026-07-14T09:31:00.123456+09:00"):
        line = obj(CONTRACT_LINES[3]) | {"at": text}
        assert to_json_obj(parse_record(line))["at"] == text


def test_utc_designator_and_other_iso_spellings_are_accepted() -> None:
    record = parse_record(obj(CONTRACT_LINES[3]) | {"at": "2026-07-14T07:31:00Z"})
    assert record.at == datetime(2026, 7, 14, 9, 31, tzinfo=CEST)
    assert to_json_obj(record)["at"] == "2026-07-14T07:31:00+00:00"
    minutes_only = parse_record(obj(CONTRACT_LINES[3]) | {"at": "2026-07-14T09:31+02:00"})
    assert to_json_obj(minutes_only)["at"] == "2026-07-14T09:31:00+02:00"


def test_in_memory_records_may_carry_aware_datetimes() -> None:
    at = datetime(2026, 7, 14, 9, 31, tzinfo=CEST)
    record = parse_record(obj(CONTRACT_LINES[3]) | {"at": at})
    assert record.at == at
    with pytest.raises(RecordError, match="has no UTC offset"):
        parse_record(obj(CONTRACT_LINES[3]) | {"at": datetime(2026, 7, 14, 9, 31)})


def test_json_numbers_with_fractions_keep_their_text_for_messages() -> None:
    value = codec.decode_json('{"x": 39.90}')["x"]
    assert value == 39.9 and repr(value) == "39.90"


def test_byte_order_mark_is_ignored() -> None:
    record = parse_line(b"\xef\xbb\xbf" + CONTRACT_LINES[0].encode())
    assert record.id == "a-7"


def test_surrounding_whitespace_and_line_break_are_fine() -> None:
    assert parse_line(b"  " + CONTRACT_LINES[0].encode() + b" \r\n").id == "a-7"


# ---------------------------------------------------------------------------
# Refusals: one line, naming the record and the field


def refusal(value: dict | bytes) -> str:
    with pytest.raises(RecordError) as info:
        if isinstance(value, bytes):
            parse_line(value)
        else:
            parse_record(value)
    message = str(info.value)
    assert "\n" not in message
    return message


INTERACTION = obj(CONTRACT_LINES[3])
CASE = obj(CONTRACT_LINES[2])


def test_unknown_channel() -> None:
    assert refusal(INTERACTION | {"id": "i-9", "channel": "fax"}) == (
        "interaction i-9: unknown channel 'fax' "
        "(expected one of email, phone, chat, sms, social, letter, shop, app, portal)"
    )


def test_time_without_offset() -> None:
    assert refusal(CASE | {"id": "k-5", "opened_at": "2026-07-14T09:02:00"}) == (
        "case k-5: opened_at '2026-07-14T09:02:00' has no UTC offset"
    )


def test_money_as_a_number_is_refused_with_its_text() -> None:
    line = json.dumps(CASE | {"id": "k-5"}).replace('"39.90"', "39.9").encode()
    assert refusal(line) == 'case k-5: disputed_amount 39.9 must be a decimal string such as "39.90", not a number'
    line = json.dumps(CASE | {"id": "k-5"}).replace('"39.90"', "39.90").encode()
    assert "disputed_amount 39.90 must be a decimal string" in refusal(line)
    assert "not a number" in refusal(CASE | {"disputed_amount": 40})
    assert "not a number" in refusal(CASE | {"disputed_amount": 39.9})
    decision = obj(CONTRACT_LINES[6]) | {"amount": 1e2}
    assert "amount 100.0 must be a decimal string" in refusal(decision)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"currency": "XXY"}, "case k-55: unknown currency 'XXY' (expected an ISO 4217 code such as 'EUR')"),
        ({"currency": None}, "case k-55: disputed_amount '39.90' needs a currency"),
        ({"disputed_amount": None}, "case k-55: currency 'EUR' given without disputed_amount"),
        ({"disputed_amount": "39.999"}, "case k-55: disputed_amount 39.999 has more decimals than EUR allows (2)"),
        ({"disputed_amount": "lots"}, "case k-55: disputed_amount 'lots' is not a decimal string"),
        ({"status": "archived"},
         "case k-55: unknown case status 'archived' (expected one of open, pending, resolved, closed)"),
        ({"urgency": "panic"}, "case k-55: unknown urgency 'panic' (expected one of normal, high, no_service)"),
        ({"subject": 12}, "case k-55: subject must be a string, not number"),
        ({"subject": None}, "case k-55: missing required field 'subject'"),
        ({"opened_at": "yesterday"}, "case k-55: opened_at 'yesterday' is not an ISO 8601 time"),
        ({"opened_at": 1720940520}, "case k-55: opened_at must be an ISO 8601 time string"),
        ({"customer": ""}, "case k-55: customer must not be empty"),
    ],
)
def test_case_refusals(change: dict, expected: str) -> None:
    record = {key: value for key, value in (CASE | change).items() if value is not None}
    assert refusal(record).startswith(expected)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"duration_s": -5}, "interaction i-9001: duration_s -5 must not be negative"),
        ({"wait_s": "10"}, "interaction i-9001: wait_s must be a whole number of seconds, not string"),
        ({"wait_s": True}, "interaction i-9001: wait_s must be a whole number of seconds, not boolean"),
        ({"duration_s": 1.5}, "interaction i-9001: duration_s 1.5 must be a whole number of seconds"),
        ({"direction": "sideways"},
         "interaction i-9001: unknown direction 'sideways' (expected one of in, out, internal)"),
        ({"channel": ["chat"]}, "interaction i-9001: channel must be a string"),
        ({"body": 42}, "interaction i-9001: body must be a string, not number"),
        ({"author": None}, "interaction i-9001: missing required field 'author'"),
        ({"case": ""}, "interaction i-9001: case must not be empty"),
        ({"at": "2026-07-14T09:31:00+02:00:00.5"}, "interaction i-9001: at '2026-07-14T09:31:00+02:00:00.5'"),
        ({"id": None}, "interaction: missing required field 'id'"),
        ({"id": 7}, "interaction: id must be a string, not number"),
    ],
)
def test_interaction_refusals(change: dict, expected: str) -> None:
    record = {key: value for key, value in (INTERACTION | change).items() if value is not None}
    assert refusal(record).startswith(expected)


def test_other_refusals() -> None:
    customer = obj(CONTRACT_LINES[1])
    assert refusal(customer | {"timezone": "Mars/Olympus_Mons"}) == (
        "customer c-1001: unknown time zone 'Mars/Olympus_Mons' (expected an IANA name such as 'Europe/Berlin')"
    )
    assert refusal(customer | {"preferred_channel": "pigeon"}).startswith("customer c-1001: unknown channel 'pigeon'")
    assert refusal(customer | {"owner": 7}) == "customer c-1001: owner must be a string, not number"
    decision = obj(CONTRACT_LINES[6])
    assert refusal(decision | {"kind": "bribe"}) == (
        "decision d-01J9…: unknown decision kind 'bribe' (expected one of refund, voucher, callback, escalate, note)"
    )
    assert refusal(decision | {"state": "done"}).startswith("decision d-01J9…: unknown decision state 'done'")
    promise = obj(CONTRACT_LINES[7])
    assert refusal(promise | {"state": "forgotten"}).startswith("promise p-01J9…: unknown promise state 'forgotten'")
    assert refusal({"type": "agent", "id": "a-1", "name": "x"}) == "agent a-1: missing required field 'role'"


DECISION = obj(WORKFLOW_LINES[0])
AUDIT = obj(WORKFLOW_LINES[2])


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (DECISION | {"scheduled": "2026-11-24T14:30:00"},
         "decision d-2: scheduled '2026-11-24T14:30:00' has no UTC offset"),
        (DECISION | {"undo_until": 1763902930}, "decision d-2: undo_until must be an ISO 8601 time string"),
        (DECISION | {"approval_at": "soon"}, "decision d-2: approval_at 'soon' is not an ISO 8601 time"),
        (DECISION | {"proposal_kind": "bribe"},
         "decision d-2: unknown proposal kind 'bribe' (expected one of refund, voucher, callback)"),
        (DECISION | {"approval": "maybe"},
         "decision d-2: unknown approval 'maybe' (expected one of waiting, approved, declined)"),
        (DECISION | {"escalate_to": ""}, "decision d-2: escalate_to must not be empty"),
        (DECISION | {"approves": 7}, "decision d-2: approves must be a string, not number"),
        (DECISION | {"phone": ["+49"]}, "decision d-2: phone must be a string, not array"),
        (DECISION | {"state": "forgotten"}, "decision d-2: unknown decision state 'forgotten' "
         "(expected one of pending, queued, confirmed, refused, undone)"),
        (AUDIT | {"action": "shredded"}, "audit au-1: unknown audit action 'shredded' (expected one of taken, "
         "refused, undone, queued, escalated, approved, declined, confirmed)"),
        (AUDIT | {"limit": 50}, 'audit au-1: limit 50 must be a decimal string such as "39.90", not a number'),
        (AUDIT | {"limit": "50.001"}, "audit au-1: limit 50.001 has more decimals than EUR allows (2)"),
        ({k: v for k, v in AUDIT.items() if k not in ("amount", "limit")},
         "audit au-1: currency 'EUR' given without amount or limit"),
        ({k: v for k, v in AUDIT.items() if k != "currency"}, "audit au-1: amount '80.00' needs a currency"),
        (AUDIT | {"kind": "bribe"}, "audit au-1: unknown decision kind 'bribe'"),
        (AUDIT | {"at": "2026-11-23T14:01:00"}, "audit au-1: at '2026-11-23T14:01:00' has no UTC offset"),
        ({k: v for k, v in AUDIT.items() if k != "actor"}, "audit au-1: missing required field 'actor'"),
        (AUDIT | {"customer": ""}, "audit au-1: customer must not be empty"),
    ],
)
def test_workflow_refusals(record: dict, expected: str) -> None:
    assert refusal(record).startswith(expected)


def test_record_shape_refusals() -> None:
    assert refusal({"type": "foo", "id": "x"}) == (
        "unknown record type 'foo' "
        "(expected one of agent, customer, case, interaction, event, decision, promise, audit, article)"
    )
    assert refusal({"id": "x"}).startswith("missing required field 'type'")
    assert refusal({"type": ["agent"]}) == "type must be a string, not array"
    assert refusal(b"[1,2,3]") == "not a JSON object (got array)"
    assert refusal(b'"agent"') == "not a JSON object (got string)"
    assert refusal(b"") == "invalid JSON: Expecting value (column 1)"


def test_invalid_json_uses_json_s_own_message() -> None:
    assert refusal(b'{"type":"agent",}') == (
        "invalid JSON: Expecting property name enclosed in double quotes (column 17)")
    assert refusal(b'{"type":"agent"} x') == "invalid JSON: Extra data (column 18)"
    assert refusal(b'{"x": NaN}') == "invalid JSON: NaN is not allowed in JSON"
    assert refusal(b'{"x": 1e999}') == "invalid JSON: number 1e999 is out of range"
    assert refusal(b"[" * 100_000 + b"]" * 100_000).startswith("invalid JSON")
    assert refusal(b'{"x": ' + b"9" * 5000 + b"}").startswith("invalid JSON: Exceeds the limit")


def test_a_fraction_keeps_how_it_was_written_through_the_strict_decoder() -> None:
    number = decode_line(b'{"a": 39.90, "b": 1E2}')
    assert (number["a"].text, number["b"].text) == ("39.90", "1E2")
    assert isinstance(number["a"], JsonNumber) and number["a"] == 39.9


def test_invalid_utf8_names_the_byte_and_column() -> None:
    line = b'{"type":"agent","id":"a-1","name":"Jos' + b"\xff" + b'","role":"agent"}'
    assert refusal(line) == "not valid UTF-8 (byte 0xff at column 39)"


def test_lone_surrogate_escape_is_refused() -> None:
    line = b'{"type":"agent","id":"a-1","name":"\\ud800","role":"agent"}'
    assert refusal(line) == "not valid Unicode (lone surrogate \\ud800 in a string)"
    pair = b'{"type":"agent","id":"a-1","name":"\\ud83d\\ude90","role":"agent"}'
    assert parse_line(pair).name == "\U0001f690"


def test_size_limit() -> None:
    assert size_refusal(5_000_000, 1 << 20) == (
        "record is 5.0 MB; the limit is 1.0 MB (raise it with --max-record-bytes)")
    assert size_refusal((1 << 20) + 1, 1 << 20) == (
        "record is 1,048,577 bytes; the limit is 1,048,576 bytes (raise it with --max-record-bytes)"
    )
    big = json.dumps(INTERACTION | {"body": "x" * 2_000}).encode()
    assert refusal_with_limit(big, 1_000).startswith("record is ")
    assert parse_line(big, max_record_bytes=len(big)).body == "x" * 2_000
    assert parse_line(big + b"\r\n", max_record_bytes=len(big)).body == "x" * 2_000


def refusal_with_limit(line: bytes, limit: int) -> str:
    with pytest.raises(RecordError) as info:
        parse_line(line, max_record_bytes=limit)
    return str(info.value)


def test_long_values_are_cut_in_messages() -> None:
    message = refusal(INTERACTION | {"channel": "f" * 10_000})
    assert len(message) < 200


# ---------------------------------------------------------------------------
# What a record may hold: ASCII digits in money, sane times, valid Unicode, bounded text

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


def refusal_at(record: dict, now: datetime = NOW, **options) -> str:
    with pytest.raises(RecordError) as info:
        parse_record(record, now=now, **options)
    message = str(info.value)
    assert "\n" not in message
    message.encode("utf-8")  # the refusal itself is valid Unicode: it can be shown and sent as JSON
    return message


@pytest.mark.parametrize("amount", ["１０.００", "٣٠.٠٠", "۳۰", "१०.००", "1²", "٣"])
def test_money_in_other_digits_than_0_to_9_is_refused(amount: str) -> None:
    assert refusal_at(CASE | {"disputed_amount": amount}) == (
        f"case k-55: disputed_amount {amount!r} has digits other than 0-9")
    assert refusal_at(AUDIT | {"limit": amount}) == f"audit au-1: limit {amount!r} has digits other than 0-9"
    with pytest.raises(MoneyError, match="digits other than 0-9"):
        Money.parse(amount, "EUR")


@pytest.mark.parametrize("amount", ["１０.００", "٣٠,٠٠", "10 EUR".replace("1", "１")])
def test_the_adjust_dialog_refuses_other_digits(amount: str) -> None:
    with pytest.raises(EntryError, match="digits other than 0-9"):
        parse_money(amount, "EUR")
    assert parse_money("10.00", "EUR") == Money(Decimal("10.00"), "EUR")


@pytest.mark.parametrize("amount", ["-10.00", "0", "0.00"])
def test_a_disputed_amount_is_more_than_zero(amount: str) -> None:
    assert refusal_at(CASE | {"disputed_amount": amount}) == (
        f"case k-55: disputed_amount {Money.parse(amount, 'EUR').text} must be more than zero")


@pytest.mark.parametrize(("record", "field"), [
    (CASE, "opened_at"), (INTERACTION, "at"), (obj(CONTRACT_LINES[5]), "at"), (DECISION, "at"),
    (DECISION, "approval_at"), (AUDIT, "at"),
])
def test_what_has_happened_is_at_most_a_day_ahead_of_now(record: dict, field: str) -> None:
    assert parse_record(record | {field: "2026-12-06T09:00:00+00:00"}, now=NOW)
    assert parse_record(record | {field: "2026-12-06T10:00:00+01:00"}, now=NOW)  # the same instant
    message = refusal_at(record | {field: "2026-12-06T09:00:01+00:00"})
    assert message.endswith(f"{field} '2026-12-06T09:00:01+00:00' is more than 1 day ahead of now "
                            "(2026-12-05T09:00Z)")
    assert "7999-01-01" in refusal_at(record | {field: "7999-01-01T00:00:00+00:00"})


def test_the_clock_is_now_unless_given() -> None:
    tomorrow = datetime.now(timezone.utc) + timedelta(days=2)
    assert "ahead of now" in refusal_at(CASE | {"opened_at": tomorrow.isoformat()}, now=datetime.now(timezone.utc))
    with pytest.raises(RecordError, match="ahead of now"):
        parse_record(CASE | {"opened_at": tomorrow.isoformat()})
    assert parse_record(CASE | {"opened_at": tomorrow.isoformat()}, now=tomorrow).opened_at == tomorrow


@pytest.mark.parametrize(("record", "field"), [
    (CASE, "opened_at"), (INTERACTION, "at"), (DECISION, "scheduled"), (DECISION, "undo_until"),
    (obj(CONTRACT_LINES[7]), "due"), (AUDIT, "at"),
])
def test_no_time_is_before_1900_or_from_the_year_3000(record: dict, field: str) -> None:
    assert refusal_at(record | {field: "1899-12-31T23:59:59+00:00"}).endswith(
        f"{field} '1899-12-31T23:59:59+00:00' is before 1900-01-01, the earliest time a record may hold")
    assert "is before 1900-01-01" in refusal_at(record | {field: "0001-01-01T00:30+01:00"})
    assert refusal_at(record | {field: "9999-12-31T23:59:00-01:00"}, now=datetime(9999, 1, 1, tzinfo=timezone.utc)
                      ).endswith(f"{field} '9999-12-31T23:59:00-01:00' is not before 3000-01-01, "
                                 "the latest time a record may hold")
    assert parse_record(record | {field: "1900-01-01T01:00:00+01:00"}, now=NOW)


def test_a_callback_or_due_time_may_lie_ahead() -> None:
    assert parse_record(DECISION | {"scheduled": "2027-06-01T09:00:00+02:00"}, now=NOW).scheduled.year == 2027
    assert parse_record(obj(CONTRACT_LINES[7]) | {"due": "2027-06-01T09:00:00+02:00"}, now=NOW).due.year == 2027


@pytest.mark.parametrize(("record", "expected"), [
    (INTERACTION | {"body": "hi \ud800"}, "interaction i-9001: body is not valid Unicode (lone surrogate \\ud800)"),
    (DECISION | {"reason": "\udfff"}, "decision d-2: reason is not valid Unicode (lone surrogate \\udfff)"),
    (DECISION | {"id": "d-\ud800"}, "decision: id is not valid Unicode (lone surrogate \\ud800)"),
    (AUDIT | {"mood": {"deep": ["ok", "\udc80"]}}, "audit au-1: mood is not valid Unicode (lone surrogate \\udc80)"),
    (CASE | {"\ud801": 1}, "case k-55: a field name is not valid Unicode (lone surrogate \\ud801)"),
    (obj(CONTRACT_LINES[0]) | {"name": "\ud83d"}, "agent a-7: name is not valid Unicode (lone surrogate \\ud83d)"),
])
def test_a_lone_surrogate_anywhere_is_refused_in_words(record: dict, expected: str) -> None:
    assert refusal_at(record) == expected
    assert refusal_at(record, max_record_bytes=None) == expected
    assert parse_record(INTERACTION | {"body": "\U0001f690"}, now=NOW).body == "\U0001f690"


def test_a_decision_s_free_text_has_a_limit() -> None:
    assert parse_record(DECISION | {"reason": "x" * 10_000}, now=NOW).reason == "x" * 10_000
    assert refusal_at(DECISION | {"reason": "x" * 10_001}) == (
        "decision d-2: reason is 10,001 characters; the limit is 10,000")
    assert refusal_at(DECISION | {"approval_reason": "ü" * 12_000}) == (
        "decision d-2: approval_reason is 12,000 characters; the limit is 10,000")


def test_an_object_has_the_size_limit_of_a_line() -> None:
    big = INTERACTION | {"body": "é" * 600_000}  # 1.2 MB as UTF-8
    assert refusal_at(big) == "interaction i-9001: record is 1.2 MB; the limit is 1.0 MB"
    assert parse_record(big, now=NOW, max_record_bytes=None).body == "é" * 600_000
    assert parse_record(big, now=NOW, max_record_bytes=2_000_000).body == "é" * 600_000
    exact = len(dumps(INTERACTION).encode())
    assert parse_record(INTERACTION, now=NOW, max_record_bytes=exact)
    assert refusal_at(INTERACTION, max_record_bytes=exact - 1).endswith(
        f"record is {exact:,} bytes; the limit is {exact - 1:,} bytes")


# ---------------------------------------------------------------------------
# Property: every valid record survives the round trip, offsets included

ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
maybe_texts = st.none() | texts
offsets = st.integers(min_value=-23 * 3600 - 59 * 60, max_value=23 * 3600 + 59 * 60).map(
    lambda seconds: timezone(timedelta(seconds=seconds))
)
times = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 12, 30)),
    offsets,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
extras = st.dictionaries(st.text(max_size=8).map(lambda key: "x_" + key), json_values, max_size=3)


@st.composite
def money(draw: st.DrawFn) -> Money:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    digits = MINOR_UNITS[currency]
    units = draw(st.integers(min_value=-(10**12), max_value=10**12))
    return Money(Decimal(units).scaleb(-digits), currency)


@st.composite
def disputed_money(draw: st.DrawFn) -> Money:
    """A case's disputed amount: more than zero."""
    amount = draw(money())
    return Money(abs(amount.amount) or Decimal(1), amount.currency)


@st.composite
def audit_entries(draw: st.DrawFn) -> AuditEntry:
    """Audit records whose amount and limit (either, both or neither) share one currency."""
    amount, limit = draw(st.none() | money()), draw(st.none() | money())
    if amount is not None and limit is not None:
        limit = Money(limit.amount.scaleb(MINOR_UNITS[limit.currency] - MINOR_UNITS[amount.currency]), amount.currency)
    return AuditEntry(
        id=draw(ids), at=draw(times), actor=draw(ids), action=draw(st.sampled_from(AUDIT_ACTIONS)), customer=draw(ids),
        decision=draw(st.none() | ids), kind=draw(st.none() | st.sampled_from(DECISION_KINDS)), amount=amount,
        rule=draw(maybe_texts), limit=limit, detail=draw(maybe_texts), extra=draw(extras),
    )


seconds = st.none() | st.integers(min_value=0, max_value=2**40)
zones = st.none() | st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "UTC", "Asia/Tokyo"])

records = st.one_of(
    st.builds(Agent, id=ids, name=texts, role=ids, email=maybe_texts, phone=maybe_texts, extra=extras),
    st.builds(
        Customer, id=ids, name=texts, email=maybe_texts, phone=maybe_texts,
        preferred_channel=st.none() | st.sampled_from(Channel), language=maybe_texts, timezone=zones,
        location=maybe_texts, owner=st.none() | ids, extra=extras,
    ),
    st.builds(
        Case, id=ids, customer=ids, subject=texts, status=st.sampled_from(CaseStatus), opened_at=times,
        disputed=st.none() | disputed_money(), urgency=st.sampled_from(Urgency), extra=extras,
    ),
    st.builds(
        TimelineEntry, id=ids, customer=ids, kind=st.just(EntryKind.INTERACTION), at=times, author=texts,
        body=texts, direction=st.sampled_from(Direction), channel=st.sampled_from(Channel),
        case=st.none() | ids, event_kind=st.none(), duration_s=seconds, wait_s=seconds, extra=extras,
    ),
    st.builds(
        TimelineEntry, id=ids, customer=ids, kind=st.just(EntryKind.EVENT), at=times, author=texts,
        body=texts, direction=st.just(Direction.INTERNAL), channel=st.none(), case=st.none() | ids,
        event_kind=ids, duration_s=st.none(), wait_s=st.none(), extra=extras,
    ),
    st.builds(
        Decision, id=ids, customer=ids, kind=st.sampled_from(DECISION_KINDS), agent=ids, at=times,
        state=st.sampled_from(DECISION_STATES), case=st.none() | ids, amount=st.none() | money(),
        reason=maybe_texts, scheduled=st.none() | times, phone=maybe_texts, undo_until=st.none() | times,
        escalate_to=st.none() | ids, proposal_kind=st.none() | st.sampled_from(PROPOSAL_KINDS),
        approval=st.none() | st.sampled_from(APPROVAL_STATES), approval_by=st.none() | ids,
        approval_at=st.none() | times, approval_reason=maybe_texts, approves=st.none() | ids, extra=extras,
    ),
    st.builds(
        Promise, id=ids, customer=ids, what=texts, due=times, state=st.sampled_from(PROMISE_STATES),
        decision=st.none() | ids, extra=extras,
    ),
    audit_entries(),
)


LATE_NOW = datetime(2201, 1, 1, tzinfo=timezone.utc)
"""A "now" after every generated time, so that the property holds for times that have happened."""


def same_offsets(a: object, b: object) -> None:
    for name in ("at", "opened_at", "due", "scheduled", "undo_until", "approval_at"):
        if getattr(a, name, None) is not None:
            assert getattr(a, name).utcoffset() == getattr(b, name).utcoffset()


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_parse_of_canonical_object_is_the_record(record) -> None:
    again = parse_record(to_json_obj(record), now=LATE_NOW)
    assert again == record
    same_offsets(again, record)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_round_trip_through_jsonl_text(record) -> None:
    line = dumps(to_json_obj(record)).encode("utf-8")
    assert b"\n" not in line
    again = parse_line(line, now=LATE_NOW)
    assert again == record
    same_offsets(again, record)
    assert dumps(to_json_obj(again)).encode("utf-8") == line
