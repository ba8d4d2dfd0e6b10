"""Shared fixtures: real SQLite store files in a temporary directory, and a home of its own for every test."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import pytest

from agentdesk.store.files import prepare_store


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each worker starts with one of the longest tests: started last, one would keep its worker busy alone.

    pytest-xdist's ``worksteal`` gives each worker an equal run of consecutive tests (the first
    ``n // workers``, then the next share of the rest, and so on) and steals from the end of a run:
    so the longest tests go to the start of the runs.
    """
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    longest = [item for item in items if item.get_closest_marker("longest")]
    rest = [item for item in items if not item.get_closest_marker("longest")]
    ordered, left = [], len(items)
    for worker in range(workers):
        share = left // (workers - worker)
        left -= share
        firsts = longest[worker::workers]
        taken = max(share - len(firsts), 0) if worker < workers - 1 else len(rest)
        ordered += firsts + rest[:taken]
        rest = rest[taken:]
    items[:] = ordered


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings, data, saved login and keyring of the test's own, for it and the processes it starts.

    A developer's own login, settings or token must never change a result. The keyring is
    the one that stores nothing; a test that needs a real one chooses it explicitly.
    """
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("CONFIG", "DATA", "CACHE", "STATE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(home / name.lower()))
    for name in [name for name in os.environ if name.startswith("AGENTDESK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


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
