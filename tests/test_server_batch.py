"""``POST /mutations/batch``: a workstation's mutations in one request, each checked as if it came alone.

In-process backend (httpx ``ASGITransport``) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from agentdesk.server.changes import canonical
from agentdesk.server.publish import result_text
from tests.backend import add_user, database, fetch, in_process  # noqa: F401 - fixture

AT = datetime.now(timezone.utc).isoformat()


def _refund(ident: str, amount: str, *, customer: str = "c-1", case: str = "k-1") -> dict[str, Any]:
    decision = {"type": "decision", "id": f"d-{ident}", "customer": customer, "case": case, "kind": "refund",
                "amount": amount, "currency": "EUR", "agent": "a-1", "at": AT, "state": "queued"}
    promise = {"type": "promise", "id": f"p-{ident}", "decision": decision["id"], "customer": customer,
               "what": f"refund {amount} EUR", "due": AT, "state": "open"}
    return {"id": f"m-{ident}", "body": {"kind": "decision", "decision": decision, "promise": promise}}


def _records(disputed: Decimal) -> list[dict[str, Any]]:
    return [{"type": "customer", "id": "c-1", "name": "Petra Lindner"},
            {"type": "case", "id": "k-1", "customer": "c-1", "subject": "double charge", "status": "open",
             "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": str(disputed), "currency": "EUR"}]


async def test_each_mutation_sees_the_ones_before_it_and_a_bad_one_fails_alone(database: str) -> None:  # noqa: F811
    admin, agent = add_user(database, "admin", "admin"), add_user(database, "a-1", "agent")
    async with in_process(database) as backend, backend.client(admin) as as_admin, backend.client(agent) as http:
        assert (await as_admin.post("/records", json={"records": _records(Decimal("60.00"))})).json()["changed"] == 2
        stranger = {**_refund("x", "5.00"), "body": {**_refund("x", "5.00")["body"]}}
        stranger["body"]["decision"] = {**stranger["body"]["decision"], "agent": "a-2"}
        batch = [_refund("1", "40.00"), stranger, _refund("2", "40.00"), {"id": "m-bad", "body": {"kind": "decision",
                 "decision": {"type": "decision", "id": "d-bad"}}}, _refund("3", "20.00")]
        answer = await http.post("/mutations/batch", json={"mutations": batch})
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["id"] for r in results] == ["m-1", "m-x", "m-2", "m-bad", "m-3"]
        first, forbidden, second, invalid, third = results
        assert first["status"] == "applied"
        assert forbidden["status"] == 403 and "a-2's, not a-1's" in forbidden["detail"]
        # 40 + 40 is more than the 60 the case disputes: the second saw the first, though it has not committed yet.
        assert second["status"] == "refused" and second["rule"] == "case.disputed_amount"
        assert invalid["status"] == 422 and "\n" not in invalid["detail"]
        assert third["status"] == "applied"
        # Every cursor is the seq of that mutation's last change, in batch order.
        assert first["cursor"] < second["cursor"] < third["cursor"]
        logged = fetch(database, "SELECT seq, record_id FROM change_log ORDER BY seq")
        for result in (first, second, third):
            assert dict(logged)[result["cursor"]] == result["records"][-1]["id"]
        # Every record is numbered with its last change, none is left with the staged seq 0.
        assert fetch(database, "SELECT count(*) FROM record WHERE seq = 0") == [(0,)]

        # The same batch again: the very answers, byte for byte; nothing new stored.
        again = await http.post("/mutations/batch", json={"mutations": batch})
        assert again.json()["results"] == results
        assert fetch(database, "SELECT count(*) FROM mutation") == [(3,)]
        stored = dict(fetch(database, "SELECT id, result FROM mutation"))
        assert json.loads(stored["m-2"]) == second
        assert stored["m-2"] == canonical(second)


async def test_one_mutation_twice_in_a_batch_is_applied_once(database: str) -> None:  # noqa: F811
    admin, agent = add_user(database, "admin", "admin"), add_user(database, "a-1", "agent")
    async with in_process(database) as backend, backend.client(admin) as as_admin, backend.client(agent) as http:
        await as_admin.post("/records", json={"records": _records(Decimal("500.00"))})
        changed = {**_refund("1", "10.00"), "body": {**_refund("1", "10.00")["body"], "promise": None}}
        answer = await http.post("/mutations/batch", json={"mutations": [_refund("1", "10.00"), _refund("1", "10.00"),
                                                                          changed]})
        once, repeat, other_body = answer.json()["results"]
        assert once["status"] == "applied" and repeat == once
        assert other_body == {"id": "m-1", "status": 422,
                              "detail": "mutation m-1 was already applied with a different body"}
        assert fetch(database, "SELECT count(*) FROM record WHERE type = 'decision'") == [(1,)]


def test_a_result_text_is_the_canonical_text_of_the_answer() -> None:
    answer = {"id": "m-1", "status": "refused", "reason": "naïve ✓ \"quoted\"", "rule": "refund.max",
              "records": [{"type": "decision", "id": "d-1", "amount": "12.50"}]}
    assert result_text(42, answer) == canonical({**answer, "cursor": 42})
