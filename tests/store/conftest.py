"""PostgreSQL fixtures: a fresh database per test on the local server, dropped afterwards.

When the server on 127.0.0.1:5432 cannot be reached the tests are skipped, except in CI
(CI=true), where a skipped PostgreSQL test would hide a broken set-up, so they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"


def admin_connection() -> psycopg.Connection:
    """Connect to the server's maintenance database, where databases are created and dropped."""
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


def drop_database(admin: psycopg.Connection, name: str) -> None:
    """Drop a database this test created, ending every connection still open to it first."""
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """Create an empty database ``lynx_test_<random hex>`` and return its URL."""
    try:
        admin = admin_connection()
    except psycopg.OperationalError as exc:
        message = (
            f"PostgreSQL at {ADMIN_URL} is unreachable ({exc}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)

    name = f"lynx_test_{secrets.token_hex(8)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{SERVER_URL}/{name}"
        finally:
            drop_database(admin, name)
