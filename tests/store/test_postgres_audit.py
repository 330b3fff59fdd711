"""On PostgreSQL the migrations build the audit tables, which stay append-only and verifiable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from lynx_core.audit import AuditEvent, AuditLog
from lynx_core.audit.events import RunRecord
from lynx_core.audit.log import utc_now
from lynx_core.store.db import Database
from lynx_core.store.migrate import DEFAULT_MIGRATIONS_DIR, MigrationError, apply_migrations
from tests.store.conftest import admin_connection, drop_database

pytestmark = pytest.mark.postgres

MIGRATION_VERSIONS = [path.name.split("_", 1)[0] for path in sorted(DEFAULT_MIGRATIONS_DIR.glob("*.sql"))]


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.close()


@pytest.fixture
def audit(db: Database, tmp_path: Path) -> AuditLog:
    apply_migrations(db)
    log = AuditLog(db, spool_path=tmp_path / "spool.jsonl")
    log.create_schema()
    return log


def add_events(audit: AuditLog, tenant: str, count: int) -> list[str]:
    return [
        audit.append(AuditEvent(event_type="tool.succeeded", tenant_id=tenant, actor_id="usr_1",
                                tool_id="vpm.domain.unrecorded_payments.list", input={"n": i},
                                output={"rows": i}, latency_ms=12.3456 + i))
        for i in range(count)
    ]


def add_run(audit: AuditLog, tenant: str, run_id: str) -> None:
    now = utc_now()
    audit.append_run(RunRecord(run_id=run_id, tenant_id=tenant, user_id="usr_1", query="q", response="a",
                               status="completed", provider="offline", model="rules", started_at=now,
                               ended_at=now, tool_calls=1))


def direct_sql(url: str, statement: str) -> None:
    """Run one statement with a plain psycopg connection, bypassing Lynx's code."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


# Migrations.


def test_migrations_apply_once(db: Database) -> None:
    assert MIGRATION_VERSIONS, f"no migrations found in {DEFAULT_MIGRATIONS_DIR}"

    assert apply_migrations(db) == MIGRATION_VERSIONS
    assert apply_migrations(db) == []

    recorded = [row["version"] for row in db.query("SELECT version FROM lynx_schema_migrations ORDER BY version")]
    assert recorded == MIGRATION_VERSIONS
    tables = {row["table_name"] for row in db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    )}
    expected = {"audit_events", "lynx_runs", "sessions", "drafts", "approval_requests",
                "approval_decisions", "executions", "lynx_schema_migrations"}
    assert expected <= tables


def test_concurrent_startups_apply_each_migration_once(pg_url: str) -> None:
    replicas = [Database(pg_url) for _ in range(4)]
    barrier = threading.Barrier(len(replicas))
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def start(replica: Database) -> None:
        barrier.wait()
        try:
            results.append(apply_migrations(replica))
        except BaseException as exc:  # reported by the asserts below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(replica,)) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for replica in replicas:
        replica.close()

    assert errors == []
    assert sorted(results) == [[], [], [], MIGRATION_VERSIONS]


def test_migration_file_runs_twice(pg_url: str) -> None:
    """Run the file twice, as when both the Supabase CLI and Lynx apply it."""
    for path in sorted(DEFAULT_MIGRATIONS_DIR.glob("*.sql")):
        script = path.read_text(encoding="utf-8")
        direct_sql(pg_url, script)
        direct_sql(pg_url, script)
    with psycopg.connect(pg_url) as conn:
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal "
            "ORDER BY tgname"
        ).fetchall()
    assert triggers == [("audit_events_no_delete",), ("audit_events_no_truncate",), ("audit_events_no_update",)]


def test_migrations_reject_sqlite(tmp_path: Path) -> None:
    sqlite_db = Database(f"sqlite:///{tmp_path / 'lynx.sqlite'}")
    with pytest.raises(MigrationError, match="only to PostgreSQL"):
        apply_migrations(sqlite_db)
    sqlite_db.close()


def test_migrations_reject_bad_file_name(db: Database, tmp_path: Path) -> None:
    (tmp_path / "add_table.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(MigrationError, match="Invalid migration file name 'add_table.sql'"):
        apply_migrations(db, tmp_path)


def test_failed_migration_rolls_back_and_resumes(db: Database, tmp_path: Path) -> None:
    (tmp_path / "1_first.sql").write_text("CREATE TABLE first_table (x integer);", encoding="utf-8")
    (tmp_path / "2_second.sql").write_text(
        "CREATE TABLE second_table (x integer); SELECT missing_column FROM first_table;", encoding="utf-8"
    )
    with pytest.raises(psycopg.errors.UndefinedColumn):
        apply_migrations(db, tmp_path)
    assert db.query("SELECT version FROM lynx_schema_migrations") == [{"version": "1"}]
    assert db.query_one("SELECT to_regclass('second_table') AS name") == {"name": None}

    (tmp_path / "2_second.sql").write_text("CREATE TABLE second_table (x integer);", encoding="utf-8")
    assert apply_migrations(db, tmp_path) == ["2"]


def test_query_with_literal_percent(db: Database) -> None:
    assert db.query_one("SELECT ? LIKE 'INV-%' AS hit", ("INV-2291",)) == {"hit": True}
    assert db.query_one("SELECT 'INV-%' AS pattern") == {"pattern": "INV-%"}


# Append-only.


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET output_json = '{}'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "UPDATE lynx_runs SET status = 'failed'",
        "DELETE FROM lynx_runs",
        "TRUNCATE lynx_runs",
    ],
)
def test_database_rejects_changes_to_audit_rows(audit: AuditLog, pg_url: str, statement: str) -> None:
    add_events(audit, "tnt_a", 1)
    add_run(audit, "tnt_a", "run_1")

    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        direct_sql(pg_url, statement)

    assert len(audit.db.query("SELECT * FROM audit_events")) == 1
    assert audit.db.query_one("SELECT status FROM lynx_runs")["status"] == "completed"
    assert audit.verify("tnt_a").ok


def test_stored_rows_verify(audit: AuditLog) -> None:
    """Floats and ISO timestamps read back as the same text, so hashes still match."""
    add_events(audit, "tnt_a", 3)
    add_events(audit, "tnt_b", 2)
    add_run(audit, "tnt_a", "run_1")

    report = audit.verify()

    assert report.ok, report.summary()
    assert report.rows_checked == 6


def test_altered_row_is_caught_by_verification(audit: AuditLog, pg_url: str) -> None:
    ids = add_events(audit, "tnt_a", 4)

    # A role with full rights can drop the trigger, but the hash chain still shows the change.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER audit_events_no_update ON audit_events")
        conn.execute("UPDATE audit_events SET output_json = '{\"rows\": 999}' WHERE event_id = %s", (ids[2],))

    report = audit.verify("tnt_a")
    assert not report.ok
    assert report.first_broken is not None
    assert report.first_broken.table == "audit_events"
    assert report.first_broken.record_id == ids[2]
    assert "altered" in report.first_broken.problem


def test_deleted_row_is_caught_by_verification(audit: AuditLog, pg_url: str) -> None:
    ids = add_events(audit, "tnt_a", 4)

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_delete")
        conn.execute("DELETE FROM audit_events WHERE event_id = %s", (ids[1],))

    report = audit.verify("tnt_a")
    assert not report.ok
    assert report.first_broken is not None
    assert report.first_broken.record_id == ids[2]
    assert "missing" in report.first_broken.problem


# Concurrency.


def test_concurrent_appends_keep_one_chain(audit: AuditLog) -> None:
    threads_count, per_thread = 8, 25
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def append_events() -> None:
        barrier.wait()
        try:
            add_events(audit, "tnt_a", per_thread)
        except BaseException as exc:  # reported by the asserts below
            errors.append(exc)

    threads = [threading.Thread(target=append_events) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert audit.spooled_count() == 0
    rows = audit.db.query("SELECT chain_index FROM audit_events WHERE tenant_id = ? ORDER BY chain_index", ("tnt_a",))
    assert [row["chain_index"] for row in rows] == list(range(threads_count * per_thread))
    report = audit.verify("tnt_a")
    assert report.ok, report.summary()
    assert report.rows_checked == threads_count * per_thread


# Spooling.


def rename_database(old: str, new: str) -> None:
    """Rename a database, ending the connections to it first (ALTER DATABASE requires that)."""
    with admin_connection() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (old,),
        )
        admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(new)))


def test_rows_spool_while_database_is_gone_and_replay(audit: AuditLog, pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    away = f"{name}_away"
    first = add_events(audit, "tnt_a", 1)

    # Renaming the database ends Lynx's connection, and reconnecting then fails with
    # "database does not exist", as after the database was dropped.
    rename_database(name, away)
    try:
        spooled = add_events(audit, "tnt_a", 2)
        add_run(audit, "tnt_a", "run_while_away")
        assert audit.spooled_count() == 3
    finally:
        try:
            rename_database(away, name)
        except psycopg.Error:
            with admin_connection() as admin:
                drop_database(admin, away)
            raise

    last = add_events(audit, "tnt_a", 1)

    assert audit.spooled_count() == 0
    stored = [row["event_id"] for row in audit.db.query(
        "SELECT event_id FROM audit_events WHERE tenant_id = ? ORDER BY chain_index", ("tnt_a",)
    )]
    assert stored == first + spooled + last
    assert audit.get_run("tnt_a", "run_while_away") is not None
    report = audit.verify("tnt_a")
    assert report.ok, report.summary()
    assert report.rows_checked == 5
