"""Migrations: a store built at an earlier revision upgrades to head with nothing lost."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from agentdesk.domain.model import Decision
from agentdesk.store.files import HEAD_REVISION, create_private_file
from agentdesk.store.migrate import upgrade

FIRST = "0001_core"
WAITING_DECISIONS_PROMISES = "0002_waiting_decisions_promises"


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


def _dump(path: Path, table: str, columns: str = "*") -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT {columns} FROM {table} ORDER BY 1").fetchall()
    finally:
        con.close()


def _columns(path: Path, table: str) -> str:
    con = sqlite3.connect(path)
    try:
        return ", ".join(row[1] for row in con.execute(f"PRAGMA table_info({table})"))
    finally:
        con.close()


def test_upgrade_from_first_revision_keeps_everything_and_fills_waiting(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    create_private_file(path)
    upgrade(path, FIRST)
    counts = _fill_first_revision(path)
    columns = {table: _columns(path, table) for table in counts}  # later revisions add columns
    before = {table: _dump(path, table) for table in counts}

    upgrade(path)

    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD_REVISION
    for table in counts:
        assert _dump(path, table, columns[table]) == before[table], f"{table} changed in the upgrade"
    waiting = con.execute(
        "SELECT customer_id, since_us, channels, unanswered FROM waiting ORDER BY customer_id"
    ).fetchall()
    con.close()
    expected = sorted((f"c-{n}", 2_000_000, "chat,sms", 2) for n in range(50) if n % 2)
    assert sorted((c, s, ",".join(sorted(ch.split(","))), u) for c, s, ch, u in waiting) == expected


# The partial index over a reply's delivery state is on an expression, which SQLAlchemy does not reflect:
# test_query_plans shows that the watcher's look for queued replies searches it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_schema_matches_the_sqlmodel_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from agentdesk.store import tables  # registers the tables

    path = tmp_path / "head.sqlite3"
    create_private_file(path)
    upgrade(path)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": tables.described_here})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def _store_at_0002_with_decisions(path: Path) -> None:
    create_private_file(path)
    upgrade(path, WAITING_DECISIONS_PROMISES)
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("INSERT INTO agent (id, name, role) VALUES ('a-7', 'Jonas Weber', 'agent')")
    con.executemany(
        "INSERT INTO customer (id, name, timezone) VALUES (?, ?, ?)",
        [("c-1", "Petra Lindner", "Europe/Berlin"), ("c-2", "Ole Brandt", None)],
    )
    con.execute(
        "INSERT INTO support_case (id, customer_id, subject, status, opened_at_us, opened_at_offset_s)"
        " VALUES ('k-1', 'c-1', 'Invoice', 'open', 0, 3600)"
    )
    con.executemany(
        "INSERT INTO decision (id, customer_id, case_id, kind, amount, currency, agent_id, at_us, at_offset_s,"
        " state, reason) VALUES (?, ?, ?, ?, ?, ?, 'a-7', ?, 7200, ?, ?)",
        [
            ("d-1", "c-1", "k-1", "refund", "39.90", "EUR", 1_000_000, "confirmed", "double charge"),
            ("d-2", "c-2", None, "callback", None, None, 2_000_000, "queued", None),
            ("d-3", "c-2", None, "note", None, None, 3_000_000, "confirmed", "called, no answer"),
        ],
    )
    con.execute(
        "INSERT INTO promise (id, decision_id, customer_id, what, due_us, due_offset_s, state)"
        " VALUES ('p-1', 'd-1', 'c-1', 'refund 39.90 EUR', 9000000, 7200, 'open')"
    )
    con.commit()
    con.close()


def test_upgrade_from_0002_gives_every_decision_its_timeline_line(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _store_at_0002_with_decisions(path)
    decisions_before = _dump(path, "decision")

    upgrade(path)

    assert _dump(path, "decision", _columns_at_0002_of_decision()) == decisions_before
    lines = _dump(
        path, "timeline_entry",
        "id, customer_id, case_id, kind, channel, direction, at_us, at_offset_s, author, body, event_kind, decision_id",
    )
    assert lines == [
        ("decision:d-1", "c-1", "k-1", "decision", None, "internal", 1_000_000, 7200, "a-7",
         "refund 39.90 EUR · double charge", "refund", "d-1"),
        ("decision:d-2", "c-2", None, "decision", None, "internal", 2_000_000, 7200, "a-7",
         "callback", "callback", "d-2"),
        ("decision:d-3", "c-2", None, "decision", None, "internal", 3_000_000, 7200, "a-7",
         "note · called, no answer", "note", "d-3"),
    ]
    assert _dump(path, "waiting") == []  # decision lines are internal: nobody starts waiting


def _columns_at_0002_of_decision() -> str:
    return "id, customer_id, case_id, kind, amount, currency, agent_id, at_us, at_offset_s, state, reason, extra"


def test_audit_is_append_only(tmp_path: Path) -> None:
    path = tmp_path / "head.sqlite3"
    create_private_file(path)
    upgrade(path)
    con = sqlite3.connect(path)
    con.execute("INSERT INTO customer (id, name) VALUES ('c-1', 'Petra Lindner')")
    con.execute(
        "INSERT INTO audit (id, at_us, at_offset_s, actor, action, customer_id, detail)"
        " VALUES ('au-1', 0, 3600, 'a-7', 'refused', 'c-1', 'over the limit')"
    )
    con.commit()
    with pytest.raises(sqlite3.IntegrityError, match="audit is append-only"):
        con.execute("UPDATE audit SET detail = 'nothing to see' WHERE id = 'au-1'")
    with pytest.raises(sqlite3.IntegrityError, match="audit is append-only"):
        con.execute("DELETE FROM audit")
    assert con.execute("SELECT id, detail FROM audit").fetchall() == [("au-1", "over the limit")]
    con.close()


def test_downgrade_to_0002_and_back(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _store_at_0002_with_decisions(path)
    upgrade(path)

    _downgrade(path, WAITING_DECISIONS_PROMISES)
    assert _columns(path, "decision") == _columns_at_0002_of_decision()
    assert "decision_id" not in _columns(path, "timeline_entry")
    assert _dump(path, "timeline_entry") == []
    upgrade(path)
    assert [row[0] for row in _dump(path, "timeline_entry", "id")] == ["decision:d-1", "decision:d-2", "decision:d-3"]


def _downgrade(path: Path, revision: str) -> None:
    """Downgrades rebuild tables, which SQLite allows only with foreign keys off (so not ``sync_engine``)."""
    from alembic import command

    from agentdesk.store.migrate import alembic_config

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------
# 0006: the outbox's waiting rows become the mutations they were pushed as

SET_ASIDE = "0005_set_aside"


def _old_mutation_body(kind: str, body: dict) -> dict:
    """What sync pushed for an outbox row before 0006 (``sync.mutations.mutation_body`` of that time)."""
    from agentdesk.interchange.codec import to_json_obj
    from agentdesk.store.convert import decision_from_row, from_columns, promise_from_row

    if kind == "decline":
        return {"kind": "decline", "escalation": body["escalation"], "reason": body["reason"],
                "at": from_columns(body["at_us"], body["at_offset_s"]).isoformat()}
    promise = body.get("promise")
    mutation = {"kind": kind, "decision": to_json_obj(decision_from_row(body["decision"])),
                "promise": to_json_obj(promise_from_row(promise)) if promise is not None else None}
    if kind == "approve":
        mutation["escalation"] = body["escalation"]
    return mutation


def _store_at_0005_with_waiting_mutations(path: Path) -> list[tuple[str, str]]:
    """Decisions queued by the old ledger: a refund with its promise, an approval, a callback and a decline."""
    from agentdesk.store import rows
    from tests.test_writer import AGENT, APPROVING, CASE, CUSTOMER, DECISION, ESCALATION, PROMISE, at

    create_private_file(path)
    upgrade(path, SET_ASIDE)
    lead = replace(AGENT, id="a-9", name="Mira Scholz", role="lead", extra={})
    callback = Decision(id="d-4", customer="c-1", kind="callback", agent="a-7", at=at(50), state="queued",
                        scheduled=at(600, timezone(timedelta(hours=-4))), phone="+49 170 555 0199",
                        reason="Rückruf ✓", extra={"screen": "customer"})
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA foreign_keys = ON")
    rows.insert_many(con, [AGENT, lead, CUSTOMER, CASE, replace(DECISION, state="queued"), PROMISE, ESCALATION,
                           APPROVING, callback])

    def stored(table: str, ident: str) -> dict:
        return dict(con.execute(f"SELECT * FROM {table} WHERE id = ?", (ident,)).fetchone())

    bodies = [
        ("decision", {"decision": stored("decision", "d-1"), "promise": stored("promise", "p-1")}),
        ("approve", {"decision": stored("decision", "d-3"), "promise": None, "escalation": "d-2"}),
        ("decision", {"decision": stored("decision", "d-4"), "promise": None}),
        ("decline", {"escalation": "d-2", "agent": "a-9", "reason": "schon erledigt",
                     "at_us": 1_784_000_000_000_000, "at_offset_s": -14_400}),
    ]
    old = [(kind, json.dumps(body, ensure_ascii=False, sort_keys=True)) for kind, body in bodies]
    con.executemany("INSERT INTO outbox (id, kind, body, created_at_us) VALUES (?, ?, ?, ?)",
                    [(f"m-{n}", kind, body, 1_785_000_000_000_000 + n) for n, (kind, body) in enumerate(old)])
    con.commit()
    con.close()
    return old


def test_upgrade_to_0006_freezes_waiting_mutations_as_they_were_pushed(tmp_path: Path) -> None:
    from agentdesk.store.outbox import waiting
    from agentdesk.sync.mutations import mutation_body

    path = tmp_path / "old.sqlite3"
    old = _store_at_0005_with_waiting_mutations(path)
    pushed_before = [_old_mutation_body(kind, json.loads(body)) for kind, body in old]

    upgrade(path)

    con = sqlite3.connect(path)
    try:
        items = waiting(con)
    finally:
        con.close()
    assert [mutation_body(item) for item in items] == pushed_before
    assert [item.id for item in items] == ["m-0", "m-1", "m-2", "m-3"]
    callback = pushed_before[2]["decision"]
    assert callback["reason"] == "Rückruf ✓" and callback["screen"] == "customer"


def test_downgrade_from_0006_gives_the_rows_back(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = _store_at_0005_with_waiting_mutations(path)
    upgrade(path)

    _downgrade(path, SET_ASIDE)

    restored = _dump(path, "outbox", "seq, kind, body")
    assert [(kind, json.loads(body)) for _, kind, body in restored] == [
        (kind, json.loads(body) | ({"agent": None} if kind == "decline" else {})) for kind, body in old]
    upgrade(path)
    assert [json.loads(body)["kind"] for _, body in _dump(path, "outbox", "seq, body")] == [kind for kind, _ in old]


# ---------------------------------------------------------------------------
# 0007: phone keys become E.164

OUTBOX_MUTATIONS = "0006_outbox_mutations"


def test_upgrade_to_0007_keys_phones_in_e164_read_in_the_customers_country(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    create_private_file(path)
    upgrade(path, OUTBOX_MUTATIONS)
    con = sqlite3.connect(path)
    # The keys as the store wrote them before: the digits, a leading "+" kept.
    con.executemany(
        "INSERT INTO customer (id, name, phone, phone_key, location, timezone) VALUES (?, ?, ?, ?, ?, ?)",
        [("c-1", "Lena Vogel", "0151 5550142", "01515550142", "Berlin, DE", None),
         ("c-2", "Anna Roth", "040 5550199", "0405550199", None, "Europe/Berlin"),
         ("c-3", "Sam Doe", "+1 (212) 555-0100", "+12125550100", "New York", None),
         ("c-4", "Ohne Land", "0151 5550142", "01515550142", None, None),
         ("c-5", "Ohne Telefon", None, None, "Berlin, DE", None)])
    con.commit()
    con.close()

    upgrade(path)

    keys = _dump(path, "customer", "id, phone_key")
    assert keys == [("c-1", "+491515550142"), ("c-2", "+49405550199"), ("c-3", "+12125550100"),
                    ("c-4", "01515550142"), ("c-5", None)]
    _downgrade(path, OUTBOX_MUTATIONS)
    assert _dump(path, "customer", "id, phone_key") == [
        ("c-1", "01515550142"), ("c-2", "0405550199"), ("c-3", "+12125550100"), ("c-4", "01515550142"),
        ("c-5", None)]
