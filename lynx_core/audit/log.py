"""The append-only audit log: Lynx runs and audit events, each in a per-tenant hash chain.

Both tables refuse UPDATE and DELETE in the database itself (triggers in SQLite, a trigger
function in PostgreSQL). Each row stores the hash of the previous row of its tenant and
table, and its own hash over its content and that link, so `verify` can name the first
row that was altered, removed or inserted out of order.

When the database cannot be written, rows go to a local spool file (one JSON object a
line, fsynced) and `replay_spool` appends them later, in order and without duplicates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lynx_core.audit.events import CRITICAL_EVENT_TYPES, EVENT_TYPES, AuditEvent, RunRecord
from lynx_core.errors import AuditWriteError
from lynx_core.ids import new_id
from lynx_core.store.db import Database, IntegrityConflict

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64

EVENT_COLUMNS = (
    "event_id", "tenant_id", "chain_index", "event_type", "actor_id", "run_id", "tool_id",
    "layer", "risk", "subject_id", "input_json", "output_json", "error", "rule", "reason",
    "alternative", "latency_ms", "details_json", "created_at", "prev_hash",
)
RUN_COLUMNS = (
    "run_id", "tenant_id", "chain_index", "user_id", "query", "response", "status",
    "provider", "model", "started_at", "ended_at", "duration_ms", "tool_calls", "error",
    "created_at", "prev_hash",
)
_TABLE_COLUMNS = {"audit_events": EVENT_COLUMNS, "lynx_runs": RUN_COLUMNS}
_TABLE_KEY = {"audit_events": "event_id", "lynx_runs": "run_id"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def to_json(value: Any) -> str | None:
    """Serialise a tool input or output for storage; None stays None."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def row_hash(row: dict[str, Any], columns: tuple[str, ...]) -> str:
    """Return the SHA-256 of a row's columns (including ``prev_hash``) as canonical JSON."""
    content = {name: row.get(name) for name in columns}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    table: str
    tenant_id: str
    chain_index: int
    record_id: str
    problem: str


@dataclass(frozen=True)
class VerificationReport:
    """Result of checking the hash chains of one tenant (or of all tenants)."""

    ok: bool
    rows_checked: int
    first_broken: BrokenLink | None = None

    def summary(self) -> str:
        if self.ok:
            return f"Hash chain intact: {self.rows_checked} rows verified."
        link = self.first_broken
        assert link is not None
        return (
            f"Hash chain broken in {link.table} at position {link.chain_index} "
            f"({link.record_id}): {link.problem}."
        )


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    chain_index INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    run_id TEXT, tool_id TEXT, layer TEXT, risk TEXT, subject_id TEXT,
    input_json TEXT, output_json TEXT, error TEXT, rule TEXT, reason TEXT, alternative TEXT,
    latency_ms REAL, details_json TEXT,
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (tenant_id, chain_index)
);
CREATE INDEX IF NOT EXISTS audit_events_tenant_time ON audit_events (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS audit_events_run ON audit_events (run_id);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE is not allowed'); END;
-- INSERT OR REPLACE removes the old row without firing the DELETE trigger, so refuse any
-- insert that would collide with a stored row.
CREATE TRIGGER IF NOT EXISTS audit_events_no_replace BEFORE INSERT ON audit_events
WHEN EXISTS (SELECT 1 FROM audit_events WHERE event_id = NEW.event_id
             OR (tenant_id = NEW.tenant_id AND chain_index = NEW.chain_index))
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: a stored row cannot be replaced'); END;

CREATE TABLE IF NOT EXISTS lynx_runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    chain_index INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    query TEXT NOT NULL,
    response TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('completed', 'failed', 'blocked')),
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    tool_calls INTEGER NOT NULL,
    error TEXT,
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (tenant_id, chain_index)
);
CREATE INDEX IF NOT EXISTS lynx_runs_tenant_time ON lynx_runs (tenant_id, started_at);
CREATE TRIGGER IF NOT EXISTS lynx_runs_no_update BEFORE UPDATE ON lynx_runs
BEGIN SELECT RAISE(ABORT, 'lynx_runs is append-only: UPDATE is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS lynx_runs_no_delete BEFORE DELETE ON lynx_runs
BEGIN SELECT RAISE(ABORT, 'lynx_runs is append-only: DELETE is not allowed'); END;
CREATE TRIGGER IF NOT EXISTS lynx_runs_no_replace BEFORE INSERT ON lynx_runs
WHEN EXISTS (SELECT 1 FROM lynx_runs WHERE run_id = NEW.run_id
             OR (tenant_id = NEW.tenant_id AND chain_index = NEW.chain_index))
BEGIN SELECT RAISE(ABORT, 'lynx_runs is append-only: a stored row cannot be replaced'); END;
"""


class AuditLog:
    """Append, read and verify the audit tables of one database."""

    def __init__(self, db: Database, spool_path: Path) -> None:
        self.db = db
        self.spool_path = spool_path
        self._spool_lock = threading.Lock()

    def create_schema(self) -> None:
        if self.db.dialect == "sqlite":
            self.db.executescript(SQLITE_SCHEMA)
        # PostgreSQL's schema comes from supabase/migrations, applied by lynx_core.store.migrate.

    # Writing.

    def append(self, event: AuditEvent) -> str:
        """Append one event and return its id; raise `AuditWriteError` if it cannot be kept."""
        if event.event_type not in EVENT_TYPES:
            raise ValueError(f"Unknown audit event type {event.event_type!r}; add it to EVENT_TYPES first.")
        event_id = new_id("evt")
        row = {
            "event_id": event_id,
            "tenant_id": event.tenant_id,
            "event_type": event.event_type,
            "actor_id": event.actor_id,
            "run_id": event.run_id,
            "tool_id": event.tool_id,
            "layer": event.layer,
            "risk": event.risk,
            "subject_id": event.subject_id,
            "input_json": to_json(event.input),
            "output_json": to_json(event.output),
            "error": event.error,
            "rule": event.rule,
            "reason": event.reason,
            "alternative": event.alternative,
            # Stored as REAL, so hash a float: an int would read back as 5.0 and fail verify.
            "latency_ms": None if event.latency_ms is None else float(round(event.latency_ms, 3)),
            "details_json": to_json(event.details) if event.details else None,
            "created_at": utc_now().isoformat(),
        }
        self._write("audit_events", row)
        level = logging.CRITICAL if event.event_type in CRITICAL_EVENT_TYPES else logging.DEBUG
        logger.log(
            level,
            "audit event %s",
            event.event_type,
            extra={"event_id": event_id, "tenant_id": event.tenant_id, "run_id": event.run_id,
                   "tool_id": event.tool_id, "actor_id": event.actor_id},
        )
        return event_id

    def append_run(self, run: RunRecord) -> None:
        """Append a finished run."""
        if run.status not in ("completed", "failed", "blocked"):
            raise ValueError(f"Invalid run status {run.status!r}; use completed, failed or blocked.")
        duration = (run.ended_at - run.started_at).total_seconds() * 1000
        row = asdict(run)
        row.update(
            started_at=run.started_at.isoformat(),
            ended_at=run.ended_at.isoformat(),
            duration_ms=float(round(duration, 3)),
            created_at=utc_now().isoformat(),
        )
        self._write("lynx_runs", row)

    def _write(self, table: str, row: dict[str, Any]) -> None:
        try:
            self.replay_spool()
        except Exception as exc:  # the database is still down: queue behind the spooled rows
            logger.error(
                "audit spool replay failed, spooling the row: %s", exc,
                extra={"table": table, "tenant_id": row.get("tenant_id"), "record_id": row.get(_TABLE_KEY[table])},
            )
            self._spool(table, row)
            return
        try:
            self._insert_chained(table, row)
        except IntegrityConflict:
            raise
        except Exception as exc:  # the database is down, locked or read-only
            logger.error(
                "audit store write failed, spooling the row: %s", exc,
                extra={"table": table, "tenant_id": row.get("tenant_id"), "record_id": row.get(_TABLE_KEY[table])},
            )
            self._spool(table, row)

    def _insert_chained(self, table: str, row: dict[str, Any]) -> None:
        columns = _TABLE_COLUMNS[table]
        for attempt in range(20):
            try:
                with self.db.transaction() as tx:
                    if tx.dialect == "postgresql":
                        # Writers of one tenant's chain queue here instead of racing for the
                        # next position; the unique index below stays the safety net.
                        tx.query_one(
                            "SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) AS locked",
                            (f"{table}:{row['tenant_id']}",),
                        )
                    last = tx.query_one(
                        f"SELECT chain_index, hash FROM {table} WHERE tenant_id = ? "
                        "ORDER BY chain_index DESC LIMIT 1",
                        (row["tenant_id"],),
                    )
                    row["chain_index"] = 0 if last is None else last["chain_index"] + 1
                    row["prev_hash"] = GENESIS_HASH if last is None else last["hash"]
                    digest = row_hash(row, columns)
                    names = ", ".join((*columns, "hash"))
                    marks = ", ".join("?" for _ in range(len(columns) + 1))
                    tx.execute(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})",
                        [row.get(name) for name in columns] + [digest],
                    )
                return
            except IntegrityConflict:
                # Another writer took this chain position first (PostgreSQL); read again.
                if self._exists(table, row[_TABLE_KEY[table]]):
                    return
                if attempt == 19:
                    raise

    def _exists(self, table: str, record_id: str) -> bool:
        key = _TABLE_KEY[table]
        return self.db.query_one(f"SELECT 1 AS hit FROM {table} WHERE {key} = ?", (record_id,)) is not None

    # The spool keeps rows while the database cannot be written.

    def _spool(self, table: str, row: dict[str, Any]) -> None:
        entry = json.dumps({"table": table, "row": row}, default=str)
        try:
            with self._spool_lock:
                self.spool_path.parent.mkdir(parents=True, exist_ok=True)
                with self.spool_path.open("a", encoding="utf-8") as handle:
                    handle.write(entry + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
        except OSError as exc:
            logger.critical("audit spool write failed: %s", exc, extra={"spool": str(self.spool_path)})
            raise AuditWriteError(
                "The audit log cannot be written (database and local spool both failed), "
                "so the action was not carried out.",
                hint="Check the audit database and the disk under LYNX_DATA_DIR, then retry.",
            ) from exc

    def _quarantine(self, line: str, error: Exception) -> None:
        rejected = self.spool_path.with_name(self.spool_path.stem + ".rejected.jsonl")
        with rejected.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        logger.critical("unreadable audit spool line moved to %s: %s", rejected, error,
                        extra={"spool": str(self.spool_path)})

    def spooled_count(self) -> int:
        if not self.spool_path.exists():
            return 0
        with self._spool_lock:
            if not self.spool_path.exists():
                return 0
            return sum(1 for line in self.spool_path.read_text(encoding="utf-8").splitlines() if line.strip())

    def replay_spool(self) -> int:
        """Append spooled rows in their original order, skipping any already stored."""
        with self._spool_lock:
            # Checked under the lock: another thread may have replayed and removed the file.
            if not self.spool_path.exists():
                return 0
            lines = [line for line in self.spool_path.read_text(encoding="utf-8").splitlines() if line.strip()]
            replayed = 0
            for line in lines:
                try:
                    entry = json.loads(line)
                    table, row = entry["table"], entry["row"]
                    key = row[_TABLE_KEY[table]]
                except (ValueError, KeyError, TypeError) as exc:
                    # A line torn by a crash or a full disk must not block every later write;
                    # it is kept aside for an operator instead.
                    self._quarantine(line, exc)
                    continue
                if not self._exists(table, key):
                    self._insert_chained(table, row)
                replayed += 1
            self.spool_path.unlink()
        if replayed:
            logger.warning("replayed %s spooled audit rows", replayed)
        return replayed

    def check_writable(self) -> None:
        """Raise when the audit database cannot take a write lock right now."""
        with self.db.transaction() as tx:
            tx.query_one("SELECT COUNT(*) AS n FROM audit_events WHERE tenant_id = ?", ("-",))
            if self.db.dialect == "sqlite":
                # BEGIN IMMEDIATE already holds the write lock; a no-op write proves the
                # file itself accepts writes.
                tx.execute("CREATE TEMP TABLE IF NOT EXISTS _lynx_write_probe (x INTEGER)")

    # Reading.

    def list_runs(
        self,
        tenant_id: str,
        *,
        user_id: str | None = None,
        status: str | None = None,
        tool_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM lynx_runs WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if user_id:
            sql += " AND user_id = ?"
            params.append(user_id)
        if status:
            sql += " AND status = ?"
            params.append(status)
        if tool_id:
            sql += " AND run_id IN (SELECT run_id FROM audit_events WHERE tenant_id = ? AND tool_id = ?)"
            params += [tenant_id, tool_id]
        if since:
            sql += " AND started_at >= ?"
            params.append(since.isoformat())
        if until:
            sql += " AND started_at <= ?"
            params.append(until.isoformat())
        sql += " ORDER BY started_at DESC LIMIT ?"
        params.append(limit)
        return self.db.query(sql, params)

    def get_run(self, tenant_id: str, run_id: str) -> dict[str, Any] | None:
        return self.db.query_one(
            "SELECT * FROM lynx_runs WHERE tenant_id = ? AND run_id = ?", (tenant_id, run_id)
        )

    def list_events(
        self,
        tenant_id: str,
        *,
        run_id: str | None = None,
        actor_id: str | None = None,
        tool_id: str | None = None,
        event_type: str | None = None,
        subject_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM audit_events WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        for column, value in (
            ("run_id", run_id), ("actor_id", actor_id), ("tool_id", tool_id),
            ("event_type", event_type), ("subject_id", subject_id),
        ):
            if value:
                sql += f" AND {column} = ?"
                params.append(value)
        if since:
            sql += " AND created_at >= ?"
            params.append(since.isoformat())
        if until:
            sql += " AND created_at <= ?"
            params.append(until.isoformat())
        sql += " ORDER BY chain_index ASC" if run_id or subject_id else " ORDER BY chain_index DESC"
        sql += " LIMIT ?"
        params.append(limit)
        return self.db.query(sql, params)

    def tenants(self) -> list[str]:
        rows = self.db.query(
            "SELECT DISTINCT tenant_id FROM audit_events UNION SELECT DISTINCT tenant_id FROM lynx_runs"
        )
        return sorted(row["tenant_id"] for row in rows)

    # Verification.

    def chain_heads(self, tenant_id: str) -> dict[str, tuple[int, str]]:
        """Return {table: (last chain index, its hash)} for one tenant, to record outside the database."""
        heads = {}
        for table in _TABLE_COLUMNS:
            last = self.db.query_one(
                f"SELECT chain_index, hash FROM {table} WHERE tenant_id = ? ORDER BY chain_index DESC LIMIT 1",
                (tenant_id,),
            )
            if last is not None:
                heads[table] = (last["chain_index"], last["hash"])
        return heads

    def verify(self, tenant_id: str | None = None) -> VerificationReport:
        """Recompute every hash of one tenant (or all) and report the first broken link."""
        tenants = [tenant_id] if tenant_id else self.tenants()
        checked = 0
        for tenant in tenants:
            for table, columns in _TABLE_COLUMNS.items():
                rows = self.db.query(
                    f"SELECT * FROM {table} WHERE tenant_id = ? ORDER BY chain_index ASC", (tenant,)
                )
                previous = GENESIS_HASH
                for position, row in enumerate(rows):
                    record_id = row[_TABLE_KEY[table]]
                    problem = None
                    if row["chain_index"] != position:
                        problem = f"expected position {position}; a row before it is missing"
                    elif row["prev_hash"] != previous:
                        problem = "its link to the previous row does not match"
                    elif row_hash(row, columns) != row["hash"]:
                        problem = "its content no longer matches its hash (the row was altered)"
                    if problem:
                        link = BrokenLink(table, tenant, row["chain_index"], record_id, problem)
                        logger.error("audit chain broken: %s", problem,
                                     extra={"table": table, "tenant_id": tenant, "record_id": record_id})
                        return VerificationReport(ok=False, rows_checked=checked, first_broken=link)
                    previous = row["hash"]
                    checked += 1
        return VerificationReport(ok=True, rows_checked=checked)
