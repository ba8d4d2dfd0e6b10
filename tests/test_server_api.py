"""The backend's HTTP API against real ``agentdesk serve`` processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.authority import next_callback_slot
from agentdesk.domain.model import Customer
from agentdesk.server.migrate import HEAD_REVISION
from tests.backend import BACKENDS, Server, add_user, database, fetch, postgres_database  # noqa: F401

USERS = {"admin": "admin", "a-1": "agent", "a-2": "agent", "l-1": "lead", "s-1": "supervisor"}


class World:
    """One backend with a user of every role and a few customers."""

    def __init__(self, server: Server, tokens: dict[str, str]) -> None:
        self.server = server
        self.tokens = tokens
        self.http = httpx.Client(base_url=server.url, timeout=15)

    def close(self) -> None:
        self.http.close()

    def as_(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str = "a-1", **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=self.as_(user), **kwargs)

    def upload(self, records: list[Any]) -> httpx.Response:
        return self.http.post("/records", json={"records": records}, headers=self.as_("admin"))

    def put(self, mutation_id: str, body: dict[str, Any], user: str = "a-1") -> httpx.Response:
        return self.http.put(f"/mutations/{mutation_id}", json=body, headers=self.as_(user))

    def head(self) -> int:
        return self.http.get("/health").json()["cursor"]

    def record(self, kind: str, ident: str) -> dict[str, Any] | None:
        found = None
        for line in self.get("/snapshot").text.splitlines()[1:]:
            obj = json.loads(line)
            if obj["type"] == kind and obj["id"] == ident:
                found = obj
        return found


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            database = str(tmp_path_factory.mktemp("backend") / "server.db")
        else:
            database = stack.enter_context(postgres_database())
        tokens = {name: add_user(database, name, role) for name, role in USERS.items()}
        server = stack.enter_context(Server(database))
        world = stack.enter_context(closing(World(server, tokens)))
        yield world


# --------------------------------------------------------------------------- records and mutations


def customer(ident: str, **fields: Any) -> dict[str, Any]:
    return {"type": "customer", "id": ident, "name": f"Customer {ident}", "phone": "+49 170 555 0199",
            "timezone": "Europe/Berlin", **fields}


def case(ident: str, customer_id: str, disputed: str = "500.00", status: str = "open") -> dict[str, Any]:
    return {"type": "case", "id": ident, "customer": customer_id, "subject": "bill", "status": status,
            "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": disputed, "currency": "EUR"}


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def decision(customer_id: str, kind: str, agent: str = "a-1", *, amount: str | None = None,
             case_id: str | None = None, **fields: Any) -> dict[str, Any]:
    obj = {"type": "decision", "id": fresh("d"), "customer": customer_id, "kind": kind, "agent": agent,
           "at": now_iso(), "state": "queued", **fields}
    if amount is not None:
        obj |= {"amount": amount, "currency": "EUR"}
    if case_id is not None:
        obj["case"] = case_id
    return obj


def promise(of: dict[str, Any]) -> dict[str, Any]:
    return {"type": "promise", "id": fresh("p"), "decision": of["id"], "customer": of["customer"],
            "what": f"{of['kind']} {of.get('amount', '')}".strip(), "due": now_iso(), "state": "open"}


def decide(d: dict[str, Any], with_promise: bool = True) -> dict[str, Any]:
    return {"kind": "decision", "decision": d, "promise": promise(d) if with_promise else None}


def setup_customer(world: World, disputed: str = "500.00", status: str = "open") -> tuple[str, str]:
    c, k = fresh("c"), fresh("k")
    answer = world.upload([customer(c), case(k, c, disputed, status)])
    assert answer.status_code == 200, answer.text
    return c, k


# --------------------------------------------------------------------------- the service


def test_openapi_lists_every_endpoint_with_its_models(world: World) -> None:
    spec = world.http.get("/openapi.json").json()
    paths = spec["paths"]
    expected = {"/health": ["get"], "/me": ["get"], "/authority": ["get"], "/records": ["post"],
                "/mutations/{mutation_id}": ["get", "put"], "/changes": ["get"], "/snapshot": ["get"],
                "/events": ["get"]}
    for path, methods in expected.items():
        assert path in paths, path
        assert sorted(m for m in paths[path] if m in ("get", "put", "post", "delete")) == methods
    schemas = spec["components"]["schemas"]
    for model in ("DecisionMutation", "ApproveMutation", "DeclineMutation", "MutationResult", "ChangesPage",
                  "UploadReport", "RecordsUpload", "ErrorDetail", "Gone", "Me", "Health"):
        assert model in schemas, model
    put = paths["/mutations/{mutation_id}"]["put"]
    assert {"200", "401", "403", "422"} <= set(put["responses"])
    assert put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/MutationResult")
    assert "410" in paths["/changes"]["get"]["responses"]
    gone = paths["/changes"]["get"]["responses"]["410"]["content"]["application/json"]["schema"]
    assert gone["$ref"].endswith("/Gone")
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_serve_applied_its_own_migrations(world: World) -> None:
    assert fetch(world.server.database, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]
    assert fetch(world.server.database, "SELECT id, floor FROM change_counter") == [(1, 0)]


def test_health_needs_no_token_and_authority_is_the_matrix(world: World) -> None:
    assert world.http.get("/health").json()["status"] == "ok"
    text = world.get("/authority")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert "[roles.agent]" in text.text


# --------------------------------------------------------------------------- users and tokens


def test_tokens_are_long_random_and_stored_only_as_hashes(world: World) -> None:
    for name, token in world.tokens.items():
        assert token.startswith("adk_")
        assert len(token) - 4 >= 43  # 32 random bytes, base64: 256 bits
        me = world.get("/me", name).json()
        assert (me["name"], me["role"]) == (name, USERS[name]) and me["expires_at"]
    rows = fetch(world.server.database, "SELECT name, role, token_hash FROM api_user")
    hashes = {name: digest for name, _, digest in rows}
    for name, token in world.tokens.items():
        assert hashes[name] == hashlib.sha256(token.encode()).hexdigest()
    # Nowhere in the database: every table's every row, and for SQLite every byte of its files.
    everything = repr([fetch(world.server.database, f"SELECT * FROM {table}")
                       for table in ("api_user", "record", "change_log", "mutation")])
    database = world.server.database
    if not database.startswith("postgresql://"):
        for file in Path(database).parent.glob(Path(database).name + "*"):
            everything += file.read_bytes().decode("latin-1")
    for token in world.tokens.values():
        assert token not in everything
        assert token[4:] not in everything


def test_users_add_makes_the_agent_record(world: World) -> None:
    agent = world.record("agent", "a-1")
    assert agent == {"type": "agent", "id": "a-1", "name": "a-1", "role": "agent"}


def test_no_token_or_an_unknown_one_is_401(world: World) -> None:
    for headers in ({}, {"Authorization": "Bearer adk_wrong"}, {"Authorization": f"Basic {world.tokens['a-1']}"},
                    {"Authorization": "Bearer"}):
        for method, path in (("GET", "/me"), ("GET", "/changes"), ("POST", "/records"), ("PUT", "/mutations/m-1")):
            answer = world.http.request(method, path, headers=headers, json={})
            assert answer.status_code == 401, (headers, path, answer.text)
            assert set(answer.json()) == {"detail"} and "\n" not in answer.json()["detail"]


def test_read_only_and_admin_may_not_decide_agents_may_not_upload(world: World) -> None:
    c, k = setup_customer(world)
    for user in ("s-1", "admin"):
        answer = world.put(fresh("m"), decide(decision(c, "note", user, reason="x")), user)
        assert answer.status_code == 403, answer.text
        assert "decides nothing" in answer.json()["detail"]
    for user in ("a-1", "l-1", "s-1"):
        answer = world.http.post("/records", json={"records": [customer(fresh("c"))]}, headers=world.as_(user))
        assert answer.status_code == 403, answer.text
    # Reading is for every role.
    for user in USERS:
        assert world.get("/changes", user).status_code == 200


def test_a_decision_in_someone_elses_name_is_403(world: World) -> None:
    c, k = setup_customer(world)
    answer = world.put(fresh("m"), decide(decision(c, "refund", "a-2", amount="10.00", case_id=k)), "a-1")
    assert answer.status_code == 403
    assert "a-2" in answer.json()["detail"]


def test_no_token_appears_in_the_server_output(world: World) -> None:
    world.http.get("/me", headers={"Authorization": "Bearer adk_not-a-real-token-but-secret"})
    world.put(fresh("m"), {"kind": "nonsense"})
    output = world.server.output()
    assert "agentdesk backend on http://127.0.0.1:" in output
    for token in [*world.tokens.values(), "adk_not-a-real-token-but-secret"]:
        assert token not in output
    assert "Authorization" not in output and "Bearer" not in output


# --------------------------------------------------------------------------- uploading records


def test_upload_is_idempotent_and_reports_bad_records_by_index(world: World) -> None:
    c = fresh("c")
    good = [customer(c), case(fresh("k"), c),
            {"type": "interaction", "id": fresh("i"), "customer": c, "channel": "chat", "direction": "in",
             "at": "2026-07-14T09:31:00+02:00", "author": "P", "body": "Hallo \u00fc", "mood": "unknown field kept"}]
    bad = [{"type": "case", "id": "k-bad", "customer": c, "subject": "s", "status": "open",
            "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": 39.9, "currency": "EUR"},
           {"type": "spaceship", "id": "x"}, 42]
    records = [good[0], bad[0], good[1], bad[1], good[2], bad[2]]
    before = world.head()
    first = world.upload(records).json()
    assert first["changed"] == 3 and first["unchanged"] == 0
    assert [e["index"] for e in first["errors"]] == [1, 3, 5]
    assert all("\n" not in e["reason"] for e in first["errors"])
    assert "disputed_amount 39.9 must be a decimal string" in first["errors"][0]["reason"]
    assert "unknown record type 'spaceship'" in first["errors"][1]["reason"]
    middle = world.head()
    assert middle == before + 3
    second = world.upload(records).json()
    assert second["changed"] == 0 and second["unchanged"] == 3 and len(second["errors"]) == 3
    assert world.head() == middle, "an identical upload wrote no change"
    stored = world.record("interaction", good[2]["id"])
    assert stored is not None and stored["mood"] == "unknown field kept" and stored["body"] == "Hallo \u00fc"
    changed = world.upload([customer(c, name="Renamed")]).json()
    assert changed["changed"] == 1 and world.head() == middle + 1


def test_malformed_json_is_422_in_one_line_and_the_server_lives_on(world: World) -> None:
    for path, method in (("/records", "POST"), ("/mutations/m-bad", "PUT")):
        user = "admin" if path == "/records" else "a-1"
        answer = world.http.request(method, path, content=b'{"records": [', headers={
            **world.as_(user), "Content-Type": "application/json"})
        assert answer.status_code == 422
        assert list(answer.json()) == ["detail"] and "\n" not in answer.json()["detail"]
        assert "not valid JSON" in answer.json()["detail"]
    answer = world.put("m-shape", {"kind": "decision"})
    assert answer.status_code == 422 and "\n" not in answer.json()["detail"]
    answer = world.put(fresh("m"), decide({"type": "decision", "id": "d-x"}, with_promise=False))
    assert answer.status_code == 422 and "missing required field" in answer.json()["detail"]
    assert world.http.get("/health").status_code == 200


# --------------------------------------------------------------------------- mutations


def test_a_mutation_is_applied_exactly_once(world: World) -> None:
    c, k = setup_customer(world)
    mutation_id = fresh("m")
    body = decide(decision(c, "refund", amount="20.00", case_id=k))
    first = world.put(mutation_id, body)
    assert first.status_code == 200, first.text
    result = first.json()
    assert result["status"] == "applied" and result["reason"] is None and result["id"] == mutation_id
    kinds = [r["type"] for r in result["records"]]
    assert kinds == ["decision", "promise", "audit"]
    assert result["records"][0]["state"] == "confirmed"
    assert result["records"][1]["state"] == "kept"  # the backend carried the refund out
    assert result["records"][2]["action"] == "confirmed"
    head = world.head()
    assert result["cursor"] == head
    again = world.put(mutation_id, body)
    assert again.status_code == 200 and again.content == first.content
    assert world.head() == head, "nothing applied twice"
    assert world.get(f"/mutations/{mutation_id}").json() == result
    assert world.get("/mutations/m-never").status_code == 404
    other = json.loads(json.dumps(body))
    other["decision"]["amount"] = "21.00"
    conflict = world.put(mutation_id, other)
    assert conflict.status_code == 422
    assert conflict.json()["detail"] == f"mutation {mutation_id} was already applied with a different body"


def _refused(world: World, body: dict[str, Any], user: str = "a-1") -> dict[str, Any]:
    answer = world.put(fresh("m"), body, user)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "refused", result
    return result


def test_over_the_per_decision_limit_is_refused_and_stored_refused(world: World) -> None:
    c, k = setup_customer(world)
    result = _refused(world, decide(decision(c, "refund", amount="60.00", case_id=k)))
    assert result["rule"] == "agent.refund.max"
    assert "over the agent limit of 50.00 EUR" in result["reason"]
    stored, kept, audit = result["records"]
    assert stored["state"] == "refused"
    assert stored["refusal"] == result["reason"] and stored["refusal_rule"] == "agent.refund.max"
    assert kept["state"] == "cancelled"
    assert audit["action"] == "refused" and audit["rule"] == "agent.refund.max" and audit["limit"] == "50.00"
    assert world.record("decision", stored["id"])["state"] == "refused"
    assert world.record("promise", kept["id"])["state"] == "cancelled"


def test_a_closed_case_is_refused(world: World) -> None:
    c, k = setup_customer(world, status="closed")
    result = _refused(world, decide(decision(c, "refund", amount="10.00", case_id=k)))
    assert result["rule"] == "case.status"
    assert result["reason"] == f"case {k} is closed"


def test_the_30_day_total_is_counted_on_the_server(world: World) -> None:
    c, k = setup_customer(world, disputed="1000.00")
    # Two agents, each within the per-decision limit; the customer's 30-day cap is 100.00.
    for agent in ("a-1", "a-2"):
        answer = world.put(fresh("m"), decide(decision(c, "refund", agent, amount="45.00", case_id=k)), agent)
        assert answer.json()["status"] == "applied", answer.text
    result = _refused(world, decide(decision(c, "refund", "a-1", amount="20.00", case_id=k)))
    assert result["rule"] == "agent.refund.per_customer_30d"
    assert "10.00 EUR left" in result["reason"]
    # A refused decision does not count: 10.00 still fits.
    answer = world.put(fresh("m"), decide(decision(c, "refund", "a-2", amount="10.00", case_id=k)), "a-2")
    assert answer.json()["status"] == "applied"


def test_the_disputed_amount_of_the_case_bounds_refunds(world: World) -> None:
    c, k = setup_customer(world, disputed="30.00")
    assert world.put(fresh("m"), decide(decision(c, "refund", amount="20.00", case_id=k))).json()["status"] == "applied"
    result = _refused(world, decide(decision(c, "refund", "a-2", amount="20.00", case_id=k)), "a-2")
    assert result["rule"] == "case.disputed_amount"
    assert "10.00 EUR still disputed" in result["reason"]


def test_voucher_promise_is_kept_callback_promise_stays_open(world: World) -> None:
    c, k = setup_customer(world)
    voucher = world.put(fresh("m"), decide(decision(c, "voucher", amount="15.00", case_id=k))).json()
    assert voucher["status"] == "applied" and voucher["records"][1]["state"] == "kept"
    now = datetime.now(timezone.utc)
    slot = next_callback_slot(demo_matrix(), Customer(c, "x", timezone="Europe/Berlin"), now + timedelta(minutes=5))
    assert slot is not None
    callback = decision(c, "callback", case_id=k, scheduled=slot.isoformat(), phone="+49 170 555 0199")
    result = world.put(fresh("m"), decide(callback)).json()
    assert result["status"] == "applied", result
    assert result["records"][1]["state"] == "open"
    # The same slot again is taken.
    again = _refused(world, decide(decision(c, "callback", case_id=k, scheduled=slot.isoformat())))
    assert again["rule"] == "callbacks.slot"


def test_escalation_approve_and_decline(world: World) -> None:
    c, k = setup_customer(world)
    escalation = decision(c, "escalate", amount="80.00", case_id=k, proposal_kind="refund", escalate_to="lead",
                          approval="waiting")
    result = world.put(fresh("m"), decide(escalation, with_promise=False)).json()
    assert result["status"] == "applied", result
    stored = result["records"][0]
    assert stored["state"] == "confirmed" and stored["approval"] == "waiting" and stored["escalate_to"] == "lead"

    # An agent cannot approve; the lead can, once.
    theirs = decision(c, "refund", "a-2", amount="80.00", case_id=k, approves=escalation["id"])
    refusal = _refused(world, {"kind": "approve", "escalation": escalation["id"], "decision": theirs,
                               "promise": promise(theirs)}, "a-2")
    assert refusal["rule"] == "agent.approves"
    approval = decision(c, "refund", "l-1", amount="80.00", case_id=k, approves=escalation["id"])
    answer = world.put(fresh("m"), {"kind": "approve", "escalation": escalation["id"], "decision": approval,
                                    "promise": promise(approval)}, "l-1").json()
    assert answer["status"] == "applied", answer
    by_type = {r["type"]: r for r in answer["records"] if r["type"] != "audit"}
    assert by_type["promise"]["state"] == "kept"
    updated = [r for r in answer["records"] if r["type"] == "decision" and r["id"] == escalation["id"]][0]
    assert updated["approval"] == "approved" and updated["approval_by"] == "l-1" and "approval_at" in updated
    assert world.record("decision", escalation["id"])["approval"] == "approved"
    second = decision(c, "refund", "l-1", amount="80.00", case_id=k, approves=escalation["id"])
    late = _refused(world, {"kind": "approve", "escalation": escalation["id"], "decision": second,
                            "promise": None}, "l-1")
    assert late["reason"] == "this escalation is already approved"

    other = decision(c, "escalate", amount="70.00", case_id=k, proposal_kind="refund", escalate_to="lead")
    assert world.put(fresh("m"), decide(other, with_promise=False)).json()["status"] == "applied"
    nope = _refused(world, {"kind": "decline", "escalation": other["id"], "reason": "x", "at": now_iso()}, "a-2")
    assert nope["rule"] == "agent.approves"
    declined = world.put(fresh("m"), {"kind": "decline", "escalation": other["id"], "reason": "not our fault",
                                      "at": now_iso()}, "l-1").json()
    assert declined["status"] == "applied"
    record = declined["records"][0]
    assert record["approval"] == "declined" and record["approval_reason"] == "not our fault"
    assert declined["records"][1]["action"] == "declined"


# --------------------------------------------------------------------------- changes and snapshot


def test_changes_come_in_pages_without_gaps_and_the_snapshot_matches(world: World) -> None:
    for _ in range(4):  # more changes than one page holds, even when this test is the world's first
        setup_customer(world)
    head = world.head()
    seqs: list[int] = []
    cursor, pages = 0, 0
    while True:
        page = world.get("/changes", params={"after": cursor, "limit": 7}).json()
        assert len(page["changes"]) <= 7
        seqs += [change["seq"] for change in page["changes"]]
        cursor, pages = page["cursor"], pages + 1
        if not page["more"]:
            break
    assert seqs == list(range(1, cursor + 1)) and cursor >= head and pages > 1
    empty = world.get("/changes", params={"after": cursor}).json()
    assert empty["changes"] == [] and empty["cursor"] == cursor and empty["more"] is False
    assert world.get("/changes", params={"limit": 10_001}).status_code == 422

    # The snapshot: the cursor first, then every record once, in dependency order.
    lines = world.get("/snapshot").text.splitlines()
    first = json.loads(lines[0])
    records = [json.loads(line) for line in lines[1:]]
    order = ["agent", "customer", "case", "interaction", "decision", "promise", "audit"]
    ranks = [order.index("interaction" if r["type"] == "event" else r["type"]) for r in records]
    assert ranks == sorted(ranks)
    # Replaying the change log up to the snapshot's cursor gives the same records.
    replay: dict[tuple[str, str], dict[str, Any]] = {}
    page = world.get("/changes", params={"after": 0, "limit": 10_000}).json()
    for change in page["changes"]:
        if change["seq"] <= first["cursor"]:
            replay[(change["record"]["type"], change["record"]["id"])] = change["record"]
    assert {(r["type"], r["id"]): r for r in records} == replay


def test_a_cursor_below_the_floor_is_410_refetch(database: str) -> None:
    token = add_user(database, "admin", "admin")
    with Server(database, keep_changes=3) as server, httpx.Client(base_url=server.url) as http:
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(5):
            http.post("/records", json={"records": [customer(f"c-{n}")]}, headers=headers)
        head = http.get("/health").json()["cursor"]
        assert head == 6
        gone = http.get("/changes", params={"after": 0}, headers=headers)
        assert gone.status_code == 410
        assert gone.json() == {"detail": "cursor 0 is older than the change log keeps (oldest: 3); refetch",
                               "refetch": True}
        page = http.get("/changes", params={"after": 3}, headers=headers).json()
        assert [c["seq"] for c in page["changes"]] == [4, 5, 6]
        ahead = http.get("/changes", params={"after": 99}, headers=headers)
        assert ahead.status_code == 410 and ahead.json()["refetch"] is True
        snapshot = http.get("/snapshot", headers=headers).text.splitlines()
        assert json.loads(snapshot[0]) == {"cursor": 6} and len(snapshot) == 7
