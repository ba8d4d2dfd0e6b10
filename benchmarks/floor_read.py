"""The floor read: what the supervisor's floor reads from the store at every change, on the demo store.

Measured: :func:`agentdesk.desk.floor.read_floor` (agents, the queue in fair order, today's decisions,
replies sent, escalations waiting, open promises by owner, the customers' names) with everyone present.
The floor follows the backend live: an event reaches the workstation within ``live_latency``, the pull
commits, the app's store watch sees the commit within a second, and then this read runs; its p95 is
held to half a second so the floor shows a change within 2 s.

Baseline, interleaved in the same run: the queue's own read (the waiting list in fair order), which
the queue screen pays at every change already.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.stats import Result, Target
from benchmarks.workspace import Workspace

WARM_UP = 2


async def _run(store: Path, repeat: int) -> tuple[list[float], list[float], int]:
    from agentdesk.authority_file import demo_matrix
    from agentdesk.desk.floor import read_floor
    from agentdesk.domain.presence import Seen
    from agentdesk.domain.queue import order_queue
    from agentdesk.store.reader import StoreReader

    matrix = demo_matrix()
    ours: list[float] = []
    theirs: list[float] = []
    async with StoreReader.open(store) as reader:
        agents = await reader.agents()
        customers = [place.waiting.customer_id for place in order_queue(await reader.waiting(), datetime.now(
            timezone.utc))]
        presence = [Seen(agent.id, agent.name, customers[n % len(customers)] if customers else None, n % 3 == 0)
                    for n, agent in enumerate(agents)]
        for n in range(WARM_UP + repeat):
            now = datetime.now(timezone.utc)
            started = time.perf_counter()
            floor = await read_floor(reader, matrix, presence, now)
            took = time.perf_counter() - started
            started = time.perf_counter()
            order_queue(await reader.waiting(now), now)
            queue_took = time.perf_counter() - started
            if n >= WARM_UP:
                ours.append(took * 1000)
                theirs.append(queue_took * 1000)
    return ours, theirs, floor.queue_length


def bench(workspace: Workspace) -> list[Result]:
    store = workspace.demo_store()  # built before the loop starts (the build runs its own)
    samples, queue, waiting = asyncio.run(_run(store, workspace.repeat("floor_read")))
    note = (f"floor_read: read_floor() on the demo store ({waiting:,} waiting), every agent present; baseline: "
            "the queue's own read in fair order, interleaved")
    return [Result("floor_read", "ms", samples, queue, Target.p95_at_most(500, "ms"), notes=[note])]
