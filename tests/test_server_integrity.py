"""The backend checks every mutation and upload before it stores or fans out anything (issue 12).

Against real ``agentdesk serve`` processes, on SQLite and PostgreSQL: a refusal that names what
the backend does not hold, or carries times out of bounds, is answered but never published; the
30-day caps count backdated decisions from when they arrived; ids stay with their first owner and
customer; one decision id sent for two customers at once is applied once; amounts are in their
case's currency; uploads carry no decision a workstation has yet to send.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend import BACKENDS, Server, add_user, database, fetch, postgres_database  # noqa: F401 - fixture
from tests.test_server_api import (  # noqa: F401 - world is a fixture
    USERS,
    World,
    case,
    customer,
    decide,
    decision,
    fresh,
    now_iso,
    promise,
    setup_customer,
    world,
)


@pytest.fixture(scope="module", params=BACKENDS)
def lenient(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A backend that takes decisions up to 60 days after they were taken."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            database = str(tmp_path_factory.mktemp("lenient") / "server.db")
        else:
            database = stack.enter_context(postgres_database())
        tokens = {name: add_user(database, name, role) for name, role in USERS.items()}
        server = stack.enter_context(Server(database, flags=["--offline-allowance", "60"]))
        yield stack.enter_context(closing(World(server, tokens)))


def refused(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == "refused", result
    return result


def unpublished(world: World, head: int, *ids: str) -> None:
    """Nothing reached the change log or the snapshot since ``head``, and none of ``ids`` is stored."""
    assert world.head() == head
    assert world.get("/changes", params={"after": head}).json()["changes"] == []
    snapshot = world.get("/snapshot").text
    for ident in ids:
        assert f'"id":"{ident}"' not in snapshot, ident


def fresh_sync(world: World, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``agentdesk sync`` into a new, empty store."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTDESK_")}
    folder = tmp_path / fresh("ws")
    env.update(XDG_DATA_HOME=str(folder / "data"), XDG_CONFIG_HOME=str(folder / "config"),
               AGENTDESK_DB=str(folder / "agentdesk.sqlite3"), AGENTDESK_TOKEN=world.tokens["a-2"])
    return subprocess.run([sys.executable, "-m", "agentdesk", "sync", "--server", world.server.url],
                          capture_output=True, text=True, env=env, timeout=120)


def days_ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()


# --------------------------------------------------------------------------- 1. references


def test_a_refusal_naming_what_the_backend_lacks_is_answered_but_never_published(world: World, tmp_path) -> None:
    c, k = setup_customer(world)
    other, _ = setup_customer(world)
    head = world.head()

    nowhere = decision("c-only-in-my-store", "refund", amount="10.00")
    body = decide(nowhere)
    mutation_id = fresh("m")
    answer = world.put(mutation_id, body)
    result = refused(answer)
    assert result["rule"] == "customer" and result["reason"] == "no customer c-only-in-my-store on the backend"
    # The sender marks its own copies: the refused decision and the cancelled promise.
    assert [(r["type"], r["state"]) for r in result["records"]] == [("decision", "refused"), ("promise", "cancelled")]
    assert result["records"][0]["refusal_rule"] == "customer"
    again = world.put(mutation_id, body)
    assert again.status_code == 200 and again.content == answer.content
    assert world.get(f"/mutations/{mutation_id}").json() == result

    foreign_case = decision(other, "refund", amount="10.00", case_id=k)
    result = refused(world.put(fresh("m"), decide(foreign_case)))
    assert result["rule"] == "case" and result["reason"] == f"no case {k} for customer {other} on the backend"

    approval = decision(c, "refund", "l-1", amount="10.00", case_id=k, approves="d-no-such-escalation")
    result = refused(world.put(fresh("m"), {"kind": "approve", "escalation": "d-no-such-escalation",
                                             "decision": approval, "promise": promise(approval)}, "l-1"))
    assert result["rule"] == "escalation"
    unpublished(world, head, nowhere["id"], foreign_case["id"], approval["id"])

    # Only an approve mutation approves.
    sneaky = decision(c, "refund", amount="10.00", case_id=k, approves="d-no-such-escalation")
    invalid = world.put(fresh("m"), decide(sneaky))
    assert invalid.status_code == 422
    assert invalid.json()["detail"] == (f"decision {sneaky['id']} names approves d-no-such-escalation; "
                                        "only an approve mutation approves an escalation")
    unpublished(world, head, sneaky["id"])

    synced = fresh_sync(world, tmp_path)
    assert synced.returncode == 0, synced.stderr


# --------------------------------------------------------------------------- 2. times


def test_times_out_of_bounds_are_refused_in_words_and_never_published(world: World, tmp_path) -> None:
    c, k = setup_customer(world)
    head = world.head()
    late = decision(c, "voucher", amount="5.00", case_id=k, at=days_ago(9 + 1 / 1440))
    result = refused(world.put(fresh("m"), decide(late)))
    assert result["rule"] == "decision.at"
    assert result["reason"] == "taken 9 days ago; the backend takes decisions up to 7 days after they were taken"
    sent = [late["id"]]
    for scheduled in ("9999-12-31T23:59Z", "0001-01-01T00:30+01:00"):
        callback = decision(c, "callback", case_id=k, scheduled=scheduled, phone="+49 170 555 0199")
        answer = world.put(fresh("m"), decide(callback))
        # A clean refusal: either the codec's (422, one line) or the applier's, unpublished.
        assert answer.status_code in (200, 422), answer.text
        if answer.status_code == 200:
            assert refused(answer)["rule"] == "callback.scheduled"
        else:
            assert "\n" not in answer.json()["detail"]
        sent.append(callback["id"])
    due_far = decision(c, "voucher", amount="5.00", case_id=k)
    result = refused(world.put(fresh("m"), {"kind": "decision", "decision": due_far,
                                             "promise": promise(due_far) | {"due": days_ago(-400)}}))
    assert result["rule"] == "promise.due"
    unpublished(world, head, *sent, due_far["id"])

    # A clock running ahead is pulled back to now, not refused.
    ahead = decision(c, "note", at=days_ago(-1))
    answer = world.put(fresh("m"), decide(ahead, with_promise=False)).json()
    assert answer["status"] == "applied"
    assert datetime.fromisoformat(answer["records"][0]["at"]) <= datetime.now(timezone.utc)
    assert fresh_sync(world, tmp_path).returncode == 0


def test_the_offline_allowance_is_a_serve_flag(lenient: World) -> None:
    c, k = setup_customer(lenient)
    nine_days = decision(c, "voucher", amount="5.00", case_id=k, at=days_ago(9))
    assert lenient.put(fresh("m"), decide(nine_days)).json()["status"] == "applied"
    result = refused(lenient.put(fresh("m"), decide(decision(c, "note", at=days_ago(61)), with_promise=False)))
    assert result["reason"] == "taken 61 days ago; the backend takes decisions up to 60 days after they were taken"


# --------------------------------------------------------------------------- 3. the 30-day window


def test_backdated_vouchers_count_from_when_the_backend_received_them(lenient: World) -> None:
    c, k = setup_customer(lenient)
    answers = []
    for _ in range(8):  # the agent's voucher cap: 25.00 each, 50.00 a customer in 30 days
        backdated = decision(c, "voucher", amount="25.00", case_id=k, at=days_ago(30 + 1 / 1440))
        answers.append(lenient.put(fresh("m"), decide(backdated)).json())
    for _ in range(2):
        answers.append(lenient.put(fresh("m"), decide(decision(c, "voucher", amount="25.00", case_id=k))).json())
    assert [a["status"] for a in answers] == ["applied"] * 2 + ["refused"] * 8, answers
    assert {a["rule"] for a in answers[2:]} == {"agent.voucher.per_customer_30d"}
    confirmed = sum(Decimal(r["amount"]) for r in _records(lenient, "decision")
                    if r["customer"] == c and r["state"] == "confirmed")
    assert confirmed == Decimal("50.00")

    database = lenient.server.database
    applied = answers[0]["records"][0]["id"]
    assert fetch(database, f"SELECT received_us FROM record WHERE type = 'decision' AND id = '{applied}'")[0][0]
    assert fetch(database, f"SELECT received_us FROM record WHERE type = 'customer' AND id = '{c}'") == [(None,)]


def _records(world: World, kind: str) -> list[dict[str, Any]]:
    lines = world.get("/snapshot").text.splitlines()[1:]
    return [obj for obj in map(json.loads, lines) if obj["type"] == kind]


# --------------------------------------------------------------------------- 4. ids stay with their owner


def test_a_mutation_cannot_take_over_a_stored_id(world: World) -> None:
    c1, k1 = setup_customer(world)
    c2, _ = setup_customer(world)
    theirs = decision(c1, "voucher", amount="5.00", case_id=k1)
    kept = world.put(fresh("m"), decide(theirs)).json()
    assert kept["status"] == "applied"
    stored_promise = world.record("promise", kept["records"][1]["id"])
    assert stored_promise["state"] == "kept"
    head = world.head()

    note = decision(c2, "note", "a-2")
    takeover = {"kind": "decision", "decision": note,
                "promise": promise(note) | {"id": stored_promise["id"], "what": "mine now"}}
    answer = world.put(fresh("m"), takeover, "a-2")
    assert answer.status_code == 422
    assert answer.json()["detail"] == f"promise {stored_promise['id']} is already on the backend"
    same_id = decision(c2, "note", "a-2") | {"id": theirs["id"]}
    answer = world.put(fresh("m"), decide(same_id, with_promise=False), "a-2")
    assert answer.status_code == 422
    assert answer.json()["detail"] == f"decision {theirs['id']} is already on the backend"
    assert world.head() == head
    assert world.record("promise", stored_promise["id"]) == stored_promise
    assert world.record("decision", theirs["id"])["customer"] == c1


def test_an_upload_cannot_move_an_id_to_another_customer_agent_or_decision(world: World) -> None:
    c1, k1 = setup_customer(world)
    c2, _ = setup_customer(world)
    interaction = {"type": "interaction", "id": fresh("i"), "customer": c1, "channel": "chat", "direction": "in",
                   "at": "2026-07-14T09:31:00+02:00", "author": "P", "body": "hello"}
    first = decision(c1, "voucher", amount="5.00", case_id=k1, state="confirmed")
    second = decision(c1, "voucher", amount="5.00", case_id=k1, state="confirmed")
    its_promise = promise(first) | {"state": "kept"}
    assert world.upload([interaction, first, second, its_promise]).json()["errors"] == []
    head = world.head()

    moved = [interaction | {"customer": c2}, first | {"agent": "a-2"}, its_promise | {"decision": second["id"]},
             interaction | {"id": fresh("i"), "customer": c2, "case": k1}]
    report = world.upload(moved).json()
    reasons = [e["reason"] for e in sorted(report["errors"], key=lambda e: e["index"])]
    assert [e["index"] for e in sorted(report["errors"], key=lambda e: e["index"])] == [0, 1, 2, 3]
    assert reasons == [
        f"interaction {interaction['id']} belongs to customer '{c1}', not '{c2}': an id stays with its first customer",
        f"decision {first['id']} belongs to agent 'a-1', not 'a-2': an id stays with its first agent",
        f"promise {its_promise['id']} belongs to decision '{first['id']}', not '{second['id']}': "
        "an id stays with its first decision",
        f"interaction {moved[3]['id']}: case '{k1}' belongs to customer '{c1}', not '{c2}'",
    ]
    assert report["changed"] == 0 and world.head() == head
    assert world.record("interaction", interaction["id"])["customer"] == c1
    assert world.record("decision", first["id"])["agent"] == "a-1"
    assert world.record("promise", its_promise["id"])["decision"] == first["id"]


# --------------------------------------------------------------------------- 6. currency


def test_an_amount_in_another_currency_than_its_case_is_refused(world: World) -> None:
    c = fresh("c")
    k = fresh("k")
    assert world.upload([customer(c), case(k, c, disputed="10.00") | {"currency": "USD"}]).json()["errors"] == []
    for kind in ("refund", "refund", "voucher"):
        amount = "40.00" if kind == "refund" else "5.00"
        result = refused(world.put(fresh("m"), decide(decision(c, kind, amount=amount, case_id=k))))
        assert result["rule"] == "case.currency"
        assert result["reason"] == f"{kind} {amount} EUR is not in the currency of case {k} (USD)"
    assert not [r for r in _records(world, "decision") if r["customer"] == c and r["state"] == "confirmed"]


# --------------------------------------------------------------------------- 7. uploads of unsent decisions


def test_an_upload_refuses_a_decision_its_workstation_has_yet_to_send(world: World) -> None:
    c, k = setup_customer(world)
    records = [decision(c, "voucher", amount="5.00", case_id=k, state=state)
               for state in ("pending", "queued", "confirmed")]
    report = world.upload(records).json()
    assert report["changed"] == 1
    assert report["errors"] == [
        {"index": index, "reason": f"decision {records[index]['id']} is {state}: only the workstation that took "
                                   "it sends it: agentdesk sync"}
        for index, state in ((0, "pending"), (1, "queued"))]


# --------------------------------------------------------------------------- 5. one id, two customers, at once

ROUNDS = 24

START_MARGIN = 0.05
"""Seconds from writing the shared start time to both clients until it comes: covers two pipe writes."""

# One client per backend process, kept for every round: connects first, says "ready"; then for
# each round reads {"id", "body"}, says "armed", reads the shared start time, waits for it, sends,
# prints the answer. The start time is sent once both are armed, so it only has to cover its own way.
CLIENT = r"""
import json, sys, time, httpx
url, token = sys.argv[1], sys.argv[2]
with httpx.Client(base_url=url, timeout=30, headers={"Authorization": "Bearer " + token}) as http:
    http.get("/me").raise_for_status()
    print("ready", flush=True)
    while line := sys.stdin.readline():
        round_ = json.loads(line)
        print("armed", flush=True)
        start = float(sys.stdin.readline())
        while time.time() < start:
            pass
        answer = http.put("/mutations/" + round_["id"], content=round_["body"],
                          headers={"Content-Type": "application/json"})
        print(json.dumps({"status": answer.status_code, "body": answer.json()}), flush=True)
"""


def test_one_decision_id_sent_for_two_customers_at_once_is_applied_once(database: str) -> None:
    admin = add_user(database, "admin", "admin")
    agents = {agent: add_user(database, agent, "agent") for agent in ("a-1", "a-2")}
    with Server(database) as server, Server(database) as other, ExitStack() as stack, \
            httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {admin}"}) as http:
        clients = []
        for (agent, token), backend in zip(agents.items(), (server, other), strict=True):
            client = subprocess.Popen([sys.executable, "-c", CLIENT, backend.url, token], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            stack.callback(client.kill)
            clients.append((agent, client))
        for _, client in clients:
            assert client.stdout.readline().strip() == "ready", client.stderr.read()
        for round_ in range(ROUNDS):
            shared = f"d-twice-{round_}"
            customers = {agent: f"c-{round_}-{agent}" for agent in agents}
            upload = http.post("/records", json={"records": [customer(c) for c in customers.values()]})
            assert upload.json()["changed"] == 2, upload.text
            for agent, client in clients:
                note = decision(customers[agent], "note", agent) | {"id": shared}
                client.stdin.write(json.dumps({"id": f"m-{round_}-{agent}",
                                               "body": json.dumps(decide(note, with_promise=False))}) + "\n")
                client.stdin.flush()
            for _, client in clients:
                assert client.stdout.readline().strip() == "armed", client.stderr.read()
            start = time.time() + START_MARGIN
            for _, client in clients:
                client.stdin.write(f"{start!r}\n")
                client.stdin.flush()
            answers = [json.loads(client.stdout.readline()) for _, client in clients]
            told_applied = [a for a in answers if a["status"] == 200 and a["body"]["status"] == "applied"]
            assert len(told_applied) == 1, f"round {round_}: {answers}"
            loser = next(a for a in answers if a not in told_applied)
            assert loser["status"] == 422, loser
            assert loser["body"]["detail"] == f"decision {shared} is already on the backend"
            stored = fetch(database, f"SELECT customer_id FROM record WHERE type = 'decision' AND id = '{shared}'")
            assert stored == [(told_applied[0]["body"]["records"][0]["customer"],)]
        for _, client in clients:
            client.stdin.close()
            assert client.wait(timeout=30) == 0, client.stderr.read()
