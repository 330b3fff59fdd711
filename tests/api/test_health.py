"""``GET /health`` on the app started with the README's command."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx

from lynx_core import __version__
from tests.support.app_server import running_app


def test_health_names_locked_audit_store(tmp_path: Path) -> None:
    with running_app(tmp_path) as base_url:
        response = httpx.get(f"{base_url}/health", timeout=30)
        assert response.status_code == 200
        assert response.json() == {"status": "healthy", "version": __version__}

        # Another process holds the database's write lock, as a stuck backup or a crashed
        # writer would: the audit log cannot be written, and /health must report it.
        blocker = sqlite3.connect(tmp_path / "data" / "lynx.sqlite", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            response = httpx.get(f"{base_url}/health", timeout=30)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unhealthy"
        assert [f["component"] for f in body["failing"]] == ["audit_store"]
        assert "locked" in body["failing"][0]["error"]

        time.sleep(0.2)
        assert httpx.get(f"{base_url}/health", timeout=30).status_code == 200


def test_invalid_setting_stops_start_up_naming_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.app_server import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", "1"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "LOUD", "LYNX_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "Invalid setting LOG_LEVEL" in result.stderr
    assert "Fix: use one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr
