"""Domain tool for the audit risk scan: payments and purchases an auditor would question."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.formatting import money
from lynx_core.kernel.models import Payment, Tenant, Vendor, VendorDocument
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, live_payments, plural, today_utc, total
from lynx_core.tools.registry import Layer, Tool

#: Large-payment threshold for tenants without a second-approver threshold, in their currency.
DEFAULT_LARGE_PAYMENT = Decimal("10000.00")

Severity = Literal["none", "low", "medium", "high"]
SEVERITY_RANK: dict[str, int] = {"none": 0, "low": 1, "medium": 2, "high": 3}


class RiskFinding(BaseModel):
    code: Literal[
        "duplicate_payments",
        "payments_without_vpm",
        "payments_to_inactive_or_blocked_vendors",
        "purchases_missing_documents",
        "high_risk_vendor_large_payments",
    ]
    title: str
    severity: Severity = Field(description="none when nothing was found.")
    count: int = Field(description="Payments, or purchases for purchases_missing_documents.")
    amount: Decimal
    example_kind: Literal["payment", "document"] = Field(
        description="What example_ids name: payment ids, or ids of documents that are not on file."
    )
    example_ids: list[str] = Field(description="Examples, largest amounts first.")
    detail: str = Field(description="One plain sentence about the finding.")


class RiskScanInput(ToolInput):
    large_payment_threshold: Decimal | None = Field(
        default=None, gt=0, le=Decimal("1000000"), decimal_places=2,
        description=(
            "Amount (tenant currency) from which a payment to a high-risk vendor counts as large. "
            "Default: the tenant's second-approver threshold, else 10,000."
        ),
    )
    examples_per_finding: int = Field(
        default=5, ge=1, le=25, description="How many example ids to list per finding (1 to 25)."
    )


class RiskScanOutput(BaseModel):
    tenant_id: str
    currency: str
    as_of: str = Field(description="Date (UTC) of the scan.")
    risk_level: Severity = Field(description="The highest severity among the findings.")
    payments_scanned: int = Field(description="Payments that are not cancelled or deleted.")
    purchases_scanned: int
    required_documents: list[str]
    large_payment_threshold: Decimal
    findings: list[RiskFinding]


def _largest_ids(payments: list[Payment], count: int) -> list[str]:
    ranked = sorted(payments, key=lambda p: (-p.amount, p.id))
    return [p.id for p in ranked[:count]]


def _payment_finding(
    code: str, title: str, severity: Severity, payments: list[Payment], detail: str, examples: int,
) -> RiskFinding:
    return RiskFinding(
        code=code, title=title, severity=severity if payments else "none", count=len(payments),
        amount=total(p.amount for p in payments), example_kind="payment",
        example_ids=_largest_ids(payments, examples), detail=detail,
    )


def _duplicates(payments: list[Payment], currency: str, examples: int) -> RiskFinding:
    found = [p for p in payments if p.duplicate_of is not None]
    detail = (
        f"{plural(len(found), 'payment')} ({money(total(p.amount for p in found), currency)}) repeat an "
        "earlier payment to the same vendor for the same invoice and amount."
    )
    return _payment_finding("duplicate_payments", "Duplicate payments", "high", found, detail, examples)


def _without_vpm(payments: list[Payment], currency: str, examples: int) -> RiskFinding:
    found = [p for p in payments if p.vpm_record_id is None]
    detail = (
        f"{plural(len(found), 'payment')} ({money(total(p.amount for p in found), currency)}) have no "
        "vendor-payment-management (VPM) record."
    )
    return _payment_finding("payments_without_vpm", "Payments without a VPM record", "medium", found, detail, examples)


def _inactive_vendors(
    payments: list[Payment], vendors: dict[str, Vendor], currency: str, examples: int,
) -> RiskFinding:
    found = [p for p in payments if p.vendor_id in vendors and vendors[p.vendor_id].status != "active"]
    to_blocked = [p for p in found if vendors[p.vendor_id].status == "blocked"]
    still_open = [p for p in found if p.status in ("scheduled", "overdue")]
    detail = (
        f"{plural(len(found), 'payment')} ({money(total(p.amount for p in found), currency)}) go to "
        f"vendors that are inactive or blocked: {len(to_blocked)} to blocked vendors, and "
        f"{len(still_open)} still scheduled or overdue, so they can still be stopped."
    )
    # Open payments to blocked vendors first: those are the ones to stop.
    ranked = sorted(
        found,
        key=lambda p: (
            vendors[p.vendor_id].status != "blocked", p.status not in ("scheduled", "overdue"), -p.amount, p.id,
        ),
    )
    severity: Severity = "none"
    if to_blocked:
        severity = "high"
    elif found:
        severity = "medium"
    return RiskFinding(
        code="payments_to_inactive_or_blocked_vendors", title="Payments to inactive or blocked vendors",
        severity=severity, count=len(found),
        amount=total(p.amount for p in found), example_kind="payment",
        example_ids=[p.id for p in ranked[:examples]], detail=detail,
    )


def _high_risk_large(
    payments: list[Payment], vendors: dict[str, Vendor], threshold: Decimal, currency: str, examples: int,
) -> RiskFinding:
    found = [
        p for p in payments
        if p.vendor_id in vendors and vendors[p.vendor_id].risk_rating == "high" and p.amount >= threshold
    ]
    detail = (
        f"{plural(len(found), 'payment')} of {money(threshold, currency)} or more "
        f"({money(total(p.amount for p in found), currency)} in all) go to vendors rated high risk."
    )
    return _payment_finding(
        "high_risk_vendor_large_payments", "Large payments to high-risk vendors", "high", found, detail, examples,
    )


def _missing_documents(
    documents: list[VendorDocument], required: list[str], currency: str, examples: int,
) -> tuple[RiskFinding, int]:
    """Return the finding for purchases lacking a required document, and the purchase count."""
    purchases: dict[str, list[VendorDocument]] = defaultdict(list)
    for document in documents:
        purchases[document.purchase_ref].append(document)

    affected_amount = Decimal("0.00")
    affected = 0
    not_on_file: list[VendorDocument] = []
    for group in purchases.values():
        on_file = {d.doc_type for d in group if d.status == "on_file"}
        if set(required) - on_file:
            affected += 1
            affected_amount += group[0].amount
            not_on_file += [d for d in group if d.doc_type in required and d.status != "on_file"]
    requested = sum(1 for d in not_on_file if d.status == "requested")
    detail = (
        f"{plural(affected, 'purchase')} ({money(affected_amount, currency)}) lack at least one of the "
        f"required documents ({', '.join(required)}): {plural(len(not_on_file), 'document')} are not on "
        f"file, {requested} of them already requested from the vendor."
    )
    ranked = sorted(not_on_file, key=lambda d: (d.status != "missing", -d.amount, d.id))
    finding = RiskFinding(
        code="purchases_missing_documents", title="Purchases missing required documents",
        severity="medium" if affected else "none", count=affected, amount=affected_amount,
        example_kind="document", example_ids=[d.id for d in ranked[:examples]], detail=detail,
    )
    return finding, len(purchases)


def _threshold(tenant: Tenant, requested: Decimal | None) -> Decimal:
    if requested is not None:
        return requested
    return tenant.settings.second_approver_threshold or DEFAULT_LARGE_PAYMENT


def scan_audit_risk(ctx: ToolContext, data: RiskScanInput) -> RiskScanOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    currency = tenant.currency
    examples = data.examples_per_finding
    # Cancelled payments moved no money, so they are no audit risk.
    payments = [p for p in live_payments(ctx) if p.status != "cancelled"]
    vendors = {v.id: v for v in ctx.kernel.list_vendors(tenant.id)}
    required = list(tenant.settings.required_documents)
    documents = ctx.kernel.list_vendor_documents(tenant.id)
    threshold = _threshold(tenant, data.large_payment_threshold)

    documents_finding, purchase_count = _missing_documents(documents, required, currency, examples)
    findings = [
        _duplicates(payments, currency, examples),
        _without_vpm(payments, currency, examples),
        _inactive_vendors(payments, vendors, currency, examples),
        documents_finding,
        _high_risk_large(payments, vendors, threshold, currency, examples),
    ]
    risk_level = max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__)
    return RiskScanOutput(
        tenant_id=tenant.id,
        currency=currency,
        as_of=today_utc().isoformat(),
        risk_level=risk_level,
        payments_scanned=len(payments),
        purchases_scanned=purchase_count,
        required_documents=required,
        large_payment_threshold=threshold,
        findings=findings,
    )


TOOLS = [
    Tool(
        id="audit.domain.risk.scan",
        title="Audit risk scan",
        description=(
            "Scan the tenant for audit risks: duplicate payments, payments without a VPM record, "
            "payments to inactive or blocked vendors, purchases missing documents the tenant requires, "
            "and large payments to high-risk vendors. Each finding has a severity, count, amount and "
            "example ids; the output also has an overall risk level. Cancelled payments are left out."
        ),
        layer=Layer.DOMAIN,
        domain="audit",
        input_model=RiskScanInput,
        output_model=RiskScanOutput,
        handler=scan_audit_risk,
        required_roles=frozenset({"tenant_admin", "finance_manager", "financial_controller"}),
        required_scopes=frozenset({"audit:read"}),
        examples=(
            "What would an auditor flag in our payments?",
            "Run an audit risk scan.",
            "Are we paying any blocked vendors?",
        ),
    ),
]
