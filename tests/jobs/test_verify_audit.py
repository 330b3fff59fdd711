"""The audit verification job reports each tenant and fails when a chain is broken."""

from __future__ import annotations

import sqlite3

import pytest

from jobs.verify_audit import verify_all
from lynx_core.services import Services
from tests.conftest import actor_for


def test_intact_chains_pass(services: Services, capsys: pytest.CaptureFixture) -> None:
    for email in ("paula.procurement@acme.test", "pete.procurement@borealis.test"):
        services.executor.execute(actor_for(services, email), "vpm.domain.unrecorded_payments.list", {})
    assert verify_all(services) is True
    out = capsys.readouterr().out
    assert "tnt_acme: Hash chain intact" in out
    assert "tnt_borealis: Hash chain intact" in out
    assert "tnt_acme: head of audit_events is position 1, hash " in out


def test_altered_row_fails_the_job(services: Services, capsys: pytest.CaptureFixture) -> None:
    services.executor.execute(actor_for(services, "paula.procurement@acme.test"), "vpm.domain.unrecorded_payments.list", {})
    conn = sqlite3.connect(services.settings.lynx_data_dir / "lynx.sqlite")
    conn.execute("DROP TRIGGER audit_events_no_update")
    conn.execute("UPDATE audit_events SET actor_id = 'someone_else' WHERE event_type = 'tool.succeeded'")
    conn.commit()
    conn.close()
    assert verify_all(services) is False
    assert "tnt_acme: Hash chain broken in audit_events" in capsys.readouterr().out
