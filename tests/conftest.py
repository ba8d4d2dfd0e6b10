"""Shared fixtures: real SQLite store files in a temporary directory, and a home of its own for every test."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import pytest

from agentdesk.store.files import prepare_store


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers a core. Most tests spend much of their time waiting (on a server
    process, a socket, a child ``agentdesk``), so one worker a core leaves the cores half idle:
    on 2 cores the suite took 305 s with 2 workers and 254 s with 4."""
    return 2 * (os.cpu_count() or 1)


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


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stores built once per session (per worker), by what they were built from; tests get copies."""
    return {"directory": tmp_path_factory.mktemp("templates")}


def _copy_store(template: Path, path: Path) -> Path:
    """The store file (with its write-ahead log, if any) copied to ``path``; the template stays untouched."""
    for suffix in ("", "-wal"):
        if (source := template.with_name(template.name + suffix)).exists():
            shutil.copy(source, path.with_name(path.name + suffix))  # with its mode: a store is 0600
    return path


@pytest.fixture
def store_path(tmp_path: Path, templates: dict[str, Path]) -> Path:
    """An empty store at the newest schema."""
    if "empty" not in templates:
        templates["empty"] = prepare_store(templates["directory"] / "empty.sqlite3")
    return _copy_store(templates["empty"], tmp_path / "store.sqlite3")


@pytest.fixture
def make_store(tmp_path: Path, templates: dict[str, Path]) -> Callable[[Iterable[dict]], Awaitable[Path]]:
    """Build a store from interchange records through the real importer.

    The same records make the same store: the first test to ask for it builds it, the others get a copy.
    """

    async def make(records: Iterable[dict], name: str = "store.sqlite3") -> Path:
        from agentdesk.interchange.load import load_records

        records = list(records)
        key = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
        if key not in templates:
            template = templates["directory"] / f"{key}.sqlite3"
            report = await load_records(records, template)
            assert not report.errors, report.errors
            templates[key] = template
        return _copy_store(templates[key], tmp_path / name)

    return make
