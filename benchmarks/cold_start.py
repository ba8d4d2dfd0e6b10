"""Cold start: the real ``agentdesk`` command to its first painted queue, vs a bare Textual app."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from agentdesk.demo.build import DEMO_AGENT
from benchmarks import pty_run
from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "alembic")
BARE_APP = Path(__file__).with_name("bare_app.py")
IMPORT_LINE = re.compile(rb"import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)")


def agentdesk_command(store: Path, *python_options: str) -> list[str]:
    """``agentdesk --db STORE --as a-7`` through the installed console script."""
    script = str(Path(sys.executable).parent / "agentdesk")
    return [sys.executable, *python_options, script, "--db", str(store), "--as", DEMO_AGENT]


def bare_command(*options: str) -> list[str]:
    return [sys.executable, str(BARE_APP), *options]


def ours_env() -> dict[str, str]:
    return pty_run.terminal_env(AGENTDESK_EXIT_AFTER_FIRST_PAINT="1")


def heavy_imports(store: Path) -> list[str]:
    """Heavy packages imported before the first paint (the app exits right after it)."""
    run = pty_run.run(agentdesk_command(store, "-X", "importtime"), ours_env()).succeeded("agentdesk")
    modules = {match.group(1).decode() for match in IMPORT_LINE.finditer(run.output)}
    return sorted({name.split(".")[0] for name in modules} & set(HEAVY))


def bench(workspace: Workspace) -> list[Result]:
    store = workspace.demo_store()
    ours = agentdesk_command(store)
    bare = bare_command()

    def measured() -> float:
        return pty_run.run(ours, ours_env()).succeeded("agentdesk").wall_s * 1000

    def baseline() -> float:
        return pty_run.run(bare, pty_run.terminal_env()).succeeded("bare app").wall_s * 1000

    alternate(measured, baseline, 1)  # warm-up: byte-code caches and the store's pages
    samples, bare_samples = alternate(measured, baseline, workspace.repeat("cold_start"))
    heavy = ", ".join(heavy_imports(store)) or "none"
    note = f"cold_start: heavy modules imported before the first paint (must be none): {heavy}"
    return [Result("cold_start", "ms", samples, bare_samples, Target.ratio_at_most(1.5), notes=[note])]
