"""The demo data: deterministic, in the contract's format, in dependency order, and telling the five stories."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from agentdesk.demo.records import demo_records

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
SMALL = dict(bulk_customers=200, bulk_interactions=12_000, heavy_customers=1, heavy_entries=2_500)
CHANNELS = {"email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal"}
STORY_IDS = ("c-1001", "c-1002", "c-1003", "c-1004", "c-1005")
ORDER = ("agent", "customer", "case", "interaction", "decision", "promise")  # events rank with interactions
AMOUNT = re.compile(r"\d+\.\d{2}")


@cache
def small(seed: int = 7, now: datetime = NOW) -> tuple[dict, ...]:
    return tuple(demo_records(seed=seed, now=now, **SMALL))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def of_type(records, kind: str) -> list[dict]:
    return [r for r in records if r["type"] == kind]


def timeline(records, customer: str) -> list[dict]:
    entries = [r for r in records if r["type"] in ("interaction", "event") and r["customer"] == customer]
    return sorted(entries, key=lambda r: at(r["at"]))


def waiting_customers(records) -> dict[str, datetime]:
    """Customers with an inbound interaction newer than their last outbound one, with the newest inbound."""
    last_in: dict[str, datetime] = {}
    last_out: dict[str, datetime] = {}
    for r in records:
        if r["type"] != "interaction":
            continue
        when = at(r["at"])
        book = last_in if r["direction"] == "in" else last_out if r["direction"] == "out" else None
        if book is not None and (r["customer"] not in book or when > book[r["customer"]]):
            book[r["customer"]] = when
    return {c: t for c, t in last_in.items() if c not in last_out or t > last_out[c]}


# --------------------------------------------------------------------------- determinism

def test_same_seed_and_now_give_byte_identical_records() -> None:
    first = [json.dumps(r, ensure_ascii=False) for r in demo_records(seed=3, now=NOW, **SMALL)]
    second = [json.dumps(r, ensure_ascii=False) for r in demo_records(seed=3, now=NOW, **SMALL)]
    assert first == second


def test_a_different_seed_gives_different_bulk_but_the_same_stories() -> None:
    a, b = small(7), small(8)
    assert a != b
    assert of_type(a, "agent") == of_type(b, "agent")
    for customer in STORY_IDS:
        assert timeline(a, customer) == timeline(b, customer)


def test_the_data_follows_now() -> None:
    later = NOW + timedelta(days=3, hours=5)
    records = small(7, later)
    assert max(at(r["at"]) for r in records if "at" in r) <= later
    waiting = waiting_customers(records)
    assert set(STORY_IDS) <= set(waiting)
    assert all(later - timedelta(days=2) <= newest <= later for newest in waiting.values())
    assert len(of_type(records, "interaction")) == len(of_type(small(), "interaction"))


def test_now_defaults_to_the_current_hour_and_nothing_lies_in_the_future() -> None:
    before = datetime.now(timezone.utc)
    records = list(demo_records(bulk_customers=20, bulk_interactions=600, heavy_customers=0))
    latest = max(at(r["at"]) for r in records if "at" in r)
    assert latest <= datetime.now(timezone.utc)
    assert latest >= before.replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


def test_a_naive_now_is_utc() -> None:
    naive = list(demo_records(now=NOW.replace(tzinfo=None), bulk_customers=10, bulk_interactions=200,
                              heavy_customers=0))
    assert naive == list(demo_records(now=NOW, bulk_customers=10, bulk_interactions=200, heavy_customers=0))


@pytest.mark.parametrize("sizes, message", [
    (dict(bulk_customers=-1), "bulk_customers"),
    (dict(heavy_entries=-5), "heavy_entries"),
    (dict(bulk_customers=2, heavy_customers=3), "heavy_customers"),
])
def test_impossible_sizes_are_refused_at_once(sizes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        demo_records(now=NOW, **sizes)


# --------------------------------------------------------------------------- the contract's format

REQUIRED: dict[str, dict[str, type]] = {
    "agent": {"id": str, "name": str, "role": str, "email": str, "phone": str},
    "customer": {"id": str, "name": str, "email": str, "phone": str, "preferred_channel": str, "language": str,
                 "timezone": str, "location": str, "owner": str},
    "case": {"id": str, "customer": str, "subject": str, "status": str, "opened_at": str},
    "interaction": {"id": str, "customer": str, "channel": str, "direction": str, "at": str, "author": str,
                    "body": str},
    "event": {"id": str, "customer": str, "at": str, "author": str, "kind": str, "body": str},
    "decision": {"id": str, "customer": str, "kind": str, "agent": str, "at": str, "state": str},
    "promise": {"id": str, "customer": str, "what": str, "due": str, "state": str},
}
OPTIONAL: dict[str, dict[str, type]] = {
    "agent": {"team": str},  # an extension: the team an agent signs replies with
    "customer": {"product": str},  # an extension: what the customer has, matched with knowledge articles
    "case": {"disputed_amount": str, "currency": str, "urgency": str},
    "interaction": {"case": str, "duration_s": int, "wait_s": int},
    "event": {"case": str},
    "decision": {"case": str, "amount": str, "currency": str, "reason": str},
    "promise": {"decision": str},
}
CHOICES = {
    ("agent", "role"): {"agent", "lead", "supervisor"},
    ("customer", "preferred_channel"): CHANNELS,
    ("case", "status"): {"open", "pending", "resolved", "closed"},
    ("case", "urgency"): {"normal", "high", "no_service"},
    ("interaction", "channel"): CHANNELS,
    ("interaction", "direction"): {"in", "out", "internal"},
    ("decision", "kind"): {"refund", "voucher", "callback", "escalate", "note"},
    ("decision", "state"): {"pending", "queued", "confirmed", "refused"},
    ("promise", "state"): {"open", "kept", "overdue", "broken"},
}
TIMES = {"case": ("opened_at",), "interaction": ("at",), "event": ("at",), "decision": ("at",), "promise": ("due",)}


def test_every_record_has_the_contracts_fields_and_types() -> None:
    seen: Counter[str] = Counter()
    for r in small():
        kind = r["type"]
        assert next(iter(r)) == "type", r
        seen[kind] += 1
        allowed = {"type"} | set(REQUIRED[kind]) | set(OPTIONAL.get(kind, {}))
        assert set(r) <= allowed, (r, set(r) - allowed)
        for name, typ in {**REQUIRED[kind], **OPTIONAL.get(kind, {})}.items():
            if name in r:
                assert type(r[name]) is typ, (name, r)
            else:
                assert name not in REQUIRED[kind], (name, r)
        for (of, name), choices in CHOICES.items():
            if of == kind and name in r:
                assert r[name] in choices, (name, r)
        for name in TIMES.get(kind, ()):
            parsed = at(r[name])
            assert parsed.tzinfo is not None, r
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", r[name]), r
        for name in ("disputed_amount", "amount"):
            if name in r:
                assert AMOUNT.fullmatch(r[name]) and r["currency"] == "EUR", r
        if "currency" in r:
            assert ("disputed_amount" in r) or ("amount" in r), r
        if kind == "customer":
            ZoneInfo(r["timezone"])
        json.dumps(r, allow_nan=False)
    assert set(seen) == set(REQUIRED)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Europe/Istanbul", "Asia/Kolkata", "America/New_York",
                                  "Australia/Sydney", "Atlantic/Canary"])
def test_the_fast_clock_writes_what_isoformat_writes(zone: str) -> None:
    from agentdesk.demo.stories import Clocks

    clock, info = Clocks().zone(zone), ZoneInfo(zone)
    start = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp())
    for ts in range(start, start + 400 * 86_400, 1_811):  # every half hour or so, through both DST changes
        assert clock.iso(ts) == datetime.fromtimestamp(ts, info).isoformat(), ts


def test_no_record_holds_a_float_anywhere() -> None:
    def floats(value) -> bool:
        if isinstance(value, float):
            return True
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        return isinstance(value, list) and any(floats(v) for v in value)

    assert not any(floats(r) for r in small())


def test_ids_are_unique_and_stable_strings() -> None:
    ids = Counter(r["id"] for r in small())
    assert ids.most_common(1)[0][1] == 1
    prefixes = {"agent": "a-", "customer": "c-", "case": "k-", "interaction": "i-", "event": "e-",
                "decision": "d-", "promise": "p-"}
    assert all(re.fullmatch(re.escape(prefixes[r["type"]]) + r"\d+", r["id"]) for r in small())


def test_records_come_in_dependency_order_and_every_reference_points_back() -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    rank = -1
    for r in small():
        kind = r["type"]
        new_rank = ORDER.index("interaction" if kind == "event" else kind)
        assert new_rank >= rank, f"{kind} {r['id']} after a later type"
        rank = new_rank
        refs = {
            "customer": [("agent", r.get("owner"))],
            "case": [("customer", r.get("customer"))],
            "interaction": [("customer", r.get("customer")), ("case", r.get("case"))],
            "event": [("customer", r.get("customer")), ("case", r.get("case"))],
            "decision": [("customer", r.get("customer")), ("case", r.get("case")), ("agent", r.get("agent"))],
            "promise": [("customer", r.get("customer")), ("decision", r.get("decision"))],
        }.get(kind, [])
        for target, ref in refs:
            if ref is not None:
                assert ref in seen[target], f"{kind} {r['id']} refers to {target} {ref} not yet given"
        seen[kind].add(r["id"])
    agents = seen["agent"]
    for r in small():
        if r["type"] in ("interaction", "event") and r.get("direction") != "in":
            assert r["author"] in agents or r["author"] == "system", r


def test_customers_can_be_found_by_email_and_phone() -> None:
    customers = of_type(small(), "customer")
    emails = Counter(c["email"].lower() for c in customers)
    phones = Counter(re.sub(r"[^0-9+]", "", c["phone"]) for c in customers)
    assert emails.most_common(1)[0][1] == 1 and phones.most_common(1)[0][1] == 1
    assert all(re.fullmatch(r"[a-z0-9._-]+@[a-z0-9.-]+\.(com|net|org)", e) for e in emails)
    assert all(re.fullmatch(r"\+\d{8,15}", p) for p in phones)


def test_a_case_reference_stays_with_its_customer() -> None:
    owner = {r["id"]: r["customer"] for r in of_type(small(), "case")}
    for r in small():
        if r["type"] in ("interaction", "event", "decision") and "case" in r:
            assert owner[r["case"]] == r["customer"], r


def test_every_time_lies_before_now() -> None:
    for r in small():
        for name in ("at", "opened_at"):
            if name in r:
                assert at(r[name]) <= NOW, r


def test_inbound_is_written_by_the_customer() -> None:
    names = {r["id"]: r["name"] for r in of_type(small(), "customer")}
    for r in of_type(small(), "interaction"):
        if r["direction"] == "in":
            assert r["author"] == names[r["customer"]], r


def test_the_real_codec_reads_every_record_back_unchanged() -> None:
    codec = pytest.importorskip("agentdesk.interchange.codec")
    for r in small():
        back = codec.to_json_obj(codec.parse_record(r))
        assert back == r and list(back) == list(r), r


# --------------------------------------------------------------------------- sizes and shape

def test_small_sizes_are_honoured_exactly() -> None:
    records = small()
    customers = of_type(records, "customer")
    assert len(customers) == SMALL["bulk_customers"] + len(STORY_IDS)
    bulk = [r for r in of_type(records, "interaction") if r["customer"] not in STORY_IDS]
    assert len(bulk) == SMALL["bulk_interactions"]
    per_customer = Counter(r["customer"] for r in bulk)
    heavy = [c for c, n in per_customer.items() if n == SMALL["heavy_entries"]]
    assert len(heavy) == SMALL["heavy_customers"]
    assert all(per_customer[c["id"]] >= 2 for c in customers if c["id"] not in STORY_IDS)


def test_waiting_customers_are_a_fair_share_and_wait_at_most_two_days() -> None:
    records = small()
    waiting = waiting_customers(records)
    share = len(waiting) / len(of_type(records, "customer"))
    assert 0.10 <= share <= 0.20, share
    assert set(STORY_IDS) <= set(waiting)
    for customer, newest in waiting.items():
        assert NOW - timedelta(days=2) <= newest <= NOW, customer


def test_open_promises_give_the_queue_deadlines() -> None:
    promises = [p for p in of_type(small(), "promise") if p["customer"] not in STORY_IDS]
    states = Counter(p["state"] for p in promises)
    assert states["open"] >= 3 and states["overdue"] >= 1 and states["kept"] >= 5
    for p in promises:
        due = at(p["due"])
        assert (p["state"] == "overdue") == (p["state"] in ("open", "overdue") and due < NOW), p
    waiting = waiting_customers(small())
    assert any(p["customer"] in waiting and p["state"] in ("open", "overdue") for p in promises)


def test_bulk_cases_have_money_and_urgency_in_places() -> None:
    cases = [c for c in of_type(small(), "case") if c["customer"] not in STORY_IDS]
    assert sum("disputed_amount" in c for c in cases) >= 5
    urgency = Counter(c.get("urgency", "normal") for c in cases)
    assert urgency["high"] >= 1 and urgency["no_service"] >= 1
    assert all(c["status"] in ("open", "pending") for c in cases if c.get("urgency", "normal") != "normal")


def test_bodies_fit_their_channel() -> None:
    for r in of_type(small(), "interaction"):
        if r["customer"] in STORY_IDS:
            continue
        channel, body = r["channel"], r["body"]
        assert body.strip(), r
        assert "{" not in body and "}" not in body, r  # no template left unfilled
        if channel == "phone":
            assert isinstance(r.get("duration_s"), int), r
        else:
            assert "duration_s" not in r and "wait_s" not in r, r
        if channel == "shop":
            assert "Shop " in body, r
        if channel == "letter" and r["direction"] != "internal":
            assert body.startswith(("Letter", "Fax")), r


def test_hostile_texts_are_in_one_findable_customers_history() -> None:
    records = small()
    (tobias,) = [c for c in of_type(records, "customer") if c["name"] == "Tobias Unruh"]
    bodies = " ".join(r["body"] for r in of_type(records, "interaction") if r["customer"] == tobias["id"])
    for trick in ("[bold red]ALERT[/]", "[link=http://example.invalid]click[/link]", "\x1b[31m", "\u202e",
                  "\u200b"):
        assert trick in bodies, trick
    assert tobias["id"] in waiting_customers(records)


def test_full_size_demo() -> None:
    """The defaults, streamed: 200,000 records are not kept in memory at once."""
    types: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    zones: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    last_in: dict[str, datetime] = {}
    last_out: dict[str, datetime] = {}
    for r in demo_records(now=NOW):
        kind = r["type"]
        types[kind] += 1
        if kind == "customer":
            zones[r["timezone"]] += 1
            owners[r["owner"]] += 1
        elif kind in ("interaction", "event"):
            entries[r["customer"]] += 1
        if kind == "interaction":
            channels[r["channel"]] += 1
            book = last_in if r["direction"] == "in" else last_out if r["direction"] == "out" else None
            if book is not None:
                customer, when = r["customer"], at(r["at"])
                if customer not in book or when > book[customer]:
                    book[customer] = when
    customers = types["customer"]
    assert customers >= 2000 + len(STORY_IDS)
    assert types["interaction"] >= 200_000
    assert set(channels) == CHANNELS
    assert min(channels.values()) / types["interaction"] >= 0.03, channels
    assert sum(n >= 20_000 for n in entries.values()) >= 3
    waiting = [c for c, t in last_in.items() if c not in last_out or t > last_out[c]]
    assert 0.10 <= len(waiting) / customers <= 0.20
    assert zones["Europe/Berlin"] / customers >= 0.7 and len(zones) >= 8
    assert len(owners) >= 8
    assert types["event"] >= 1000 and types["decision"] >= 500 and types["promise"] >= 300


# --------------------------------------------------------------------------- the five stories

def story(customer: str) -> tuple[dict, list[dict], list[dict], list[dict], list[dict]]:
    records = small()
    (person,) = [c for c in of_type(records, "customer") if c["id"] == customer]
    cases = [c for c in of_type(records, "case") if c["customer"] == customer]
    decisions = [d for d in of_type(records, "decision") if d["customer"] == customer]
    promises = [p for p in of_type(records, "promise") if p["customer"] == customer]
    return person, cases, timeline(records, customer), decisions, promises


@pytest.mark.parametrize("customer", STORY_IDS)
def test_every_story_is_a_rich_waiting_history_with_a_named_owner(customer: str) -> None:
    person, cases, entries, _, promises = story(customer)
    agents = {a["id"]: a for a in of_type(small(), "agent")}
    assert agents[person["owner"]]["name"]
    assert 10 <= len(entries) <= 40
    assert len({e["channel"] for e in entries if "channel" in e}) >= 4
    assert any(c["status"] == "open" for c in cases)
    assert promises
    newest = waiting_customers(small())[customer]
    assert NOW - timedelta(days=1, hours=1) <= newest <= NOW


def test_story_1_the_channel_maze() -> None:
    person, cases, entries, _, promises = story("c-1001")
    (maze,) = [c for c in cases if c.get("urgency") == "no_service"]
    day = [e for e in entries if e.get("case") == maze["id"]]
    span = at(day[-1]["at"]) - at(day[0]["at"])
    assert span <= timedelta(hours=8)
    assert {"portal", "chat", "phone", "sms", "letter", "shop"} <= {e["channel"] for e in day if "channel" in e}
    (deactivated,) = [e for e in day if e.get("kind") == "sim_deactivated"]
    assert "SIM deactivated by" in deactivated["body"] and deactivated["author"] in {"a-5"}
    contacts = [e for e in day if e.get("direction") == "in" or e.get("channel") in ("phone", "shop")]
    assert len(contacts) >= 7
    assert at(entries[0]["at"]) < NOW - timedelta(days=5 * 365)  # a long-time customer
    assert {p["state"] for p in promises if "QR" in p["what"]} == {"broken", "overdue"}
    assert person["owner"] == "a-7"


def test_story_2_the_silos() -> None:
    _, cases, entries, _, _ = story("c-1002")
    recent = [e for e in entries if at(e["at"]) > NOW - timedelta(days=60)]
    assert {"letter", "phone", "chat", "social"} <= {e["channel"] for e in recent if "channel" in e}
    assert any(e["body"].startswith("Fax") for e in recent)
    assert at(recent[-1]["at"]) - at(recent[0]["at"]) >= timedelta(weeks=3)
    assert len({e["author"] for e in recent if e.get("direction") == "out"} - {"system"}) >= 3
    assert any(e.get("direction") == "internal" for e in recent)
    assert any("disputed_amount" in c for c in cases)


def test_story_3_a_person_not_a_ticket_number() -> None:
    person, cases, entries, _, promises = story("c-1003")
    assert person["preferred_channel"] == "email"
    assert any(c.get("disputed_amount") == "39.90" and c["currency"] == "EUR" for c in cases)
    assert any("credit" in p["what"] and p["state"] == "overdue" for p in promises)
    assert any(e.get("channel") == "app" and "Error report" in e["body"] for e in entries)
    assert any(e.get("channel") == "phone" for e in entries) and any(e.get("channel") == "email" for e in entries)


def test_story_4_second_class_customers() -> None:
    _, cases, entries, _, _ = story("c-1004")
    assert any(c.get("urgency") == "no_service" and c["status"] == "open" for c in cases)
    gave_up = [e for e in entries if e.get("channel") == "phone" and e.get("wait_s") == 900]
    assert gave_up and gave_up[0]["direction"] == "in" and gave_up[0]["duration_s"] < 60


def test_story_5_the_24_7_promise() -> None:
    person, _, entries, decisions, _ = story("c-1005")
    assert "A7" in person["location"] and person["timezone"]
    zone = ZoneInfo(person["timezone"])
    (line,) = [e for e in entries if e.get("duration_s") == 1200]
    assert line["channel"] == "phone" and not 6 <= at(line["at"]).astimezone(zone).hour < 22  # at night
    assert any(d["kind"] == "callback" and d["state"] == "refused" for d in decisions)
    (handover,) = [e for e in entries if e.get("kind") == "handover_note"]
    night_offset = at(handover["at"]).utcoffset()
    assert night_offset != at(handover["at"]).astimezone(zone).utcoffset()  # another time zone


def test_an_entrys_direction_matches_its_words() -> None:
    """A call the agent took and wrote up is our answer (out): its text must not read as the customer's contact.
    One from the customer (in) must not read as ours."""
    outward = re.compile(r"^(Inbound|Incoming|Missed call|Voicemail)", re.IGNORECASE)
    inward = re.compile(r"^(Call taken|Outbound|Called the customer)", re.IGNORECASE)
    checked = 0
    for record in small():
        if record.get("type") != "interaction" or record.get("channel") != "phone":
            continue
        body = record["body"]
        if record["direction"] == "out":
            assert not outward.match(body), record
        elif record["direction"] == "in":
            assert not inward.match(body), record
        checked += 1
    assert checked > 100
