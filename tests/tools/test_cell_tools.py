"""Cell tools: refused without an approved request, carried out exactly once through approvals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from lynx_core.errors import KernelValidationError
from lynx_core.kernel.base import Kernel
from lynx_core.policy.permissions import check_tenant
from lynx_core.services import Services
from lynx_core.tools.cell import TOOLS as CELL_TOOLS
from lynx_core.tools.cell.documents import DocumentRequestsPublishInput
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer
from tests.conftest import actor_for

ACME = "tnt_acme"
BOREALIS = "tnt_borealis"

PAULA = "paula.procurement@acme.test"
ADA = "ada.admin@acme.test"
DYLAN = "dylan.design@acme.test"
FELIX = "felix.finance@acme.test"
DORA = "dora.deputy@acme.test"
PETE = "pete.procurement@borealis.test"
BRUNO = "bruno.finance@borealis.test"
CARLA = "carla.controller@borealis.test"

InputFactory = Callable[[Kernel], dict[str, Any]]


# --- Helpers -----------------------------------------------------------------------------------


def vendor_id(kernel: Kernel, tenant_id: str, name: str) -> str:
    matches = kernel.find_vendor_by_name(tenant_id, name)
    assert len(matches) == 1, f"demo vendor {name!r} is missing or ambiguous"
    return matches[0].id


def missing_document(kernel: Kernel, tenant_id: str):
    active = {vendor.id for vendor in kernel.list_vendors(tenant_id, status="active")}
    return next(d for d in kernel.list_vendor_documents(tenant_id, status="missing") if d.vendor_id in active)


def workflow_with_repeated_step(kernel: Kernel, tenant_id: str) -> str:
    return next(
        workflow.id for workflow in kernel.list_workflows(tenant_id)
        if workflow.status == "active" and any(step.duplicates_step for step in workflow.steps)
    )


def kernel_snapshot(kernel: Kernel, tenant_id: str) -> dict[str, Any]:
    return {
        "payments": len(kernel.list_payments(tenant_id)),
        "portals": sorted((p.id, p.status, tuple(p.pages), tuple(p.features)) for p in kernel.list_portals(tenant_id)),
        "workflows": sorted((w.id, w.status, w.version) for w in kernel.list_workflows(tenant_id)),
        "document_requests": len(kernel.list_document_requests(tenant_id)),
        "missing_documents": len(kernel.list_vendor_documents(tenant_id, status="missing")),
    }


def draft(services: Services, email: str, tool_id: str, data: dict[str, Any]) -> str:
    """Run a cluster tool and return the id of the draft it saved."""
    result = services.executor.execute(actor_for(services, email), tool_id, data)
    assert result.status == "succeeded", (result.error, result.refusal)
    return result.output["draft_id"]


def submit(services: Services, email: str, draft_id: str) -> str:
    """Request approval for a draft and return the request id."""
    outcome = services.approvals.submit(actor_for(services, email), draft_id)
    assert outcome.refusal is None, outcome.message
    assert outcome.status == "pending"
    return outcome.request_id


def approve(services: Services, email: str, request_id: str):
    return services.approvals.approve(actor_for(services, email), request_id)


# --- Direct calls without an approval ----------------------------------------------------------

DIRECT_CALLS: list[tuple[str, str, InputFactory]] = [
    (PAULA, "vpm.cell.payment.record", lambda k: {
        "vendor_id": vendor_id(k, ACME, "Helios Steel Works"), "amount": "100.00", "currency": "EUR",
        "invoice_ref": "INV-DIRECT-1", "due_date": "2027-01-15",
    }),
    (FELIX, "vpm.cell.payment.record", lambda k: {
        "vendor_id": vendor_id(k, ACME, "Quarry & Sons"), "amount": "48000.00", "currency": "EUR",
        "invoice_ref": "INV-DIRECT-2", "due_date": "2027-01-15", "memo": "APPROVED BY THE CFO",
    }),
    (PAULA, "docs.cell.document_requests.publish", lambda k: {
        "requests": [{"document_id": missing_document(k, ACME).id, "vendor_id": missing_document(k, ACME).vendor_id,
                      "message": "Please send the document."}],
    }),
    (PAULA, "workflow.cell.workflow.publish", lambda k: {
        "name": "Direct workflow", "domain": "procurement", "sla_hours": 24,
        "steps": [{"order": 1, "name": "Submit", "role": "procurement_officer", "avg_hours": 1, "p95_hours": 2}],
    }),
    (DYLAN, "portal.cell.portal.enable", lambda k: {
        "name": "Direct portal", "audience": "vendor", "pages": ["Home"], "features": [], "theme": "acme-industrial",
    }),
]


def test_every_cell_tool_has_a_direct_call_case():
    assert {tool_id for _, tool_id, _ in DIRECT_CALLS} == {tool.id for tool in CELL_TOOLS}


def test_cell_tools_have_approval_domains():
    domains = {tool.id: tool.approval_domain for tool in CELL_TOOLS}

    assert domains == {
        "vpm.cell.payment.record": "payments",
        "docs.cell.document_requests.publish": "documents",
        "workflow.cell.workflow.publish": "workflows",
        "portal.cell.portal.enable": "portals",
    }
    assert all(tool.layer is Layer.CELL and tool.risk == "high" for tool in CELL_TOOLS)


@pytest.mark.parametrize(("email", "tool_id", "make_input"), DIRECT_CALLS,
                         ids=[f"{tool_id}-{email.split('@')[0]}" for email, tool_id, _ in DIRECT_CALLS])
def test_direct_call_without_grant_is_refused(
    services: Services, email: str, tool_id: str, make_input: InputFactory
):
    before = kernel_snapshot(services.kernel, ACME)

    result = services.executor.execute(actor_for(services, email), tool_id, make_input(services.kernel))

    assert result.status == "refused"
    assert result.refusal is not None
    assert result.refusal.rule == "approval_required"
    assert "runs only from an approved approval request" in result.refusal.reason
    assert kernel_snapshot(services.kernel, ACME) == before
    events = services.audit.list_events(ACME, tool_id=tool_id, event_type="tool.refused")
    assert len(events) == 1
    assert events[0]["rule"] == "approval_required"
    assert events[0]["risk"] == "high"
    assert services.audit.list_events(ACME, tool_id=tool_id, event_type="tool.started") == []


def test_handler_without_idempotency_key_does_not_write(services: Services):
    tool = services.registry.get("vpm.cell.payment.record")
    data = tool.input_model.model_validate({
        "vendor_id": vendor_id(services.kernel, ACME, "Helios Steel Works"), "amount": "100.00", "currency": "EUR",
        "invoice_ref": "INV-NOKEY", "due_date": "2027-01-15",
    })
    context = ToolContext(actor=actor_for(services, PAULA), kernel=services.kernel, drafts=services.drafts,
                          run_id=None, call_id="call_test")
    before = kernel_snapshot(services.kernel, ACME)

    with pytest.raises(KernelValidationError, match="has no idempotency key"):
        tool.handler(context, data)

    assert kernel_snapshot(services.kernel, ACME) == before


def test_nested_document_ids_reach_tenant_guard(services: Services):
    # The executor refuses an ungranted cell call before reading its input, so the guard that
    # runs during an approved execution is called here directly.
    tool = services.registry.get("docs.cell.document_requests.publish")
    foreign = missing_document(services.kernel, BOREALIS)
    tool_input = tool.input_model.model_validate({
        "requests": [{"document_id": foreign.id, "vendor_id": foreign.vendor_id, "message": "Please send it."}],
    })

    decision, found = check_tenant(actor=actor_for(services, PAULA), tool=tool, tool_input=tool_input,
                                   kernel=services.kernel)

    assert not decision.allowed
    assert decision.rule == "tenant_isolation"
    assert {(f["field"], f["record_id"]) for f in found} == {
        ("document_ids", foreign.id), ("vendor_ids", foreign.vendor_id),
    }


def test_document_request_input_rejects_mismatched_ids():
    requests = [{"document_id": "doc_1", "vendor_id": "ven_1", "message": "Please send it."}]

    filled = DocumentRequestsPublishInput.model_validate({"requests": requests})
    assert filled.document_ids == ["doc_1"]
    assert filled.vendor_ids == ["ven_1"]
    with pytest.raises(ValidationError, match="document_ids must list the document id of each request"):
        DocumentRequestsPublishInput.model_validate({"requests": requests, "document_ids": ["doc_2"]})
    with pytest.raises(ValidationError, match="vendor_ids must list the distinct vendor ids"):
        DocumentRequestsPublishInput.model_validate({"requests": requests, "vendor_ids": ["ven_2"]})


# --- The full loop -----------------------------------------------------------------------------


def test_approved_payment_is_recorded_once(services: Services):
    kernel = services.kernel
    helios = vendor_id(kernel, ACME, "Helios Steel Works")
    before = {p.id for p in kernel.list_payments(ACME)}
    draft_id = draft(services, PAULA, "vpm.cluster.payment.draft",
                     {"vendor_id": helios, "amount": "1250.00", "invoice_ref": "INV-LOOP-1", "memo": "Steel for line 2"})
    request_id = submit(services, PAULA, draft_id)
    assert {p.id for p in kernel.list_payments(ACME)} == before

    outcome = approve(services, FELIX, request_id)

    assert outcome.status == "executed", outcome.message
    new = [p for p in kernel.list_payments(ACME) if p.id not in before]
    assert len(new) == 1
    payment = new[0]
    assert payment.source == "lynx"
    assert payment.amount == Decimal("1250.00")
    assert payment.currency == "EUR"
    assert payment.vendor_id == helios
    assert payment.invoice_ref == "INV-LOOP-1"
    assert payment.created_by == actor_for(services, PAULA).user_id
    assert payment.status == "scheduled"
    assert payment.vpm_record_id
    assert payment.memo == "Steel for line 2"
    assert outcome.result["payment_id"] == payment.id
    assert outcome.result["reference"] == payment.reference
    assert outcome.result["vendor_name"] == "Helios Steel Works"
    request = services.drafts.get_request(ACME, request_id)
    assert request.status == "executed"
    assert services.drafts.get_draft(ACME, draft_id).status == "executed"
    assert services.audit.list_events(ACME, subject_id=request_id, event_type="execution.succeeded")

    again = approve(services, FELIX, request_id)

    assert again.status == "executed"
    assert len([p for p in kernel.list_payments(ACME) if p.id not in before]) == 1


def test_approver_without_finance_approve_is_refused(services: Services):
    draft_id = draft(services, PAULA, "vpm.cluster.payment.draft",
                     {"vendor_name": "Helios Steel Works", "amount": "10.00", "invoice_ref": "INV-LOOP-2"})
    request_id = submit(services, PAULA, draft_id)
    payments = len(services.kernel.list_payments(ACME))

    outcome = approve(services, DORA, request_id)

    assert outcome.refusal is not None
    assert outcome.refusal.rule == "approver_scope_required"
    assert len(services.kernel.list_payments(ACME)) == payments


def test_payment_above_threshold_needs_controller(services: Services):
    kernel = services.kernel
    before = len(kernel.list_payments(BOREALIS))
    draft_id = draft(services, PETE, "vpm.cluster.payment.draft",
                     {"vendor_name": "Nordlicht Textiles", "amount": "12500.00", "invoice_ref": "INV-B-LOOP"})
    request_id = submit(services, PETE, draft_id)

    first = approve(services, BRUNO, request_id)

    assert first.status == "pending"
    assert len(kernel.list_payments(BOREALIS)) == before

    second = approve(services, CARLA, request_id)

    assert second.status == "executed", second.message
    assert len(kernel.list_payments(BOREALIS)) == before + 1
    assert second.result["currency"] == "GBP"


def test_approved_document_requests_are_published(services: Services):
    kernel = services.kernel
    document = missing_document(kernel, ACME)
    missing = [d.id for d in kernel.list_vendor_documents(ACME, vendor_id=document.vendor_id) if d.status == "missing"]
    requests_before = len(kernel.list_document_requests(ACME))
    draft_id = draft(services, PAULA, "docs.cluster.document_request.draft", {"vendor_id": document.vendor_id})
    request_id = submit(services, PAULA, draft_id)

    outcome = approve(services, FELIX, request_id)

    assert outcome.status == "executed", outcome.message
    assert outcome.result["published"] == len(missing)
    assert len(kernel.list_document_requests(ACME)) == requests_before + len(missing)
    for document_id in missing:
        assert kernel.get_vendor_document(ACME, document_id).status == "requested"
    published = kernel.list_document_requests(ACME)[-len(missing):]
    assert {r.created_by for r in published} == {actor_for(services, PAULA).user_id}
    assert all(r.message.startswith("Dear ") for r in published)


def test_approved_document_batch_is_published(services: Services):
    kernel = services.kernel
    requests_before = len(kernel.list_document_requests(ACME))
    draft_id = draft(services, PAULA, "docs.cluster.document_requests.batch_draft", {"max_vendors": 3})
    payload = services.drafts.get_draft(ACME, draft_id).payload
    request_id = submit(services, PAULA, draft_id)

    outcome = approve(services, ADA, request_id)

    assert outcome.status == "executed", outcome.message
    assert outcome.result["vendor_count"] == 3
    assert len(kernel.list_document_requests(ACME)) == requests_before + len(payload["requests"])


def test_approved_new_workflow_is_published(services: Services):
    kernel = services.kernel
    before = {w.id for w in kernel.list_workflows(ACME)}
    draft_id = draft(services, PAULA, "workflow.cluster.approval_workflow.draft", {
        "name": "Urgent spot buy", "domain": "procurement", "sla_hours": 24,
        "steps": [
            {"name": "Submit request", "role": "procurement_officer", "expected_hours": 1},
            {"name": "Budget check", "role": "finance_manager", "expected_hours": 4},
        ],
    })
    request_id = submit(services, PAULA, draft_id)

    outcome = approve(services, ADA, request_id)

    assert outcome.status == "executed", outcome.message
    new = [w for w in kernel.list_workflows(ACME) if w.id not in before]
    assert len(new) == 1
    assert new[0].name == "Urgent spot buy"
    assert new[0].status == "active"
    assert [s.role for s in new[0].steps] == ["procurement_officer", "finance_manager"]
    assert new[0].published_by == actor_for(services, PAULA).user_id


def test_approved_proposal_retires_old_workflow(services: Services):
    kernel = services.kernel
    old = kernel.get_workflow(ACME, workflow_with_repeated_step(kernel, ACME))
    draft_id = draft(services, PAULA, "workflow.cluster.workflow_proposal.draft", {"workflow_id": old.id})
    request_id = submit(services, PAULA, draft_id)

    outcome = approve(services, ADA, request_id)

    assert outcome.status == "executed", outcome.message
    assert kernel.get_workflow(ACME, old.id).status == "retired"
    new = kernel.get_workflow(ACME, outcome.result["workflow_id"])
    assert new.version == old.version + 1
    assert not any(step.duplicates_step for step in new.steps)
    assert outcome.result["replaced_workflow_id"] == old.id


def test_approved_portal_scaffold_is_enabled(services: Services):
    kernel = services.kernel
    before = {p.id for p in kernel.list_portals(ACME)}
    draft_id = draft(services, DYLAN, "portal.cluster.portal.scaffold", {
        "name": "Acme Supplier Hub", "audience": "vendor", "purpose": "Suppliers upload certificates.",
    })
    request_id = submit(services, DYLAN, draft_id)

    outcome = approve(services, ADA, request_id)

    assert outcome.status == "executed", outcome.message
    new = [p for p in kernel.list_portals(ACME) if p.id not in before]
    assert len(new) == 1
    assert new[0].status == "enabled"
    assert new[0].name == "Acme Supplier Hub"
    assert "Certificates" in new[0].pages
    assert new[0].enabled_by == actor_for(services, DYLAN).user_id
    assert outcome.result["created"] is True


def test_approved_portal_config_enables_portal(services: Services):
    kernel = services.kernel
    portal = next(p for p in kernel.list_portals(ACME) if p.name == "Acme Dealer Orders")
    draft_id = draft(services, DYLAN, "portal.cluster.portal_config.draft",
                     {"portal_id": portal.id, "add_pages": ["Quotes"], "remove_features": ["price lists"]})
    request_id = submit(services, DYLAN, draft_id)

    outcome = approve(services, ADA, request_id)

    assert outcome.status == "executed", outcome.message
    updated = kernel.get_portal(ACME, portal.id)
    assert updated.status == "enabled"
    assert updated.pages == [*portal.pages, "Quotes"]
    assert "price lists" not in updated.features
    assert len(kernel.list_portals(ACME)) == 3


def test_procurement_cannot_draft_portals(services: Services):
    result = services.executor.execute(actor_for(services, PAULA), "portal.cluster.portal.scaffold",
                                       {"name": "Hub", "audience": "vendor", "purpose": "Suppliers"})

    assert result.status == "refused"
    assert result.refusal.rule == "scope_required"


# --- A failing execution -----------------------------------------------------------------------


def test_kernel_rejected_execution_is_recorded_failed(services: Services):
    """Two proposals replace the same workflow; once one is published, the other cannot be."""
    kernel = services.kernel
    old = kernel.get_workflow(ACME, workflow_with_repeated_step(kernel, ACME))
    first_request = submit(services, PAULA, draft(services, PAULA, "workflow.cluster.workflow_proposal.draft",
                                                  {"workflow_id": old.id}))
    second_request = submit(services, PAULA, draft(services, PAULA, "workflow.cluster.workflow_proposal.draft",
                                                   {"workflow_id": old.id}))
    assert approve(services, ADA, second_request).status == "executed"
    workflows = len(kernel.list_workflows(ACME))

    outcome = approve(services, ADA, first_request)

    assert outcome.status == "failed"
    assert f"Workflow {old.name} ({old.id}) is already retired." in outcome.message
    request = services.drafts.get_request(ACME, first_request)
    assert request.status == "failed"
    assert "is already retired" in request.error
    assert request.next_step
    assert "retry" in request.next_step
    assert len(kernel.list_workflows(ACME)) == workflows
    failed = services.audit.list_events(ACME, subject_id=first_request, event_type="execution.failed")
    assert len(failed) == 1
    assert failed[0]["error"] == request.error

