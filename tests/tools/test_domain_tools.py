"""Read-only domain tools, run through the executor against the seeded demo Kernel."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from lynx_core.audit.events import RunRecord
from lynx_core.services import Services
from lynx_core.tools.domain import TOOLS as DOMAIN_TOOLS
from lynx_core.tools.registry import Layer
from tests.conftest import actor_for

ACME = "tnt_acme"
BOREALIS = "tnt_borealis"

DOMAIN_TOOL_IDS = (
    "finance.domain.health.summarize",
    "finance.domain.overdue_payments.list",
    "vpm.domain.vendor_payments.summarize",
    "audit.domain.risk.scan",
    "vendor.domain.vendors.search",
    "vendor.domain.vendor.summarize",
    "docs.domain.document_status.list",
    "workflow.domain.inefficiency.scan",
    "workflow.domain.workflow.read",
    "workflow.domain.approval_policies.read",
    "tenant.domain.profile.read",
    "design.domain.brand.read",
    "iam.domain.permissions.explain",
    "iam.domain.users.list",
    "lynx.domain.runs.recent",
    "portal.domain.portals.list",
)

#: For each tool: a user of Acme and a user of Borealis who may run it.
ALLOWED_USERS = {
    "finance.domain.health.summarize": ("felix.finance@acme.test", "carla.controller@borealis.test"),
    "finance.domain.overdue_payments.list": ("paula.procurement@acme.test", "bruno.finance@borealis.test"),
    "vpm.domain.vendor_payments.summarize": ("felix.finance@acme.test", "pete.procurement@borealis.test"),
    "audit.domain.risk.scan": ("felix.finance@acme.test", "carla.controller@borealis.test"),
    "vendor.domain.vendors.search": ("victor.viewer@acme.test", "vera.viewer@borealis.test"),
    "vendor.domain.vendor.summarize": ("paula.procurement@acme.test", "carla.controller@borealis.test"),
    "docs.domain.document_status.list": ("victor.viewer@acme.test", "pete.procurement@borealis.test"),
    "workflow.domain.inefficiency.scan": ("paula.procurement@acme.test", "vera.viewer@borealis.test"),
    "workflow.domain.workflow.read": ("victor.viewer@acme.test", "bruno.finance@borealis.test"),
    "workflow.domain.approval_policies.read": ("dylan.design@acme.test", "vera.viewer@borealis.test"),
    "tenant.domain.profile.read": ("victor.viewer@acme.test", "carla.controller@borealis.test"),
    "design.domain.brand.read": ("dylan.design@acme.test", "vera.viewer@borealis.test"),
    "iam.domain.permissions.explain": ("victor.viewer@acme.test", "carla.controller@borealis.test"),
    "iam.domain.users.list": ("ada.admin@acme.test", "bella.admin@borealis.test"),
    "lynx.domain.runs.recent": ("dylan.design@acme.test", "pete.procurement@borealis.test"),
    "portal.domain.portals.list": ("dylan.design@acme.test", "pete.procurement@borealis.test"),
}

HAND_VENDORS = {ACME: "Quarry & Sons", BOREALIS: "Aurora Print House"}


def run(services: Services, email: str, tool_id: str, data: dict[str, Any] | None = None):
    return services.executor.execute(actor_for(services, email), tool_id, data or {})


def run_ok(services: Services, email: str, tool_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    result = run(services, email, tool_id, data)
    assert result.status == "succeeded", (result.error, result.refusal)
    assert result.output is not None
    return result.output


def sample_input(services: Services, tenant_id: str, tool_id: str) -> dict[str, Any]:
    """Return a valid input naming records of this tenant where the tool needs one."""
    kernel = services.kernel
    if tool_id in ("vpm.domain.vendor_payments.summarize", "finance.domain.overdue_payments.list"):
        overdue = kernel.list_payments(tenant_id, status="overdue")
        return {"vendor_id": overdue[0].vendor_id}
    if tool_id == "vendor.domain.vendor.summarize":
        return {"vendor_name": HAND_VENDORS[tenant_id]}
    if tool_id == "docs.domain.document_status.list":
        missing = kernel.list_vendor_documents(tenant_id, status="missing")
        return {"vendor_id": missing[0].vendor_id}
    if tool_id == "workflow.domain.workflow.read":
        return {"workflow_id": kernel.list_workflows(tenant_id)[0].id}
    return {}


def live(payments):
    return [p for p in payments if p.deleted_at is None]


# --- Registration ------------------------------------------------------------------------------


def test_domain_tools_all_registered(services: Services) -> None:
    registered = {tool.id for tool in DOMAIN_TOOLS}
    for tool_id in DOMAIN_TOOL_IDS:
        assert tool_id in registered
        assert tool_id in services.registry


@pytest.mark.parametrize("tool_id", DOMAIN_TOOL_IDS)
def test_domain_tool_metadata_complete(services: Services, tool_id: str) -> None:
    tool = services.registry.get(tool_id)
    assert tool.layer is Layer.DOMAIN
    assert tool.risk.value == "low"
    assert tool.title
    assert len(tool.description) > 60
    assert 1 <= len(tool.examples) <= 3
    assert all(example.endswith(("?", ".")) for example in tool.examples)
    limit = tool.input_model.model_fields.get("limit")
    if limit is not None:
        assert limit.default <= 25
        maximum = next(meta.le for meta in limit.metadata if hasattr(meta, "le"))
        assert maximum <= 200


# --- Every tool for both tenants ---------------------------------------------------------------


@pytest.mark.parametrize("tool_id", DOMAIN_TOOL_IDS)
def test_tool_succeeds_for_both_tenants(services: Services, tool_id: str) -> None:
    acme_email, borealis_email = ALLOWED_USERS[tool_id]
    acme = run_ok(services, acme_email, tool_id, sample_input(services, ACME, tool_id))
    borealis = run_ok(services, borealis_email, tool_id, sample_input(services, BOREALIS, tool_id))

    assert acme["tenant_id"] == ACME
    assert borealis["tenant_id"] == BOREALIS
    assert {k: v for k, v in acme.items() if k != "tenant_id"} != {
        k: v for k, v in borealis.items() if k != "tenant_id"
    }


def test_currency_follows_tenant(services: Services) -> None:
    acme = run_ok(services, "felix.finance@acme.test", "finance.domain.health.summarize")
    borealis = run_ok(services, "bruno.finance@borealis.test", "finance.domain.health.summarize")

    assert acme["currency"] == "EUR"
    assert borealis["currency"] == "GBP"


# --- Roles and scopes --------------------------------------------------------------------------

ACCESS_TABLE = [
    # (user, tool, expected status, refusal rule, name the refusal reason must contain)
    ("victor.viewer@acme.test", "iam.domain.users.list", "refused", "role_required", "tenant_admin"),
    ("victor.viewer@acme.test", "audit.domain.risk.scan", "refused", "role_required", "financial_controller"),
    ("victor.viewer@acme.test", "finance.domain.health.summarize", "refused", "scope_required", "finance:read"),
    ("victor.viewer@acme.test", "finance.domain.overdue_payments.list", "refused", "scope_required", "finance:read"),
    ("victor.viewer@acme.test", "vendor.domain.vendors.search", "succeeded", None, None),
    ("victor.viewer@acme.test", "design.domain.brand.read", "succeeded", None, None),
    ("victor.viewer@acme.test", "iam.domain.permissions.explain", "succeeded", None, None),
    ("dylan.design@acme.test", "vendor.domain.vendors.search", "refused", "scope_required", "vendors:read"),
    ("dylan.design@acme.test", "docs.domain.document_status.list", "refused", "scope_required", "documents:read"),
    ("dylan.design@acme.test", "workflow.domain.inefficiency.scan", "refused", "scope_required", "workflows:read"),
    ("dylan.design@acme.test", "portal.domain.portals.list", "succeeded", None, None),
    ("dylan.design@acme.test", "tenant.domain.profile.read", "succeeded", None, None),
    ("paula.procurement@acme.test", "audit.domain.risk.scan", "refused", "role_required", "tenant_admin"),
    ("paula.procurement@acme.test", "design.domain.brand.read", "refused", "scope_required", "design:read"),
    ("paula.procurement@acme.test", "finance.domain.health.summarize", "succeeded", None, None),
    ("felix.finance@acme.test", "audit.domain.risk.scan", "succeeded", None, None),
    ("felix.finance@acme.test", "portal.domain.portals.list", "refused", "scope_required", "portals:read"),
    ("felix.finance@acme.test", "iam.domain.users.list", "refused", "role_required", "tenant_admin"),
    ("ada.admin@acme.test", "iam.domain.users.list", "succeeded", None, None),
    ("ada.admin@acme.test", "audit.domain.risk.scan", "succeeded", None, None),
    ("vera.viewer@borealis.test", "audit.domain.risk.scan", "refused", "role_required", "finance_manager"),
    ("vera.viewer@borealis.test", "iam.domain.users.list", "refused", "role_required", "tenant_admin"),
    ("vera.viewer@borealis.test", "vpm.domain.vendor_payments.summarize", "refused", "scope_required", "finance:read"),
    ("carla.controller@borealis.test", "audit.domain.risk.scan", "succeeded", None, None),
    ("carla.controller@borealis.test", "docs.domain.document_status.list", "refused", "scope_required", "documents:read"),
    ("carla.controller@borealis.test", "workflow.domain.workflow.read", "refused", "scope_required", "workflows:read"),
    ("pete.procurement@borealis.test", "audit.domain.risk.scan", "refused", "role_required", "tenant_admin"),
    ("pete.procurement@borealis.test", "docs.domain.document_status.list", "succeeded", None, None),
    ("bruno.finance@borealis.test", "audit.domain.risk.scan", "succeeded", None, None),
    ("bella.admin@borealis.test", "iam.domain.users.list", "succeeded", None, None),
    ("dana.design@borealis.test", "design.domain.brand.read", "succeeded", None, None),
    ("dana.design@borealis.test", "finance.domain.health.summarize", "refused", "scope_required", "finance:read"),
]


@pytest.mark.parametrize(("email", "tool_id", "status", "rule", "named"), ACCESS_TABLE)
def test_access_by_tenant_role_and_tool(
    services: Services, email: str, tool_id: str, status: str, rule: str | None, named: str | None
) -> None:
    tenant_id = ACME if email.endswith("acme.test") else BOREALIS
    result = run(services, email, tool_id, sample_input(services, tenant_id, tool_id))

    assert result.status == status, (result.error, result.refusal)
    if status == "refused":
        assert result.refusal is not None
        assert result.refusal.rule == rule
        assert named in result.refusal.reason
        assert named in result.refusal.needed


def test_refusal_recorded_in_audit_log(services: Services) -> None:
    result = run(services, "victor.viewer@acme.test", "iam.domain.users.list")
    events = services.audit.list_events(ACME, event_type="tool.refused", subject_id=result.call_id)

    assert len(events) == 1
    assert events[0]["rule"] == "role_required"
    assert events[0]["tool_id"] == "iam.domain.users.list"


# --- Tenant isolation --------------------------------------------------------------------------

FOREIGN_RECORD_CASES = [
    ("vpm.domain.vendor_payments.summarize", "vendor_id", "vendor"),
    ("finance.domain.overdue_payments.list", "vendor_id", "vendor"),
    ("vendor.domain.vendor.summarize", "vendor_id", "vendor"),
    ("docs.domain.document_status.list", "vendor_id", "vendor"),
    ("workflow.domain.workflow.read", "workflow_id", "workflow"),
]


@pytest.mark.parametrize(("tool_id", "field", "kind"), FOREIGN_RECORD_CASES)
def test_other_tenants_record_refused(services: Services, tool_id: str, field: str, kind: str) -> None:
    if kind == "vendor":
        foreign_id = services.kernel.list_vendors(BOREALIS)[0].id
    else:
        foreign_id = services.kernel.list_workflows(BOREALIS)[0].id

    result = run(services, "ada.admin@acme.test", tool_id, {field: foreign_id})

    assert result.status == "refused"
    assert result.refusal is not None
    assert result.refusal.rule == "tenant_isolation"
    assert field in result.refusal.reason
    assert result.output is None
    breaches = services.audit.list_events(ACME, event_type="tenant.isolation_breach")
    assert len(breaches) == 1
    assert breaches[0]["tool_id"] == tool_id
    assert breaches[0]["actor_id"] == "usr_acme_admin"
    assert services.audit.list_events(BOREALIS, event_type="tenant.isolation_breach") == []


def test_unknown_vendor_id_fails_as_not_found(services: Services) -> None:
    result = run(services, "felix.finance@acme.test", "vpm.domain.vendor_payments.summarize", {"vendor_id": "ven_does_not_exist"})

    assert result.status == "failed"
    assert "ven_does_not_exist" in (result.error or "")
    assert services.audit.list_events(ACME, event_type="tenant.isolation_breach") == []


# --- Input validation --------------------------------------------------------------------------

INVALID_INPUTS = [
    ("finance.domain.overdue_payments.list", {"limit": 0}, "limit"),
    ("finance.domain.overdue_payments.list", {"limit": 201}, "limit"),
    ("finance.domain.overdue_payments.list", {"limit": "many"}, "limit"),
    ("finance.domain.overdue_payments.list", {"sort": "newest"}, "sort"),
    ("finance.domain.overdue_payments.list", {"vendor_id": 123}, "vendor_id"),
    ("finance.domain.health.summarize", {"top_vendors": 26}, "top_vendors"),
    ("finance.domain.health.summarize", {"top_vendor": 3}, "top_vendor"),
    ("vpm.domain.vendor_payments.summarize", {}, "vendor_id"),
    ("vpm.domain.vendor_payments.summarize", {"vendor_id": ["ven_1"]}, "vendor_id"),
    ("audit.domain.risk.scan", {"large_payment_threshold": -5}, "large_payment_threshold"),
    ("audit.domain.risk.scan", {"large_payment_threshold": "lots"}, "large_payment_threshold"),
    ("audit.domain.risk.scan", {"examples_per_finding": 0}, "examples_per_finding"),
    ("vendor.domain.vendors.search", {"status": "deleted"}, "status"),
    ("vendor.domain.vendors.search", {"offset": -1}, "offset"),
    ("vendor.domain.vendors.search", {"query": ""}, "query"),
    ("vendor.domain.vendors.search", {"query": "x" * 101}, "query"),
    ("vendor.domain.vendor.summarize", {}, "vendor_name"),
    ("vendor.domain.vendor.summarize", {"vendor_id": "ven_1", "vendor_name": "Helios"}, "vendor_id"),
    ("docs.domain.document_status.list", {"doc_type": "RECEIPT"}, "doc_type"),
    ("docs.domain.document_status.list", {"include_requested": "sometimes"}, "include_requested"),
    ("workflow.domain.inefficiency.scan", {"status": "archived"}, "status"),
    ("workflow.domain.inefficiency.scan", {"limit": 1000}, "limit"),
    ("workflow.domain.workflow.read", {"workflow_id": ""}, "workflow_id"),
    ("workflow.domain.approval_policies.read", {"domain": "travel"}, "domain"),
    ("tenant.domain.profile.read", {"verbose": True}, "verbose"),
    ("design.domain.brand.read", {"category": "sound"}, "category"),
    ("iam.domain.permissions.explain", {"tool_id": "not a tool id"}, "tool_id"),
    ("iam.domain.users.list", {"role": "Tenant Admin!"}, "role"),
    ("lynx.domain.runs.recent", {"limit": 101}, "limit"),
    ("portal.domain.portals.list", {"audience": "partners"}, "audience"),
]


@pytest.mark.parametrize(("tool_id", "data", "field"), INVALID_INPUTS)
def test_invalid_input_refused_naming_field(services: Services, tool_id: str, data: dict[str, Any], field: str) -> None:
    result = run(services, "ada.admin@acme.test", tool_id, data)

    assert result.status == "refused"
    assert result.refusal is not None
    assert result.refusal.rule == "invalid_input"
    assert field in result.refusal.reason


# --- Finance -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("email", "tenant_id"), [("felix.finance@acme.test", ACME), ("bruno.finance@borealis.test", BOREALIS)])
def test_health_summary_matches_kernel(services: Services, email: str, tenant_id: str) -> None:
    payments = live(services.kernel.list_payments(tenant_id))
    overdue = [p for p in payments if p.status == "overdue"]
    output = run_ok(services, email, "finance.domain.health.summarize")

    assert output["payment_count"] == len(payments)
    unrecorded = [p for p in payments if p.vpm_record_id is None and p.status != "cancelled"]
    assert output["without_vpm_count"] == len(unrecorded)
    assert Decimal(output["without_vpm_amount"]) == sum(p.amount for p in unrecorded)
    assert output["duplicate_count"] == sum(1 for p in payments if p.duplicate_of is not None)
    assert output["overdue_count"] == len(overdue)
    assert Decimal(output["overdue_amount"]) == sum(p.amount for p in overdue)
    assert output["oldest_overdue"]["due_date"] == min(p.due_date for p in overdue).isoformat()
    assert sum(row["count"] for row in output["by_status"]) == len(payments)
    assert output["vendors_with_overdue"] == len({p.vendor_id for p in overdue})
    assert output["findings"]


def test_health_summary_top_vendors_by_overdue_amount(services: Services) -> None:
    overdue = live(services.kernel.list_payments(ACME, status="overdue"))
    per_vendor: dict[str, Decimal] = defaultdict(Decimal)
    for payment in overdue:
        per_vendor[payment.vendor_id] += payment.amount
    expected = sorted(per_vendor.values(), reverse=True)[:5]

    output = run_ok(services, "felix.finance@acme.test", "finance.domain.health.summarize")

    amounts = [Decimal(row["overdue_amount"]) for row in output["top_overdue_vendors"]]
    assert len(amounts) == 5
    assert amounts == expected


def test_overdue_list_sorts_largest_and_oldest(services: Services) -> None:
    overdue = live(services.kernel.list_payments(ACME, status="overdue"))

    largest = run_ok(services, "felix.finance@acme.test", "finance.domain.overdue_payments.list", {"limit": 200})
    oldest = run_ok(services, "felix.finance@acme.test", "finance.domain.overdue_payments.list", {"sort": "oldest", "limit": 10})

    assert largest["total_count"] == len(overdue)
    assert largest["shown"] == min(200, len(overdue))
    amounts = [Decimal(row["amount"]) for row in largest["payments"]]
    assert amounts == sorted(amounts, reverse=True)
    dates = [row["due_date"] for row in oldest["payments"]]
    assert dates == sorted(dates)
    assert dates[0] == min(p.due_date for p in overdue).isoformat()
    assert all(row["status"] == "overdue" and row["days_overdue"] > 0 for row in oldest["payments"])


def test_overdue_list_filters_by_vendor(services: Services) -> None:
    vendor_id = services.kernel.list_payments(ACME, status="overdue")[0].vendor_id
    expected = [p for p in live(services.kernel.list_payments(ACME, status="overdue")) if p.vendor_id == vendor_id]

    output = run_ok(services, "felix.finance@acme.test", "finance.domain.overdue_payments.list", {"vendor_id": vendor_id})

    assert output["total_count"] == len(expected)
    assert {row["vendor_id"] for row in output["payments"]} == {vendor_id}


def test_vendor_payments_summary_matches_kernel(services: Services) -> None:
    # A vendor with a cancelled payment that has no VPM record: it must not count as unrecorded.
    vendor_id = next(
        p.vendor_id for p in live(services.kernel.list_payments(BOREALIS, status="cancelled")) if p.vpm_record_id is None
    )
    payments = live(services.kernel.list_payments(BOREALIS, vendor_id=vendor_id))

    output = run_ok(services, "bruno.finance@borealis.test", "vpm.domain.vendor_payments.summarize", {"vendor_id": vendor_id})

    assert output["vendor_id"] == vendor_id
    assert output["payment_count"] == len(payments)
    assert Decimal(output["payment_amount"]) == sum(p.amount for p in payments)
    unrecorded = [p for p in payments if p.vpm_record_id is None and p.status != "cancelled"]
    assert output["without_vpm_count"] == len(unrecorded)
    assert Decimal(output["without_vpm_amount"]) == sum(p.amount for p in unrecorded)
    assert output["recent_shown"] == min(10, len(payments))
    created = [row["created_at"] for row in output["recent_payments"]]
    assert created == sorted(created, reverse=True)
    assert created[0] == max(p.created_at for p in payments).isoformat()


# --- Audit risk --------------------------------------------------------------------------------


def findings_by_code(output: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {finding["code"]: finding for finding in output["findings"]}


@pytest.mark.parametrize(("email", "tenant_id"), [("felix.finance@acme.test", ACME), ("carla.controller@borealis.test", BOREALIS)])
def test_risk_scan_payment_findings_match_kernel(services: Services, email: str, tenant_id: str) -> None:
    kernel = services.kernel
    payments = [p for p in live(kernel.list_payments(tenant_id)) if p.status != "cancelled"]
    vendors = {v.id: v for v in kernel.list_vendors(tenant_id)}
    threshold = kernel.get_tenant(tenant_id).settings.second_approver_threshold or Decimal("10000")

    output = run_ok(services, email, "audit.domain.risk.scan")
    findings = findings_by_code(output)

    duplicates = [p for p in payments if p.duplicate_of is not None]
    assert findings["duplicate_payments"]["count"] == len(duplicates)
    assert Decimal(findings["duplicate_payments"]["amount"]) == sum(p.amount for p in duplicates)
    assert set(findings["duplicate_payments"]["example_ids"]) <= {p.id for p in duplicates}
    assert findings["payments_without_vpm"]["count"] == sum(1 for p in payments if p.vpm_record_id is None)
    unrecorded_list = run_ok(services, email, "vpm.domain.unrecorded_payments.list")
    assert unrecorded_list["total_count"] == findings["payments_without_vpm"]["count"]
    assert findings["payments_to_inactive_or_blocked_vendors"]["count"] == sum(
        1 for p in payments if vendors[p.vendor_id].status != "active"
    )
    assert findings["high_risk_vendor_large_payments"]["count"] == sum(
        1 for p in payments if vendors[p.vendor_id].risk_rating == "high" and p.amount >= threshold
    )
    assert Decimal(output["large_payment_threshold"]) == threshold
    assert output["payments_scanned"] == len(payments)
    assert output["risk_level"] == "high"


@pytest.mark.parametrize(("email", "tenant_id"), [("felix.finance@acme.test", ACME), ("carla.controller@borealis.test", BOREALIS)])
def test_risk_scan_missing_documents_follow_tenant_setting(services: Services, email: str, tenant_id: str) -> None:
    required = services.kernel.get_tenant(tenant_id).settings.required_documents
    on_file: dict[str, set[str]] = defaultdict(set)
    purchases: set[str] = set()
    for document in services.kernel.list_vendor_documents(tenant_id):
        purchases.add(document.purchase_ref)
        if document.status == "on_file":
            on_file[document.purchase_ref].add(document.doc_type)
    expected = sum(1 for ref in purchases if set(required) - on_file[ref])

    output = run_ok(services, email, "audit.domain.risk.scan", {"examples_per_finding": 3})
    finding = findings_by_code(output)["purchases_missing_documents"]

    assert output["required_documents"] == required
    assert output["purchases_scanned"] == len(purchases)
    assert finding["count"] == expected
    assert finding["example_kind"] == "document"
    assert len(finding["example_ids"]) == 3
    for document_id in finding["example_ids"]:
        assert services.kernel.get_vendor_document(tenant_id, document_id).status != "on_file"


def test_risk_scan_honours_custom_threshold(services: Services) -> None:
    output = run_ok(services, "felix.finance@acme.test", "audit.domain.risk.scan", {"large_payment_threshold": 1000000})
    finding = findings_by_code(output)["high_risk_vendor_large_payments"]

    assert finding["count"] == 0
    assert finding["severity"] == "none"
    assert finding["example_ids"] == []


# --- Vendors -----------------------------------------------------------------------------------


def test_vendor_search_matches_name_fragment(services: Services) -> None:
    output = run_ok(services, "victor.viewer@acme.test", "vendor.domain.vendors.search", {"query": "LOGISTICS"})

    assert output["total_count"] >= 1
    assert all("logistics" in row["name"].lower() for row in output["vendors"])


def test_vendor_search_filters_by_status(services: Services) -> None:
    blocked = services.kernel.list_vendors(BOREALIS, status="blocked")

    output = run_ok(services, "vera.viewer@borealis.test", "vendor.domain.vendors.search", {"status": "blocked"})

    assert output["total_count"] == len(blocked)
    assert {row["vendor_id"] for row in output["vendors"]} == {v.id for v in blocked}


def test_vendor_search_pages_through_all(services: Services) -> None:
    expected = [v.id for v in services.kernel.list_vendors(ACME)]
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = run_ok(services, "victor.viewer@acme.test", "vendor.domain.vendors.search", {"limit": 50, "offset": offset})
        assert page["total_count"] == len(expected)
        seen += [row["vendor_id"] for row in page["vendors"]]
        offset = page["next_offset"]

    assert seen == expected


def test_vendor_summary_by_name_marks_notes_untrusted(services: Services) -> None:
    vendor = services.kernel.find_vendor_by_name(ACME, "Quarry & Sons")[0]
    documents = services.kernel.list_vendor_documents(ACME, vendor_id=vendor.id)

    output = run_ok(services, "paula.procurement@acme.test", "vendor.domain.vendor.summarize", {"vendor_name": "quarry"})

    assert output["match"] == "name"
    assert output["vendor"]["vendor_id"] == vendor.id
    assert output["vendor"]["notes_untrusted"] == vendor.notes
    assert "notes" not in output["vendor"]
    assert output["vendor"]["custom_fields"] == vendor.custom_fields
    assert output["documents"]["missing"] == sum(1 for d in documents if d.status == "missing")
    assert output["documents"]["on_file"] == sum(1 for d in documents if d.status == "on_file")


def test_vendor_summary_by_id(services: Services) -> None:
    vendor = services.kernel.list_vendors(BOREALIS, status="blocked")[0]

    output = run_ok(services, "vera.viewer@borealis.test", "vendor.domain.vendor.summarize", {"vendor_id": vendor.id})

    assert output["match"] == "id"
    assert output["vendor"]["name"] == vendor.name
    assert output["vendor"]["status"] == "blocked"


def test_vendor_summary_notes_described_as_data(services: Services) -> None:
    tool = services.registry.get("vendor.domain.vendor.summarize")
    schema = tool.output_model.model_json_schema()
    description = schema["$defs"]["VendorProfile"]["properties"]["notes_untrusted"]["description"]

    assert "entered by people" in description
    assert "data only" in description


def test_vendor_summary_ambiguous_name_lists_candidates(services: Services) -> None:
    matches = services.kernel.find_vendor_by_name(ACME, "steel")

    output = run_ok(services, "paula.procurement@acme.test", "vendor.domain.vendor.summarize", {"vendor_name": "steel", "limit": 3})

    assert len(matches) > 3
    assert output["match"] == "ambiguous"
    assert output["vendor"] is None
    assert output["candidate_count"] == len(matches)
    assert len(output["candidates"]) == 3


def test_vendor_summary_unknown_name_not_found(services: Services) -> None:
    output = run_ok(services, "paula.procurement@acme.test", "vendor.domain.vendor.summarize", {"vendor_name": "Zzyzx Unknown"})

    assert output["match"] == "not_found"
    assert output["candidates"] == []


# --- Documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("email", "tenant_id"), [("victor.viewer@acme.test", ACME), ("pete.procurement@borealis.test", BOREALIS)])
def test_missing_documents_match_kernel(services: Services, email: str, tenant_id: str) -> None:
    missing = services.kernel.list_vendor_documents(tenant_id, status="missing")

    output = run_ok(services, email, "docs.domain.document_status.list", {"limit": 200})

    assert output["total_documents"] == len(missing)
    assert output["total_purchases"] == len({d.purchase_ref for d in missing})
    assert output["total_vendors"] == len({d.vendor_id for d in missing})
    assert sum(row["document_count"] for row in output["vendors"]) == len(missing)
    missing_ids = {d.id for d in missing}
    assert all(row["document_id"] in missing_ids for row in output["documents"])
    assert output["documents_shown"] == min(200, len(missing))


def test_missing_documents_per_vendor_counts(services: Services) -> None:
    missing = services.kernel.list_vendor_documents(ACME, status="missing")
    per_vendor: dict[str, int] = defaultdict(int)
    for document in missing:
        per_vendor[document.vendor_id] += 1

    output = run_ok(services, "victor.viewer@acme.test", "docs.domain.document_status.list", {"limit": 200})

    assert {row["vendor_id"]: row["document_count"] for row in output["vendors"]} == dict(per_vendor)
    counts = [row["document_count"] for row in output["vendors"]]
    assert counts == sorted(counts, reverse=True)


def test_missing_documents_filter_by_type(services: Services) -> None:
    expected = [d for d in services.kernel.list_vendor_documents(ACME, status="missing") if d.doc_type == "GRN"]

    output = run_ok(services, "victor.viewer@acme.test", "docs.domain.document_status.list", {"doc_type": "GRN", "limit": 5})

    assert output["total_documents"] == len(expected)
    assert output["documents_shown"] == 5
    assert {row["doc_type"] for row in output["documents"]} == {"GRN"}


def test_requested_documents_show_open_request(services: Services) -> None:
    requests = {r.document_id: r.id for r in services.kernel.list_document_requests(BOREALIS) if r.status == "sent"}
    not_on_file = [d for d in services.kernel.list_vendor_documents(BOREALIS) if d.status != "on_file"]

    output = run_ok(
        services, "pete.procurement@borealis.test", "docs.domain.document_status.list",
        {"include_requested": True, "limit": 200},
    )

    assert output["total_documents"] == len(not_on_file)
    requested_rows = [row for row in output["documents"] if row["status"] == "requested"]
    assert requested_rows
    for row in requested_rows:
        assert row["open_request_id"] == requests[row["document_id"]]


# --- Workflows and policies --------------------------------------------------------------------


def test_inefficiency_scan_findings_meet_criteria(services: Services) -> None:
    workflows = {w.id: w for w in services.kernel.list_workflows(ACME)}

    output = run_ok(services, "paula.procurement@acme.test", "workflow.domain.inefficiency.scan", {"limit": 200})

    assert output["workflows_scanned"] == sum(1 for w in workflows.values() if w.status == "active")
    for row in output["workflows"]:
        workflow = workflows[row["workflow_id"]]
        steps = {step.order: step for step in workflow.steps}
        for finding in row["findings"]:
            step = steps[finding["order"]]
            if finding["kind"] == "redundant":
                assert step.duplicates_step is not None
            else:
                assert step.p95_hours > 72 or step.avg_hours > workflow.sla_hours / 2
        assert row["hours_saved_90_days"] == pytest.approx(row["hours_saved_per_run"] * workflow.runs_last_90_days, abs=0.1)
    saved = [row["hours_saved_90_days"] for row in output["workflows"]]
    assert saved == sorted(saved, reverse=True)


def test_inefficiency_scan_finds_every_redundant_step(services: Services) -> None:
    expected = sum(
        1 for w in services.kernel.list_workflows(BOREALIS) if w.status == "active"
        for step in w.steps if step.duplicates_step is not None
    )

    output = run_ok(services, "vera.viewer@borealis.test", "workflow.domain.inefficiency.scan", {"kind": "redundant"})

    assert expected > 0
    assert output["redundant_step_count"] == expected
    assert output["slow_step_count"] == 0


def test_workflow_read_returns_kernel_steps(services: Services) -> None:
    workflow = services.kernel.list_workflows(BOREALIS)[3]

    output = run_ok(services, "bruno.finance@borealis.test", "workflow.domain.workflow.read", {"workflow_id": workflow.id})

    assert output["match"] == "id"
    assert output["workflow"]["name"] == workflow.name
    assert [s["name"] for s in output["workflow"]["steps"]] == [s.name for s in sorted(workflow.steps, key=lambda s: s.order)]
    assert output["workflow"]["step_count"] == len(workflow.steps)


def test_workflow_read_by_name_finds_active_version(services: Services) -> None:
    output = run_ok(services, "victor.viewer@acme.test", "workflow.domain.workflow.read", {"workflow_name": "SPOT BUY"})

    assert output["match"] == "name"
    assert output["workflow"]["name"] == "Spot buy"


def test_approval_policies_explain_hybrid_threshold(services: Services) -> None:
    output = run_ok(services, "vera.viewer@borealis.test", "workflow.domain.approval_policies.read")
    payments = next(p for p in output["policies"] if p["domain"] == "payments")

    assert output["approval_mode"] == "hybrid"
    assert Decimal(output["second_approver_threshold"]) == Decimal("10000")
    assert output["policy_count"] == len(services.kernel.list_approval_policies(BOREALIS))
    assert "10,000.00 GBP" in payments["summary"]
    assert "financial_controller" in payments["summary"]
    assert any("hybrid" in sentence for sentence in output["sentences"])


def test_approval_policies_single_mode_for_acme(services: Services) -> None:
    output = run_ok(services, "dylan.design@acme.test", "workflow.domain.approval_policies.read", {"domain": "payments"})

    assert output["approval_mode"] == "single"
    assert output["second_approver_threshold"] is None
    assert [p["domain"] for p in output["policies"]] == ["payments"]
    assert "second" not in output["policies"][0]["summary"]


# --- Tenant, design, portals -------------------------------------------------------------------


def test_tenant_profile_explains_every_setting(services: Services) -> None:
    tenant = services.kernel.get_tenant(BOREALIS)

    output = run_ok(services, "carla.controller@borealis.test", "tenant.domain.profile.read")

    assert output["currency"] == "GBP"
    assert output["settings"]["required_documents"] == tenant.settings.required_documents
    explained = {row["setting"]: row["meaning"] for row in output["explanations"]}
    assert set(explained) == set(type(tenant.settings).model_fields)
    assert "PO, INVOICE" in explained["required_documents"]
    assert "April" in explained["fiscal_year_start_month"]
    assert "hybrid" in explained["approval_mode"]


def test_brand_filters_tokens_by_category(services: Services) -> None:
    colours = [t for t in services.kernel.list_design_tokens(ACME) if t.category == "color"]

    output = run_ok(services, "dylan.design@acme.test", "design.domain.brand.read", {"category": "color"})

    assert output["token_count"] == len(colours)
    assert {t["category"] for t in output["tokens"]} == {"color"}
    assert output["rule_count"] == len(services.kernel.list_brand_rules(ACME))


def test_portals_list_filters_status(services: Services) -> None:
    enabled = [p for p in services.kernel.list_portals(BOREALIS) if p.status == "enabled"]

    output = run_ok(services, "pete.procurement@borealis.test", "portal.domain.portals.list", {"status": "enabled"})

    assert output["total_count"] == len(enabled)
    assert [p["portal_id"] for p in output["portals"]] == [p.id for p in enabled]
    assert output["portals"][0]["pages"] == enabled[0].pages


# --- Identity and access -----------------------------------------------------------------------


@pytest.mark.parametrize("email", ["victor.viewer@acme.test", "paula.procurement@acme.test", "carla.controller@borealis.test"])
def test_permissions_explain_agrees_with_executor(services: Services, email: str) -> None:
    tenant_id = ACME if email.endswith("acme.test") else BOREALIS
    output = run_ok(services, email, "iam.domain.permissions.explain", {"layer": "domain", "limit": 200})
    allowed = {row["tool_id"] for row in output["allowed_tools"]}
    denied = {row["tool_id"] for row in output["denied_tools"]}

    assert output["allowed_count"] + output["denied_count"] == len(DOMAIN_TOOLS)
    for tool_id in DOMAIN_TOOL_IDS:
        result = run(services, email, tool_id, sample_input(services, tenant_id, tool_id))
        refused_for_access = result.status == "refused" and result.refusal.rule in ("role_required", "scope_required")
        assert (tool_id in denied) == refused_for_access, tool_id
        assert (tool_id in allowed) != refused_for_access, tool_id


def test_permissions_explain_names_what_viewer_lacks(services: Services) -> None:
    user = services.kernel.get_user(ACME, "usr_acme_viewer")

    output = run_ok(services, "victor.viewer@acme.test", "iam.domain.permissions.explain", {"tool_id": "iam.domain.users.list"})

    assert [r["name"] for r in output["roles"]] == user.roles
    assert output["scopes"] == sorted(user.scopes)
    assert output["allowed_count"] == 0
    [denial] = output["denied_tools"]
    assert denial["needs_one_of_roles"] == ["tenant_admin"]
    assert denial["missing_scopes"] == ["users:read"]
    assert "tenant_admin" in denial["explanation"]


def test_users_list_matches_kernel(services: Services) -> None:
    users = services.kernel.list_users(BOREALIS)

    output = run_ok(services, "bella.admin@borealis.test", "iam.domain.users.list")
    controllers = run_ok(services, "bella.admin@borealis.test", "iam.domain.users.list", {"role": "financial_controller"})

    assert output["total_count"] == len(users)
    assert {u["email"] for u in output["users"]} == {u.email for u in users}
    assert [u["email"] for u in controllers["users"]] == ["carla.controller@borealis.test"]


# --- Recent runs -------------------------------------------------------------------------------


def append_run(services: Services, tenant_id: str, user_id: str, run_id: str, query: str, minutes_ago: int) -> None:
    ended = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)
    services.audit.append_run(RunRecord(
        run_id=run_id, tenant_id=tenant_id, user_id=user_id, query=query, response="(answer)",
        status="completed", provider="offline", model="rules", started_at=ended - dt.timedelta(seconds=2),
        ended_at=ended, tool_calls=2,
    ))


def test_recent_runs_show_only_own_runs(services: Services) -> None:
    ada = actor_for(services, "ada.admin@acme.test")
    services.executor.execute(ada, "tenant.domain.profile.read", {}, run_id="run_ada_old")
    services.executor.execute(ada, "iam.domain.users.list", {"limit": 0}, run_id="run_ada_old")
    append_run(services, ACME, "usr_acme_admin", "run_ada_old", "How is our tenant set up?", minutes_ago=10)
    append_run(services, ACME, "usr_acme_admin", "run_ada_new", "Who are our users?", minutes_ago=1)
    append_run(services, ACME, "usr_acme_finance", "run_felix", "What is overdue?", minutes_ago=5)

    output = run_ok(services, "ada.admin@acme.test", "lynx.domain.runs.recent")

    assert [r["run_id"] for r in output["runs"]] == ["run_ada_new", "run_ada_old"]
    assert output["has_more"] is False
    old = output["runs"][1]
    assert old["query"] == "How is our tenant set up?"
    assert [(c["tool_id"], c["outcome"]) for c in old["tool_calls"]] == [
        ("tenant.domain.profile.read", "succeeded"),
        ("iam.domain.users.list", "refused"),
    ]
    assert old["tool_calls"][1]["rule"] == "invalid_input"


def test_recent_runs_limit_reports_more(services: Services) -> None:
    for number in range(3):
        append_run(services, BOREALIS, "usr_bor_procurement", f"run_pete_{number}", f"question {number}", minutes_ago=number)

    output = run_ok(services, "pete.procurement@borealis.test", "lynx.domain.runs.recent", {"limit": 2})

    assert output["shown"] == 2
    assert output["has_more"] is True
    assert [r["run_id"] for r in output["runs"]] == ["run_pete_0", "run_pete_1"]
