"""A store file's ``user_version``: a number SQLite keeps in the file header for the application.

The demo marks its store with it, so that only a demo store is ever rebuilt at will.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def read_user_version(path: Path) -> int | None:
    """The number in the file at ``path``; None when it is no SQLite database (or cannot be read)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError:
        return None
    finally:
        con.close()


def write_user_version(path: Path, value: int) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute(f"PRAGMA user_version = {int(value)}")
    finally:
        con.close()
