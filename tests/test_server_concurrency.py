"""Two workstations spend one case at the same moment: the backend lets exactly one through.

Each refund alone is within its agent's limits; together they exceed the case's
disputed amount. Two separate OS processes send them, released by one shared start
time, each to a backend process of its own on the one database (so the database's
locks decide, not one server's event loop), round after round, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal

import httpx

from tests.backend import Server, add_user, database  # noqa: F401 - fixture

ROUNDS = 6
DISPUTED = Decimal("60.00")
EACH = Decimal("40.00")

# One client: connects first (so the race is not decided by connection set-up), says
# "ready", reads the shared start time from stdin, waits for it, then sends its mutation.
CLIENT = r"""
import json, sys, time, httpx
url, token, mutation_id, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
with httpx.Client(base_url=url, timeout=30, headers={"Authorization": "Bearer " + token}) as http:
    http.get("/me").raise_for_status()
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    while time.time() < start:
        pass
    answer = http.put("/mutations/" + mutation_id, content=body, headers={"Content-Type": "application/json"})
    print(json.dumps({"status": answer.status_code, "body": answer.json()}), flush=True)
"""


def _refund(customer: str, case: str, agent: str, round_: int) -> tuple[str, str]:
    at = datetime.now(timezone.utc).isoformat()
    decision = {"type": "decision", "id": f"d-{round_}-{agent}", "customer": customer, "case": case,
                "kind": "refund", "amount": str(EACH), "currency": "EUR", "agent": agent, "at": at,
                "state": "queued"}
    promise = {"type": "promise", "id": f"p-{round_}-{agent}", "decision": decision["id"], "customer": customer,
               "what": f"refund {EACH} EUR", "due": at, "state": "open"}
    return f"m-{round_}-{agent}", json.dumps({"kind": "decision", "decision": decision, "promise": promise})


def test_two_processes_cannot_both_spend_the_disputed_amount(database: str) -> None:
    admin = add_user(database, "admin", "admin")
    tokens = {agent: add_user(database, agent, "agent") for agent in ("a-1", "a-2")}
    with Server(database) as server, Server(database) as other, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        for round_ in range(ROUNDS):
            customer, case = f"c-{round_}", f"k-{round_}"
            upload = http.post("/records", headers={"Authorization": f"Bearer {admin}"}, json={"records": [
                {"type": "customer", "id": customer, "name": "Race"},
                {"type": "case", "id": case, "customer": customer, "subject": "double charge", "status": "open",
                 "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": str(DISPUTED), "currency": "EUR"}]})
            assert upload.json()["changed"] == 2
            clients = []
            for (agent, token), backend in zip(tokens.items(), (server, other), strict=True):
                mutation_id, body = _refund(customer, case, agent, round_)
                clients.append(subprocess.Popen(
                    [sys.executable, "-c", CLIENT, backend.url, token, mutation_id, body],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for client in clients:
                assert client.stdout.readline().strip() == "ready", client.stderr.read()
            start = time.time() + 0.3
            for client in clients:
                client.stdin.write(f"{start}\n")
                client.stdin.flush()
            answers = []
            for client in clients:
                out, err = client.communicate(timeout=60)
                assert client.returncode == 0, err
                answers.append(json.loads(out))
            assert [a["status"] for a in answers] == [200, 200], answers
            results = [a["body"] for a in answers]
            statuses = sorted(r["status"] for r in results)
            assert statuses == ["applied", "refused"], results
            refused = next(r for r in results if r["status"] == "refused")
            assert refused["rule"] == "case.disputed_amount"
            assert f"more than the {DISPUTED - EACH} EUR still disputed on case {case}" in refused["reason"]
            refused_decision = refused["records"][0]
            assert refused_decision["state"] == "refused" and refused["records"][1]["state"] == "cancelled"

            # What the backend holds: confirmed refunds on the case never exceed the disputed amount.
            lines = http.get("/snapshot", headers={"Authorization": f"Bearer {admin}"}).text.splitlines()[1:]
            confirmed = [json.loads(line) for line in lines]
            total = sum((Decimal(r["amount"]) for r in confirmed
                         if r["type"] == "decision" and r.get("case") == case and r["state"] == "confirmed"),
                        Decimal(0))
            assert total == EACH <= DISPUTED
