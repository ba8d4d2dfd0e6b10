"""Every read of the workstation is an index search, so it stays fast with millions of rows.

The plans are printed with ``pytest -s``; the numbers at scale are in the benchmarks.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from agentdesk.store import reader, watching

QUERIES = {
    "timeline page (any position)": (reader.TIMELINE_PAGE_SQL, ("c-1", 200, 1000), "ix_timeline_customer_at"),
    "timeline page from the end": (reader.TIMELINE_PAGE_FROM_END_SQL, ("c-1", 200, 1000), "ix_timeline_customer_at"),
    "timeline count": (reader.TIMELINE_COUNT_SQL, ("c-1",), "ix_timeline_customer_at"),
    "timeline stream (keyset)": (reader.TIMELINE_STREAM_SQL, ("c-1", 0, "", 2000), "ix_timeline_customer_at"),
    "decisions of a customer": (reader.DECISIONS_SQL, ("c-1", 0), "ix_decision_customer_at"),
    "audit of a customer": (reader.AUDIT_SQL, ("c-1",), "ix_audit_customer_at"),
    "customer by e-mail": ("SELECT id FROM customer WHERE email_key = ?", ("a@b.c",), "ix_customer_email_key"),
    "customer by phone": ("SELECT id FROM customer WHERE phone_key = ?", ("+49170",), "ix_customer_phone_key"),
    "open cases": ("SELECT id FROM support_case WHERE customer_id = ? AND status IN ('open', 'pending')",
                   ("c-1",), "ix_case_customer_status"),
    "open promises, due first": ("SELECT id FROM promise WHERE state IN ('open', 'overdue') ORDER BY due_us",
                                 (), "ix_promise_state_due"),
    "an agent's queued replies": (watching.QUEUED_REPLIES, ("a-7",), "ix_timeline_entry_delivery"),
}


def _plan(path: Path, sql: str, params: tuple) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [row[-1] for row in con.execute("EXPLAIN QUERY PLAN " + sql, params)]
    finally:
        con.close()


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_searches_its_index(store_path: Path, name: str) -> None:
    sql, params, index = QUERIES[name]
    plan = _plan(store_path, sql, params)
    print(f"\n{name}:\n  " + "\n  ".join(plan))
    assert any(index in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan


def test_queue_scans_only_the_waiting_list(store_path: Path) -> None:
    plan = _plan(store_path, reader.QUEUE_SQL, ())
    print("\nqueue:\n  " + "\n  ".join(plan))
    scans = [step for step in plan if step.startswith("SCAN")]
    assert scans == ["SCAN w"], plan  # the waiting table itself: one row per waiting customer
    assert any("ix_promise_customer_state" in step for step in plan)
    assert any("ix_case_customer_status" in step for step in plan)


@pytest.mark.parametrize("sql", [reader.TIMELINE_PAGE_SQL, reader.TIMELINE_PAGE_FROM_END_SQL,
                                 reader.TIMELINE_STREAM_SQL])
def test_a_timeline_line_finds_its_decision_by_key(store_path: Path, sql: str) -> None:
    """The state of a decision's line is one primary-key look-up, made for the rows of the page only."""
    params = ("c-1", 0, "", 2000) if "(at_us, id) >" in sql else ("c-1", 200, 1000)
    plan = _plan(store_path, sql, params)
    assert any(step.startswith("CORRELATED SCALAR SUBQUERY") for step in plan), plan
    assert any("decision" in step and "(id=?)" in step for step in plan), plan


def test_callbacks_due_walk_open_promises_by_due_time_only(store_path: Path) -> None:
    plan = _plan(store_path, reader.CALLBACKS_DUE_SQL, (0,))
    print("\ncallbacks due:\n  " + "\n  ".join(plan))
    assert any("ix_promise_state_due (state=? AND due_us<?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan
