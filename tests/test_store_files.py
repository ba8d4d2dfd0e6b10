"""Opening a store: private file, WAL, foreign keys, migrations only when behind."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agentdesk.store.files import HEAD_REVISION, StoreError, prepare_store
from agentdesk.store.reader import StoreReader


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_store_and_its_journal_are_private(tmp_path: Path) -> None:
    path = prepare_store(tmp_path / "deep" / "store.sqlite3")
    assert _mode(path) == 0o600
    con = sqlite3.connect(path)
    con.execute("INSERT INTO agent (id, name, role) VALUES ('a-1', 'Ada', 'agent')")
    con.commit()
    wal = Path(f"{path}-wal")
    assert wal.exists() and _mode(wal) == 0o600
    con.close()


def test_store_is_in_wal_mode_at_head(store_path: Path) -> None:
    con = sqlite3.connect(store_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    con.close()


async def test_reader_connections_enforce_foreign_keys(store_path: Path) -> None:
    async with StoreReader.open(store_path) as reader:
        async with reader._db.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone())[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            await reader._db.execute(
                "INSERT INTO customer (id, name, owner) VALUES ('c-1', 'Bo', 'nobody')"
            )


def test_head_revision_constant_matches_migrations() -> None:
    from alembic.script import ScriptDirectory

    from agentdesk.store.migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_opening_a_current_store_does_not_import_alembic_or_sqlalchemy(store_path: Path) -> None:
    code = (
        "import sys; from agentdesk.store.files import prepare_store; "
        f"prepare_store({str(store_path)!r}); "
        "print(sorted(m for m in ('alembic', 'sqlalchemy', 'sqlmodel', 'pydantic') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_file_that_is_not_a_store_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not sqlite at all, just some text\n" * 200)
    with pytest.raises(StoreError) as error:
        prepare_store(path)
    assert "not an agentdesk store" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_path_with_url_characters_is_migrated_in_place(tmp_path: Path) -> None:
    path = prepare_store(tmp_path / "odd name ?#.sqlite3")
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [path.name]
