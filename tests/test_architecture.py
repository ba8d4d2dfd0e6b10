"""The layers stay apart: the domain and everything below the UI never import Textual, the front ends
reach the store through ``agentdesk.desk``, and SQL is written only in the store and the backend."""

from __future__ import annotations

import ast
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "agentdesk"
SQL_HOMES = ("store", "server")
"""The only packages whose modules may hold SQL text."""
SQL_START = re.compile(r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|WITH|CREATE|DROP|ALTER)\s", re.IGNORECASE)
NOT_SQL = ("syntax error", "incomplete input", "unrecognized token")
"""SQLite's words for text it cannot read as a statement; any other failure (no such table, a
missing binding) comes after the text was read as SQL."""


def is_sql(text: str) -> bool:
    """Does SQLite read ``text`` as a statement? Compiled with ``EXPLAIN`` on an empty database:
    nothing runs, and English that starts with ``Select``/``Update``/``Delete`` does not compile."""
    if not SQL_START.match(text):
        return False
    db = sqlite3.connect(":memory:")
    try:
        db.execute("EXPLAIN " + text)
    except sqlite3.OperationalError as error:
        return not any(words in str(error) for words in NOT_SQL)
    except (sqlite3.ProgrammingError, sqlite3.Warning):  # wrong number of bindings, more than one statement
        return True
    finally:
        db.close()
    return True


def sql_literals(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each string constant or f-string in ``source`` that SQLite reads as a statement
    (an f-string with ``x`` for each replacement field)."""
    tree = ast.parse(source)
    parts = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "x" for part in node.values)
        else:
            continue
        if is_sql(text):
            found.append((node.lineno, text))
    return sorted(found)


def test_sql_is_recognised_in_literals_and_f_strings_not_in_words() -> None:
    source = (
        'A = "SELECT id FROM decision WHERE agent_id = ?"\n'
        'B = f"UPDATE outbox SET attempts = {n}"\n'
        'C = "PRAGMA data_version"\n'
        'D = "select a customer from the queue, then update the list"\n'
        'E = "Delete the draft"\n'
        'F = "Update failed: the store is busy"\n'
        'G = f"DELETE FROM {table} WHERE id IN ({marks})"\n'
        'H = "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)"\n'
        '# SELECT id FROM decision  (a comment is no string)\n'
    )
    assert [line for line, _ in sql_literals(source)] == [1, 2, 3, 7, 8]


def test_sql_lives_only_in_the_store_and_the_backend() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in SQL_HOMES:
            continue
        for line, text in sql_literals(path.read_text(encoding="utf-8")):
            offenders.append(f"agentdesk/{relative}:{line}: {' '.join(text.split())[:80]}")
    assert offenders == []


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the test extra"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lower_layers_load_without_textual() -> None:
    modules = [
        "agentdesk.domain.model", "agentdesk.domain.queue", "agentdesk.domain.text",
        "agentdesk.store.reader", "agentdesk.store.writer", "agentdesk.store.migrate",
        "agentdesk.interchange.load", "agentdesk.interchange.dump", "agentdesk.demo.build",
        "agentdesk.desk.watch", "agentdesk.desk.identity", "agentdesk.desk.store", "agentdesk.plain.session",
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print('textual' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_the_desk_loads_without_the_orm_the_validation_library_or_the_network() -> None:
    """The workstation's start-up path goes through the desk: it must stay cheap (ARCHITECTURE.md, start-up budget)."""
    heavy = ("sqlalchemy", "sqlmodel", "pydantic", "alembic", "httpx", "keyring")
    code = (
        "import sys\n"
        "import agentdesk.desk.watch, agentdesk.desk.identity, agentdesk.desk.store, agentdesk.desk.errors\n"
        f"print(sorted(name for name in {heavy!r} if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
