"""The one domain-to-row mapping: every column named once, rows in table order, plain inserts into a real store."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from agentdesk.store import rows
from agentdesk.store.convert import (
    agent_from_row,
    audit_from_row,
    case_from_row,
    customer_from_row,
    decision_from_row,
    entry_from_row,
    promise_from_row,
)
from agentdesk.store.files import CONNECTION_PRAGMAS, prepare_store
from tests.test_writer import AGENT, APPROVING, AUDIT, CASE, CUSTOMER, DECISION, ESCALATION, PROMISE, entry, event

STORE_PACKAGE = Path(__file__).parent.parent / "agentdesk" / "store"
EVERY_KIND = [AGENT, CUSTOMER, CASE, entry("i-1", 1, case="k-1", duration_s=5, wait_s=0, extra={"a": [1]}),
              event("e-1", 2), DECISION, ESCALATION, APPROVING, PROMISE, AUDIT]
FROM_ROW = {rows.AGENT: agent_from_row, rows.CUSTOMER: customer_from_row, rows.CASE: case_from_row,
            rows.TIMELINE: entry_from_row, rows.DECISION: decision_from_row, rows.PROMISE: promise_from_row,
            rows.AUDIT: audit_from_row}


@pytest.mark.parametrize("record", EVERY_KIND, ids=lambda record: record.id)
def test_the_row_follows_the_table_order(record) -> None:
    table, columns = rows.columns(record)
    assert list(columns) == list(rows.COLUMNS[table])
    assert rows.row(record) == (table, tuple(columns.values()))


@pytest.mark.parametrize("table", list(rows.ROW_BUILDERS))
def test_a_row_builder_puts_each_column_in_its_place(table: str) -> None:
    named = {column: f"value of {column}" for column in rows.COLUMNS[table]}
    assert rows.ROW_BUILDERS[table](**named) == tuple(named.values())


@pytest.mark.parametrize("record", EVERY_KIND, ids=lambda record: record.id)
def test_every_field_reaches_its_own_column(record) -> None:
    """Columns read back by name give the record again, so no value sits in another field's column."""
    table, columns = rows.columns(record)
    assert FROM_ROW[table](columns) == record


@pytest.fixture
def db(store_path: Path):
    connection = sqlite3.connect(store_path)
    connection.row_factory = sqlite3.Row
    for pragma in CONNECTION_PRAGMAS:
        connection.execute(pragma)
    yield connection
    connection.close()


def test_insert_and_insert_many_write_rows_that_read_back_as_the_records(db: sqlite3.Connection) -> None:
    rows.insert(db, AGENT)
    rows.insert_many(db, [CUSTOMER, CASE, entry("i-1", 1), event("e-1", 2), DECISION, ESCALATION, PROMISE,
                          APPROVING, AUDIT])
    db.commit()
    assert agent_from_row(db.execute("SELECT * FROM agent").fetchone()) == AGENT
    assert [decision_from_row(row) for row in db.execute("SELECT * FROM decision ORDER BY id")] == [
        DECISION, ESCALATION, APPROVING]
    assert [entry_from_row(row) for row in db.execute("SELECT * FROM timeline_entry ORDER BY id")] == [
        event("e-1", 2), entry("i-1", 1)]
    assert audit_from_row(db.execute("SELECT * FROM audit").fetchone()) == AUDIT
    assert promise_from_row(db.execute("SELECT * FROM promise").fetchone()) == PROMISE


def test_insert_is_a_plain_insert_so_a_second_write_of_an_id_fails(db: sqlite3.Connection) -> None:
    rows.insert(db, AGENT)
    with pytest.raises(sqlite3.IntegrityError):
        rows.insert(db, AGENT)


def test_an_insert_inside_the_callers_transaction_goes_with_its_rollback(tmp_path: Path) -> None:
    path = prepare_store(tmp_path / "store.sqlite3")
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    rows.insert_many(connection, [AGENT, CUSTOMER])
    connection.execute("ROLLBACK")
    assert connection.execute("SELECT count(*) FROM customer").fetchone() == (0,)
    connection.close()


def test_no_store_code_is_generated_and_executed() -> None:
    for source in STORE_PACKAGE.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        called = {node.func.id for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not called & {"exec", "eval", "compile"}, source.name


def test_the_mapping_loads_without_sqlalchemy() -> None:
    """The ledger inserts through it on the workstation's start-up path."""
    import subprocess
    import sys

    code = "import sys, agentdesk.store.rows; print('sqlalchemy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"

