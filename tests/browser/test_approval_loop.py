"""In Chromium: an officer drafts a payment and requests approval; a manager approves it once."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.browser.conftest import ask, sign_in

pytestmark = pytest.mark.browser


def lynx_payments(data_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{data_dir / 'kernel.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT json_extract(record_json, '$.reference'), json_extract(record_json, '$.amount') FROM payments "
            "WHERE source = 'lynx' AND json_extract(record_json, '$.invoice_ref') = 'INV-2291'"
        ).fetchall()
    finally:
        conn.close()


def test_draft_request_approve_execute_once(app_url: str, browser, tmp_path: Path) -> None:
    officer = browser.new_context().new_page()
    officer.set_default_timeout(30_000)
    sign_in(officer, app_url, "paula.procurement@acme.test")
    ask(officer, "Draft a payment of 1,250.00 EUR to Helios Steel Works for invoice INV-2291")
    officer.get_by_test_id("stExpander").filter(has_text="vpm.cluster.payment.draft").filter(visible=True).first.wait_for(timeout=60_000)
    officer.get_by_text("DRAFT").filter(visible=True).first.wait_for()
    officer.get_by_role("button", name="Request approval").click()
    officer.get_by_text(re.compile(r"approval request `?apr_[0-9a-f]+`? is pending")).filter(visible=True).first.wait_for()
    assert lynx_payments(tmp_path / "data") == []

    manager = browser.new_context().new_page()
    manager.set_default_timeout(30_000)
    sign_in(manager, app_url, "felix.finance@acme.test")
    manager.get_by_test_id("stSidebar").get_by_role("link", name="Approvals").click()
    manager.get_by_role("heading", name="Approvals").wait_for()
    request = manager.get_by_test_id("stExpander").filter(has_text="Helios Steel Works").first
    request.wait_for()
    assert "1,250.00 EUR" in request.inner_text()
    assert "What will change in the Kernel" in request.inner_text()
    request.get_by_role("button", name="Approve").click()
    dialog = manager.get_by_role("dialog")
    dialog.get_by_role("button", name="Approve and execute").click()
    manager.get_by_text("Approved and carried out.").wait_for()

    payments = lynx_payments(tmp_path / "data")
    assert len(payments) == 1
    assert float(payments[0][1]) == 1250.0

    officer.get_by_role("button", name="Refresh status").click()
    officer.get_by_text(re.compile(r"is executed")).filter(visible=True).first.wait_for()
    officer.get_by_text("Approved and carried out.").filter(visible=True).first.wait_for()
    assert payments[0][0] in officer.content()
