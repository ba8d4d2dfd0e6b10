"""What the backend takes in one request: sizes, numbers in range, valid Unicode; refused in 4xx, one line.

Against a real ``agentdesk serve`` on SQLite and on PostgreSQL. Hostile bodies are sent as the bytes
a client could send (``json.dumps`` escapes a lone surrogate as ``\\ud800``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from agentdesk.server.limits import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES
from tests.backend import BACKENDS, Server, add_user, postgres_database


class Backend:
    def __init__(self, server: Server, admin: str, agent: str) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=60)
        self.admin = {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}
        self.agent = {"Authorization": f"Bearer {agent}", "Content-Type": "application/json"}

    def close(self) -> None:
        self.http.close()

    def head(self) -> int:
        return self.http.get("/health").json()["cursor"]

    def upload(self, records: list[Any]) -> httpx.Response:
        return self.http.post("/records", content=json.dumps({"records": records}).encode(), headers=self.admin)

    def stored(self, kind: str, ident: str) -> bool:
        lines = self.http.get("/snapshot", headers=self.agent).text.splitlines()[1:]
        return any((obj["type"], obj["id"]) == (kind, ident) for obj in map(json.loads, lines))


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            database = str(tmp_path_factory.mktemp("limits") / "server.db")
        else:
            database = stack.enter_context(postgres_database())
        admin, agent = add_user(database, "admin", "admin"), add_user(database, "a-1", "agent")
        server = stack.enter_context(Server(database))
        backend = stack.enter_context(closing(Backend(server, admin, agent)))
        answer = backend.upload([{"type": "customer", "id": "c-1", "name": "Petra", "phone": "+49 170 555 0199",
                                  "timezone": "Europe/Berlin"},
                                 {"type": "case", "id": "k-1", "customer": "c-1", "subject": "bill", "status": "open",
                                  "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": "500.00",
                                  "currency": "EUR"}])
        assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text
        yield backend


def fresh(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


def decision(**fields: Any) -> dict[str, Any]:
    return {"type": "decision", "id": fresh("d"), "customer": "c-1", "case": "k-1", "kind": "note", "agent": "a-1",
            "at": datetime.now(timezone.utc).isoformat(), "state": "queued", **fields}


def decided(**fields: Any) -> dict[str, Any]:
    return {"kind": "decision", "decision": decision(**fields)}


def one_line_detail(answer: httpx.Response) -> str:
    body = answer.json()
    detail = body["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail, body
    return detail


# (what, method, path, query, extra headers, JSON body, words the detail holds)
HOSTILE: list[tuple[str, str, str, dict[str, str], dict[str, str], Any, str]] = [
    ("after=1e23", "GET", "/changes", {"after": "1e23"}, {}, None, "query.after"),
    ("after beyond int64", "GET", "/changes", {"after": str(1 << 63)}, {}, None, "less than or equal to"),
    ("after of 10**23", "GET", "/changes", {"after": str(10**23)}, {}, None, "less than or equal to"),
    ("after of 5000 digits", "GET", "/changes", {"after": "9" * 5000}, {}, None, "query.after"),
    ("limit of 10**30", "GET", "/changes", {"limit": str(10**30)}, {}, None, "query.limit"),
    ("huge Last-Event-ID", "GET", "/events", {}, {"Last-Event-ID": str(10**30)}, None, "Last-Event-ID"),
    ("Last-Event-ID beyond int64", "GET", "/events", {}, {"Last-Event-ID": str(1 << 63)}, None, "Last-Event-ID"),
    ("events after 10**30", "GET", "/events", {"after": str(10**30)}, {}, None, "query.after"),
    ("surrogate in a decline reason", "PUT", "/mutations/{id}", {}, {},
     {"kind": "decline", "escalation": "d-1", "reason": "no \ud800"}, "reason is not valid Unicode"),
    ("surrogate in a decline's field name", "PUT", "/mutations/{id}", {}, {},
     {"kind": "decline", "escalation": "d-1", "\ud800": "x"}, "a field name is not valid Unicode"),
    ("surrogate as the kind", "PUT", "/mutations/{id}", {}, {}, {"kind": "\udc00"}, "not valid Unicode"),
    ("surrogate in a decision's reason", "PUT", "/mutations/{id}", {}, {},
     decided(reason="sorry \ud800"), "decision.reason is not valid Unicode"),
    ("surrogate in a decision's id", "PUT", "/mutations/{id}", {}, {},
     decided(id="d-\ud800"), "decision.id is not valid Unicode"),
    ("surrogate in a promise", "PUT", "/mutations/{id}", {}, {},
     {**decided(), "promise": {"type": "promise", "id": "p-1", "customer": "c-1", "what": "\udfff",
                                "due": "2026-12-31T09:00:00+01:00", "state": "open"}}, "promise.what is not valid"),
    ("surrogate in a decision's unknown field", "PUT", "/mutations/{id}", {}, {},
     decided(mood={"deep": ["\ud83d"]}), "decision.mood.deep.0 is not valid Unicode"),
    ("full-width digits", "PUT", "/mutations/{id}", {}, {},
     decided(kind="refund", amount="１０.００", currency="EUR"), "digits other than 0-9"),
    ("Arabic-Indic digits", "PUT", "/mutations/{id}", {}, {},
     decided(kind="voucher", amount="٣٠.٠٠", currency="EUR"), "digits other than 0-9"),
    ("a reason over the limit", "PUT", "/mutations/{id}", {}, {},
     decided(reason="x" * 10_001), "reason is 10,001 characters; the limit is 10,000"),
    ("a decline reason over the limit", "PUT", "/mutations/{id}", {}, {},
     {"kind": "decline", "escalation": "d-1", "reason": "x" * 10_001}, "at most 10000 characters"),
    ("a decision dated in the year 9999", "PUT", "/mutations/{id}", {}, {},
     decided(at="9999-12-31T23:59:00+00:00"), "the latest time a record may hold"),
    ("a callback at 9999-12-31T23:59Z", "PUT", "/mutations/{id}", {}, {},
     decided(kind="callback", scheduled="9999-12-31T23:59:00+00:00"), "the latest time a record may hold"),
    ("a decision dated before 1900", "PUT", "/mutations/{id}", {}, {},
     decided(at="0001-01-01T00:30:00+01:00"), "the earliest time a record may hold"),
    ("a mutation over 1 MiB", "PUT", "/mutations/{id}", {}, {},
     decided(reason="x" * 10, padding="y" * MAX_REQUEST_BYTES), "over the limit of 1 MiB (1,048,576 bytes)"),
]


@pytest.mark.parametrize(("method", "path", "query", "headers", "body", "words"),
                         [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_requests_are_refused_in_4xx_and_one_line(backend: Backend, method: str, path: str,
                                                          query: dict[str, str], headers: dict[str, str], body: Any,
                                                          words: str) -> None:
    before = backend.head()
    content = json.dumps(body).encode() if body is not None else None
    with backend.http.stream(method, path.format(id=fresh("m")), params=query, content=content,
                             headers={**backend.agent, **headers}) as answer:
        assert 400 <= answer.status_code < 500, answer.status_code
        answer.read()
    assert words in one_line_detail(answer)
    assert backend.head() == before
    assert backend.http.get("/changes", params={"after": before}, headers=backend.agent).status_code == 200


def test_a_50_mb_note_is_413_and_nothing_is_stored_or_sent(backend: Backend) -> None:
    before = backend.head()
    mutation_id = fresh("m")
    note = decided(reason="x" * 50_000_000)
    answer = backend.http.put(f"/mutations/{mutation_id}", content=json.dumps(note).encode(), headers=backend.agent)
    assert answer.status_code == 413
    assert one_line_detail(answer) == "the request body is over the limit of 1 MiB (1,048,576 bytes)"
    assert backend.http.get(f"/mutations/{mutation_id}", headers=backend.agent).status_code == 404
    assert backend.head() == before
    assert backend.http.get("/changes", params={"after": before}, headers=backend.agent).json()["changes"] == []
    assert not backend.stored("decision", note["decision"]["id"])


def chunks(total: int, size: int = 1 << 20) -> Iterator[bytes]:
    """A body sent chunked, without Content-Length: the limit must hold while it streams in."""
    yield b'{"kind": "decision", "decision": {"reason": "'
    for _ in range(total // size):
        yield b"x" * size


def test_a_chunked_body_is_counted_as_it_streams_in(backend: Backend) -> None:
    before = backend.head()
    answer = backend.http.put(f"/mutations/{fresh('m')}", content=chunks(20 << 20), headers=backend.agent)
    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    assert answer.status_code == 413
    assert "over the limit of 1 MiB" in one_line_detail(answer)
    upload = backend.http.post("/records", content=chunks(MAX_UPLOAD_BYTES + (4 << 20)), headers=backend.admin)
    assert upload.status_code == 413
    assert one_line_detail(upload) == "the request body is over the limit of 64 MiB (67,108,864 bytes)"
    assert backend.head() == before


def test_an_upload_may_be_larger_than_a_mutation(backend: Backend) -> None:
    records = [{"type": "interaction", "id": fresh("i"), "customer": "c-1", "channel": "email", "direction": "in",
                "at": "2026-07-14T09:40:00+02:00", "author": "Petra", "body": "y" * 100_000} for _ in range(30)]
    answer = backend.upload(records)
    assert answer.status_code == 200 and answer.json() == {"changed": 30, "unchanged": 0, "errors": []}


def test_an_uploaded_record_over_1_mib_is_refused_in_the_report(backend: Backend) -> None:
    big = {"type": "interaction", "id": fresh("i"), "customer": "c-1", "channel": "email", "direction": "in",
           "at": "2026-07-14T09:40:00+02:00", "author": "Petra", "body": "z" * (1 << 20)}
    small = big | {"id": fresh("i"), "body": "fine"}
    report = backend.upload([big, small]).json()
    assert report["changed"] == 1
    size = len(json.dumps(big, ensure_ascii=False, separators=(",", ":")).encode())
    assert report["errors"] == [{"index": 0, "reason": f"interaction {big['id']}: record is {size:,} bytes; "
                                                      "the limit is 1,048,576 bytes"}]
    assert not backend.stored("interaction", big["id"]) and backend.stored("interaction", small["id"])


def test_uploaded_records_with_bad_text_money_or_times_are_refused_one_by_one(backend: Backend) -> None:
    def case(**fields: Any) -> dict[str, Any]:
        return {"type": "case", "id": fresh("k"), "customer": "c-1", "subject": "s", "status": "open",
                "opened_at": "2026-07-14T09:02:00+02:00", "disputed_amount": "39.90", "currency": "EUR", **fields}

    records = [
        {"type": "customer", "id": fresh("c"), "name": "Lone \ud800"},
        {"type": "customer", "id": fresh("c"), "name": "ok", "\udc00": 1},
        case(disputed_amount="１０.００"),
        case(disputed_amount="-10.00"),
        case(opened_at="9000-01-01T00:00:00+00:00"),
        case(opened_at="2999-01-01T00:00:00+00:00"),
        case(),
    ]
    before = backend.head()
    answer = backend.upload(records)
    assert answer.status_code == 200
    reasons = {error["index"]: error["reason"] for error in answer.json()["errors"]}
    assert reasons == {
        0: f"customer {records[0]['id']}: name is not valid Unicode (lone surrogate \\ud800)",
        1: f"customer {records[1]['id']}: a field name is not valid Unicode (lone surrogate \\udc00)",
        2: f"case {records[2]['id']}: disputed_amount '１０.００' has digits other than 0-9",
        3: f"case {records[3]['id']}: disputed_amount -10.00 must be more than zero",
        4: f"case {records[4]['id']}: opened_at '9000-01-01T00:00:00+00:00' is not before 3000-01-01, "
           "the latest time a record may hold",
        5: reasons[5],
    }
    assert reasons[5].startswith(f"case {records[5]['id']}: opened_at '2999-01-01T00:00:00+00:00' is more than "
                                 "1 day ahead of now (")
    assert backend.head() == before + 1
    changes = backend.http.get("/changes", params={"after": before}, headers=backend.agent)
    assert changes.status_code == 200 and [c["record"]["id"] for c in changes.json()["changes"]] == [records[6]["id"]]
