"""The audit log is append-only in the database, hash-chained per tenant, and spools when down."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lynx_core.audit import AuditEvent, AuditLog
from lynx_core.audit.events import RunRecord
from lynx_core.audit.log import utc_now
from lynx_core.store.db import Database


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    db = Database(f"sqlite:///{tmp_path / 'lynx.sqlite'}")
    log = AuditLog(db, spool_path=tmp_path / "spool.jsonl")
    log.create_schema()
    yield log
    db.close()


def add_events(audit: AuditLog, tenant: str, count: int) -> list[str]:
    return [
        audit.append(AuditEvent(event_type="tool.succeeded", tenant_id=tenant, actor_id="usr_1",
                                tool_id="vpm.domain.unrecorded_payments.list", input={"n": i}, output={"rows": i}))
        for i in range(count)
    ]


def add_run(audit: AuditLog, tenant: str, run_id: str) -> None:
    now = utc_now()
    audit.append_run(RunRecord(run_id=run_id, tenant_id=tenant, user_id="usr_1", query="q", response="a",
                               status="completed", provider="offline", model="rules", started_at=now,
                               ended_at=now, tool_calls=1))


def direct_sql(db_path: Path, sql: str) -> None:
    """Run SQL on the database file with a plain connection, bypassing Lynx's code."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET output_json = '{}'",
        "DELETE FROM audit_events",
        "UPDATE lynx_runs SET status = 'failed'",
        "DELETE FROM lynx_runs",
        "INSERT OR REPLACE INTO audit_events SELECT * FROM audit_events",
        "INSERT OR REPLACE INTO lynx_runs SELECT * FROM lynx_runs",
    ],
)
def test_database_rejects_changes_to_audit_rows(audit: AuditLog, tmp_path: Path, sql: str) -> None:
    add_events(audit, "tnt_a", 1)
    add_run(audit, "tnt_a", "run_1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        direct_sql(tmp_path / "lynx.sqlite", sql)
    assert len(audit.db.query("SELECT * FROM audit_events")) == 1
    assert audit.db.query_one("SELECT status FROM lynx_runs")["status"] == "completed"


def test_unknown_event_type_is_rejected(audit: AuditLog) -> None:
    with pytest.raises(ValueError, match="Unknown audit event type"):
        audit.append(AuditEvent(event_type="tool.teleported", tenant_id="tnt_a", actor_id="usr_1"))


def test_chains_are_per_tenant_and_verify(audit: AuditLog) -> None:
    add_events(audit, "tnt_a", 3)
    add_events(audit, "tnt_b", 2)
    add_run(audit, "tnt_a", "run_1")
    rows = audit.db.query("SELECT tenant_id, chain_index, prev_hash, hash FROM audit_events ORDER BY seq")
    assert [r["chain_index"] for r in rows if r["tenant_id"] == "tnt_b"] == [0, 1]
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    report = audit.verify()
    assert report.ok
    assert report.rows_checked == 6


def tamper(db_path: Path, sql: str) -> None:
    """Change the database file behind Lynx's back, as someone with file access could."""
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("DROP TRIGGER audit_events_no_delete")
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_altered_row_is_caught_by_verification(audit: AuditLog, tmp_path: Path) -> None:
    ids = add_events(audit, "tnt_a", 4)
    tamper(tmp_path / "lynx.sqlite", f"UPDATE audit_events SET output_json = '{{\"rows\": 999}}' WHERE event_id = '{ids[2]}'")
    report = audit.verify("tnt_a")
    assert not report.ok
    assert report.first_broken is not None
    assert report.first_broken.record_id == ids[2]
    assert "altered" in report.first_broken.problem


def test_deleted_row_is_caught_by_verification(audit: AuditLog, tmp_path: Path) -> None:
    ids = add_events(audit, "tnt_a", 4)
    tamper(tmp_path / "lynx.sqlite", f"DELETE FROM audit_events WHERE event_id = '{ids[1]}'")
    report = audit.verify("tnt_a")
    assert not report.ok
    assert report.first_broken.record_id == ids[2]
    assert "missing" in report.first_broken.problem


def test_locked_database_spools_then_replays(tmp_path: Path) -> None:
    db_path = tmp_path / "lynx.sqlite"
    db = Database(f"sqlite:///{db_path}", busy_timeout_seconds=0.2)
    audit = AuditLog(db, spool_path=tmp_path / "spool.jsonl")
    audit.create_schema()
    add_events(audit, "tnt_a", 1)

    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    spooled_ids = add_events(audit, "tnt_a", 2)
    assert audit.spooled_count() == 2
    blocker.execute("ROLLBACK")
    blocker.close()

    add_events(audit, "tnt_a", 1)
    assert audit.spooled_count() == 0
    stored = [r["event_id"] for r in db.query("SELECT event_id FROM audit_events ORDER BY chain_index")]
    assert stored[1:3] == spooled_ids
    assert len(stored) == 4
    assert audit.verify("tnt_a").ok
    db.close()


def test_replay_skips_rows_already_stored(audit: AuditLog) -> None:
    row_ids = add_events(audit, "tnt_a", 1)
    stored = audit.db.query_one("SELECT * FROM audit_events WHERE event_id = ?", (row_ids[0],))
    audit._spool("audit_events", {k: stored[k] for k in stored if k not in ("seq", "hash")})
    assert audit.replay_spool() == 1
    assert len(audit.db.query("SELECT event_id FROM audit_events")) == 1


def test_torn_spool_line_set_aside(audit: AuditLog, tmp_path: Path) -> None:
    audit.spool_path.write_text('{"table": "audit_events", "row": {"event_id": "evt_x"\n')
    event_id = audit.append(AuditEvent(event_type="tool.succeeded", tenant_id="tnt_a", actor_id="usr_1"))
    assert audit.db.query_one("SELECT event_id FROM audit_events")["event_id"] == event_id
    assert not audit.spool_path.exists()
    rejected = tmp_path / "spool.rejected.jsonl"
    assert rejected.read_text().startswith('{"table": "audit_events"')
