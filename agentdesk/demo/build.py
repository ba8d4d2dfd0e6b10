"""Build a fresh demo store: the product brief's stories plus generated bulk, and the demo's knowledge articles."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agentdesk.demo.records import demo_records
from agentdesk.interchange.articles import import_folder
from agentdesk.interchange.load import LoadReport, load_records
from agentdesk.store.files import StoreError
from agentdesk.store.user_version import read_user_version, write_user_version

DEMO_AGENT = "a-7"
"""Who the demo signs in as: the agent who owns the first story's customer."""

DEMO_MARK = 0x44454D4F  # "DEMO" in PRAGMA user_version: this file may be rebuilt at will

DEMO_KNOWLEDGE = Path(__file__).with_name("knowledge")
"""The demo's knowledge articles (Markdown), loaded as ``agentdesk knowledge import`` would."""


def _is_demo_store(path: Path) -> bool:
    return read_user_version(path) == DEMO_MARK


def _remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _mark_as_demo(path: Path) -> None:
    write_user_version(path, DEMO_MARK)


async def build_demo(path: Path, *, seed: int = 7, now: datetime | None = None, **sizes: int) -> LoadReport:
    """Replace ``path`` with a new demo store. Refuses to overwrite a store that is not a demo."""
    path = Path(path)
    if path.exists():
        if not _is_demo_store(path):
            raise StoreError(f"{path} holds a store that is not a demo; refusing to overwrite it")
        _remove_store(path)
    report = await load_records(demo_records(seed=seed, now=now, **sizes), path)
    articles = await import_folder(DEMO_KNOWLEDGE, path)
    if articles.refused:  # shipped with the package: a refusal is a defect of ours, not the user's
        raise StoreError(f"the demo's knowledge articles: {articles.refused[0]}")
    _mark_as_demo(path)
    return report
