"""A pushed reply on the backend (SQLite and PostgreSQL): checked again, stored and queued for sending in one
transaction, sent once whatever repeats, retried while its provider's failure may pass, failed with the reason
otherwise; what a process left mid-send is never sent again.

The provider here is a scripted :class:`Sender` (it answers what each test says it answers): these tests are
about the worker's states. The real SMTP server and the SMS provider's stand-in are in test_reply_send.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.channels.outbound import SendFailed
from agentdesk.domain import reply
from agentdesk.domain.model import Agent, Case, CaseStatus, Channel, Customer
from agentdesk.server import delivery
from agentdesk.server.changes import now_us
from agentdesk.server.database import Database
from agentdesk.server.delivery import DeliveryJob, DeliveryWorker
from agentdesk.server.inbound import Inbound, file_inbound
from agentdesk.server.mutations import Applier
from agentdesk.server.tables import reply_delivery
from agentdesk.server.users import User
from agentdesk.store.outbox import replied
from tests.backend import database, fetch  # noqa: F401 (fixture)
from tests.test_inbound import _database

AGENT = {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent", "email": "jonas.weber@example.com"}
SUPERVISOR = {"type": "agent", "id": "a-1", "name": "Katrin Hoffmann", "role": "supervisor"}
PETRA = {"type": "customer", "id": "c-1", "name": "Petra Lindner", "email": "p.lindner@example.net",
         "phone": "+49 170 555 0199", "preferred_channel": "email", "timezone": "Europe/Berlin"}
CASE = {"type": "case", "id": "k-1", "customer": "c-1", "subject": "eSIM not activated", "status": "open",
        "opened_at": "2026-12-06T09:00:00+01:00"}
JONAS = User("a-7", "agent")


def the_reply(text: str = "It is active now.", channel: Channel | None = None) -> dict:
    agent = Agent("a-7", "Jonas Weber", "agent", email="jonas.weber@example.com")
    customer = Customer("c-1", "Petra Lindner", email="p.lindner@example.net", phone="+49 170 555 0199",
                        preferred_channel=Channel.EMAIL)
    case = Case("k-1", "c-1", "eSIM not activated", CaseStatus.OPEN, datetime(2026, 12, 6, 8, tzinfo=timezone.utc))
    return replied(reply.reply_entry(agent, customer, text, datetime.now(timezone.utc), channel=channel, case=case))


class Scripted:
    """A provider answering from a script: a provider id, or a :class:`SendFailed` to raise."""

    def __init__(self, *answers: str | SendFailed) -> None:
        self.answers = list(answers)
        self.jobs: list[DeliveryJob] = []

    async def send(self, job: DeliveryJob) -> str:
        self.jobs.append(job)
        answer = self.answers.pop(0)
        if isinstance(answer, SendFailed):
            raise answer
        return answer


def state(database: str, interaction_id: str) -> tuple:
    (row,) = fetch(database, f"SELECT state, attempts, last_error, provider_id FROM reply_delivery "
                             f"WHERE interaction_id = '{interaction_id}'")
    body = json.loads(fetch(database, f"SELECT body FROM record WHERE id = '{interaction_id}'")[0][0])
    return (*row, body["delivery"], body.get("delivery_detail"))


async def due_now(db: Database, interaction_id: str) -> None:
    """The wait after a failure, over (the clock is not turned; the row's time is)."""
    async with db.write() as connection:
        await connection.execute(reply_delivery.update().where(reply_delivery.c.interaction_id == interaction_id)
                                 .values(next_try_us=now_us()))


async def test_a_reply_is_sent_once_however_often_it_is_pushed(database: str) -> None:
    db = await _database(database, [AGENT, PETRA, CASE])
    mail = Scripted("<r-1@example.com>")
    try:
        await file_inbound(db, Inbound("email:<q1@example.net>", "email", datetime.now(timezone.utc), "first",
                                       email="p.lindner@example.net", message_id="<q1@example.net>"))
        body = the_reply()
        ident = body["interaction"]["id"]
        applier = Applier(db, demo_matrix())
        first = await applier.apply(JONAS, "m-1", body)
        again = await applier.apply(JONAS, "m-1", body)
        assert first == again and first["status"] == "applied"
        assert [r["delivery"] for r in first["records"]] == ["queued"]
        worker = DeliveryWorker(db, {Channel.EMAIL: mail})
        assert await worker.deliver_due() == 1
        assert await worker.deliver_due() == 0
        await applier.apply(JONAS, "m-1", body)
        assert await worker.deliver_due() == 0
    finally:
        await db.dispose()
    assert len(mail.jobs) == 1
    job = mail.jobs[0]
    assert (job.customer.id, job.agent.name, job.case and job.case.id) == ("c-1", "Jonas Weber", "k-1")
    assert job.thread == ("<q1@example.net>",)  # the customer's own mail on the case, to thread the answer
    assert state(database, ident) == ("sent", 1, None, "<r-1@example.com>", "sent", None)


async def test_a_failure_that_may_pass_is_tried_again_and_the_last_one_fails_the_reply(database: str) -> None:
    db = await _database(database, [AGENT, PETRA, CASE])
    busy = SendFailed("421 try again later", permanent=False)
    sms = Scripted(*[busy] * delivery.MAX_ATTEMPTS)
    try:
        body = the_reply("Short one.", Channel.SMS)
        ident = body["interaction"]["id"]
        await Applier(db, demo_matrix()).apply(JONAS, "m-1", body)
        worker = DeliveryWorker(db, {Channel.SMS: sms})
        await worker.deliver_due()
        assert state(database, ident)[:3] == ("queued", 1, "421 try again later")
        assert await worker.deliver_due() == 0 and len(sms.jobs) == 1  # waiting out its backoff
        for _ in range(delivery.MAX_ATTEMPTS - 1):
            await due_now(db, ident)
            await worker.deliver_due()
    finally:
        await db.dispose()
    assert len(sms.jobs) == delivery.MAX_ATTEMPTS
    assert state(database, ident)[0:2] == ("failed", delivery.MAX_ATTEMPTS)
    assert state(database, ident)[4:] == ("failed", f"421 try again later (tried {delivery.MAX_ATTEMPTS} times)")


async def test_a_refusal_by_the_provider_fails_at_once_and_a_channel_without_provider_says_so(database: str) -> None:
    db = await _database(database, [AGENT, PETRA, CASE])
    try:
        applier = Applier(db, demo_matrix())
        refused, unsendable = the_reply("One."), the_reply("Two.", Channel.SMS)
        await applier.apply(JONAS, "m-1", refused)
        await applier.apply(JONAS, "m-2", unsendable)
        worker = DeliveryWorker(db, {Channel.EMAIL: Scripted(SendFailed("550 no such user", permanent=True))})
        await worker.deliver_due()
    finally:
        await db.dispose()
    assert state(database, refused["interaction"]["id"])[4:] == ("failed", "550 no such user")
    assert state(database, unsendable["interaction"]["id"])[4:] == (
        "failed", "this backend sends no SMS ([twilio]): configure it in the channels file")


async def test_a_reply_left_mid_send_by_a_dead_process_is_failed_not_sent_again(database: str) -> None:
    db = await _database(database, [AGENT, PETRA, CASE])
    mail = Scripted("<never@example.com>")
    try:
        body = the_reply()
        ident = body["interaction"]["id"]
        await Applier(db, demo_matrix()).apply(JONAS, "m-1", body)
        lease = int(delivery.SENDING_LEASE.total_seconds() * 1_000_000)
        async with db.write() as connection:  # claimed, the provider called, and then the process died
            await connection.execute(reply_delivery.update().values(state="sending", attempts=1,
                                                                    claimed_us=now_us() - lease - 1))
        await DeliveryWorker(db, {Channel.EMAIL: mail}).deliver_due()
    finally:
        await db.dispose()
    assert mail.jobs == []
    assert state(database, ident)[0] == "failed"
    assert state(database, ident)[5] == delivery.INTERRUPTED


@pytest.mark.parametrize(("user", "change", "words"), [
    (User("a-1", "supervisor"), {}, "the supervisor role is read-only and sends no replies"),
    (JONAS, {"to": "attacker@example.org"}, "the customer's e-mail is 'p.lindner@example.net'"),
    (JONAS, {"case": "k-9"}, "case k-9 is not on the backend"),
])
async def test_a_refused_reply_is_the_senders_alone_and_nothing_is_queued(database: str, user, change,
                                                                          words) -> None:
    db = await _database(database, [AGENT, SUPERVISOR, PETRA, CASE])
    try:
        body = the_reply()
        if user.name != "a-7":
            body["interaction"].update(author="a-1", reply_by="a-1")
        body["interaction"].update(change)
        result = await Applier(db, demo_matrix()).apply(user, "m-1", body)
    finally:
        await db.dispose()
    assert result["status"] == "refused" and words in result["reason"]
    (failed,) = result["records"]
    assert (failed["delivery"], failed["delivery_detail"]) == ("failed", f"not sent: {result['reason']}")
    assert fetch(database, "SELECT count(*) FROM reply_delivery") == [(0,)]
    assert fetch(database, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(0,)]


async def test_the_signature_is_checked_against_the_agent_record_whatever_role_the_token_gives(database: str) -> None:
    db = await _database(database, [AGENT, PETRA, CASE])
    try:
        result = await Applier(db, demo_matrix()).apply(User("a-7", "lead"), "m-1", the_reply())
    finally:
        await db.dispose()
    assert result["status"] == "applied", result
