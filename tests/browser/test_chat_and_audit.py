"""In Chromium: sign in, ask a question, see the answer and its tool card, find the run in the audit log."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ask, sign_in

pytestmark = pytest.mark.browser


def test_question_answer_tool_card_and_audit_run(app_url: str, browser) -> None:
    page = browser.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, app_url, "paula.procurement@acme.test")

    ask(page, "Which payments have no VPM record?")
    page.get_by_text(re.compile(r"PAY-ACME-\d+")).filter(visible=True).first.wait_for(timeout=60_000)
    card = page.get_by_test_id("stExpander").filter(has_text="vpm.domain.unrecorded_payments.list").first
    card.wait_for()
    assert "domain layer" in card.inner_text()
    assert "low risk" in card.inner_text()
    assert not page.get_by_text(re.compile(r"PAY-BOR-\d+")).count()
    run_caption = page.get_by_text(re.compile(r"Run run_[0-9a-f]+")).first
    run_id = re.search(r"run_[0-9a-f]+", run_caption.inner_text()).group(0)

    page.get_by_test_id("stSidebar").get_by_role("link", name="Audit log").click()
    page.get_by_role("heading", name="Audit log").wait_for()
    page.get_by_text(re.compile(r"Hash chain intact")).wait_for()
    page.get_by_text(run_id).filter(visible=True).first.wait_for()
    page.get_by_text("Which payments have no VPM record?").filter(visible=True).first.wait_for()
    page.get_by_text("tool.succeeded").filter(visible=True).first.wait_for()
