"""The demo store: built from a seed, rebuilt at will, never over a real store."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentdesk.demo.build import build_demo
from agentdesk.store.files import StoreError

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
SMALL = dict(bulk_customers=60, bulk_interactions=3000, heavy_customers=1, heavy_entries=1000)


def _counts(path: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(path)
    try:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("customer", "timeline_entry", "waiting"))
    finally:
        con.close()


async def test_rebuilding_gives_the_same_store(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    report = await build_demo(path, seed=3, now=NOW, **SMALL)
    assert not report.errors
    first = _counts(path)
    assert first[0] >= 60 and first[1] >= 3000 and first[2] > 0
    await build_demo(path, seed=3, now=NOW, **SMALL)
    assert _counts(path) == first


async def test_a_real_store_is_never_overwritten(store_path: Path) -> None:
    with pytest.raises(StoreError, match="not a demo"):
        await build_demo(store_path, seed=3, now=NOW, **SMALL)
    assert store_path.exists()


def test_the_demo_command_builds_the_full_demo(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "agentdesk", "demo", "--build-only", "--db", str(path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert any(" records: " in line and line.endswith(" s") for line in result.stderr.splitlines())  # "… in 6.1 s"
    customers, entries, waiting = _counts(path)
    assert customers >= 2000 and entries >= 200_000
    assert 0.05 * customers <= waiting <= 0.25 * customers


def test_the_demo_says_whom_to_sign_in_as_and_how_other_commands_find_it(tmp_path) -> None:
    import subprocess
    import sys

    store = tmp_path / "demo.sqlite3"
    done = subprocess.run([sys.executable, "-m", "agentdesk", "demo", "--build-only", "--db", str(store)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "  --as a-2   Markus Brandt · a team lead" in done.stderr
    assert "  --as a-1   Katrin Hoffmann · the supervisor: add --read-only" in done.stderr
    assert f"agentdesk --db {store} queue" in done.stderr
    queue = subprocess.run([sys.executable, "-m", "agentdesk", "--db", str(store), "queue"], capture_output=True,
                           text=True, timeout=120)
    assert queue.returncode == 0 and "Petra Lindner" in queue.stdout
