"""The floor at contact-centre size: 200 agents and 2,000 waiting customers, on a real backend.

A real ``agentdesk serve`` (SQLite) holds the floor; a supervisor's workstation (``AgentDeskApp`` under
Pilot, read-only, syncing with the backend as it does in use) opens on the floor.

- ``floor_first_paint``: from the app's start until the floor list is painted with the floor on it (the
  first sync has brought every record before). Baseline, same run: an agent's app on the same store until
  its queue is painted, what every workstation's start already costs.
- ``floor_change_paint``: from an upload to the backend (one more waiting customer, ``POST /records``)
  until the floor's repainted list says one more is waiting: the live event, the pull, the store watch,
  the floor's read and the paint. Baseline, interleaved: the same upload until the backend's ``/events``
  stream announces it (``live_latency``'s measure), what any live view waits for anyway.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.backend import Server, add_users, upload_records
from benchmarks.stats import Result, Target
from benchmarks.workspace import Workspace

AGENTS, WAITING = 200, 2000
TIMEOUT = 60.0


def _records(agents: int, waiting: int) -> list[dict]:
    start = datetime.now(timezone.utc) - timedelta(hours=3)
    people = [{"type": "agent", "id": f"a-{n}", "name": f"Agent {n:03d}", "role": "agent"} for n in range(agents)]
    people.append({"type": "agent", "id": "sup", "name": "Floor Supervisor", "role": "supervisor"})
    customers = [{"type": "customer", "id": f"c-{n}", "name": f"Customer {n:04d}", "email": f"c{n}@example.net",
                  "timezone": "Europe/Berlin"} for n in range(waiting)]
    contacts = [{"type": "interaction", "id": f"i-{n}", "customer": f"c-{n}", "channel": "chat", "direction": "in",
                 "at": (start + timedelta(seconds=n)).isoformat(), "author": f"c-{n}", "body": "Hello?"}
                for n in range(waiting)]
    return people + customers + contacts


def _waiting_count(app) -> int | None:  # noqa: ANN001
    from agentdesk.tui.screens.floor import FloorScreen

    screen = app.screen
    if not isinstance(screen, FloorScreen):
        return None
    title = str(screen.floor.border_title or "")
    try:
        return int(title.split("·")[1].split()[0].replace(",", ""))
    except (IndexError, ValueError):
        return None


async def _until(pilot, condition, what: str) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + TIMEOUT
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"floor_paint: {what} not reached in {TIMEOUT:.0f} s")
        await pilot.pause(0.005)


async def _session(url: str, tokens: dict[str, str], store: Path, repeat: int, admin: str
                   ) -> tuple[list[float], list[float], list[float], list[float]]:
    import httpx

    from agentdesk.desk.identity import BackendLink
    from agentdesk.sync.client import BackendClient
    from agentdesk.sync.engine import Syncer
    from agentdesk.sync.replica import Replica
    from agentdesk.tui.app import AgentDeskApp

    async with Replica.open(store) as replica, BackendClient(url, tokens["sup"]) as client:
        await Syncer(replica, client).once()  # the first sync, untimed: the floor is about what comes after
    first, queue, change, event = [], [], [], []
    for _ in range(2):
        started = time.perf_counter()
        agent = AgentDeskApp(store, "a-0", clock=lambda: datetime.now(timezone.utc))
        async with agent.run_test(size=(160, 50)) as pilot:
            await asyncio.wait_for(agent.queue_painted.wait(), TIMEOUT)
            queue.append((time.perf_counter() - started) * 1000)
            await pilot.pause()
        started = time.perf_counter()
        supervisor = AgentDeskApp(store, "sup", read_only=True, clock=lambda: datetime.now(timezone.utc),
                                  backend=BackendLink(url, lambda: tokens["sup"], user="sup"))
        async with supervisor.run_test(size=(160, 50)) as pilot:
            await _until(pilot, lambda app=supervisor: _waiting_count(app) is not None, "the floor's first paint")
            await supervisor.screen.floor.wait_painted()
            first.append((time.perf_counter() - started) * 1000)
            if len(change) >= repeat:
                continue
            async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {admin}"},
                                         timeout=30) as http:
                for n in range(repeat + 1):
                    before = _waiting_count(supervisor)
                    assert before is not None
                    new = f"x-{n}-{time.time_ns()}"
                    started = time.perf_counter()
                    answer = await http.post("/records", json={"records": [
                        {"type": "customer", "id": new, "name": f"New {n}", "timezone": "Europe/Berlin"},
                        {"type": "interaction", "id": f"i-{new}", "customer": new, "channel": "chat",
                         "direction": "in", "at": datetime.now(timezone.utc).isoformat(), "author": new,
                         "body": "Hello?"}]})
                    answer.raise_for_status()
                    posted = time.perf_counter()
                    await _until(pilot, lambda app=supervisor, before=before: _waiting_count(app) == before + 1,
                                 "the repainted floor")
                    await supervisor.screen.floor.wait_painted()
                    if n:  # the first warms the path up
                        change.append((time.perf_counter() - started) * 1000)
                        event.append((posted - started) * 1000)
    return first, queue, change, event


def bench(workspace: Workspace) -> list[Result]:
    quick = workspace.sizes.repeat.get("floor_paint", 10) < 5
    agents, waiting = (20, 200) if quick else (AGENTS, WAITING)
    database = str(workspace.root / "floor_paint_server.db")
    tokens = add_users(database, [("admin", "admin"), ("sup", "supervisor"), ("a-0", "agent")])
    with Server(database) as server:
        summary = upload_records(server.url, tokens["admin"], _records(agents, waiting))
        if summary.errors:
            raise RuntimeError(f"floor_paint: upload: {summary.errors[:3]}")
        first, queue, change, posted = asyncio.run(_session(server.url, tokens, workspace.root / "floor.sqlite3",
                                                            workspace.repeat("floor_paint"), tokens["admin"]))
    note = (f"floor_paint: {agents} agents, {waiting:,} waiting customers on a real serve (SQLite); the supervisor's "
            "app syncs live; change = POST /records of one more waiting customer until the floor repaints "
            "(baseline: the POST's own round trip)")
    return [Result("floor_first_paint", "ms", first, queue, Target.p95_at_most(3000, "ms"), notes=[note]),
            Result("floor_change_paint", "ms", change, posted, Target.p95_at_most(2000, "ms"))]
