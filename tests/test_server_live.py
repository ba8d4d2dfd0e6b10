"""``/events``: the change log's head pushed to listeners, across backend processes; start and stop."""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.backend import Server, add_user, database  # noqa: F401 - fixture


class Listener:
    """An ``/events`` stream read on a thread of its own."""

    def __init__(self, url: str, token: str, headers: dict[str, str] | None = None,
                 params: dict[str, Any] | None = None) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.connected = threading.Event()
        self.status: int | None = None
        self._stop = False
        self._client = httpx.Client(base_url=url, timeout=httpx.Timeout(30, connect=5),
                                    headers={"Authorization": f"Bearer {token}", **(headers or {})})
        self._thread = threading.Thread(target=self._read, args=(params or {},), daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "the event stream did not open"

    def _read(self, params: dict[str, Any]) -> None:
        try:
            with self._client.stream("GET", "/events", params=params) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self.connected.set()
                for line in response.iter_lines():
                    self.lines.put(line)
                    if self._stop:
                        return
        except httpx.HTTPError:
            pass
        finally:
            self.connected.set()

    def next_event(self, timeout: float = 10.0) -> int | None:
        """The id of the next event; None when none came within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line.startswith("id: "):
                return int(line[4:])

    def close(self) -> None:
        self._stop = True
        self._client.close()


@pytest.fixture
def admin_token(database: str) -> str:
    return add_user(database, "admin", "admin")


def _upload(url: str, token: str, ident: str) -> int:
    answer = httpx.post(f"{url}/records", headers={"Authorization": f"Bearer {token}"}, timeout=15,
                        json={"records": [{"type": "customer", "id": ident, "name": ident}]})
    assert answer.status_code == 200 and answer.json()["changed"] == 1, answer.text
    return httpx.get(f"{url}/health").json()["cursor"]


@pytest.fixture
def listen() -> Iterator[Any]:
    opened: list[Listener] = []

    def open_listener(*args: Any, **kwargs: Any) -> Listener:
        listener = Listener(*args, **kwargs)
        opened.append(listener)
        return listener

    yield open_listener
    for listener in opened:
        listener.close()


def test_a_write_reaches_a_connected_listener(database: str, admin_token: str, listen) -> None:
    with Server(database) as server:
        listener = listen(server.url, admin_token)
        assert listener.status == 200 and listener.content_type.startswith("text/event-stream")
        for n in range(3):
            head = _upload(server.url, admin_token, f"c-{n}")
            assert listener.next_event() == head


def test_last_event_id_resumes_where_the_listener_left_off(database: str, admin_token: str, listen) -> None:
    with Server(database) as server:
        head = _upload(server.url, admin_token, "c-1")
        behind = listen(server.url, admin_token, headers={"Last-Event-ID": "0"})
        assert behind.next_event() == head, "one event at once for a listener that is behind"
        by_query = listen(server.url, admin_token, params={"after": 0})
        assert by_query.next_event() == head
        current = listen(server.url, admin_token, headers={"Last-Event-ID": str(head)})
        assert current.next_event(0.6) is None, "nothing new, nothing sent"
        newer = _upload(server.url, admin_token, "c-2")
        assert current.next_event() == newer
        # The raw frame, as the protocol spells it.
        raw = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin_token}",
                                                         "Last-Event-ID": "0"})
        with raw.stream("GET", "/events") as response:
            text = ""
            for chunk in response.iter_text():
                text += chunk
                if text.endswith("\n\n"):
                    break
        raw.close()
        assert text == f'id: {newer}\nevent: change\ndata: {{"cursor": {newer}}}\n\n'


def test_events_need_a_token(database: str, admin_token: str) -> None:
    with Server(database) as server:
        assert httpx.get(f"{server.url}/events", timeout=5).status_code == 401


def test_a_listener_on_one_server_sees_a_write_made_through_another(database: str, admin_token: str,
                                                                   listen) -> None:
    """Two ``agentdesk serve`` processes on one database (PostgreSQL: LISTEN/NOTIFY; SQLite: polling)."""
    with Server(database) as first, Server(database) as second:
        listener = listen(first.url, admin_token)
        for n in range(3):
            head = _upload(second.url, admin_token, f"c-{n}")
            assert listener.next_event() == head, "the write through the other server never arrived"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_serve_exits_cleanly_with_listeners_connected_and_restarts(database: str, admin_token: str, listen,
                                                                  how: signal.Signals) -> None:
    server = Server(database)
    server.start()
    try:
        head = _upload(server.url, admin_token, "c-1")
        listen(server.url, admin_token)
        assert server._process is not None
        server._process.send_signal(how)
        assert server._process.wait(10) == 0
        server._process = None
        server.restart()
        assert httpx.get(f"{server.url}/health").json()["cursor"] == head
    finally:
        server.stop()
    assert "Traceback" not in server.output()
