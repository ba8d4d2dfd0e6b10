"""The live stream's frames as the backend writes them (sse-starlette) and the workstation reads them (httpx-sse)."""

from __future__ import annotations

import httpx
import pytest

from agentdesk.server.live import change_frame, keepalive_frame
from agentdesk.sync.client import BackendClient, BackendRefused, Unreachable

FRAMES = change_frame(7).encode() + keepalive_frame().encode() + change_frame(9).encode()


def backend(answer: httpx.Response, seen: list[httpx.Request] | None = None) -> BackendClient:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return answer

    return BackendClient("http://backend.test", "t0ken", transport=httpx.MockTransport(handle))


async def heads(client: BackendClient, last_event_id: int | None = None) -> list[int | None]:
    async with client:
        return [head async for head in client.events(last_event_id)]


def test_the_frames_are_what_the_protocol_spells() -> None:
    assert change_frame(7).encode() == b'id: 7\nevent: change\ndata: {"cursor": 7}\n\n'
    assert keepalive_frame().encode() == b": keepalive\nevent: keepalive\ndata: \n\n"


async def test_the_workstation_reads_the_backend_s_frames_as_heads_and_keepalives() -> None:
    seen: list[httpx.Request] = []
    answer = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=FRAMES)
    assert await heads(backend(answer, seen), last_event_id=5) == [None, 7, None, 9]
    assert seen[0].headers["Last-Event-ID"] == "5" and seen[0].url.path == "/events"
    assert "Last-Event-ID" not in (await _first_request_without_cursor()).headers


async def _first_request_without_cursor() -> httpx.Request:
    seen: list[httpx.Request] = []
    await heads(backend(httpx.Response(200, headers={"content-type": "text/event-stream"}, content=b""), seen))
    return seen[0]


async def test_a_refusal_and_a_page_that_is_no_event_stream_are_told_apart() -> None:
    with pytest.raises(BackendRefused, match="unknown token"):
        await heads(backend(httpx.Response(401, json={"detail": "unknown token"})))
    with pytest.raises(Unreachable, match="did not answer with an event stream"):
        await heads(backend(httpx.Response(200, headers={"content-type": "text/html"}, content=b"<p>proxy</p>")))
    with pytest.raises(Unreachable):
        await heads(backend(httpx.Response(503)))
