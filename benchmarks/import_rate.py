"""Import rate: ``load_jsonl`` (what ``agentdesk import FILE`` runs) vs raw ``executemany`` of its rows.

Both write into a fresh copy of an empty store at the newest schema (so no
migration is timed) with the store's own pragmas; the raw baseline gets the
rows already as tuples and writes them in one transaction, without ``waiting``.
"""

from __future__ import annotations

import asyncio
import json
import time

from benchmarks import synthetic
from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace


def bench(workspace: Workspace) -> list[Result]:
    from agentdesk.interchange.load import load_jsonl  # imported before timing, as the CLI has by then

    sizes = workspace.sizes
    customers = [synthetic.customer(n) for n in range(sizes.import_customers)]
    interactions = list(synthetic.interactions([c["id"] for c in customers], sizes.import_interactions,
                                               prefix="i"))
    records = [synthetic.agent(), *customers, *interactions]
    source = workspace.root / "import.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    agents = [synthetic.agent_row(records[0])]
    customer_rows = [synthetic.customer_row(c) for c in customers]
    entry_rows = [synthetic.entry_row(i) for i in interactions]

    def measured() -> float:
        store = workspace.fresh_store("import.sqlite3")
        started = time.perf_counter()
        with source.open("rb") as stream:
            report = asyncio.run(load_jsonl(stream, store))
        elapsed = time.perf_counter() - started
        if report.errors:
            raise RuntimeError(f"load_jsonl reported errors: {report.errors[:3]}")
        return len(records) / elapsed

    def baseline() -> float:
        store = workspace.fresh_store("raw.sqlite3")
        started = time.perf_counter()
        synthetic.insert_rows(store, agents, customer_rows, entry_rows)
        return len(records) / (time.perf_counter() - started)

    samples, raw = alternate(measured, baseline, workspace.repeat("import_rate"))
    note = f"import_rate: {len(records):,} records ({source.stat().st_size / 1e6:.1f} MB of JSONL) per run"
    return [Result("import_rate", "records/s", samples, raw, Target.share_at_least(0.5), rate=True,
                   notes=[note])]
