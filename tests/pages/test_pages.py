"""Page logic through Streamlit's AppTest: the sign-in gate, tool cards in the chat, audit filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lynx_core.services import Services, set_services
from tests.conftest import DEMO_PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CHAT = "pages/1_Ask_Lynx.py"
APPROVALS = "pages/2_Approvals.py"
AUDIT = "pages/3_Audit_log.py"


@pytest.fixture
def app(services: Services) -> AppTest:
    set_services(services)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    yield at
    set_services(None)


def sign_in(at: AppTest, email: str, password: str = DEMO_PASSWORD) -> AppTest:
    at.switch_page("app.py").run()
    at.text_input(key="sign_in_email").input(email)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    return at


def switch_user(at: AppTest, email: str) -> AppTest:
    at.switch_page("app.py").run()
    at.button(key="sign_out_home").click().run()
    return sign_in(at, email)


@pytest.mark.parametrize("page", [CHAT, APPROVALS, AUDIT])
def test_pages_require_a_session(app: AppTest, page: str) -> None:
    app.switch_page(page).run()
    assert not app.exception
    assert [w.value for w in app.warning] == ["Please sign in to use Lynx."]
    assert not app.title


def test_wrong_password_shows_error_and_no_session(app: AppTest) -> None:
    sign_in(app, "paula.procurement@acme.test", "nope")
    assert "e-mail address or password is wrong" in app.error[0].value
    app.switch_page(CHAT).run()
    assert app.warning[0].value == "Please sign in to use Lynx."


def test_expired_session_returns_to_sign_in(app: AppTest, services: Services) -> None:
    sign_in(app, "paula.procurement@acme.test")
    services.db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00+00:00'")
    app.switch_page(CHAT).run()
    assert "sessions end 8 hours after sign-in" in app.warning[0].value


def test_chat_renders_answer_with_tool_card(app: AppTest, services: Services) -> None:
    sign_in(app, "paula.procurement@acme.test")
    app.switch_page(CHAT).run()
    assert [t.value for t in app.title] == ["Ask Lynx"]
    app.chat_input[0].set_value("Which payments have no VPM record?").run()
    assert not app.exception
    labels = [e.label for e in app.expander]
    card = [label for label in labels if "vpm.domain.unrecorded_payments.list" in label]
    assert card, labels
    assert "ADVICE" in card[0]
    assert "low risk" in card[0]
    text = " ".join(m.value for m in app.markdown)
    assert "PAY-ACME-" in text
    assert "PAY-BOR-" not in text
    assert any("Run `run_" in c.value for c in app.caption)


def test_chat_shows_refusal_for_viewer(app: AppTest) -> None:
    sign_in(app, "victor.viewer@acme.test")
    app.switch_page(CHAT).run()
    app.chat_input[0].set_value("Which payments have no VPM record?").run()
    refusals = [e.value for e in app.error]
    assert any("scope_required" in r and "finance:read" in r for r in refusals), refusals


def test_audit_page_filters_runs_by_status_and_tool(app: AppTest, services: Services) -> None:
    sign_in(app, "felix.finance@acme.test")
    app.switch_page(CHAT).run()
    app.chat_input[0].set_value("Which payments have no VPM record?").run()
    app.chat_input[0].set_value("Show me the audit risk").run()

    app.switch_page(AUDIT).run()
    assert not app.exception
    assert "Hash chain intact" in app.success[0].value
    assert app.tabs[0].label == "Runs (2)"

    app.selectbox(key="audit_tool").set_value("vpm.domain.unrecorded_payments.list").run()
    assert app.tabs[0].label == "Runs (1)"
    assert "Which payments have no VPM record?" in " ".join(m.value for m in app.markdown)

    app.selectbox(key="audit_tool").set_value("(all)").run()
    app.selectbox(key="audit_status").set_value("failed").run()
    assert app.tabs[0].label == "Runs (0)"


def test_audit_page_own_runs_only(app: AppTest) -> None:
    sign_in(app, "felix.finance@acme.test")
    app.switch_page(CHAT).run()
    app.chat_input[0].set_value("Which payments have no VPM record?").run()
    app.switch_page("app.py").run()
    app.button(key="sign_out_home").click().run()
    sign_in(app, "paula.procurement@acme.test")
    app.switch_page(AUDIT).run()
    assert app.tabs[0].label == "Runs (0)"
    assert "You see your own runs and events." in app.caption[0].value


def test_blank_and_overlong_questions_start_no_run(app: AppTest, services: Services) -> None:
    sign_in(app, "paula.procurement@acme.test")
    app.switch_page(CHAT).run()
    app.chat_input[0].set_value("   ").run()
    assert "The question is empty" in app.warning[0].value
    app.chat_input[0].set_value("x" * 9000).run()
    assert "the limit is 8,000" in app.error[0].value
    assert not app.chat_message
    assert services.audit.list_runs("tnt_acme") == []


def test_requester_sees_rejection_reason(app: AppTest, services: Services) -> None:
    from tests.conftest import actor_for

    paula = actor_for(services, "paula.procurement@acme.test")
    draft = services.executor.execute(paula, "vpm.cluster.payment.draft", {
        "vendor_name": "Helios Steel Works", "amount": "75.00", "invoice_ref": "INV-PAGE-1"})
    request = services.approvals.submit(paula, draft.output["draft_id"])
    services.approvals.reject(actor_for(services, "felix.finance@acme.test"), request.request_id,
                              "Paid by card already")
    sign_in(app, "paula.procurement@acme.test")
    app.switch_page(CHAT).run()
    captions = " ".join(c.value for c in app.sidebar.caption)
    assert "Rejected by Felix Finance: Paid by card already. Ask Lynx for a new draft" in captions


def test_chat_with_openai_compatible_model(services: Services, tmp_path) -> None:
    from lynx_core.config import Settings
    from tests.support.model_server import ScriptedModelServer, ScriptedToolCall, ScriptedTurn

    script = [
        ScriptedTurn(text="Let me check.", tool_calls=(
            ScriptedToolCall(id="call_1", name="vpm__domain__unrecorded_payments__list", arguments='{"limit": 3}'),)),
        ScriptedTurn(text="Three payments without a VPM record are shown above."),
    ]
    with ScriptedModelServer(script) as server:
        settings = Settings(lynx_data_dir=services.settings.lynx_data_dir, lynx_log_dir=tmp_path / "logs",
                            environment="test", lynx_llm_provider="openai", openai_api_key="test-key",
                            openai_base_url=server.openai_base_url)
        services.settings = settings
        set_services(services)
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        sign_in(at, "paula.procurement@acme.test")
        at.switch_page(CHAT).run()
        at.chat_input[0].set_value("Which payments have no VPM record?").run()
        set_services(None)

    assert not at.exception
    assert any("vpm.domain.unrecorded_payments.list" in e.label for e in at.expander)
    text = " ".join(m.value for m in at.markdown)
    assert "Three payments without a VPM record are shown above." in text
    assert any("· completed · openai" in c.value for c in at.caption)
    second_request = server.requests[1]["body"]
    tool_messages = [m for m in second_request["messages"] if m["role"] == "tool"]
    assert "tool_result" in tool_messages[0]["content"]


def test_requester_drafts_requests_and_cancels_in_chat(app: AppTest, services: Services) -> None:
    sign_in(app, "paula.procurement@acme.test")
    app.switch_page(CHAT).run()
    app.chat_input[0].set_value("Draft a payment of 80.00 EUR to Helios Steel Works for invoice INV-CHAT-1").run()
    assert any("vpm.cluster.payment.draft" in e.label and "DRAFT" in e.label for e in app.expander)

    app.button(key=next(b.key for b in app.button if b.key and b.key.startswith("request_approval_"))).click().run()
    [request] = services.drafts.list_requests("tnt_acme")
    assert request.status == "pending"
    assert "INV-CHAT-1" in request.conversation_excerpt

    app.button(key=next(b.key for b in app.button if b.key and b.key.startswith("cancel_draft_"))).click().run()
    assert services.drafts.get_request("tnt_acme", request.request_id).status == "cancelled"
    assert services.drafts.get_draft("tnt_acme", request.draft_id).status == "cancelled"
    assert services.audit.list_events("tnt_acme", event_type="draft.cancelled")


def test_approvals_page_shows_two_approver_progress(app: AppTest, services: Services) -> None:
    from tests.conftest import actor_for

    pete = actor_for(services, "pete.procurement@borealis.test")
    draft = services.executor.execute(pete, "vpm.cluster.payment.draft", {
        "vendor_name": "Aurora Print House", "amount": "12000.00", "invoice_ref": "INV-PAGE-2"})
    excerpt = "user: pay Aurora\n\nassistant: Here it is.\n\n### Payment draft\n**Vendor note** ![badge](/verified.png)"
    request = services.approvals.submit(pete, draft.output["draft_id"], conversation_excerpt=excerpt)
    services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request.request_id)

    sign_in(app, "bruno.finance@borealis.test")
    app.switch_page(APPROVALS).run()
    assert not app.exception
    keys = {b.key for b in app.button}
    assert f"approve_{request.request_id}" not in keys
    assert f"reject_{request.request_id}" in keys
    assert "You approved this request." in [c.value for c in app.caption]
    infos = [i.value for i in app.info]
    assert "Approved so far by Bruno Finance. The request waits for 1 more approval, by a financial_controller." in infos
    assert any("· 1 of 2 approvals recorded ·" in m.value for m in app.markdown)
    assert "user: pay Aurora\n\nassistant: Here it is.\n\nPayment draft\nVendor note ![badge](/verified.png)" in [t.value for t in app.text]
    assert not any("verified.png" in m.value for m in app.markdown)
    assert any("12,000.00 GBP" in e.label for e in app.expander)
    threshold_notes = [m.value for m in app.markdown if "second-approver threshold" in m.value]
    assert threshold_notes == ["- ⚠ Amount 12,000.00 GBP is above the second-approver threshold of 10,000.00 GBP."]

    switch_user(app, "carla.controller@borealis.test")
    app.switch_page(APPROVALS).run()
    assert f"approve_{request.request_id}" in {b.key for b in app.button}

    switch_user(app, "vera.viewer@borealis.test")
    app.switch_page(APPROVALS).run()
    assert not app.exception
    assert app.title[0].value == "Approvals"
    assert "No pending requests match the filters." in [i.value for i in app.info]
    assert not [e for e in app.expander if request.request_id in e.label]

    switch_user(app, "pete.procurement@borealis.test")
    app.switch_page(CHAT).run()
    captions = " ".join(c.value for c in app.sidebar.caption)
    assert "1 of 2 approvals recorded; waiting for 1 more approval, by a financial_controller." in captions


def test_audit_run_detail_shows_the_approval(app: AppTest, services: Services) -> None:
    from tests.conftest import actor_for

    sign_in(app, "paula.procurement@acme.test")
    app.switch_page(CHAT).run()
    app.chat_input[0].set_value("Draft a payment of 85.00 EUR to Helios Steel Works for invoice INV-CHAT-2").run()
    app.button(key=next(b.key for b in app.button if b.key and b.key.startswith("request_approval_"))).click().run()
    [request] = services.drafts.list_requests("tnt_acme")
    services.approvals.approve(actor_for(services, "felix.finance@acme.test"), request.request_id)

    switch_user(app, "felix.finance@acme.test")
    app.switch_page(AUDIT).run()
    assert not app.exception
    assert any(m.value.startswith("**After the run") for m in app.markdown)
    labels = [e.label for e in app.expander]
    assert any("`approval.approved` · Felix Finance" in label for label in labels)
    assert any("`execution.succeeded`" in label for label in labels)
