"""Filing inbound messages (agentdesk.server.inbound) on SQLite and PostgreSQL: the right customer and case,
exactly once, seen by a pull at once."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest

from agentdesk.server.database import Database, database_url
from agentdesk.server.inbound import Inbound, file_inbound, interaction_id
from agentdesk.server.migrate import upgrade
from agentdesk.server.records import store_records
from tests.backend import add_user, database, fetch, in_process  # noqa: F401 (fixture)

AT = datetime(2026, 7, 14, 9, 31, tzinfo=timezone.utc)
PETRA = {"type": "customer", "id": "c-1001", "name": "Petra Lindner", "email": "P.Lindner@example.net",
         "phone": "0151 5550142", "timezone": "Europe/Berlin", "location": "Nürnberg, DE"}
CASE = {"type": "case", "id": "k-55", "customer": "c-1001", "subject": "eSIM activation", "status": "open",
        "opened_at": "2026-07-14T09:02:00+02:00"}


async def _database(url: str, records: list[dict]) -> Database:
    parsed = database_url(url)
    await upgrade(parsed)
    db = Database.create(parsed)
    if records:
        report = await store_records(db, records)
        assert not report.errors
    return db


async def test_a_german_national_number_and_its_e164_form_are_one_customer(database: str) -> None:
    db = await _database(database, [PETRA, CASE])
    try:
        filed = await file_inbound(db, Inbound("twilio-sms:SM1", "sms", AT, "Where is my QR code?",
                                               phone="+491515550142"))
        again = await file_inbound(db, Inbound("webhook:x1", "chat", AT, "hello", phone="+49 151 5550142"))
        by_mail = await file_inbound(db, Inbound("email:<a@b>", "email", AT, "hi", email="p.lindner@EXAMPLE.net"))
        national = await file_inbound(db, Inbound("webhook:x2", "app", AT, "hi", phone="0151 5550142"), region="DE")
    finally:
        await db.dispose()
    assert (filed.status, filed.customer, filed.new_customer) == ("new", "c-1001", False)
    assert again.customer == by_mail.customer == national.customer == "c-1001"
    body = json.loads(fetch(database, f"SELECT body FROM record WHERE id = '{filed.interaction}'")[0][0])
    assert body["case"] == "k-55"  # the customer's only open case
    assert (body["channel"], body["direction"], body["body"]) == ("sms", "in", "Where is my QR code?")


async def test_a_repeat_changes_nothing(database: str) -> None:
    db = await _database(database, [PETRA])
    try:
        message = Inbound("webhook:m-1", "chat", AT, "first", email="p.lindner@example.net")
        first = await file_inbound(db, message)
        heads = fetch(database, "SELECT last FROM change_counter")
        second = await file_inbound(db, message)
    finally:
        await db.dispose()
    assert first.status == "new" and second.status == "repeat"
    assert (second.customer, second.interaction) == (first.customer, first.interaction) == (
        "c-1001", interaction_id("webhook:m-1"))
    assert fetch(database, "SELECT last FROM change_counter") == heads


async def test_an_unknown_sender_becomes_a_customer_and_a_reply_finds_its_case(database: str) -> None:
    db = await _database(database, [])
    try:
        first = await file_inbound(db, Inbound("email:<one@x>", "email", AT, "Mirror came loose \x1b[31m!",
                                               email="Kim@Example.org", name="Kim Berg", message_id="<one@x>"))
        again = await file_inbound(db, Inbound("email:<two@x>", "email", AT, "still loose", email="kim@example.org",
                                               thread=("<one@x>",), message_id="<two@x>"))
    finally:
        await db.dispose()
    assert first.new_customer and not again.new_customer and again.customer == first.customer
    customer = json.loads(fetch(database, f"SELECT body FROM record WHERE id = '{first.customer}'")[0][0])
    assert (customer["name"], customer["email"], customer["preferred_channel"]) == (
        "Kim Berg", "Kim@Example.org", "email")
    body = json.loads(fetch(database, f"SELECT body FROM record WHERE id = '{first.interaction}'")[0][0])
    assert body["body"] == "Mirror came loose ␛[31m!" and body["message_id"] == "<one@x>"


async def test_the_case_follows_the_thread(database: str) -> None:
    db = await _database(database, [PETRA, CASE])
    try:
        first = await file_inbound(db, Inbound("email:<a@x>", "email", AT, "a", email="p.lindner@example.net",
                                               message_id="<a@x>"))
        await store_records(db, [{**CASE, "id": "k-56", "subject": "Invoice"}])
        threaded = await file_inbound(db, Inbound("email:<b@x>", "email", AT, "b", email="p.lindner@example.net",
                                                  thread=("<unknown@x>", "<a@x>"), message_id="<b@x>"))
        unthreaded = await file_inbound(db, Inbound("email:<c@x>", "email", AT, "c", email="p.lindner@example.net"))
    finally:
        await db.dispose()

    def case_of(filed) -> str | None:  # noqa: ANN001
        row = fetch(database, f"SELECT body FROM record WHERE id = '{filed.interaction}'")[0]
        return json.loads(row[0]).get("case")

    assert case_of(first) == "k-55"  # the only open case
    assert case_of(threaded) == "k-55"  # a reply to it, though two cases are open now
    assert case_of(unthreaded) is None  # two open cases and no thread: not guessed


async def test_a_pull_sees_the_interaction_at_once(database: str) -> None:
    async with in_process(database) as backend:
        token = add_user(database, "a-7", "agent")
        db = await _database(database, [PETRA])
        try:
            async with backend.client(token) as client:
                cursor = (await client.get("/health")).json()["cursor"]
                filed = await file_inbound(db, Inbound("webhook:w1", "chat", AT, "hello", handle="@petra",
                                                       email="p.lindner@example.net"))
                page = (await client.get("/changes", params={"after": cursor})).json()
        finally:
            await db.dispose()
    assert [change["record"]["id"] for change in page["changes"]] == [filed.interaction]


async def test_the_same_message_twice_at_once_is_filed_once(database: str) -> None:
    db = await _database(database, [])
    try:
        results = await asyncio.gather(*(file_inbound(db, Inbound("webhook:race", "chat", AT, "hi",
                                                                  email="new@example.org")) for _ in range(8)))
    finally:
        await db.dispose()
    assert sorted(r.status for r in results) == ["new"] + ["repeat"] * 7
    assert fetch(database, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(1,)]
    assert fetch(database, "SELECT count(*) FROM record WHERE type = 'customer'") == [(1,)]


@pytest.mark.parametrize("bad", [Inbound("webhook:1", "fax", AT, "x", email="a@b"),
                                 Inbound("webhook:1", "chat", AT, "x")])
async def test_a_message_that_cannot_be_filed_is_refused(bad: Inbound, tmp_path) -> None:  # noqa: ANN001
    from agentdesk.server.inbound import InboundInvalid

    db = await _database(str(tmp_path / "s.db"), [])
    try:
        with pytest.raises(InboundInvalid):
            await file_inbound(db, bad)
    finally:
        await db.dispose()
