"""The Twilio SMS sender against a stand-in for Twilio's REST API on loopback (Twilio cannot be reached from here);
the stand-in checks the real request shape: the path, basic auth and the form fields."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from agentdesk.channels.config import TwilioSettings
from agentdesk.channels.sending import SendFailed
from agentdesk.channels.twilio_send import send_sms
from tests.twilio_stand_in import (  # noqa: F401 (fixture)
    ACCOUNT_SID,
    AUTH_TOKEN,
    BROKEN_NUMBER,
    BUSY_NUMBER,
    TwilioStandIn,
    twilio_stand_in,
)

TOKEN_ENV = "AGENTDESK_TEST_TWILIO_TOKEN"
TEAM_NUMBER = "+499115550100"


def _settings(api_base: str, *, account_sid: str = ACCOUNT_SID, from_: str | None = TEAM_NUMBER) -> TwilioSettings:
    return TwilioSettings(account_sid=account_sid, auth_token_env=TOKEN_ENV, api_base=api_base, from_=from_)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    return AUTH_TOKEN


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as opened:
        yield opened


async def test_an_sms_is_posted_as_twilio_expects_and_arrives_once(twilio_stand_in: TwilioStandIn, token: str,
                                                                    client: httpx.AsyncClient):
    body = "Ihr Ersatzgerät ist unterwegs. 😀 -- Jonas Weber"
    sid = await send_sms(_settings(twilio_stand_in.api_base), "+4917612345678", body, client)

    assert sid.startswith("SM") and len(sid) == 34
    assert twilio_stand_in.taken(sid) == {"To": "+4917612345678", "From": TEAM_NUMBER, "Body": body}
    assert twilio_stand_in.count(body) == 1


async def test_a_number_twilio_refuses_is_a_permanent_failure_with_its_code(twilio_stand_in: TwilioStandIn,
                                                                            token: str, client: httpx.AsyncClient):
    with pytest.raises(SendFailed) as failed:
        await send_sms(_settings(twilio_stand_in.api_base), "0911 555", "never sent 1", client)
    assert failed.value.permanent
    assert failed.value.reason == ("Twilio refused the SMS (400, code 21211: The 'To' number 0911 555 is not a valid "
                                   "phone number.)")
    assert twilio_stand_in.count("never sent 1") == 0


async def test_credentials_twilio_refuses_are_a_permanent_failure(twilio_stand_in: TwilioStandIn, client:
                                                                  httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    with pytest.raises(SendFailed) as failed:
        await send_sms(_settings(twilio_stand_in.api_base), "+4917612345678", "never sent 2", client)
    assert failed.value.permanent
    assert failed.value.reason == "Twilio refused the SMS (401, code 20003: Authenticate)"
    assert "not-the-token" not in failed.value.reason


@pytest.mark.parametrize(("to", "said"), [(BUSY_NUMBER, "429, code 20429: Too Many Requests"),
                                          (BROKEN_NUMBER, "500: Internal Server Error")])
async def test_too_many_requests_and_a_server_error_may_pass(twilio_stand_in: TwilioStandIn, token: str,
                                                             client: httpx.AsyncClient, to: str, said: str):
    with pytest.raises(SendFailed) as failed:
        await send_sms(_settings(twilio_stand_in.api_base), to, "never sent 3", client)
    assert not failed.value.permanent
    assert failed.value.reason == f"Twilio refused the SMS ({said})"


async def test_an_api_that_cannot_be_reached_may_pass(token: str, client: httpx.AsyncClient):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(SendFailed) as failed:
        await send_sms(_settings(closed), "+4917612345678", "never sent 4", client)
    assert not failed.value.permanent
    assert failed.value.reason.startswith(f"cannot reach {closed}: ConnectError")


async def test_without_a_from_number_or_a_token_nothing_is_sent(twilio_stand_in: TwilioStandIn, client:
                                                                httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(SendFailed) as failed:
        await send_sms(_settings(twilio_stand_in.api_base), "+4917612345678", "never sent 5", client)
    assert failed.value.permanent and failed.value.reason == f"twilio: ${TOKEN_ENV} is not set"
    monkeypatch.setenv(TOKEN_ENV, AUTH_TOKEN)
    with pytest.raises(SendFailed) as failed:
        await send_sms(_settings(twilio_stand_in.api_base, from_=None), "+4917612345678", "never sent 5", client)
    assert failed.value.permanent and "from" in failed.value.reason
    assert twilio_stand_in.count("never sent 5") == 0
