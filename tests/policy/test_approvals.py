"""Approval rules: who may decide, second approvers, expiry, exactly-once execution, audit trail."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from lynx_core.services import Services
from tests.conftest import actor_for

ACME_VENDOR = "Helios Steel Works"
BOREALIS_VENDOR = "Nordlicht Textiles"


def lynx_payments(services: Services, tenant_id: str) -> list:
    return [p for p in services.kernel.list_payments(tenant_id) if p.source == "lynx"]


def draft_payment(services: Services, email: str, vendor: str, amount: str, currency: str, invoice: str) -> str:
    requester = actor_for(services, email)
    result = services.executor.execute(
        requester, "vpm.cluster.payment.draft",
        {"vendor_name": vendor, "amount": amount, "currency": currency, "invoice_ref": invoice},
    )
    assert result.status == "succeeded", result.error
    return result.output["draft_id"]


def submitted_request(services: Services, email: str, vendor: str, amount: str, currency: str, invoice: str) -> str:
    draft_id = draft_payment(services, email, vendor, amount, currency, invoice)
    outcome = services.approvals.submit(actor_for(services, email), draft_id, conversation_excerpt="user: pay it")
    assert outcome.status == "pending", outcome.message
    return outcome.request_id


@pytest.fixture
def acme_request(services: Services) -> str:
    return submitted_request(services, "paula.procurement@acme.test", ACME_VENDOR, "1250.00", "EUR", "INV-T-1")


def refusal_events(services: Services, tenant_id: str, rule: str) -> list[dict]:
    return [e for e in services.audit.list_events(tenant_id, event_type="approval.refused") if e["rule"] == rule]


def test_requester_cannot_approve_own_request(services: Services) -> None:
    request_id = submitted_request(services, "felix.finance@acme.test", ACME_VENDOR, "300.00", "EUR", "INV-SELF")
    outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), request_id)
    assert outcome.refusal is not None
    assert outcome.refusal.rule == "self_approval"
    assert "nobody approves their own request" in outcome.message
    assert services.drafts.get_request("tnt_acme", request_id).status == "pending"
    assert len(refusal_events(services, "tnt_acme", "self_approval")) == 1
    assert lynx_payments(services, "tnt_acme") == []


def test_foreign_approver_refused_and_audited(services: Services, acme_request: str) -> None:
    outcome = services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), acme_request)
    assert outcome.refusal.rule == "tenant_isolation"
    assert services.drafts.get_request("tnt_acme", acme_request).status == "pending"
    breaches = services.audit.list_events("tnt_borealis", event_type="tenant.isolation_breach")
    assert [b["subject_id"] for b in breaches] == [acme_request]
    assert lynx_payments(services, "tnt_acme") == []


def test_approver_without_approve_scope_is_refused(services: Services, acme_request: str) -> None:
    outcome = services.approvals.approve(actor_for(services, "dora.deputy@acme.test"), acme_request)
    assert outcome.refusal.rule == "approver_scope_required"
    assert "finance:approve" in outcome.message
    assert len(refusal_events(services, "tnt_acme", "approver_scope_required")) == 1


def test_user_without_approver_role_is_refused(services: Services, acme_request: str) -> None:
    outcome = services.approvals.approve(actor_for(services, "victor.viewer@acme.test"), acme_request)
    assert outcome.refusal.rule == "approver_role_required"
    assert "finance_manager" in outcome.message


def test_one_approval_executes_payment_once(services: Services, acme_request: str) -> None:
    outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request)
    assert outcome.status == "executed", outcome.message
    payments = lynx_payments(services, "tnt_acme")
    assert len(payments) == 1
    assert payments[0].amount == Decimal("1250.00")
    assert payments[0].vpm_record_id is not None

    again = services.approvals.approve(actor_for(services, "fran.finance@acme.test"), acme_request)
    assert again.status == "executed"
    assert again.result == outcome.result
    assert len(lynx_payments(services, "tnt_acme")) == 1


def test_second_approver_needed_above_threshold(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "15000.00", "GBP", "INV-BIG")
    assert services.drafts.get_request("tnt_borealis", request_id).required_approvals == 2

    first = services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request_id)
    assert first.status == "pending"
    assert "waits for 1 more approval, by a financial_controller" in first.message
    assert lynx_payments(services, "tnt_borealis") == []
    progress = services.approvals.progress(services.drafts.get_request("tnt_borealis", request_id))
    assert progress.approver_ids == ("usr_bor_finance",)
    assert progress.missing == 1
    assert progress.second_roles == ("financial_controller",)

    repeat = services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request_id)
    assert repeat.status == "pending"
    assert lynx_payments(services, "tnt_borealis") == []

    second = services.approvals.approve(actor_for(services, "carla.controller@borealis.test"), request_id)
    assert second.status == "executed", second.message
    assert len(lynx_payments(services, "tnt_borealis")) == 1


def test_controller_first_leaves_any_approver(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "15000.00", "GBP", "INV-BIG2")

    first = services.approvals.approve(actor_for(services, "carla.controller@borealis.test"), request_id)

    assert first.status == "pending"
    assert first.message.startswith("Your approval is recorded. The request now waits for 1 more approval;")
    progress = services.approvals.progress(services.drafts.get_request("tnt_borealis", request_id))
    assert progress.missing == 1
    assert progress.second_roles == ()
    assert lynx_payments(services, "tnt_borealis") == []


def test_progress_after_each_approver(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "15000.00", "GBP", "INV-BIG3")
    bruno = actor_for(services, "bruno.finance@borealis.test")
    carla = actor_for(services, "carla.controller@borealis.test")
    request = services.drafts.get_request("tnt_borealis", request_id)

    assert services.approvals.progress_after_approval(bruno, request).waiting_for() == "1 more approval, by a financial_controller"
    assert services.approvals.progress_after_approval(carla, request).waiting_for() == "1 more approval"
    services.approvals.approve(bruno, request_id)
    progress = services.approvals.progress_after_approval(carla, services.drafts.get_request("tnt_borealis", request_id))

    assert progress.complete
    assert services.approvals.progress(request).summary() == "1 of 2 approvals recorded"


def test_summary_avoids_two_of_two_while_waiting() -> None:
    from lynx_core.policy.approvals import ApprovalProgress

    waiting = ApprovalProgress(("usr_a", "usr_b"), required=2, missing=1, second_roles=("financial_controller",))
    done = ApprovalProgress(("usr_a", "usr_c"), required=2, missing=0)

    assert waiting.summary() == "2 approvals recorded"
    assert waiting.waiting_for() == "1 more approval, by a financial_controller"
    assert done.summary() == "2 of 2 approvals recorded"
    assert not waiting.complete
    assert done.complete


def test_one_approver_suffices_below_threshold(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "5000.00", "GBP", "INV-SMALL")
    assert services.drafts.get_request("tnt_borealis", request_id).required_approvals == 1
    outcome = services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request_id)
    assert outcome.status == "executed"
    assert len(lynx_payments(services, "tnt_borealis")) == 1


def test_acme_has_no_second_approver_for_large_amounts(services: Services) -> None:
    request_id = submitted_request(services, "paula.procurement@acme.test", ACME_VENDOR, "90000.00", "EUR", "INV-LARGE")
    assert services.drafts.get_request("tnt_acme", request_id).required_approvals == 1


def expire_now(settings_dir: Path, request_id: str) -> None:
    """Move a request's expiry into the past, as if its 72 hours had passed."""
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).isoformat()
    conn = sqlite3.connect(settings_dir / "lynx.sqlite")
    conn.execute("UPDATE approval_requests SET expires_at = ? WHERE request_id = ?", (past, request_id))
    conn.commit()
    conn.close()


def test_expired_request_cannot_be_approved(services: Services, acme_request: str) -> None:
    request = services.drafts.get_request("tnt_acme", acme_request)
    created = dt.datetime.fromisoformat(request.created_at)
    assert round((request.expires - created).total_seconds() / 3600) == 72

    expire_now(services.settings.lynx_data_dir, acme_request)
    outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request)
    assert outcome.refusal.rule == "approval_expired"
    assert services.drafts.get_request("tnt_acme", acme_request).status == "expired"
    assert len(services.audit.list_events("tnt_acme", event_type="approval.expired")) == 1
    assert lynx_payments(services, "tnt_acme") == []


def test_borealis_requests_expire_after_48_hours(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "100.00", "GBP", "INV-EXP")
    request = services.drafts.get_request("tnt_borealis", request_id)
    hours = (request.expires - dt.datetime.fromisoformat(request.created_at)).total_seconds() / 3600
    assert round(hours) == 48


def test_rejection_needs_reason(services: Services, acme_request: str) -> None:
    felix = actor_for(services, "felix.finance@acme.test")
    empty = services.approvals.reject(felix, acme_request, "  ")
    assert empty.refusal.rule == "reason_required"
    assert services.drafts.get_request("tnt_acme", acme_request).status == "pending"

    rejected = services.approvals.reject(felix, acme_request, "Invoice INV-T-1 was already paid by card.")
    assert rejected.status == "rejected"
    request = services.drafts.get_request("tnt_acme", acme_request)
    assert services.drafts.get_draft("tnt_acme", request.draft_id).status == "rejected"
    event = services.audit.list_events("tnt_acme", event_type="approval.rejected")[0]
    assert event["actor_id"] == "usr_acme_finance"
    assert event["reason"] == "Invoice INV-T-1 was already paid by card."

    late = services.approvals.approve(felix, acme_request)
    assert late.refusal is not None
    assert lynx_payments(services, "tnt_acme") == []


def test_twenty_concurrent_approvals_execute_once(services: Services, acme_request: str) -> None:
    approvers = [actor_for(services, "felix.finance@acme.test"), actor_for(services, "fran.finance@acme.test")]
    outcomes: list = []
    barrier = threading.Barrier(20)

    def approve(index: int) -> None:
        barrier.wait()
        outcomes.append(services.approvals.approve(approvers[index % 2], acme_request))

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 20
    assert len(lynx_payments(services, "tnt_acme")) == 1
    assert {o.status for o in outcomes} == {"executed"}
    assert len({str(o.result) for o in outcomes}) == 1
    assert len(services.audit.list_events("tnt_acme", event_type="execution.succeeded")) == 1


def block_vendor(kernel_path: Path, name: str, status: str) -> None:
    """Change a vendor's status in the Kernel's own database, as a Kernel administrator would."""
    conn = sqlite3.connect(kernel_path)
    conn.execute(
        "UPDATE vendors SET status = ?, record_json = json_set(record_json, '$.status', ?) "
        "WHERE json_extract(record_json, '$.name') = ?",
        (status, status, name),
    )
    assert conn.total_changes == 1
    conn.commit()
    conn.close()


def test_failed_execution_records_error_and_can_be_retried(services: Services, acme_request: str) -> None:
    kernel_path = services.settings.lynx_data_dir / "kernel.sqlite"
    block_vendor(kernel_path, ACME_VENDOR, "blocked")
    felix = actor_for(services, "felix.finance@acme.test")

    failed = services.approvals.approve(felix, acme_request)
    assert failed.status == "failed"
    request = services.drafts.get_request("tnt_acme", acme_request)
    assert "blocked" in request.error
    assert "retry" in request.next_step
    assert lynx_payments(services, "tnt_acme") == []
    assert services.drafts.get_draft("tnt_acme", request.draft_id).status == "approved"

    block_vendor(kernel_path, ACME_VENDOR, "active")
    retried = services.approvals.approve(felix, acme_request)
    assert retried.status == "executed", retried.message
    assert len(lynx_payments(services, "tnt_acme")) == 1


def test_cancelled_request_cannot_be_approved(services: Services, acme_request: str) -> None:
    cancelled = services.approvals.cancel(actor_for(services, "paula.procurement@acme.test"), acme_request, "wrong invoice")
    assert cancelled.status == "cancelled"
    outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request)
    assert outcome.refusal.rule == "approval_state"


def test_transitions_audited_and_chain_verifies(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "12000.00", "GBP", "INV-AUD")
    services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request_id)
    services.approvals.approve(actor_for(services, "carla.controller@borealis.test"), request_id)
    rejected_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "10.00", "GBP", "INV-REJ")
    services.approvals.reject(actor_for(services, "bruno.finance@borealis.test"), rejected_id, "Duplicate of INV-AUD")

    events = services.audit.list_events("tnt_borealis", limit=500)
    by_type = {}
    for event in events:
        by_type.setdefault(event["event_type"], []).append(event)
    expected_actors = {
        "draft.created": "usr_bor_procurement",
        "draft.submitted": "usr_bor_procurement",
        "approval.requested": "usr_bor_procurement",
        "approval.partially_approved": "usr_bor_finance",
        "approval.approved": "usr_bor_controller",
        "execution.started": "usr_bor_controller",
        "execution.succeeded": "usr_bor_controller",
        "approval.rejected": "usr_bor_finance",
    }
    for event_type, actor_id in expected_actors.items():
        assert event_type in by_type, f"no {event_type} event"
        assert actor_id in {e["actor_id"] for e in by_type[event_type]}, event_type
    assert by_type["approval.rejected"][0]["reason"] == "Duplicate of INV-AUD"
    tool_events = [e for e in by_type["tool.succeeded"] if e["tool_id"] == "vpm.cell.payment.record"]
    assert len(tool_events) == 1
    assert services.audit.verify("tnt_borealis").ok


def test_retry_needs_full_approvals_again(services: Services) -> None:
    request_id = submitted_request(services, "pete.procurement@borealis.test", BOREALIS_VENDOR, "15000.00", "GBP", "INV-RETRY")
    kernel_path = services.settings.lynx_data_dir / "kernel.sqlite"
    block_vendor(kernel_path, BOREALIS_VENDOR, "blocked")
    services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request_id)
    failed = services.approvals.approve(actor_for(services, "carla.controller@borealis.test"), request_id)
    assert failed.status == "failed"

    block_vendor(kernel_path, BOREALIS_VENDOR, "active")
    retry = services.approvals.approve(actor_for(services, "bruno.finance@borealis.test"), request_id)
    assert retry.status == "pending"
    request = services.drafts.get_request("tnt_borealis", request_id)
    assert request.round == 2
    assert lynx_payments(services, "tnt_borealis") == []

    done = services.approvals.approve(actor_for(services, "carla.controller@borealis.test"), request_id)
    assert done.status == "executed", done.message
    assert len(lynx_payments(services, "tnt_borealis")) == 1


class FailingKernel:
    """A Kernel wrapper whose reads fail from the moment ``broken`` is set, like a Kernel outage."""

    def __init__(self, kernel, failing: set[str]) -> None:
        self._kernel = kernel
        self._failing = failing
        self.broken = False

    def __getattr__(self, name: str):
        attribute = getattr(self._kernel, name)
        if name in self._failing and self.broken:
            from lynx_core.errors import KernelAPIError

            def fail(*args, **kwargs):
                raise KernelAPIError("The Kernel timed out after 3 retries.", status=None)

            return fail
        return attribute


@pytest.mark.parametrize("failing", [{"record_payment"}, {"owner_of"}])
def test_kernel_outage_during_execution_ends_in_failed(services: Services, acme_request: str, failing: set) -> None:
    flaky = FailingKernel(services.kernel, failing)
    services.executor.kernel = flaky
    flaky.broken = True
    outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request)
    assert outcome.status == "failed"
    request = services.drafts.get_request("tnt_acme", acme_request)
    assert request.status == "failed"
    assert "timed out" in request.error

    flaky.broken = False
    retried = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request)
    assert retried.status == "executed", retried.message


def test_kernel_outage_in_gate_refuses_call(services: Services) -> None:
    flaky = FailingKernel(services.kernel, {"owner_of", "get_user"})
    services.executor.kernel = flaky
    flaky.broken = True
    result = services.executor.execute(actor_for(services, "paula.procurement@acme.test"),
                                       "vpm.domain.unrecorded_payments.list", {})
    assert result.status == "refused"
    assert result.refusal.rule == "kernel_unavailable"
    assert "timed out" in result.refusal.reason


def test_concurrent_retries_open_one_round(services: Services, acme_request: str) -> None:
    kernel_path = services.settings.lynx_data_dir / "kernel.sqlite"
    block_vendor(kernel_path, ACME_VENDOR, "blocked")
    assert services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request).status == "failed"
    approvers = [actor_for(services, "felix.finance@acme.test"), actor_for(services, "fran.finance@acme.test")]
    barrier = threading.Barrier(6)
    outcomes: list = []

    def retry(index: int) -> None:
        barrier.wait()
        # As the Approvals page does: each click carries the round the approver saw fail.
        outcomes.append(services.approvals.approve(approvers[index % 2], acme_request, seen_round=1))

    threads = [threading.Thread(target=retry, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    request = services.drafts.get_request("tnt_acme", acme_request)
    assert request.status == "failed"
    assert request.round == 2
    assert len(outcomes) == 6


def test_stale_retry_does_not_open_another_round(services: Services, acme_request: str) -> None:
    block_vendor(services.settings.lynx_data_dir / "kernel.sqlite", ACME_VENDOR, "blocked")
    felix = actor_for(services, "felix.finance@acme.test")
    fran = actor_for(services, "fran.finance@acme.test")
    assert services.approvals.approve(felix, acme_request).status == "failed"
    assert services.approvals.approve(felix, acme_request, seen_round=1).status == "failed"
    assert services.drafts.get_request("tnt_acme", acme_request).round == 2

    late = services.approvals.approve(fran, acme_request, seen_round=1)

    assert late.status == "failed"
    assert late.message.startswith("Another approver acted on this request since you opened it.")
    assert services.drafts.get_request("tnt_acme", acme_request).round == 2


def test_kernel_outage_refuses_approval_without_deciding(services: Services, acme_request: str) -> None:
    flaky = FailingKernel(services.kernel, {"get_user"})
    services.approvals.kernel = flaky
    flaky.broken = True
    outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), acme_request)
    assert outcome.refusal.rule == "kernel_unavailable"
    assert services.drafts.get_request("tnt_acme", acme_request).status == "pending"
