"""A fault-injecting httpx transport between a sync client and a real backend process.

It stands in for a bad network, which cannot be produced on loopback otherwise:
each request to a matched path takes the next planned fault. The server is real;
only the wire between it and the client misbehaves.

- ``drop_request``: the request never leaves (the backend sees nothing).
- ``drop_response``: the backend receives and commits it; the answer is lost.
- ``duplicate``: the backend receives it twice; the client sees the second answer.
- ``race``: the backend receives two copies at the same moment; the client sees one answer.
- ``delay``: it arrives late (the client waits).
"""

from __future__ import annotations

import asyncio
from collections import deque

import httpx

FAULTS = ("drop_request", "drop_response", "duplicate", "race", "delay")


class FaultyTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, match: str = "/mutations/", delay: float = 0.05,
                 inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._match = match
        self._delay = delay
        self.plan: deque[str] = deque()
        self.injected: dict[str, int] = dict.fromkeys(FAULTS, 0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.popleft() if self.plan and self._match in request.url.path else None
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
