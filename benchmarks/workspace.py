"""What the benchmarks share: their sizes, a scratch directory, and stores built once per run."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from agentdesk.store.files import prepare_store


@dataclass(frozen=True)
class Sizes:
    demo: dict[str, int]
    """Keyword sizes for ``demo_records`` / ``build_demo``."""
    import_customers: int
    import_interactions: int
    big_timeline: int
    small_timeline: int
    sync_customers: int
    sync_interactions: int
    """``sync_initial``: what the backend holds before the empty store pulls it."""
    push_clients: int
    push_per_client: int
    """``push_rate``: concurrent clients, and the decisions each has queued per run."""
    webhook_senders: int
    webhook_per_sender: int
    """``webhook_rate``: concurrent senders, and the signed messages each posts per run."""
    repeat: dict[str, int]
    """Default repeats per benchmark (each of the measured and the baseline runs)."""


FULL = Sizes(
    demo=dict(bulk_customers=2000, bulk_interactions=200_000, heavy_customers=3, heavy_entries=22_000),
    import_customers=2000,
    import_interactions=200_000,
    big_timeline=100_000,
    small_timeline=10,
    sync_customers=10_000,
    sync_interactions=1_000_000,
    push_clients=20,
    push_per_client=100,
    webhook_senders=20,
    webhook_per_sender=50,
    repeat={"cold_start": 10, "timeline": 10, "import_rate": 3, "peak_rss": 3, "demo_build": 3,
            "decision_commit": 300, "decision_paint": 40, "sync_initial": 2, "push_rate": 3,
            "live_latency": 50, "webhook_rate": 3, "floor_read": 30, "floor_paint": 10},
)

QUICK = Sizes(
    demo=dict(bulk_customers=40, bulk_interactions=2000, heavy_customers=1, heavy_entries=500),
    import_customers=20,
    import_interactions=2000,
    big_timeline=2000,
    small_timeline=10,
    sync_customers=20,
    sync_interactions=2000,
    push_clients=4,
    push_per_client=5,
    webhook_senders=4,
    webhook_per_sender=3,
    repeat={"cold_start": 1, "timeline": 1, "import_rate": 1, "peak_rss": 1, "demo_build": 1,
            "decision_commit": 20, "decision_paint": 3, "sync_initial": 1, "push_rate": 1,
            "live_latency": 3, "webhook_rate": 1, "floor_read": 3, "floor_paint": 2},
)


class Workspace:
    """A scratch directory and the stores several benchmarks use."""

    def __init__(self, root: Path, sizes: Sizes, repeat: int | None) -> None:
        self.root = root
        self.sizes = sizes
        self._repeat = repeat
        self._empty: Path | None = None

    def repeat(self, benchmark: str) -> int:
        return self._repeat or self.sizes.repeat[benchmark]

    @property
    def demo_path(self) -> Path:
        return self.root / "demo.sqlite3"

    def demo_store(self) -> Path:
        """The demo store, built on first use (the demo build benchmark leaves one behind)."""
        if not self.demo_path.exists():
            from agentdesk.demo.build import build_demo

            asyncio.run(build_demo(self.demo_path, **self.sizes.demo))
        return self.demo_path

    def demo_copy(self, name: str) -> Path:
        """A copy of the demo store that a benchmark may write to without changing what the others see."""
        source = self.demo_store()
        import sqlite3

        con = sqlite3.connect(source)
        try:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file before copying it
        finally:
            con.close()
        path = self.root / name
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, path)
        return path

    def fresh_store(self, name: str) -> Path:
        """An empty store at the newest schema (migrated once, then copied)."""
        if self._empty is None:
            self._empty = prepare_store(self.root / "empty.sqlite3")
        path = self.root / name
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self._empty, path)
        return path
