"""A local HTTP server on loopback standing in for the SMS provider's REST API (Twilio), which cannot be
reached from here. It checks each request as the provider takes it (path, HTTP basic auth with the
account SID and auth token, the form fields of the Messages API) and answers in the provider's shapes.

Not a test module; import what you need::

    from tests.sms_provider import sms_provider  # noqa: F401 (fixture)

``sms_provider`` (fixture)
    A started :class:`SmsProvider`: ``.url`` (the ``api_base``), ``.taken`` (each message's form), ``.status``
    (set to 429 or 500 to refuse what comes next), ``.settings()`` a :class:`TwilioSettings` for it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from agentdesk.channels.config import TwilioSettings

ACCOUNT, TOKEN, TOKEN_ENV = "AC0123456789abcdef0123456789abcdef", "twilio-test-token", "AGENTDESK_TEST_TWILIO_TOKEN"
FROM = "+49 911 555 0100"


class SmsProvider(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.taken: list[dict[str, str]] = []
        self.status = 201

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def settings(self, *, sender: str | None = FROM) -> TwilioSettings:
        return TwilioSettings(ACCOUNT, TOKEN_ENV, self.url, sender)


class _Handler(BaseHTTPRequestHandler):
    server: SmsProvider

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") == expected:
            return True
        self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook
        if self.path != f"/2010-04-01/Accounts/{ACCOUNT}.json":
            self._answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
        elif self._authorised():
            self._answer(200, {"sid": ACCOUNT, "status": "active", "friendly_name": "test account"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's hook
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        if self.path != f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json":
            self._answer(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})
            return
        if not self._authorised():
            return
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            self._answer(400, {"code": 20001, "message": "the body must be a form", "status": 400})
            return
        form = {key: values[0] for key, values in parse_qs(raw, keep_blank_values=True).items()}
        if set(form) != {"To", "From", "Body"} or not form["To"].startswith("+"):
            self._answer(400, {"code": 21211, "message": f"The 'To' number {form.get('To')} is not a valid phone "
                                                         "number.", "status": 400})
            return
        if self.server.status != 201:
            self._answer(self.server.status, {"code": 20429, "message": "Too Many Requests",
                                              "status": self.server.status})
            return
        self.server.taken.append(form)
        sid = f"SM{len(self.server.taken):032x}"
        self._answer(201, {"sid": sid, "status": "queued", "to": form["To"], "body": form["Body"]})


@pytest.fixture
def sms_provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmsProvider]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    server = SmsProvider()
    thread = threading.Thread(target=server.serve_forever, name="sms-provider", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
