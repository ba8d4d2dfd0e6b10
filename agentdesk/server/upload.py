"""Uploading interchange records to a backend (``agentdesk import --server``), in batches.

Synchronous (httpx): the caller is a command that does nothing else meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from agentdesk.server.records import MAX_RECORDS


class UploadError(Exception):
    """The backend refused the upload or could not be reached; the message is one line."""


@dataclass
class UploadSummary:
    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    """``(index, reason)``: the position of a refused record in the uploaded iterable, from 0."""


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail).splitlines()[0] if detail else f"{response.status_code} {response.reason_phrase}"


def upload_records(url: str, token: str, records: Iterable[Mapping[str, Any]], batch: int = 2000, *,
                   transport: httpx.BaseTransport | None = None, timeout: float = 60.0) -> UploadSummary:
    """POST ``records`` to ``url``/records in batches of ``batch`` (admin token); what the backend said.

    Batches already sent stay stored when a later one fails (:class:`UploadError`);
    uploading again is harmless, the backend is idempotent by record id.
    """
    if not 1 <= batch <= MAX_RECORDS:
        raise ValueError(f"batch must be 1 to {MAX_RECORDS}")
    summary = UploadSummary()
    base = url.rstrip("/")
    with httpx.Client(base_url=base, transport=transport, timeout=timeout,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        pending: list[Mapping[str, Any]] = []
        offset = 0

        def send() -> None:
            nonlocal offset
            try:
                response = client.post("/records", json={"records": pending})
            except httpx.HTTPError as exc:
                raise UploadError(f"{base} cannot be reached ({type(exc).__name__})") from None
            if response.status_code != 200:
                raise UploadError(f"{base} refused the upload: {_detail(response)}")
            answer = response.json()
            summary.changed += answer["changed"]
            summary.unchanged += answer["unchanged"]
            summary.errors.extend((offset + error["index"], error["reason"]) for error in answer["errors"])
            offset += len(pending)
            pending.clear()

        for item in records:
            pending.append(item)
            if len(pending) >= batch:
                send()
        if pending:
            send()
    return summary
