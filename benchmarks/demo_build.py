"""Demo build: ``build_demo`` of the default demo vs generating its records only."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace


def bench(workspace: Workspace) -> list[Result]:
    from agentdesk.demo.build import build_demo
    from agentdesk.demo.records import demo_records

    sizes = workspace.sizes.demo

    def measured() -> float:
        started = time.perf_counter()
        asyncio.run(build_demo(workspace.demo_path, **sizes))  # leaves the store the other benchmarks open
        return time.perf_counter() - started

    def baseline() -> float:
        started = time.perf_counter()
        deque(demo_records(**sizes), maxlen=0)
        return time.perf_counter() - started

    samples, generation = alternate(measured, baseline, workspace.repeat("demo_build"))
    return [Result("demo_build", "s", samples, generation, Target.below(30, "s"))]
