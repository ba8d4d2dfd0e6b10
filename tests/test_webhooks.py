"""The webhooks on SQLite and PostgreSQL, signed by independent implementations of each scheme.

Ours: the standard library's ``hmac`` here, not the backend's code. Twilio's: the ``twilio`` package's
``RequestValidator.compute_signature``, the very function Twilio's own helper libraries sign test
requests with. Twilio's servers cannot run here, so the requests are built locally in Twilio's
real shape (form fields, ``X-Twilio-Signature`` over ``public_url`` + path); that is the one stand-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from agentdesk.channels.config import ChannelsConfig, TwilioSettings, WebhookSettings
from agentdesk.server.inbound import interaction_id
from agentdesk.server.webhooks import EMPTY_TWIML
from tests.backend import Server, add_user, database, fetch, in_process, postgres_database  # noqa: F401 (fixture)

SECRET = "webhook-secret-for-tests"
TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://desk.example.com"
CHANNELS = ChannelsConfig(public_url=PUBLIC, twilio=TwilioSettings(account_sid="AC123", auth_token_env="T_TOKEN"),
                          webhook=WebhookSettings(secret_env="T_SECRET"))
PETRA = {"type": "customer", "id": "c-1001", "name": "Petra Lindner", "email": "p.lindner@example.net",
         "phone": "0151 5550142", "timezone": "Europe/Berlin", "location": "Nürnberg, DE"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SECRET", SECRET)
    monkeypatch.setenv("T_TOKEN", TOKEN)


def signed(body: dict, *, secret: str = SECRET, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode("utf-8")
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Agentdesk-Timestamp": stamp,
                 "X-Agentdesk-Signature": f"sha256={digest}"}


def twilio_signed(path: str, form: dict[str, str], *, token: str = TOKEN) -> tuple[str, dict[str, str]]:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, form)
    return urlencode(form), {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}


def message(ident: str = "chat-1", **fields: object) -> dict:
    return {"id": ident, "channel": "chat", "at": "2026-07-14T09:31:00+02:00", "email": "p.lindner@example.net",
            "body": "My contract is not shown in the portal.", **fields}


def _count(database: str, kind: str) -> int:
    return fetch(database, f"SELECT count(*) FROM record WHERE type = '{kind}'")[0][0]


async def _with_petra(backend) -> None:  # noqa: ANN001
    admin = add_user(backend.database, "admin", "admin")
    async with backend.client(admin) as client:
        assert (await client.post("/records", json={"records": [PETRA]})).json()["changed"] == 1


async def test_a_signed_message_is_filed_and_a_pull_sees_it(database: str) -> None:
    async with in_process(database, channels=CHANNELS) as backend:
        await _with_petra(backend)
        token = add_user(database, "a-7", "agent")
        async with backend.client(token) as client:
            cursor = (await client.get("/health")).json()["cursor"]
            raw, headers = signed(message())
            answer = await client.post("/webhooks/messages", content=raw, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"status": "new", "customer": "c-1001",
                                     "interaction": interaction_id("webhook:chat-1"), "new_customer": False}
            page = (await client.get("/changes", params={"after": cursor})).json()
    [change] = page["changes"]
    assert change["record"]["body"] == "My contract is not shown in the portal."
    assert (change["record"]["channel"], change["record"]["direction"]) == ("chat", "in")


async def test_a_replay_is_200_and_changes_nothing(database: str) -> None:
    async with in_process(database, channels=CHANNELS) as backend, backend.client() as client:
        raw, headers = signed(message(email="new.person@example.org", name="New Person"))
        first = await client.post("/webhooks/messages", content=raw, headers=headers)
        head = fetch(database, "SELECT last FROM change_counter")
        again = await client.post("/webhooks/messages", content=raw, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["new_customer"] and again.json()["status"] == "repeat"
    assert fetch(database, "SELECT last FROM change_counter") == head
    assert _count(database, "interaction") == 1


@pytest.mark.parametrize(("case", "reason"), [
    ("forged", "the signature does not match"),
    ("stale", "more than 300 s off"),
    ("missing", "X-Agentdesk-Signature is missing"),
    ("no timestamp", "X-Agentdesk-Timestamp is missing"),
    ("body changed", "the signature does not match"),
])
async def test_a_bad_signature_is_403_audited_and_stores_nothing(database: str, case: str, reason: str) -> None:
    raw, headers = signed(message(), secret="not-the-secret" if case == "forged" else SECRET,
                          at=int(time.time()) - 301 if case == "stale" else None)
    if case == "missing":
        del headers["X-Agentdesk-Signature"]
    if case == "no timestamp":
        del headers["X-Agentdesk-Timestamp"]
    if case == "body changed":
        raw = raw.replace(b"portal", b"p0rtal")
    async with in_process(database, channels=CHANNELS) as backend, backend.client() as client:
        answer = await client.post("/webhooks/messages", content=raw, headers=headers)
    assert answer.status_code == 403
    assert reason in answer.json()["detail"] and "\n" not in answer.json()["detail"]
    assert _count(database, "interaction") == _count(database, "customer") == 0
    [(route, logged)] = fetch(database, "SELECT route, reason FROM webhook_refusal")
    assert route == "/webhooks/messages" and reason in logged


async def test_twilio_sms_from_a_national_number_lands_on_the_e164_customer(database: str) -> None:
    form = {"MessageSid": "SM0001", "AccountSid": "AC123", "From": "+491515550142", "To": "+499115550100",
            "Body": "Wo bleibt der QR-Code? \x1b[2J", "NumMedia": "0"}
    async with in_process(database, channels=CHANNELS) as backend:
        await _with_petra(backend)  # stored with "0151 5550142" and a German location
        async with backend.client() as client:
            raw, headers = twilio_signed("/webhooks/twilio/sms", form)
            answer = await client.post("/webhooks/twilio/sms", content=raw, headers=headers)
            repeat = await client.post("/webhooks/twilio/sms", content=raw, headers=headers)
    assert answer.status_code == repeat.status_code == 200
    assert answer.text == EMPTY_TWIML and answer.headers["content-type"].startswith("text/xml")
    [(customer, body)] = fetch(database, "SELECT customer_id, body FROM record WHERE type = 'interaction'")
    assert customer == "c-1001"
    assert json.loads(body)["body"] == "Wo bleibt der QR-Code? ␛[2J"


async def test_a_forged_twilio_request_is_refused(database: str) -> None:
    form = {"MessageSid": "SM0002", "From": "+491515550142", "Body": "hi"}
    async with in_process(database, channels=CHANNELS) as backend, backend.client() as client:
        raw, headers = twilio_signed("/webhooks/twilio/sms", form, token="someone-elses-token")
        forged = await client.post("/webhooks/twilio/sms", content=raw, headers=headers)
        raw, headers = twilio_signed("/webhooks/twilio/sms", form)
        tampered = await client.post("/webhooks/twilio/sms", content=raw.replace("hi", "ho"), headers=headers)
        del headers["X-Twilio-Signature"]
        missing = await client.post("/webhooks/twilio/sms", content=raw, headers=headers)
    assert [r.status_code for r in (forged, tampered, missing)] == [403, 403, 403]
    assert _count(database, "interaction") == 0
    assert len(fetch(database, "SELECT id FROM webhook_refusal")) == 3


async def test_a_missed_call_is_a_contact_with_its_wait(database: str) -> None:
    base = {"AccountSid": "AC123", "From": "+49 170 5550199", "To": "+499115550100", "Direction": "inbound"}
    calls = [{**base, "CallSid": "CA1", "CallStatus": "no-answer", "QueueTime": "40",
              "Timestamp": "Tue, 14 Jul 2026 07:31:00 +0000"},
             {**base, "CallSid": "CA2", "CallStatus": "completed", "CallDuration": "540", "QueueTime": "15"},
             {**base, "CallSid": "CA3", "CallStatus": "completed", "CallDuration": "0"},
             {**base, "CallSid": "CA4", "CallStatus": "ringing"},
             {**base, "CallSid": "CA5", "CallStatus": "no-answer", "Direction": "outbound-api"}]
    async with in_process(database, channels=CHANNELS) as backend, backend.client() as client:
        for form in calls:
            raw, headers = twilio_signed("/webhooks/twilio/voice", form)
            answer = await client.post("/webhooks/twilio/voice", content=raw, headers=headers)
            assert answer.status_code == 200 and answer.text == EMPTY_TWIML
    bodies = {json.loads(body)["id"]: json.loads(body)
              for (body,) in fetch(database, "SELECT body FROM record WHERE type = 'interaction'")}
    missed, answered, silent = (bodies.pop(interaction_id(f"twilio-call:{sid}")) for sid in ("CA1", "CA2", "CA3"))
    assert bodies == {}  # ringing and outbound: no contact
    assert (missed["channel"], missed["direction"], missed["wait_s"], missed["missed"]) == ("phone", "in", 40, True)
    assert missed["body"].startswith("Missed call, waited 40 s")
    assert datetime.fromisoformat(missed["at"]) == datetime(2026, 7, 14, 7, 31, tzinfo=timezone.utc)
    assert (answered["duration_s"], answered["wait_s"], answered.get("missed")) == (540, 15, None)
    assert silent["missed"] is True
    assert _count(database, "customer") == 1  # one caller, one new customer


async def test_a_channel_not_configured_is_404(tmp_path: Path) -> None:
    async with in_process(str(tmp_path / "s.db"), channels=ChannelsConfig()) as backend, backend.client() as client:
        raw, headers = signed(message())
        assert (await client.post("/webhooks/messages", content=raw, headers=headers)).status_code == 404
        assert (await client.post("/webhooks/twilio/sms", content="a=b")).status_code == 404
        assert (await client.post("/webhooks/twilio/voice", content="a=b")).status_code == 404


async def test_the_openapi_spec_shows_each_webhook_with_an_example(tmp_path: Path) -> None:
    async with in_process(str(tmp_path / "s.db"), channels=CHANNELS) as backend, backend.client() as client:
        spec = (await client.get("/openapi.json")).json()
    for path in ("/webhooks/messages", "/webhooks/twilio/sms", "/webhooks/twilio/voice"):
        post = spec["paths"][path]["post"]
        assert post["summary"]
        [content] = post["requestBody"]["content"].values()
        assert content["example"]


def test_two_servers_take_the_same_message_once(tmp_path: Path) -> None:
    """Two ``serve`` processes on one PostgreSQL, the same signed message sent to both at once, many times."""
    import asyncio

    channels = tmp_path / "channels.toml"
    channels.write_text('[webhook]\nsecret_env = "T_SECRET"\n', encoding="utf-8")
    with postgres_database() as url, Server(url, flags=["--channels", str(channels)]) as one, \
            Server(url, flags=["--channels", str(channels)]) as two:
        assert "channels on: webhook" in one.output() and SECRET not in one.output()

        async def send_all() -> list[int]:
            async with httpx.AsyncClient(timeout=30) as client:
                sends = []
                for n in range(20):
                    raw, headers = signed(message(f"race-{n}", email=f"race.{n}@example.org"))
                    sends += [client.post(f"{server.url}/webhooks/messages", content=raw, headers=headers)
                              for server in (one, two, one, two)]
                return [answer.status_code for answer in await asyncio.gather(*sends)]

        statuses = asyncio.run(send_all())
        assert statuses == [200] * 80
        assert fetch(url, "SELECT count(*) FROM record WHERE type = 'interaction'") == [(20,)]
        assert fetch(url, "SELECT count(*) FROM record WHERE type = 'customer'") == [(20,)]
        assert fetch(url, "SELECT count(*) FROM inbound_message") == [(20,)]
