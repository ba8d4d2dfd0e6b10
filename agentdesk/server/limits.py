"""How much the backend takes in one request, in one place.

:class:`BodyLimit` counts a body's bytes as they stream in (chunked uploads too) and
stops at its route's limit: 413, the limit named in ``detail``. A declared
Content-Length over the limit is answered before a byte is read. (Starlette's own
body limit answers a declared length in plain text, without the limit.) What one
record or one decision's text may hold is the codec's to check
(:mod:`agentdesk.domain.limits`), so a workstation refuses it before it is queued.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentdesk.domain.limits import MAX_FREE_TEXT_CHARS, MAX_RECORD_BYTES

__all__ = [
    "MAX_FREE_TEXT_CHARS",
    "MAX_RECORD_BYTES",
    "MAX_REQUEST_BYTES",
    "MAX_SEQ",
    "MAX_UPLOAD_BYTES",
    "BodyLimit",
    "body_limit",
    "too_large_detail",
]

MAX_REQUEST_BYTES = 1 << 20
"""Every request body, a mutation's included, unless its route allows more."""

MAX_UPLOAD_BYTES = 64 << 20
"""``POST /records``: its 5,000 records at some 13 KB each on average (one record alone may take up to
:data:`MAX_RECORD_BYTES`); bounded, because the whole body is parsed in memory."""

MAX_SEQ = (1 << 63) - 1
"""The largest cursor there can be: a seq is a signed 64-bit integer in both databases."""


def body_limit(method: str, path: str) -> int:
    """The most a request to ``method path`` may send."""
    return MAX_UPLOAD_BYTES if (method, path) == ("POST", "/records") else MAX_REQUEST_BYTES


def too_large_detail(limit: int) -> str:
    """``the request body is over the limit of 1 MiB (1,048,576 bytes)``."""
    return f"the request body is over the limit of {limit / (1 << 20):g} MiB ({limit:,} bytes)"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit; the app's HTTP error handler answers it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_detail(limit))


class BodyLimit:
    """ASGI middleware: every request body within :func:`body_limit`, counted while it streams in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await JSONResponse({"detail": too_large_detail(limit)}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)
