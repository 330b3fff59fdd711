"""Apply the SQL migrations under ``supabase/migrations`` to a PostgreSQL database.

The same files serve the Supabase CLI (``supabase db push``) and Lynx's own start-up, which
calls `apply_migrations` when LYNX_DATABASE_URL is a PostgreSQL URL. Lynx records each
applied file in ``lynx_schema_migrations``, keyed by the file's version: the digits before
the first underscore of its name, as the Supabase CLI counts them.

Every file runs in its own transaction that first takes a transaction-level advisory lock,
so replicas that start at the same time apply each file once: the second waits for the
lock, then finds the version recorded and skips it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

from lynx_core.store.db import Database

logger = logging.getLogger(__name__)

#: The migrations shipped with the source tree (``<repository>/supabase/migrations``).
DEFAULT_MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"

#: Key of the advisory lock that serialises migrations. Any constant works unless another
#: application on the same database locks the same key. Its bytes spell "LynxMigr" in ASCII.
MIGRATION_LOCK_KEY = 0x4C796E784D696772

#: A Supabase migration file name: a version of digits, an underscore and a name.
MIGRATION_NAME = re.compile(r"^(?P<version>\d+)_(?P<name>\w+)\.sql$")

_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS lynx_schema_migrations (
    version text PRIMARY KEY,
    applied_at text NOT NULL
);
ALTER TABLE lynx_schema_migrations ENABLE ROW LEVEL SECURITY;
"""


class MigrationError(Exception):
    """The migrations cannot be applied: wrong database kind, missing folder or a bad file name."""


def migration_files(directory: Path) -> list[tuple[str, Path]]:
    """Return ``(version, path)`` of every ``*.sql`` file in the directory, by file name."""
    if not directory.is_dir():
        raise MigrationError(
            f"Migrations folder {directory} not found. Pass the folder that contains the "
            "supabase/migrations/*.sql files."
        )
    files = []
    versions: dict[str, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"Invalid migration file name {path.name!r}. Name it <digits>_<name>.sql, "
                "for example 20261204000000_lynx_audit_and_state.sql."
            )
        version = match["version"]
        if version in versions:
            raise MigrationError(
                f"Migrations {versions[version].name} and {path.name} have the same version {version}. "
                "Give one of them a later timestamp."
            )
        versions[version] = path
        files.append((version, path))
    return files


def apply_migrations(db: Database, directory: Path | None = None) -> list[str]:
    """Apply the migration files not yet recorded, in name order, and return their versions.

    A file that fails rolls back on its own and raises, so earlier files stay applied and
    the next start-up resumes at the failed one.
    """
    if db.dialect != "postgresql":
        raise MigrationError(
            f"Migrations apply only to PostgreSQL, but the database is {db.dialect}. "
            "SQLite gets its tables from SQLITE_STATE_SCHEMA and AuditLog.create_schema()."
        )
    files = migration_files(directory or DEFAULT_MIGRATIONS_DIR)

    with db.transaction() as tx:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
        tx.executescript(_LEDGER_SCHEMA)

    applied: list[str] = []
    for version, path in files:
        sql = path.read_text(encoding="utf-8")
        with db.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))
            recorded = tx.query_one("SELECT 1 AS hit FROM lynx_schema_migrations WHERE version = ?", (version,))
            if recorded is not None:
                continue
            tx.executescript(sql)
            tx.execute(
                "INSERT INTO lynx_schema_migrations (version, applied_at) VALUES (?, ?)",
                (version, dt.datetime.now(dt.timezone.utc).isoformat()),
            )
        logger.info("applied migration %s", path.name, extra={"version": version})
        applied.append(version)
    return applied
