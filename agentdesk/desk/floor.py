"""The floor as the front ends read it: the store's facts (agents, queue, decisions of the day, escalations,
promises) and the backend's presence, put together by :func:`agentdesk.domain.floor.build_floor`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from agentdesk.desk.identity import BackendLink
from agentdesk.domain.authority import AuthorityMatrix
from agentdesk.domain.floor import Floor, build_floor
from agentdesk.domain.presence import Seen
from agentdesk.domain.queue import order_queue
from agentdesk.store.reader import StoreReader


def day_start(now: datetime, zone: tzinfo | None) -> datetime:
    """Midnight of ``now``'s day where the floor is watched (the machine's zone when None)."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def read_floor(reader: StoreReader, matrix: AuthorityMatrix | None, presence: Sequence[Seen] | None,
                     now: datetime, zone: tzinfo | None = None) -> Floor:
    start = day_start(now, zone)
    places = order_queue(await reader.waiting(now), now)
    escalations = await reader.waiting_escalations()
    promises = await reader.open_promises_by_owner()
    wanted = {p.waiting.customer_id for p in places} | {d.customer for d in escalations}
    wanted |= {s.customer for s in presence or () if s.customer}
    return build_floor(now=now, day_start=start, agents=await reader.agents(), matrix=matrix, presence=presence,
                       places=places, decisions_today=await reader.decisions_since(start),
                       replies_today=await reader.replies_sent_since(start), escalations=escalations,
                       open_promises=promises, names=await reader.customer_names(wanted))


async def backend_presence(link: BackendLink | None) -> tuple[list[Seen] | None, str | None]:
    """Who the backend says is present; ``(None, why not)`` without a token or an answer, ``(None, None)``
    without a backend (the floor itself says presence is unknown then)."""
    if link is None:
        return None, None
    token = link.find_token()
    if not token:
        return None, link.no_token
    from agentdesk.sync.client import BackendClient, BackendRefused, ServerFailed, Unreachable

    try:
        async with BackendClient(link.url, token) as backend:
            return await backend.presence(), None
    except (Unreachable, ServerFailed, BackendRefused) as exc:
        return None, f"presence unknown: {exc}"
