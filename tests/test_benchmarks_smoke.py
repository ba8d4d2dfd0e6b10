"""``python -m benchmarks --quick`` runs every benchmark at tiny sizes and prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROWS = ("demo_build", "cold_start", "peak_rss", "timeline_open", "timeline_jump", "import_rate",
        "decision_commit", "decision_paint", "sync_initial", "push_rate", "push_rate_2", "webhook_rate", "live_latency",
        "live_latency_pg", "floor_read")
# push_rate, webhook_rate and live_latency_pg need PostgreSQL; without it their rows say "skipped" (and why, in a note).


@pytest.mark.longest
def test_quick_run_prints_every_benchmark() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,  # a hang guard: its time is in the slowest ten
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["benchmark", "unit"]
    for name in ROWS:
        assert any(line.startswith(name + " ") for line in lines), f"{name} missing from:\n{result.stdout}"
