"""The approval queue's context: filters and warnings computed at decision time."""

from __future__ import annotations

from decimal import Decimal

from lynx_core.policy.approval_views import QueueFilters, build_queue
from lynx_core.services import Services
from tests.conftest import actor_for
from tests.policy.test_approvals import submitted_request


def queue_for(services: Services, email: str, **filters):
    return build_queue(actor=actor_for(services, email), approvals=services.approvals, drafts=services.drafts,
                       kernel=services.kernel, filters=QueueFilters(**filters))


def test_duplicate_open_requests_warn(services: Services) -> None:
    first = submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "50.00", "EUR", "INV-DUP")
    second = submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "50.00", "EUR", "INV-DUP")
    views = {view.request.request_id: view for view in queue_for(services, "felix.finance@acme.test")}
    assert any(second in note and "same invoice" in note for note in views[first].risk_notes)
    assert any(first in note and "same invoice" in note for note in views[second].risk_notes)


def test_request_for_paid_invoice_warns_and_fails(services: Services) -> None:
    first = submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "50.00", "EUR", "INV-DUP2")
    second = submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "50.00", "EUR", "INV-DUP2")
    felix = actor_for(services, "felix.finance@acme.test")
    assert services.approvals.approve(felix, first).status == "executed"

    [view] = queue_for(services, "felix.finance@acme.test")
    assert view.request.request_id == second
    assert any("already has payment PAY-ACME-L" in note for note in view.risk_notes)
    failed = services.approvals.approve(felix, second)
    assert failed.status == "failed"
    assert "pay it twice" in failed.message
    paid = [p for p in services.kernel.list_payments("tnt_acme") if p.invoice_ref == "INV-DUP2"]
    assert len(paid) == 1


def test_queue_filters_by_amount_requester_and_type(services: Services) -> None:
    small = submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "20.00", "EUR", "INV-F1")
    large = submitted_request(services, "felix.finance@acme.test", "Helios Steel Works", "9000.00", "EUR", "INV-F2")
    approver = "fran.finance@acme.test"
    assert [v.request.request_id for v in queue_for(services, approver, min_amount=Decimal("100"))] == [large]
    assert [v.request.request_id for v in queue_for(services, approver, max_amount=Decimal("100"))] == [small]
    assert [v.request.request_id for v in queue_for(services, approver, requested_by="usr_acme_procurement")] == [small]
    assert queue_for(services, approver, tool_id="portal.cell.portal.enable") == []
    assert queue_for(services, approver, min_age_hours=1) == []


def test_queue_context_carries_vendor_snapshot_and_policy(services: Services) -> None:
    submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "20.00", "EUR", "INV-CTX")
    [view] = queue_for(services, "felix.finance@acme.test")
    assert view.vendor_snapshot["name"] == "Helios Steel Works"
    assert view.vendor_snapshot["status"] == "active"
    assert view.request.policy["approver_scope"] == "finance:approve"
    assert view.request.conversation_excerpt == "user: pay it"
    assert view.can_decide.allowed
    [dora_view] = queue_for(services, "dora.deputy@acme.test")
    assert dora_view.can_decide.rule == "approver_scope_required"


def test_viewer_does_not_see_payment_requests(services: Services) -> None:
    request_id = submitted_request(services, "paula.procurement@acme.test", "Helios Steel Works", "20.00", "EUR", "INV-VIEW")

    assert queue_for(services, "victor.viewer@acme.test") == []
    assert queue_for(services, "dylan.design@acme.test") == []
    assert [v.request.request_id for v in queue_for(services, "dora.deputy@acme.test")] == [request_id]
    assert [v.request.request_id for v in queue_for(services, "paula.procurement@acme.test")] == [request_id]
    assert queue_for(services, "bruno.finance@borealis.test") == []
