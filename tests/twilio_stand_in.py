"""A stand-in for Twilio's REST API on loopback (Twilio itself cannot be reached from here), served by uvicorn.

Not a test module; import what you need::

    from tests.twilio_stand_in import TwilioStandIn, twilio_stand_in  # noqa: F401 (fixture)

``twilio_stand_in`` (fixture, session-scoped: one server per xdist worker, in a thread)
    Checks what the real API checks of a request and answers as it does:

    - ``POST /2010-04-01/Accounts/{sid}/Messages.json``: HTTP basic auth (``ACCOUNT_SID``,
      ``AUTH_TOKEN``), else 401 with code 20003; a form with ``To``, ``From`` and ``Body``, else 400
      with code 21604/21603/21602; ``To`` in E.164, else 400 with code 21211; then 201 with the
      message's ``sid`` (``SM…``). ``To`` ``+4915550000429`` gets 429 (code 20429) and
      ``+4915550000500`` gets 500, as a busy or broken Twilio would.
    - ``GET /2010-04-01/Accounts/{sid}.json``: the account (``status: active``), with the same auth.

    ``taken(sid)`` is the form of the message it answered with that sid; ``count(body)`` how many
    messages with that body it took (tests share a server and tell their messages apart by body).
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "stand-in-auth-token"
BUSY_NUMBER, BROKEN_NUMBER = "+4915550000429", "+4915550000500"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
START_DEADLINE_S = 20.0


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                         "status": status}, status_code=status)


@dataclass
class TwilioStandIn:
    port: int = 0
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def taken(self, sid: str) -> dict[str, str] | None:
        with self.lock:
            return self.messages.get(sid)

    def count(self, body: str) -> int:
        with self.lock:
            return sum(1 for form in self.messages.values() if form.get("Body") == body)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self._message, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}.json", self._account, methods=["GET"]),
        ])

    @staticmethod
    def _authenticated(request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return request.path_params["sid"] == ACCOUNT_SID and request.headers.get("authorization") == expected

    async def _account(self, request: Request) -> JSONResponse:
        if not self._authenticated(request):
            return _error(401, 20003, "Authenticate")
        return JSONResponse({"sid": ACCOUNT_SID, "friendly_name": "stand-in", "status": "active"})

    async def _message(self, request: Request) -> JSONResponse:
        if not self._authenticated(request):
            return _error(401, 20003, "Authenticate")
        if request.headers.get("content-type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return _error(400, 20001, "Expected a form (application/x-www-form-urlencoded)")
        # the stdlib's parser: Starlette's request.form() needs python-multipart, which the project does not use
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        for name, code in (("To", 21604), ("From", 21603), ("Body", 21602)):
            if not form.get(name):
                return _error(400, code, f"A '{name}' is required.")
        if form["To"] == BUSY_NUMBER:
            return _error(429, 20429, "Too Many Requests")
        if form["To"] == BROKEN_NUMBER:
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        if not _E164.match(form["To"]):
            return _error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
        sid = "SM" + secrets.token_hex(16)
        with self.lock:
            self.messages[sid] = form
        return JSONResponse({"sid": sid, "account_sid": ACCOUNT_SID, "to": form["To"], "from": form["From"],
                             "body": form["Body"], "status": "queued", "num_segments": "1"}, status_code=201)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def twilio_stand_in() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn(port=_free_port())
    server = uvicorn.Server(uvicorn.Config(stand_in.app(), host="127.0.0.1", port=stand_in.port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="twilio-stand-in", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_DEADLINE_S
    while not server.started:  # uvicorn says so once it listens; it offers nothing to wait on across threads
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the Twilio stand-in did not start on port {stand_in.port}")
        time.sleep(0.01)
    try:
        yield stand_in
    finally:
        server.should_exit = True
        thread.join(10)
