"""Shared fixtures: real SQLite store files in a temporary directory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import pytest

from agentdesk.store.files import prepare_store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """An empty store at the newest schema."""
    return prepare_store(tmp_path / "store.sqlite3")


@pytest.fixture
def make_store(tmp_path: Path) -> Callable[[Iterable[dict]], Awaitable[Path]]:
    """Build a store from interchange records through the real importer."""

    async def make(records: Iterable[dict], name: str = "store.sqlite3") -> Path:
        from agentdesk.interchange.load import load_records

        path = tmp_path / name
        report = await load_records(list(records), path)
        assert not report.errors, report.errors
        return path

    return make
