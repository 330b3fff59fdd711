"""Cluster tools, run through the executor: they save drafts and never change the Kernel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from lynx_core.kernel.base import Kernel
from lynx_core.services import Services
from lynx_core.tools.cluster import TOOLS as CLUSTER_TOOLS
from lynx_core.tools.registry import Layer
from tests.conftest import actor_for

ACME = "tnt_acme"
BOREALIS = "tnt_borealis"

PAULA = "paula.procurement@acme.test"
ADA = "ada.admin@acme.test"
DYLAN = "dylan.design@acme.test"
FELIX = "felix.finance@acme.test"
PETE = "pete.procurement@borealis.test"

InputFactory = Callable[[Kernel], dict[str, Any]]


# --- Helpers -----------------------------------------------------------------------------------


def run(services: Services, email: str, tool_id: str, data: dict[str, Any]):
    return services.executor.execute(actor_for(services, email), tool_id, data)


def vendor_id(kernel: Kernel, tenant_id: str, name: str) -> str:
    matches = kernel.find_vendor_by_name(tenant_id, name)
    assert len(matches) == 1, f"demo vendor {name!r} is missing or ambiguous"
    return matches[0].id


def portal_id(kernel: Kernel, tenant_id: str, name: str) -> str:
    return next(portal.id for portal in kernel.list_portals(tenant_id) if portal.name == name)


def workflow_with_repeated_step(kernel: Kernel, tenant_id: str, status: str = "active") -> str:
    return next(
        workflow.id for workflow in kernel.list_workflows(tenant_id)
        if workflow.status == status and any(step.duplicates_step for step in workflow.steps)
    )


def retired_workflow(kernel: Kernel, tenant_id: str) -> str:
    return next(workflow.id for workflow in kernel.list_workflows(tenant_id) if workflow.status == "retired")


def vendor_without_missing_documents(kernel: Kernel, tenant_id: str) -> str:
    owing = {document.vendor_id for document in kernel.list_vendor_documents(tenant_id, status="missing")}
    return next(
        vendor.id for vendor in kernel.list_vendors(tenant_id, status="active") if vendor.id not in owing
    )


def vendor_with_missing_documents(kernel: Kernel, tenant_id: str) -> str:
    active = {vendor.id for vendor in kernel.list_vendors(tenant_id, status="active")}
    return next(
        document.vendor_id for document in kernel.list_vendor_documents(tenant_id, status="missing")
        if document.vendor_id in active
    )


def kernel_snapshot(kernel: Kernel, tenant_id: str) -> dict[str, Any]:
    """Return every count and status a draft could wrongly change in the Kernel."""
    return {
        "payments": len(kernel.list_payments(tenant_id)),
        "portals": sorted((p.id, p.status, tuple(p.pages), tuple(p.features), p.theme) for p in kernel.list_portals(tenant_id)),
        "workflows": sorted((w.id, w.status, w.version) for w in kernel.list_workflows(tenant_id)),
        "document_requests": len(kernel.list_document_requests(tenant_id)),
        "missing_documents": len(kernel.list_vendor_documents(tenant_id, status="missing")),
        "policies": [p.model_dump() for p in kernel.list_approval_policies(tenant_id)],
        "tokens": [t.model_dump() for t in kernel.list_design_tokens(tenant_id)],
    }


def draft_ok(services: Services, email: str, tool_id: str, data: dict[str, Any]) -> dict[str, Any]:
    result = run(services, email, tool_id, data)
    assert result.status == "succeeded", (result.error, result.refusal)
    assert result.output is not None
    return result.output


# --- Valid drafts ------------------------------------------------------------------------------

VALID_DRAFTS: list[tuple[str, str, InputFactory]] = [
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "1250.00", "invoice_ref": "INV-2291"}),
    (PAULA, "docs.cluster.document_request.draft",
     lambda k: {"vendor_id": vendor_with_missing_documents(k, ACME)}),
    (PAULA, "docs.cluster.document_requests.batch_draft", lambda k: {"max_vendors": 5}),
    (PAULA, "workflow.cluster.approval_workflow.draft", lambda k: {
        "name": "Urgent spot buy", "domain": "procurement", "sla_hours": 24,
        "steps": [
            {"name": "Submit request", "role": "procurement_officer", "expected_hours": 1},
            {"name": "Budget check", "role": "finance_manager", "expected_hours": 4, "p95_hours": 8},
            {"name": "Admin sign-off", "role": "tenant_admin", "expected_hours": 2},
        ],
    }),
    (PAULA, "workflow.cluster.workflow_proposal.draft",
     lambda k: {"workflow_id": workflow_with_repeated_step(k, ACME)}),
    (DYLAN, "portal.cluster.portal.scaffold", lambda k: {
        "name": "Acme Supplier Hub", "audience": "vendor",
        "purpose": "Suppliers upload certificates and follow their payments.",
    }),
    (DYLAN, "portal.cluster.portal_config.draft", lambda k: {
        "portal_id": portal_id(k, ACME, "Acme Supplier Portal"), "add_pages": ["Contracts"],
        "remove_features": ["bank detail change"],
    }),
    (ADA, "policy.cluster.policy_revision.draft", lambda k: {
        "domain": "payments", "expiry_hours": 24, "rationale": "Payments go stale after a day in our process.",
    }),
    (FELIX, "policy.cluster.policy_revision.draft", lambda k: {
        "domain": "payments", "second_approver_threshold": "20000.00", "second_approver_roles": ["finance_manager"],
        "rationale": "Large payments should be seen by two finance managers.",
    }),
    (DYLAN, "design.cluster.token_change.draft", lambda k: {
        "changes": [{"name": "color.brand.primary", "value": "#123e7c"}, {"name": "spacing.md", "value": "20px"}],
    }),
]


def test_every_cluster_tool_has_a_valid_case():
    covered = {tool_id for _, tool_id, _ in VALID_DRAFTS}
    assert covered == {tool.id for tool in CLUSTER_TOOLS}


def test_cluster_descriptions_say_draft_only():
    for tool in CLUSTER_TOOLS:
        assert tool.layer is Layer.CLUSTER, tool.id
        assert 1 <= len(tool.examples) <= 3, tool.id
        if tool.executes_with is None:
            assert "Creates a proposal only" in tool.description, tool.id
        else:
            assert "Creates a draft only" in tool.description, tool.id
            assert "approves the request" in tool.description, tool.id


@pytest.mark.parametrize(("email", "tool_id", "make_input"), VALID_DRAFTS,
                         ids=[f"{tool_id}-{email.split('@')[0]}" for email, tool_id, _ in VALID_DRAFTS])
def test_valid_draft_leaves_kernel_unchanged(
    services: Services, email: str, tool_id: str, make_input: InputFactory
):
    tool = services.registry.get(tool_id)
    data = make_input(services.kernel)
    before = kernel_snapshot(services.kernel, ACME)

    output = draft_ok(services, email, tool_id, data)

    assert kernel_snapshot(services.kernel, ACME) == before
    draft = services.drafts.get_draft(ACME, output["draft_id"])
    assert draft is not None
    assert draft.status == "draft"
    assert draft.tool_id == tool_id
    assert draft.execute_tool_id == tool.executes_with
    assert output["executes_with"] == tool.executes_with
    assert output["preview"]["summary"]
    assert output["preview"]["changes"]
    assert output["preview"]["checks"]
    if tool.executes_with is None:
        assert "proposal" in output["next_step"]
        assert draft.payload
    else:
        cell = services.registry.get(tool.executes_with)
        assert cell.layer is Layer.CELL
        parsed = cell.input_model.model_validate(draft.payload)
        assert parsed.model_dump(mode="json") == draft.payload
        assert "nothing has changed in the Kernel" in output["next_step"]


def test_draft_creation_is_audited(services: Services):
    output = draft_ok(services, PAULA, "vpm.cluster.payment.draft",
                      {"vendor_name": "Helios Steel Works", "amount": "10.00", "invoice_ref": "INV-1"})

    events = services.audit.list_events(ACME, subject_id=output["draft_id"])

    assert [event["event_type"] for event in events] == ["draft.created"]


# --- Invalid input -----------------------------------------------------------------------------

#: (user, tool, input factory, status, rule or None, text of the message shown to the user)
INVALID_INPUTS: list[tuple[str, str, InputFactory, str, str | None, str]] = [
    # Missing fields and wrong types are refused before the handler runs.
    (PAULA, "vpm.cluster.payment.draft", lambda k: {"vendor_name": "Helios Steel Works", "invoice_ref": "INV-1"},
     "refused", "invalid_input", "amount: Field required"),
    (PAULA, "vpm.cluster.payment.draft", lambda k: {"amount": "10.00", "invoice_ref": "INV-1"},
     "refused", "invalid_input", "give vendor_id or vendor_name"),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "lots", "invoice_ref": "INV-1"},
     "refused", "invalid_input", "amount: Input should be a valid decimal"),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "10.00", "invoice_ref": "INV-1", "due_date": "soon"},
     "refused", "invalid_input", "due_date: Input should be a valid date"),
    (PAULA, "workflow.cluster.approval_workflow.draft",
     lambda k: {"name": "No steps", "domain": "procurement", "sla_hours": 24},
     "refused", "invalid_input", "steps: Field required"),
    (PAULA, "workflow.cluster.approval_workflow.draft",
     lambda k: {"name": "Empty", "domain": "procurement", "sla_hours": 24, "steps": []},
     "refused", "invalid_input", "steps: List should have at least 1 item"),
    (DYLAN, "portal.cluster.portal.scaffold",
     lambda k: {"name": "Partner hub", "audience": "partner", "purpose": "Partners"},
     "refused", "invalid_input", "audience: Input should be 'customer' or 'vendor'"),
    (PAULA, "docs.cluster.document_requests.batch_draft", lambda k: {"max_vendors": 51},
     "refused", "invalid_input", "max_vendors: Input should be less than or equal to 50"),
    (ADA, "policy.cluster.policy_revision.draft", lambda k: {"domain": "payments", "expiry_hours": 24, "rationale": "short"},
     "refused", "invalid_input", "rationale: String should have at least 10 characters"),
    # Another tenant's ids are refused by the tenant guard.
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_id": vendor_id(k, BOREALIS, "Nordlicht Textiles"), "amount": "10.00", "invoice_ref": "INV-1"},
     "refused", "tenant_isolation", "in field 'vendor_id' does not belong to your tenant"),
    (PAULA, "docs.cluster.document_request.draft",
     lambda k: {"vendor_id": vendor_id(k, BOREALIS, "Nordlicht Textiles")},
     "refused", "tenant_isolation", "does not belong to your tenant"),
    (PAULA, "workflow.cluster.workflow_proposal.draft",
     lambda k: {"workflow_id": workflow_with_repeated_step(k, BOREALIS)},
     "refused", "tenant_isolation", "in field 'workflow_id' does not belong to your tenant"),
    (DYLAN, "portal.cluster.portal_config.draft",
     lambda k: {"portal_id": portal_id(k, BOREALIS, "Borealis Click & Collect"), "add_pages": ["Offers"]},
     "refused", "tenant_isolation", "in field 'portal_id' does not belong to your tenant"),
    # Another tenant's vendor named by name is simply not found.
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Nordlicht Textiles", "amount": "10.00", "invoice_ref": "INV-1"},
     "failed", None, "No vendor named 'Nordlicht Textiles' exists in your tenant."),
    # Kernel checks in the handler.
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_id": "ven_0000000000", "amount": "10.00", "invoice_ref": "INV-1"},
     "failed", None, "No vendor with id 'ven_0000000000' exists in your tenant."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "steel", "amount": "10.00", "invoice_ref": "INV-1"},
     "failed", None, "The name 'steel' matches 6 vendors: "),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "-5.00", "invoice_ref": "INV-1"},
     "failed", None, "Invalid amount -5.00 EUR: a payment must be more than 0."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "0", "invoice_ref": "INV-1"},
     "failed", None, "Invalid amount 0 EUR: a payment must be more than 0."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "5000000", "invoice_ref": "INV-1"},
     "failed", None, "Invalid amount 5,000,000.00 EUR: Lynx drafts payments of at most 1,000,000.00 EUR."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "10.005", "invoice_ref": "INV-1"},
     "failed", None, "Invalid amount 10.005: it has more than two decimal places."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "10.00", "currency": "USD", "invoice_ref": "INV-1"},
     "failed", None, "Invalid currency 'USD': payments of Acme Manufacturing are in EUR."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Orbit Logistics", "amount": "10.00", "invoice_ref": "INV-1"},
     "failed", None, "is inactive, so no payment can be drafted for it."),
    (PETE, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Fjord Packaging", "amount": "10.00", "invoice_ref": "INV-1"},
     "failed", None, "is blocked, so no payment can be drafted for it."),
    (PAULA, "vpm.cluster.payment.draft",
     lambda k: {"vendor_id": vendor_id(k, ACME, "Helios Steel Works"), "vendor_name": "Quarry & Sons",
                "amount": "10.00", "invoice_ref": "INV-1"},
     "failed", None, "is Helios Steel Works, not 'Quarry & Sons'."),
    (PETE, "docs.cluster.document_request.draft", lambda k: {"vendor_name": "Fjord Packaging"},
     "failed", None, "is blocked, so Lynx does not contact it for documents."),
    (PETE, "docs.cluster.document_request.draft", lambda k: {"vendor_name": "Nordlicht Textiles", "doc_types": ["GRN"]},
     "failed", None, "Borealis Retail does not require GRN documents; it requires PO, INVOICE."),
    (PAULA, "docs.cluster.document_request.draft", lambda k: {"vendor_id": vendor_without_missing_documents(k, ACME)},
     "failed", None, "has no missing PO, GRN, INVOICE documents"),
    (PAULA, "workflow.cluster.approval_workflow.draft", lambda k: {
        "name": "Spot buy", "domain": "procurement", "sla_hours": 24,
        "steps": [{"name": "Request", "role": "procurement_officer", "expected_hours": 1},
                  {"name": "CFO sign-off", "role": "cfo", "expected_hours": 2}],
    }, "failed", None, "step 2 (CFO sign-off) names role 'cfo', which Acme Manufacturing does not have."),
    (PAULA, "workflow.cluster.approval_workflow.draft", lambda k: {
        "name": "Spot buy", "domain": "procurement", "sla_hours": 24,
        "steps": [{"name": "Control sign-off", "role": "financial_controller", "expected_hours": 2}],
    }, "failed", None, "names role 'financial_controller', which Acme Manufacturing does not have."),
    (PAULA, "workflow.cluster.approval_workflow.draft", lambda k: {
        "name": "Paper buy", "domain": "procurement", "sla_hours": 24,
        "steps": [{"name": "Signed form", "role": "procurement_officer", "expected_hours": 2, "manual": True}],
    }, "failed", None, "Steps 1 are manual, but Acme Manufacturing has switched off manual approval steps."),
    (PAULA, "workflow.cluster.workflow_proposal.draft", lambda k: {"workflow_id": retired_workflow(k, ACME)},
     "failed", None, "is retired, so it cannot be replaced."),
    (PAULA, "workflow.cluster.workflow_proposal.draft", lambda k: {"workflow_id": "wf_0000000000"},
     "failed", None, "No workflow with id 'wf_0000000000' exists in your tenant."),
    (DYLAN, "portal.cluster.portal.scaffold",
     lambda k: {"name": "acme supplier portal", "audience": "vendor", "purpose": "Suppliers"},
     "failed", None, "A portal named Acme Supplier Portal"),
    (DYLAN, "portal.cluster.portal_config.draft",
     lambda k: {"portal_id": portal_id(k, ACME, "Acme Supplier Portal"), "remove_pages": ["Careers"]},
     "failed", None, "Cannot remove pages the portal does not have: Careers."),
    (DYLAN, "portal.cluster.portal_config.draft",
     lambda k: {"portal_id": portal_id(k, ACME, "Acme Supplier Portal"), "add_pages": ["Home"]},
     "failed", None, "The request does not change portal Acme Supplier Portal."),
    (ADA, "policy.cluster.policy_revision.draft",
     lambda k: {"domain": "payments", "approver_roles": ["cfo"], "rationale": "The CFO should approve payments."},
     "failed", None, "Unknown role 'cfo': Acme Manufacturing has no such role."),
    (ADA, "policy.cluster.policy_revision.draft",
     lambda k: {"domain": "payments", "expiry_hours": 72, "rationale": "Keep the expiry as it is today."},
     "failed", None, "The proposal matches the current payments policy"),
    (ADA, "policy.cluster.policy_revision.draft", lambda k: {
        "domain": "payments", "second_approver_threshold": "5000.00", "second_approver_roles": ["tenant_admin"],
        "rationale": "Admins should see large payments.",
    }, "failed", None, "None of the second approver roles tenant_admin grants the scope finance:approve"),
    (DYLAN, "design.cluster.token_change.draft", lambda k: {"changes": [{"name": "color.txt.default", "value": "#000000"}]},
     "failed", None, "Unknown design token color.txt.default (did you mean color.text.default"),
    (DYLAN, "design.cluster.token_change.draft", lambda k: {"changes": [{"name": "color.brand.primary", "value": "navy"}]},
     "failed", None, "Invalid value 'navy' for colour token color.brand.primary: colours are hex codes."),
    (DYLAN, "design.cluster.token_change.draft", lambda k: {"changes": [{"name": "radius.md", "value": "4px"}]},
     "failed", None, "Token radius.md already has the value 4px."),
    # Roles and scopes still apply to drafts.
    (PAULA, "policy.cluster.policy_revision.draft",
     lambda k: {"domain": "payments", "expiry_hours": 24, "rationale": "Payments go stale after a day."},
     "refused", "role_required", "needs the role finance_manager or tenant_admin"),
    (DYLAN, "vpm.cluster.payment.draft",
     lambda k: {"vendor_name": "Helios Steel Works", "amount": "10.00", "invoice_ref": "INV-1"},
     "refused", "scope_required", "needs the scope finance:draft"),
]


@pytest.mark.parametrize(
    ("email", "tool_id", "make_input", "status", "rule", "message"), INVALID_INPUTS,
    ids=[f"{case[1].split('.')[2]}-{case[5][:40]}" for case in INVALID_INPUTS],
)
def test_invalid_input_gets_actionable_message(
    services: Services, email: str, tool_id: str, make_input: InputFactory, status: str, rule: str | None,
    message: str,
):
    tenant_id = BOREALIS if email.endswith("@borealis.test") else ACME
    data = make_input(services.kernel)
    before = kernel_snapshot(services.kernel, tenant_id)
    drafts_before = len(services.drafts.list_drafts(tenant_id))

    result = run(services, email, tool_id, data)

    assert result.status == status
    assert message in (result.error or "")
    if rule is None:
        assert result.refusal is None
    else:
        assert result.refusal is not None
        assert result.refusal.rule == rule
    assert len(services.drafts.list_drafts(tenant_id)) == drafts_before
    assert kernel_snapshot(services.kernel, tenant_id) == before


def test_cross_tenant_id_logs_isolation_breach(services: Services):
    foreign = vendor_id(services.kernel, BOREALIS, "Nordlicht Textiles")

    run(services, PAULA, "vpm.cluster.payment.draft", {"vendor_id": foreign, "amount": "10.00", "invoice_ref": "INV-1"})

    breaches = services.audit.list_events(ACME, event_type="tenant.isolation_breach")
    assert len(breaches) == 1
    assert breaches[0]["tool_id"] == "vpm.cluster.payment.draft"


# --- Payment drafts ----------------------------------------------------------------------------


def test_payment_draft_resolves_name_and_defaults(services: Services):
    helios = vendor_id(services.kernel, ACME, "Helios Steel Works")
    terms = services.kernel.get_vendor(ACME, helios).payment_terms_days

    output = draft_ok(services, PAULA, "vpm.cluster.payment.draft",
                      {"vendor_name": "helios steel works", "amount": 1250, "invoice_ref": " INV-2291 "})

    draft = services.drafts.get_draft(ACME, output["draft_id"])
    assert draft.payload == {
        "vendor_id": helios, "amount": "1250.00", "currency": "EUR", "invoice_ref": "INV-2291",
        "due_date": (dt.date.today() + dt.timedelta(days=terms)).isoformat(), "memo": None,
    }
    assert f"Due date set to today plus the vendor's {terms}-day payment terms" in output["preview"]["checks"]
    preview = output["preview"]
    assert preview["amount"] == "1250.00"
    assert preview["currency"] == "EUR"
    assert preview["vendor_id"] == helios
    assert preview["summary"].startswith("Pay 1,250.00 EUR to Helios Steel Works for invoice INV-2291")
    assert "Vendor Helios Steel Works (%s) is active" % helios in preview["checks"]


def test_payment_draft_warns_of_duplicate_invoice(services: Services):
    kernel = services.kernel
    earlier = next(p for p in kernel.list_payments(ACME) if p.status == "paid")

    output = draft_ok(services, PAULA, "vpm.cluster.payment.draft",
                      {"vendor_id": earlier.vendor_id, "amount": str(earlier.amount), "invoice_ref": earlier.invoice_ref})

    warnings = output["preview"]["warnings"]
    assert any(w.startswith(f"Possible duplicate: payment {earlier.reference}") for w in warnings), warnings


def test_payment_draft_counts_overdue_payments(services: Services):
    kernel = services.kernel
    active = {v.id for v in kernel.list_vendors(ACME, status="active")}
    overdue = [p for p in kernel.list_payments(ACME, status="overdue") if p.vendor_id in active]
    vendor = max(sorted({p.vendor_id for p in overdue}), key=lambda v: sum(p.vendor_id == v for p in overdue))
    count = sum(p.vendor_id == vendor for p in overdue)
    assert count > 1

    output = draft_ok(services, PAULA, "vpm.cluster.payment.draft",
                      {"vendor_id": vendor, "amount": "10.00", "invoice_ref": "INV-NEW-1"})

    assert any(w.startswith(f"Vendor has {count} overdue payments totalling") for w in output["preview"]["warnings"])


def test_payment_above_threshold_warns_second_approver(services: Services):
    output = draft_ok(services, PETE, "vpm.cluster.payment.draft",
                      {"vendor_name": "Nordlicht Textiles", "amount": "12500.00", "invoice_ref": "INV-B-1"})

    assert (
        "Above the tenant's second-approver threshold of 10,000.00 GBP: two approvers will be needed, "
        "one of them a financial_controller." in output["preview"]["warnings"]
    )
    assert output["preview"]["currency"] == "GBP"


def test_payment_at_threshold_needs_one_approver(services: Services):
    output = draft_ok(services, PETE, "vpm.cluster.payment.draft",
                      {"vendor_name": "Nordlicht Textiles", "amount": "10000.00", "invoice_ref": "INV-B-2"})

    assert not any("second-approver" in w for w in output["preview"]["warnings"])


def test_payment_draft_ignores_vendor_note_instructions(services: Services):
    quarry = services.kernel.get_vendor(ACME, vendor_id(services.kernel, ACME, "Quarry & Sons"))
    assert "APPROVED BY THE CFO" in quarry.notes

    output = draft_ok(services, PAULA, "vpm.cluster.payment.draft",
                      {"vendor_id": quarry.id, "amount": "100.00", "invoice_ref": "INV-Q-1"})

    draft = services.drafts.get_draft(ACME, output["draft_id"])
    assert draft.payload["amount"] == "100.00"
    assert draft.status == "draft"
    assert "CFO" not in str(output)


def test_past_due_date_is_drafted_with_warning(services: Services):
    output = draft_ok(services, PAULA, "vpm.cluster.payment.draft", {
        "vendor_name": "Helios Steel Works", "amount": "10.00", "invoice_ref": "INV-LATE",
        "due_date": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
    })

    assert any("is in the past" in w for w in output["preview"]["warnings"])


# --- Document request drafts -------------------------------------------------------------------


def test_document_request_asks_for_each_missing_document(services: Services):
    kernel = services.kernel
    vendor = vendor_with_missing_documents(kernel, ACME)
    missing = [d for d in kernel.list_vendor_documents(ACME, vendor_id=vendor) if d.status == "missing"]

    output = draft_ok(services, PAULA, "docs.cluster.document_request.draft", {"vendor_id": vendor})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert [r["document_id"] for r in payload["requests"]] == [d.id for d in missing]
    assert payload["document_ids"] == [d.id for d in missing]
    assert payload["vendor_ids"] == [vendor]
    for request, document in zip(payload["requests"], missing, strict=True):
        assert request["message"].startswith("Dear ")
        assert "please send it" in request["message"]
        assert document.purchase_ref in request["message"]
    assert len(output["preview"]["changes"]) == len(missing)


def test_document_request_limits_document_types(services: Services):
    kernel = services.kernel
    vendor = next(
        d.vendor_id for d in kernel.list_vendor_documents(ACME, status="missing")
        if d.doc_type == "INVOICE" and kernel.get_vendor(ACME, d.vendor_id).status == "active"
    )

    output = draft_ok(services, PAULA, "docs.cluster.document_request.draft",
                      {"vendor_id": vendor, "doc_types": ["INVOICE"]})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert {kernel.get_vendor_document(ACME, r["document_id"]).doc_type for r in payload["requests"]} == {"INVOICE"}


def test_batch_draft_groups_by_vendor_without_blocked(services: Services):
    kernel = services.kernel

    output = draft_ok(services, PAULA, "docs.cluster.document_requests.batch_draft", {"max_vendors": 50})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    vendors = {r["vendor_id"] for r in payload["requests"]}
    assert len(vendors) == 50
    assert payload["vendor_ids"] == list(dict.fromkeys(r["vendor_id"] for r in payload["requests"]))
    assert all(kernel.get_vendor(ACME, v).status != "blocked" for v in vendors)
    assert all(kernel.get_vendor_document(ACME, r["document_id"]).status == "missing" for r in payload["requests"])
    assert len(payload["requests"]) <= 200
    assert any(w.startswith("Blocked vendors are left out:") for w in output["preview"]["warnings"])
    assert len(output["preview"]["changes"]) == 50


def test_batch_draft_for_one_document_type(services: Services):
    output = draft_ok(services, PAULA, "docs.cluster.document_requests.batch_draft",
                      {"doc_type": "GRN", "max_vendors": 3})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    types = {services.kernel.get_vendor_document(ACME, r["document_id"]).doc_type for r in payload["requests"]}
    assert types == {"GRN"}
    assert len(payload["vendor_ids"]) == 3


# --- Workflow drafts ---------------------------------------------------------------------------


def test_new_workflow_maps_steps_and_warns_over_sla(services: Services):
    output = draft_ok(services, PAULA, "workflow.cluster.approval_workflow.draft", {
        "name": "Urgent spot buy", "domain": "procurement", "sla_hours": 4,
        "steps": [
            {"name": "Submit request", "role": "procurement_officer", "expected_hours": 1},
            {"name": "Budget check", "role": "finance_manager", "expected_hours": 4, "p95_hours": 9},
        ],
    })

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert payload["steps"][1] == {
        "order": 2, "name": "Budget check", "role": "finance_manager", "avg_hours": 4.0, "p95_hours": 9.0,
        "manual": False, "duplicates_step": None,
    }
    assert payload["replaces_workflow_id"] is None
    assert "The steps are expected to take 5 h in total, more than the SLA of 4 h." in output["preview"]["warnings"]


def test_borealis_workflow_allows_financial_controller(services: Services):
    output = draft_ok(services, PETE, "workflow.cluster.approval_workflow.draft", {
        "name": "Store fit-out", "domain": "procurement", "sla_hours": 72,
        "steps": [{"name": "Control sign-off", "role": "financial_controller", "expected_hours": 8, "manual": True}],
    })

    payload = services.drafts.get_draft(BOREALIS, output["draft_id"]).payload
    assert payload["steps"][0]["role"] == "financial_controller"
    assert payload["steps"][0]["manual"] is True


def test_workflow_proposal_removes_repeated_steps(services: Services):
    kernel = services.kernel
    workflow = kernel.get_workflow(ACME, workflow_with_repeated_step(kernel, ACME))
    repeated = [s for s in workflow.steps if s.duplicates_step]

    output = draft_ok(services, PAULA, "workflow.cluster.workflow_proposal.draft", {"workflow_id": workflow.id})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert payload["replaces_workflow_id"] == workflow.id
    assert payload["name"] == workflow.name
    assert len(payload["steps"]) == len(workflow.steps) - len(repeated)
    assert [s["order"] for s in payload["steps"]] == list(range(1, len(payload["steps"]) + 1))
    assert all(s["manual"] is False and s["duplicates_step"] is None for s in payload["steps"])
    assert {s.name for s in repeated}.isdisjoint(s["name"] for s in payload["steps"])
    changes = output["preview"]["changes"]
    assert len(changes) == len(workflow.steps) + 1
    assert changes[0]["after"] == f"retired, replaced by version {workflow.version + 1}"
    saved = round(sum(s.avg_hours for s in repeated), 1)
    assert f"saving {saved:g} h per run" in output["preview"]["summary"]


# --- Portal drafts -----------------------------------------------------------------------------


def test_portal_scaffold_uses_audience_purpose_theme(services: Services):
    output = draft_ok(services, DYLAN, "portal.cluster.portal.scaffold", {
        "name": "Acme Customer Returns", "audience": "customer", "purpose": "Customers start returns and track refunds.",
    })

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert payload["portal_id"] is None
    assert payload["audience"] == "customer"
    assert payload["theme"] == "acme-industrial"
    assert {"Orders", "Invoices", "Support", "Returns"} <= set(payload["pages"])
    assert {"returns", "refund status"} <= set(payload["features"])


def test_vendor_portal_bank_changes_warn_of_fraud(services: Services):
    output = draft_ok(services, DYLAN, "portal.cluster.portal.scaffold", {
        "name": "Acme Vendor Desk", "audience": "vendor", "purpose": "Vendors update bank details and upload invoices.",
    })

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert {"Onboarding", "Documents", "Payments"} <= set(payload["pages"])
    assert {"document upload", "payment status", "bank detail change"} <= set(payload["features"])
    assert any("fraud" in w for w in output["preview"]["warnings"])


def test_portal_config_shows_diff_and_enabling(services: Services):
    kernel = services.kernel
    portal = kernel.get_portal(ACME, portal_id(kernel, ACME, "Acme Dealer Orders"))

    output = draft_ok(services, DYLAN, "portal.cluster.portal_config.draft",
                      {"portal_id": portal.id, "remove_pages": ["Account"], "add_features": ["quote requests"]})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert payload["portal_id"] == portal.id
    assert payload["pages"] == [p for p in portal.pages if p != "Account"]
    assert payload["features"] == [*portal.features, "quote requests"]
    changes = {c["target"]: c for c in output["preview"]["changes"]}
    assert changes["Pages"]["before"] == ", ".join(portal.pages)
    assert changes["Status"] == {"target": "Status", "before": "disabled", "after": "enabled"}
    assert "The portal is disabled; carrying out this draft also enables it." in output["preview"]["warnings"]


# --- Policy and design proposals ---------------------------------------------------------------


def test_policy_revision_compares_with_current_policy(services: Services):
    output = draft_ok(services, FELIX, "policy.cluster.policy_revision.draft", {
        "domain": "payments", "second_approver_threshold": "20000.00", "second_approver_roles": ["finance_manager"],
        "rationale": "Large payments should be seen by two finance managers.",
    })

    draft = services.drafts.get_draft(ACME, output["draft_id"])
    assert draft.execute_tool_id is None
    assert draft.payload["current"]["second_approver_threshold"] is None
    assert draft.payload["proposed"]["second_approver_threshold"] == "20000.00"
    changes = {c["target"]: (c["before"], c["after"]) for c in output["preview"]["changes"]}
    assert changes == {
        "payments policy: second_approver_threshold": ("none", "20,000.00 EUR"),
        "payments policy: second_approver_roles": ("none", "finance_manager"),
    }


def test_removing_second_approver_warns(services: Services):
    output = draft_ok(services, "bella.admin@borealis.test", "policy.cluster.policy_revision.draft", {
        "domain": "payments", "remove_second_approver": True, "rationale": "Testing a single-approver setup.",
    })

    assert "Removing the second approver lets one person approve any amount." in output["preview"]["warnings"]


def test_policy_proposal_cannot_be_submitted(services: Services):
    actor = actor_for(services, ADA)
    output = draft_ok(services, ADA, "policy.cluster.policy_revision.draft",
                      {"domain": "portals", "expiry_hours": 24, "rationale": "Portal changes are urgent."})

    outcome = services.approvals.submit(actor, output["draft_id"])

    assert outcome.refusal is not None
    assert outcome.refusal.rule == "no_cell_tool"


def test_token_change_warns_on_low_contrast(services: Services):
    output = draft_ok(services, DYLAN, "design.cluster.token_change.draft",
                      {"changes": [{"name": "color.text.default", "value": "#ddd"}]})

    payload = services.drafts.get_draft(ACME, output["draft_id"]).payload
    assert payload["changes"] == [
        {"name": "color.text.default", "category": "color", "before": "#1A1A1A", "after": "#DDDDDD"}
    ]
    warnings = output["preview"]["warnings"]
    assert any(
        w.startswith("Breaks the must rule 'Text must reach a contrast ratio of at least 4.5:1")
        and "color.text.default on color.surface.default is 1.36:1" in w
        for w in warnings
    ), warnings


def test_token_change_warns_on_radius_limit(services: Services):
    output = draft_ok(services, DYLAN, "design.cluster.token_change.draft",
                      {"changes": [{"name": "radius.md", "value": "8px"}]})

    assert any(
        w.startswith("Breaks the should rule 'Corners use radius.sm or radius.md") and "radius.md would be 8px" in w
        for w in output["preview"]["warnings"]
    )


def test_token_change_with_enough_contrast_passes(services: Services):
    output = draft_ok(services, DYLAN, "design.cluster.token_change.draft",
                      {"changes": [{"name": "color.text.default", "value": "#000000"}]})

    assert "Text on surface colours keeps a contrast of at least 4.5:1" in output["preview"]["checks"]
    assert not any(w.startswith("Breaks") for w in output["preview"]["warnings"])


def test_heading_font_rule_names_current_value(services: Services):
    output = draft_ok(services, "dana.design@borealis.test", "design.cluster.token_change.draft",
                      {"changes": [{"name": "font.family.heading", "value": "Inter"}]})

    assert any("names the current value Playfair Display" in w for w in output["preview"]["warnings"])

