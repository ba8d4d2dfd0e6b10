"""Migrations: a store built at the first revision upgrades to head with nothing lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from agentdesk.store.files import HEAD_REVISION, create_private_file
from agentdesk.store.migrate import upgrade

FIRST = "0001_core"


def _fill_first_revision(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = ON")
    con.executemany(
        "INSERT INTO agent (id, name, role) VALUES (?, ?, ?)",
        [("a-1", "Jonas Weber", "agent"), ("a-2", "Mira Scholz", "lead")],
    )
    customers = [(f"c-{n}", f"Kunde {n}", "a-1" if n % 2 else "a-2") for n in range(50)]
    con.executemany("INSERT INTO customer (id, name, owner) VALUES (?, ?, ?)", customers)
    con.executemany(
        "INSERT INTO support_case (id, customer_id, subject, status, opened_at_us, opened_at_offset_s,"
        " disputed_amount, currency) VALUES (?, ?, 'Rechnung', 'open', 0, 3600, '39.90', 'EUR')",
        [(f"k-{n}", f"c-{n}") for n in range(50)],
    )
    entries = []
    for n in range(50):
        # Even customers: question then answer (answered). Odd ones: answer then two questions (waiting).
        directions = ["in", "out"] if n % 2 == 0 else ["out", "in", "in"]
        channels = ["email", "chat", "sms"]
        for i, direction in enumerate(directions):
            entries.append((f"i-{n}-{i}", f"c-{n}", f"k-{n}", "interaction", channels[i], direction,
                            1_000_000 * (i + 1), 7200, "x", f"body {n} {i} ✓"))
        entries.append((f"e-{n}", f"c-{n}", None, "event", None, "internal", 500, 0, "a-1", "note"))
    con.executemany(
        "INSERT INTO timeline_entry (id, customer_id, case_id, kind, channel, direction, at_us,"
        " at_offset_s, author, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        entries,
    )
    con.commit()
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("agent", "customer", "support_case", "timeline_entry")}
    con.close()
    return counts


def _dump(path: Path, table: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        con.close()


def test_upgrade_from_first_revision_keeps_everything_and_fills_waiting(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    create_private_file(path)
    upgrade(path, FIRST)
    counts = _fill_first_revision(path)
    before = {table: _dump(path, table) for table in counts}

    upgrade(path)

    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    for table in counts:
        assert _dump(path, table) == before[table], f"{table} changed in the upgrade"
    waiting = con.execute(
        "SELECT customer_id, since_us, channels, unanswered FROM waiting ORDER BY customer_id"
    ).fetchall()
    con.close()
    expected = sorted((f"c-{n}", 2_000_000, "chat,sms", 2) for n in range(50) if n % 2)
    assert sorted((c, s, ",".join(sorted(ch.split(","))), u) for c, s, ch, u in waiting) == expected


def test_migrated_schema_matches_the_sqlmodel_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from agentdesk.store import tables  # noqa: F401 - registers the tables

    path = tmp_path / "head.sqlite3"
    create_private_file(path)
    upgrade(path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == []
