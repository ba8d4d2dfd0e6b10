"""``python -m benchmarks [--quick] [--only NAME …] [--repeat N]``: run the benchmarks, print one table."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.stats import table
from benchmarks.workspace import FULL, QUICK, Workspace

BENCHMARKS = {
    # name: module; the demo build runs first and leaves behind the store the pty benchmarks open
    "demo_build": "benchmarks.demo_build",
    "cold_start": "benchmarks.cold_start",
    "peak_rss": "benchmarks.peak_rss",
    "timeline": "benchmarks.timeline",
    "import_rate": "benchmarks.import_rate",
    "decision_commit": "benchmarks.decision_commit",
    "decision_paint": "benchmarks.decision_paint",
    "sync_initial": "benchmarks.sync_initial",
    "push_rate": "benchmarks.push_rate",
    "webhook_rate": "benchmarks.webhook_rate",
    "live_latency": "benchmarks.live_latency",
    "floor_read": "benchmarks.floor_read",
    "floor_paint": "benchmarks.floor_paint",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, mostly one repeat: a smoke run")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="runs of each measured and each baseline operation (default: per benchmark)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="agentdesk-bench-") as scratch:
        workspace = Workspace(Path(scratch), QUICK if args.quick else FULL, args.repeat)
        for name, module in BENCHMARKS.items():
            if args.only and name not in args.only:
                continue
            print(f"running {name} …", file=sys.stderr, flush=True)
            results += importlib.import_module(module).bench(workspace)
    print(table(results))
    for result in results:
        for note in result.notes:
            print(f"note: {note}")
    missed = [result.name for result in results if not result.met]
    print(f"targets missed: {', '.join(missed) if missed else 'none'}"
          f" (judged on medians unless the target names p95; ratio = ours / baseline)")
    print(f"total time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
