"""A fault-injecting httpx transport between a sync client and a real backend process.

It stands in for a bad network, which cannot be produced on loopback otherwise:
each request to a matched path takes the next planned fault. The server is real;
only the wire between it and the client misbehaves.

- ``drop_request``: the request never leaves (the backend sees nothing).
- ``drop_response``: the backend receives and commits it; the answer is lost.
- ``duplicate``: the backend receives it twice; the client sees the second answer.
- ``race``: the backend receives two copies at the same moment; the client sees one answer.
- ``delay``: it arrives late (the client waits).

:meth:`FaultyTransport.interrupt` runs something (stopping the backend) between two requests of
one push, and :class:`AnswerlessWire` stands between a child process and the backend and never
passes an answer back: both put a disturbance inside a push for certain, not by timing.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections import deque
from collections.abc import Awaitable, Callable

import httpx

FAULTS = ("drop_request", "drop_response", "duplicate", "race", "delay")
TLS = ssl.create_default_context()
"""The one TLS context of the tests' HTTP clients (``verify=TLS``): loopback HTTP never uses it, but
httpx builds one per client otherwise, reading the CA bundle each time (about 40 ms)."""


class FaultyTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, match: str = "/mutations/", delay: float = 0.05,
                 inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport(verify=TLS)
        self._match = match
        self._delay = delay
        self.plan: deque[str] = deque()
        self.injected: dict[str, int] = dict.fromkeys(FAULTS, 0)
        self._answered = 0
        """Matched requests answered so far."""
        self._interruption: tuple[int, Callable[[], Awaitable[None]]] | None = None

    def interrupt(self, action: Callable[[], Awaitable[None]], *, after: int = 1) -> None:
        """Await ``action()`` once, before the matched request that follows the next ``after`` answered ones."""
        self._interruption = (self._answered + after, action)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        matched = self._match in request.url.path
        if matched and self._interruption is not None and self._answered >= self._interruption[0]:
            action, self._interruption = self._interruption[1], None
            await action()
        response = await self._faulty(request, matched)
        if matched:
            self._answered += 1
        return response

    async def _faulty(self, request: httpx.Request, matched: bool) -> httpx.Response:
        fault = self.plan.popleft() if self.plan and matched else None
        if fault is not None:
            self.injected[fault] += 1
        if fault == "drop_request":
            raise httpx.ConnectError("fault injected: request dropped", request=request)
        if fault == "delay":
            await asyncio.sleep(self._delay)
        if fault == "duplicate":
            first = await self._inner.handle_async_request(request)
            await first.aread()
            await first.aclose()
        if fault == "race":
            other, response = await asyncio.gather(self._inner.handle_async_request(_copy(request)),
                                                   self._inner.handle_async_request(request))
            await other.aread()
            await other.aclose()
            return response
        response = await self._inner.handle_async_request(request)
        if fault == "drop_response":
            await response.aread()  # the backend has answered, so it has committed
            await response.aclose()
            raise httpx.ReadError("fault injected: response dropped", request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def _copy(request: httpx.Request) -> httpx.Request:
    return httpx.Request(request.method, request.url, headers=request.headers, content=request.read())


class AnswerlessWire:
    """A loopback relay to a backend port that passes every request on and never passes an answer back.

    A child process pointed at :attr:`url` gets its first request to the backend and then waits
    for an answer that does not come, however fast or slow this machine is. Use as a context manager.
    """

    def __init__(self, backend_port: int) -> None:
        self._backend_port = backend_port
        self._listener = socket.create_server(("127.0.0.1", 0))  # the kernel's free port: no one else's
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self) -> AnswerlessWire:
        self._threads[0].start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below on Linux
        self._listener.close()
        for sock in self._sockets:
            sock.close()
        for thread in self._threads:
            thread.join(10)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            backend = socket.create_connection(("127.0.0.1", self._backend_port))
            self._sockets += [client, backend]
            relay = threading.Thread(target=_requests_only, args=(client, backend), daemon=True)
            self._threads.append(relay)
            relay.start()


def _requests_only(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        return
