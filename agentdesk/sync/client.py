"""The backend's HTTP API as the workstation uses it (httpx over one keep-alive connection pool).

Failures come in three kinds, because the sync loop treats them differently:
:class:`Unreachable` (no answer, a dropped connection, a 502/503/504: try again later,
nothing was lost), :class:`ServerFailed` (a 500: the backend failed on this very
request; a kind of ``Unreachable``, but a mutation that keeps failing is set aside) and
:class:`BackendRefused` (the backend answered no: a bad token, a conflict; retrying the
same request cannot help). A cursor older than the change log
raises :class:`RefetchNeeded`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import httpx
import msgspec
from httpx_sse import SSEError, aconnect_sse

from agentdesk.domain.presence import Seen

API_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
CHANGE_EVENT = "change"
"""The live stream's event whose id is the backend's new head; any other (the keepalive) only says it is alive."""


class Unreachable(Exception):
    """The backend could not be reached or did not answer; the request may be repeated as it is."""


class ServerFailed(Unreachable):
    """The backend failed on this request (500): another request may succeed, this one may fail again.

    A pull treats it as any ``Unreachable``; a mutation is tried again a bounded number of
    times and then set aside, so it cannot block the outbox behind it.
    """


UNAVAILABLE = frozenset({502, 503, 504})
"""Answers that say the backend (or a proxy before it) is unavailable, not that this request is at fault."""


class BackendRefused(Exception):
    """The backend answered with a refusal (4xx); the message is its one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RefetchNeeded(Exception):
    """The pull cursor is older than the backend's change log keeps: fetch a snapshot instead."""


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if isinstance(detail, str) and detail:
        return detail.splitlines()[0]
    if isinstance(detail, list) and detail:  # FastAPI's validation errors
        first = detail[0]
        return f"{'.'.join(map(str, first.get('loc', ())))}: {first.get('msg', 'invalid')}"
    return f"{response.status_code} {response.reason_phrase}"


def _page(response: httpx.Response) -> Any:
    """A page of changes as ``response.json()`` reads it, in a third of the time: msgspec, unless the page holds
    what msgspec refuses and the standard library takes (a lone surrogate in a customer's text, a number out of
    range), which the page's records are then judged with, one by one, as before."""
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return response.json()


class BackendClient:
    """One backend, one token. Use as ``async with BackendClient(url, token) as backend``."""

    def __init__(self, base_url: str, token: str, *, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: httpx.Timeout = API_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=timeout,
                                       headers={"Authorization": f"Bearer {token}"})

    async def __aenter__(self) -> BackendClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.base_url} cannot be reached ({type(exc).__name__})") from exc
        return self._checked(response)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code in UNAVAILABLE:
            raise Unreachable(f"{self.base_url} answered {response.status_code}")
        if response.status_code >= 500:
            raise ServerFailed(f"the backend failed on this request ({_detail(response)})")
        if response.status_code == 410:
            raise RefetchNeeded(_detail(response))
        if response.status_code >= 400:
            raise BackendRefused(response.status_code, _detail(response))
        return response

    async def me(self) -> dict[str, Any]:
        return (await self._request("GET", "/me")).json()

    async def push_mutations(self, mutations: Iterable[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """Each mutation's answer, in order: a result, or ``{"id", "status": 403 or 422, "detail"}`` for one the
        backend will never take."""
        body = {"mutations": [{"id": ident, "body": mutation} for ident, mutation in mutations]}
        results: list[dict[str, Any]] = (await self._request("POST", "/mutations/batch", json=body)).json()["results"]
        return results

    async def changes(self, after: int, limit: int = 5000) -> dict[str, Any]:
        return _page(await self._request("GET", "/changes", params={"after": after, "limit": limit}))

    async def report_set_aside(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Tell the backend's log about changes this workstation could not apply (``type``, ``id``, ``seq``,
        ``reason``)."""
        await self._request("POST", "/reports/set-aside", json={"items": list(items)})

    async def put_presence(self, customer: str | None, typing: bool) -> None:
        await self._request("PUT", "/presence", json={"customer": customer, "typing": typing})

    async def delete_presence(self) -> None:
        await self._request("DELETE", "/presence")

    async def presence(self) -> list[Seen]:
        """Who has which customer open, as the backend says now."""
        return [Seen(e["user"], e["name"], e.get("customer"), bool(e.get("typing")))
                for e in (await self._request("GET", "/presence")).json()]

    async def upload(self, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        return (await self._request("POST", "/records", json={"records": list(records)})).json()

    async def snapshot(self) -> AsyncIterator[dict[str, Any]]:
        """Every record the backend holds, after a first ``{"cursor": N}`` line."""
        try:
            async with self._http.stream("GET", "/snapshot", timeout=httpx.Timeout(None, connect=5.0)) as response:
                if response.status_code >= 400:
                    await response.aread()
                    self._checked(response)
                async for line in response.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.base_url} cannot be reached ({type(exc).__name__})") from exc

    async def events(self, last_event_id: int | None) -> AsyncIterator[int | None]:
        """The live stream: yields the backend's newest cursor at each change, and None at each keepalive.

        Ends (or raises :class:`Unreachable`) when the connection drops; call again with
        the last cursor seen and the backend replays what was missed.
        """
        headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
        try:
            async with aconnect_sse(self._http, "GET", "/events", headers=headers,
                                    timeout=httpx.Timeout(None, connect=5.0)) as source:
                if source.response.status_code >= 400:
                    await source.response.aread()
                    self._checked(source.response)
                yield None  # connected
                async for event in source.aiter_sse():
                    yield int(event.id) if event.event == CHANGE_EVENT else None
        except SSEError as exc:  # an answer that is no event stream: a proxy's page, not our backend
            raise Unreachable(f"{self.base_url} did not answer with an event stream") from exc
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.base_url} cannot be reached ({type(exc).__name__})") from exc
