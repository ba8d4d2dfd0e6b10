"""Hostile mutations from an agent's token: the backend answers each without a 5xx and stores only sound records.

Hypothesis builds mutations the way a careless client or an attacker would: unknown or
foreign customers and cases, ids already taken by other records, backdated and absurd
times, money in other currencies or other digits, lone surrogates, escalations and
approvals that do not exist, and plain nonsense. They go to a real ``agentdesk serve``
(SQLite and PostgreSQL) over loopback. Afterwards:

1. no answer was a 5xx, and every refusal is one line;
2. every record the backend publishes names only records it holds;
3. a fresh workstation syncs everything with nothing set aside, and its decisions and
   promises equal the backend's; so does a workstation that had synced before.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.sync.client import BackendClient
from agentdesk.sync.engine import Syncer
from agentdesk.sync.replica import Replica
from tests.backend import BACKENDS, Server, add_user, fetch, postgres_database
from tests.test_ledger import records, rows

EXAMPLES = {"sqlite": 60, "postgresql": 30}
CUSTOMERS = ("c-1", "c-2")
"""c-1 and its cases come from the ledger tests' records; c-2 (USD) is added here."""


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict]]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            database = str(tmp_path_factory.mktemp("hostile") / "server.db")
        else:
            database = stack.enter_context(postgres_database())
        tokens = {name: add_user(database, name, role)
                  for name, role in (("admin", "admin"), ("a-7", "agent"), ("a-8", "agent"), ("a-2", "lead"))}
        server = stack.enter_context(Server(database))
        usd = [{"type": "customer", "id": "c-2", "name": "Sam Carter", "phone": "+1 212 555 0100",
                "timezone": "America/New_York", "owner": "a-8"},
               {"type": "case", "id": "k-3", "customer": "c-2", "subject": "Double charge", "status": "open",
                "opened_at": "2026-11-20T09:00:00-05:00", "disputed_amount": "10.00", "currency": "USD"}]
        answer = httpx.post(f"{server.url}/records", json={"records": [*records(), *usd]}, timeout=30,
                            headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text
        yield server, tokens


# --------------------------------------------------------------------------- what a hostile client sends

NOW = datetime.now(timezone.utc)
TIMES = st.sampled_from([
    NOW.isoformat(), (NOW - timedelta(days=30, minutes=1)).isoformat(), (NOW - timedelta(days=400)).isoformat(),
    (NOW + timedelta(days=3)).isoformat(), "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:00+00:00",
    "2026-13-45T99:00:00Z", "yesterday", "", 1733390000, None])
AMOUNTS = st.sampled_from(["5.00", "25.00", "39.90", "40.00", "-5.00", "0", "1e3", "12,50", "１０.００", "٣٠.٠٠",
                           "99999999999999999999999999.99", 10.5, "NaN", "Infinity", None])
TEXTS = st.one_of(
    st.sampled_from(["sorry", "[bold red]markup[/]", "\x1b[31mred\x1b[0m", "\u202eevil", "\ud800", "\udfff tail",
                     "a" * 20_000, "", None]),
    st.text(max_size=40))
IDS = st.one_of(st.sampled_from(["taken-decision", "taken-promise", "d-" + "x" * 300, "", "d-\u202e", None]),
                st.from_regex(r"d-[a-z0-9]{6}", fullmatch=True))


@st.composite
def decision(draw: st.DrawFn, known: dict[str, str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["refund", "voucher", "callback", "note", "escalate", "approve", "wire-money"]))
    ident = draw(IDS)
    ident = {"taken-decision": known.get("decision"), "taken-promise": known.get("promise")}.get(ident, ident)
    obj: dict[str, Any] = {
        "type": draw(st.sampled_from(["decision", "decision", "decision", "promise", "customer"])),
        "id": ident,
        "customer": draw(st.sampled_from([*CUSTOMERS, "c-unknown", "", None])),
        "case": draw(st.sampled_from(["k-1", "k-2", "k-3", "k-unknown", None])),
        "kind": kind,
        "agent": draw(st.sampled_from(["a-7", "a-7", "a-7", "a-8", "a-2"])),
        "at": draw(TIMES),
        "state": draw(st.sampled_from(["queued", "queued", "confirmed", "pending", "refused", "gone"])),
        "amount": draw(AMOUNTS),
        "currency": draw(st.sampled_from(["EUR", "EUR", "USD", "eur", "XXX", "€", None])),
        "reason": draw(TEXTS),
    }
    if kind == "callback" or draw(st.booleans()):
        obj["scheduled"] = draw(TIMES)
    if kind == "escalate":
        obj["proposal_kind"] = draw(st.sampled_from(["refund", "voucher", "callback", "note", None]))
    if draw(st.integers(0, 4)) == 0:
        obj["approves"] = draw(st.sampled_from(["d-unknown", known.get("escalation") or "d-none",
                                                known.get("decision")]))
    return {key: value for key, value in obj.items() if value is not None or draw(st.booleans())}


@st.composite
def mutation(draw: st.DrawFn, known: dict[str, str]) -> tuple[str, Any]:
    body_kind = draw(st.sampled_from(["decision", "decision", "decision", "approve", "decline", "nonsense"]))
    mutation_id = draw(st.one_of(st.from_regex(r"m-[a-z0-9]{10}", fullmatch=True),
                                 st.sampled_from(["m-" + "y" * 250, "m-~ok", "m:1.2"])))
    d = draw(decision(known))
    promise = None
    if draw(st.booleans()):
        promise = {"type": "promise",
                   "id": draw(st.sampled_from([known.get("promise") or "p-none", f"p-{mutation_id}", ""])),
                   "decision": draw(st.sampled_from([d.get("id"), known.get("decision"), "d-unknown"])),
                   "customer": draw(st.sampled_from([d.get("customer"), *CUSTOMERS])),
                   "what": draw(TEXTS), "due": draw(TIMES), "state": draw(st.sampled_from(["open", "kept"]))}
    if body_kind == "decision":
        body: Any = {"kind": "decision", "decision": d, "promise": promise}
    elif body_kind == "approve":
        body = {"kind": "approve", "escalation": draw(st.sampled_from(
            [known.get("escalation") or "d-none", "d-unknown", known.get("decision") or "d-none", ""])),
                "decision": d, "promise": promise}
    elif body_kind == "decline":
        body = {"kind": "decline", "escalation": draw(st.sampled_from(
            [known.get("escalation") or "d-none", "d-unknown", "\ud800"])), "reason": draw(TEXTS)}
    else:
        body = draw(st.sampled_from([[], "decision", {"kind": "decision"}, {"kind": "decision", "decision": []},
                                     {"kind": "refund", "amount": "5.00"}, None]))
    return mutation_id, body


def _send(http: httpx.Client, token: str, mutation_id: str, body: Any) -> httpx.Response:
    # json.dumps writes a lone surrogate as the escape "\ud800", which is what a hostile client sends.
    return http.put(f"/mutations/{mutation_id}", content=json.dumps(body).encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})


# --------------------------------------------------------------------------- the test


def _known(database: str) -> dict[str, str]:
    """Ids already on the backend, for the mutations to collide with."""
    known: dict[str, str] = {}
    for kind, body in fetch(database, "SELECT type, body FROM record WHERE type IN ('decision', 'promise')"):
        obj = json.loads(body)
        if kind == "promise":
            known.setdefault("promise", obj["id"])
        elif obj.get("kind") == "escalate":
            known.setdefault("escalation", obj["id"])
        else:
            known.setdefault("decision", obj["id"])
    return known


def _published(database: str) -> dict[tuple[str, str], dict]:
    return {(kind, ident): json.loads(body)
            for kind, ident, body in fetch(database, "SELECT type, id, body FROM record")}


async def _sync(store: Path, url: str, token: str) -> None:
    async with Replica.open(store) as replica, BackendClient(url, token) as client:
        await Syncer(replica, client).once()


def _seed(server: Server, tokens: dict[str, str]) -> None:
    """A sound decision, promise and escalation of another agent for the hostile ones to collide with."""
    http = httpx.Client(base_url=server.url, timeout=30)
    now = datetime.now(timezone.utc).isoformat()
    sound = [("m-seed-1", {"kind": "decision", "decision": {
                 "type": "decision", "id": "d-seed-1", "customer": "c-1", "case": "k-1", "kind": "refund",
                 "amount": "5.00", "currency": "EUR", "agent": "a-8", "at": now, "state": "queued"},
                 "promise": {"type": "promise", "id": "p-seed-1", "decision": "d-seed-1", "customer": "c-1",
                             "what": "refund 5.00 EUR", "due": now, "state": "open"}}),
             ("m-seed-2", {"kind": "decision", "decision": {
                 "type": "decision", "id": "d-seed-2", "customer": "c-1", "case": "k-1", "kind": "escalate",
                 "proposal_kind": "refund", "amount": "20.00", "currency": "EUR", "agent": "a-8", "at": now,
                 "state": "queued"}})]
    for mutation_id, body in sound:
        answer = _send(http, tokens["a-8"], mutation_id, body)
        assert answer.status_code == 200 and answer.json()["status"] == "applied", answer.text


async def test_hostile_mutations_leave_a_backend_every_workstation_can_sync(backend, tmp_path: Path) -> None:
    server, tokens = backend
    kind = "postgresql" if server.database.startswith("postgresql") else "sqlite"
    _seed(server, tokens)
    veteran = tmp_path / f"veteran-{kind}.sqlite3"
    await _sync(veteran, server.url, tokens["a-7"])
    known = _known(server.database)
    statuses: Counter = Counter()
    http = httpx.Client(base_url=server.url, timeout=30)

    @settings(max_examples=EXAMPLES[kind], deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(mutation(known), min_size=1, max_size=4))
    def hostile(mutations: list[tuple[str, Any]]) -> None:
        for mutation_id, body in mutations:
            answer = _send(http, tokens["a-7"], mutation_id, body)
            statuses[answer.status_code] += 1
            assert answer.status_code < 500, f"{answer.status_code} for {body!r}: {answer.text}"
            if answer.status_code >= 400:
                detail = answer.json()["detail"]
                assert isinstance(detail, str) and "\n" not in detail and 0 < len(detail) <= 500, detail

    hostile()
    http.close()
    assert statuses[200] and sum(n for status, n in statuses.items() if status >= 400), statuses

    # 2. Everything published names only what the backend holds.
    published = _published(server.database)
    references = {"case": ("customer",), "decision": ("customer", "case", "agent", "approves"),
                  "promise": ("customer", "decision"), "audit": ("customer",)}
    target = {"customer": "customer", "case": "case", "agent": "agent", "approves": "decision", "decision": "decision"}
    for (record_type, ident), obj in published.items():
        for name in references.get(record_type, ()):
            if obj.get(name) is not None:
                assert (target[name], obj[name]) in published, f"{record_type} {ident} names {name} {obj[name]!r}"
    seeded = published[("promise", "p-seed-1")]
    assert (seeded["customer"], seeded["decision"]) == ("c-1", "d-seed-1"), "a promise was taken over"

    # 3. A fresh workstation and one that synced before both hold exactly what the backend holds.
    fresh = tmp_path / f"fresh-{kind}.sqlite3"
    await _sync(fresh, server.url, tokens["a-7"])
    await _sync(veteran, server.url, tokens["a-7"])
    decisions = {(d["id"], d["customer"], d.get("case"), d["state"], d.get("amount"), d.get("currency"),
                  d.get("approves"))
                 for (record_type, _), d in published.items() if record_type == "decision"}
    promises = {(p["id"], p["customer"], p.get("decision"), p["state"])
                for (record_type, _), p in published.items() if record_type == "promise"}
    for store in (fresh, veteran):
        local = set(rows(store, "SELECT id, customer_id, case_id, state, amount, currency, approves FROM decision"))
        assert local == decisions, f"{store.name}: only here {local - decisions}, only there {decisions - local}"
        local_promises = set(rows(store, "SELECT id, customer_id, decision_id, state FROM promise"))
        assert local_promises == promises, f"{store.name}: {local_promises ^ promises}"
        assert rows(store, "SELECT count(*) FROM outbox") == [(0,)]
        assert rows(store, "SELECT type, id, reason FROM set_aside") == [], "a published change could not be applied"
