"""A thin database handle over SQLite (embedded default) and PostgreSQL (production).

Queries are written once with ``?`` placeholders; the PostgreSQL handle rewrites them to
``%s``. Rows come back as dicts. ``transaction()`` serialises writers: SQLite takes the
write lock up front (``BEGIN IMMEDIATE``) so read-then-insert steps such as extending the
hash chain cannot interleave, and PostgreSQL relies on unique constraints plus retry.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]


class IntegrityConflict(Exception):
    """A unique or check constraint rejected a write; the caller may retry or report it."""


class Database:
    """A connection (SQLite) or connection pool stand-in (PostgreSQL) shared by threads."""

    def __init__(self, url: str, *, busy_timeout_seconds: float = 5.0) -> None:
        self.url = url
        self._lock = threading.RLock()
        self._local = threading.local()
        self._pg_all: list[Any] = []
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect: Dialect = "postgresql"
            self._sqlite: sqlite3.Connection | None = None
        else:
            self.dialect = "sqlite"
            path = url.removeprefix("sqlite:///")
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._sqlite = sqlite3.connect(
                path, timeout=busy_timeout_seconds, check_same_thread=False, isolation_level=None
            )
            self._sqlite.row_factory = sqlite3.Row
            self._sqlite.execute("PRAGMA journal_mode=WAL")
            self._sqlite.execute("PRAGMA foreign_keys=ON")
            self._sqlite.execute("PRAGMA synchronous=NORMAL")

    # PostgreSQL keeps one connection per thread; psycopg connections are not meant to be
    # shared by concurrent threads inside one transaction.
    def _pg(self) -> Any:
        conn = getattr(self._local, "pg", None)
        if conn is None or conn.closed:
            import psycopg
            from psycopg.rows import dict_row

            conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=5)
            self._local.pg = conn
            with self._lock:
                # Drop connections the server already closed, so a flapping server does
                # not grow the list.
                self._pg_all = [known for known in self._pg_all if not known.closed]
                self._pg_all.append(conn)
        return conn

    def _sql(self, sql: str) -> str:
        # psycopg reads every "%" of a query with parameters as a placeholder, so a literal
        # "%" (as in LIKE 'INV-%') is doubled before "?" becomes "%s".
        if self.dialect == "postgresql":
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def _raise_conflict(self, exc: Exception) -> None:
        if isinstance(exc, sqlite3.IntegrityError):
            raise IntegrityConflict(str(exc)) from exc
        if self.dialect == "postgresql":
            import psycopg

            if isinstance(exc, psycopg.errors.IntegrityError):
                raise IntegrityConflict(str(exc)) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement and return the number of rows it changed."""
        try:
            if self._sqlite is not None:
                with self._lock:
                    return self._sqlite.execute(sql, tuple(params)).rowcount
            with self._pg().cursor() as cur:
                cur.execute(self._sql(sql), tuple(params))
                return cur.rowcount
        except Exception as exc:
            self._raise_conflict(exc)
            raise

    def executescript(self, script: str) -> None:
        if self._sqlite is not None:
            with self._lock:
                self._sqlite.executescript(script)
            return
        with self._pg().cursor() as cur:
            cur.execute(script)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self._sqlite is not None:
            with self._lock:
                return [dict(row) for row in self._sqlite.execute(sql, tuple(params)).fetchall()]
        with self._pg().cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))
            return list(cur.fetchall()) if cur.description else []

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """Run the block in one transaction; SQLite takes the write lock at the start."""
        if self._sqlite is not None:
            with self._lock:
                self._sqlite.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    self._sqlite.execute("ROLLBACK")
                    raise
                else:
                    self._sqlite.execute("COMMIT")
            return
        conn = self._pg()
        try:
            with conn.transaction():
                yield self
        except Exception as exc:
            self._raise_conflict(exc)
            raise

    def close(self) -> None:
        if self._sqlite is not None:
            with self._lock:
                self._sqlite.close()
        with self._lock:
            connections, self._pg_all = self._pg_all, []
        for conn in connections:
            conn.close()
