"""Uploading interchange records to the backend in batches (``agentdesk import --server``; an admin token)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdesk.sync.client import BackendClient

UPLOAD_BATCH = 2000
"""Records per request (the backend takes up to 5,000)."""


@dataclass
class UploadSummary:
    changed: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    """``(index, reason)``: the position of a refused record in the uploaded iterable, from 0."""


async def upload(backend: BackendClient, records: Iterable[Mapping[str, Any]],
                 batch: int = UPLOAD_BATCH, on_sent: Callable[[int], None] | None = None) -> UploadSummary:
    """Send ``records`` in batches; what the backend said, with error positions counted across batches.

    ``on_sent`` is told the size of each batch the backend has answered (for a progress display).

    Batches already sent stay stored when a later one fails (:class:`~agentdesk.sync.client.Unreachable`,
    :class:`~agentdesk.sync.client.BackendRefused`); uploading again is harmless, the backend is
    idempotent by record id.
    """
    summary = UploadSummary()
    pending: list[Mapping[str, Any]] = []
    offset = 0

    async def send() -> None:
        nonlocal offset
        answer = await backend.upload(pending)
        summary.changed += answer.get("changed", 0)
        summary.unchanged += answer.get("unchanged", 0)
        summary.errors.extend((offset + error["index"], error["reason"]) for error in answer.get("errors", ()))
        offset += len(pending)
        if on_sent is not None:
            on_sent(len(pending))
        pending.clear()

    for record in records:
        pending.append(record)
        if len(pending) >= batch:
            await send()
    if pending:
        await send()
    return summary
