"""Domain tools for the financial discipline coach: read-only views of payments."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from lynx_core.formatting import money
from lynx_core.kernel.models import Payment
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import (
    ToolInput,
    limit_field,
    live_payments,
    plural,
    today_utc,
    total,
    vendor_names,
)
from lynx_core.tools.registry import Layer, RecordRef, Tool

PAYMENT_STATUSES = ("scheduled", "paid", "overdue", "cancelled")


class PaymentRow(BaseModel):
    payment_id: str
    reference: str
    vendor_id: str
    vendor_name: str
    invoice_ref: str
    amount: Decimal
    currency: str
    status: str
    due_date: str
    vpm_record_id: str | None


def payment_rows(ctx: ToolContext, payments: list[Payment]) -> list[PaymentRow]:
    """Turn payments into rows with vendor names, reading each vendor from the Kernel once."""
    names = {vendor.id: vendor.name for vendor in ctx.kernel.list_vendors(ctx.actor.tenant_id)}
    return [
        PaymentRow(
            payment_id=p.id, reference=p.reference, vendor_id=p.vendor_id,
            vendor_name=names.get(p.vendor_id, p.vendor_id), invoice_ref=p.invoice_ref,
            amount=p.amount, currency=p.currency, status=p.status, due_date=p.due_date.isoformat(),
            vpm_record_id=p.vpm_record_id,
        )
        for p in payments
    ]


class UnrecordedPaymentsInput(BaseModel):
    vendor_id: Annotated[str | None, RecordRef("vendor")] = Field(
        default=None, description="Only this vendor's payments (a vendor id of your tenant)."
    )
    status: Literal["scheduled", "paid", "overdue", "cancelled"] | None = Field(
        default=None, description="Only payments in this status."
    )
    limit: int = Field(default=25, ge=1, le=200, description="How many rows to return, largest amounts first.")


class UnrecordedPaymentsOutput(BaseModel):
    tenant_id: str
    total_count: int
    total_amount: Decimal
    currency: str
    shown: int
    payments: list[PaymentRow]


def list_unrecorded_payments(ctx: ToolContext, data: UnrecordedPaymentsInput) -> UnrecordedPaymentsOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    payments = ctx.kernel.list_payments(
        ctx.actor.tenant_id, vendor_id=data.vendor_id, status=data.status, without_vpm_record=True
    )
    # Cancelled payments move no money, so they count only when requested by status.
    # The audit risk scan and the health summary count the same way.
    payments = [
        p for p in payments
        if p.deleted_at is None and p.vpm_record_id is None and (data.status == "cancelled" or p.status != "cancelled")
    ]
    payments.sort(key=lambda p: (-p.amount, p.id))
    shown = payments[: data.limit]
    return UnrecordedPaymentsOutput(
        tenant_id=tenant.id,
        total_count=len(payments),
        total_amount=sum((p.amount for p in payments), Decimal("0")),
        currency=tenant.currency,
        shown=len(shown),
        payments=payment_rows(ctx, shown),
    )


# --- Finance health ----------------------------------------------------------------------------


class StatusTotals(BaseModel):
    status: str
    count: int
    amount: Decimal


class OverduePayment(PaymentRow):
    days_overdue: int = Field(description="Days since the due date, counted to as_of.")


class VendorOverdue(BaseModel):
    vendor_id: str
    vendor_name: str
    overdue_count: int
    overdue_amount: Decimal


class FinanceHealthInput(ToolInput):
    top_vendors: int = Field(
        default=5, ge=1, le=25, description="How many vendors to list by overdue amount (1 to 25)."
    )


class FinanceHealthOutput(BaseModel):
    tenant_id: str
    currency: str
    as_of: str = Field(description="Date (UTC) that days overdue are counted to.")
    payment_count: int
    payment_amount: Decimal
    by_status: list[StatusTotals]
    overdue_count: int
    overdue_amount: Decimal
    oldest_overdue: OverduePayment | None
    without_vpm_count: int
    without_vpm_amount: Decimal
    duplicate_count: int
    duplicate_amount: Decimal
    vendors_with_overdue: int
    top_overdue_vendors: list[VendorOverdue]
    findings: list[str] = Field(description="Plain sentences that sum up the figures above.")


def status_totals(payments: list[Payment]) -> list[StatusTotals]:
    return [
        StatusTotals(
            status=status,
            count=sum(1 for p in payments if p.status == status),
            amount=total(p.amount for p in payments if p.status == status),
        )
        for status in PAYMENT_STATUSES
    ]


def _overdue_rows(ctx: ToolContext, payments: list[Payment], as_of: dt.date) -> list[OverduePayment]:
    return [
        OverduePayment(**row.model_dump(), days_overdue=(as_of - payment.due_date).days)
        for row, payment in zip(payment_rows(ctx, payments), payments, strict=True)
    ]


def _top_overdue_vendors(overdue: list[Payment], names: dict[str, str], count: int) -> list[VendorOverdue]:
    per_vendor: dict[str, list[Payment]] = defaultdict(list)
    for payment in overdue:
        per_vendor[payment.vendor_id].append(payment)
    rows = [
        VendorOverdue(
            vendor_id=vendor_id, vendor_name=names.get(vendor_id, vendor_id),
            overdue_count=len(group), overdue_amount=total(p.amount for p in group),
        )
        for vendor_id, group in per_vendor.items()
    ]
    rows.sort(key=lambda row: (-row.overdue_amount, row.vendor_id))
    return rows[:count]


def _health_findings(out: FinanceHealthOutput) -> list[str]:
    currency = out.currency
    findings = []
    if out.overdue_count and out.oldest_overdue is not None:
        oldest = out.oldest_overdue
        findings.append(
            f"{plural(out.overdue_count, 'payment')} totalling {money(out.overdue_amount, currency)} "
            f"are overdue; the oldest ({oldest.reference} to {oldest.vendor_name}) was due on "
            f"{oldest.due_date}, {oldest.days_overdue} days ago."
        )
    else:
        findings.append("No payment is overdue.")
    if out.top_overdue_vendors and out.overdue_amount:
        top_amount = total(row.overdue_amount for row in out.top_overdue_vendors)
        share = top_amount / out.overdue_amount * 100
        findings.append(
            f"The top {plural(len(out.top_overdue_vendors), 'vendor')} by overdue amount account for "
            f"{share:.0f}% of it ({money(top_amount, currency)}) out of "
            f"{plural(out.vendors_with_overdue, 'vendor')} with overdue payments."
        )
    if out.without_vpm_count:
        findings.append(
            f"{plural(out.without_vpm_count, 'payment')} totalling "
            f"{money(out.without_vpm_amount, currency)} have no VPM record."
        )
    else:
        findings.append("Every payment has a VPM record.")
    if out.duplicate_count:
        findings.append(
            f"{plural(out.duplicate_count, 'payment')} totalling {money(out.duplicate_amount, currency)} "
            "duplicate an earlier payment (same vendor, invoice and amount)."
        )
    else:
        findings.append("No duplicate payment was found.")
    return findings


def summarize_finance_health(ctx: ToolContext, data: FinanceHealthInput) -> FinanceHealthOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    payments = live_payments(ctx)
    names = vendor_names(ctx)
    as_of = today_utc()
    overdue = sorted((p for p in payments if p.status == "overdue"), key=lambda p: (p.due_date, p.id))
    without_vpm = [p for p in payments if p.vpm_record_id is None and p.status != "cancelled"]
    duplicates = [p for p in payments if p.duplicate_of is not None]
    output = FinanceHealthOutput(
        tenant_id=tenant.id,
        currency=tenant.currency,
        as_of=as_of.isoformat(),
        payment_count=len(payments),
        payment_amount=total(p.amount for p in payments),
        by_status=status_totals(payments),
        overdue_count=len(overdue),
        overdue_amount=total(p.amount for p in overdue),
        oldest_overdue=_overdue_rows(ctx, overdue[:1], as_of)[0] if overdue else None,
        without_vpm_count=len(without_vpm),
        without_vpm_amount=total(p.amount for p in without_vpm),
        duplicate_count=len(duplicates),
        duplicate_amount=total(p.amount for p in duplicates),
        vendors_with_overdue=len({p.vendor_id for p in overdue}),
        top_overdue_vendors=_top_overdue_vendors(overdue, names, data.top_vendors),
        findings=[],
    )
    output.findings = _health_findings(output)
    return output


# --- Overdue payments --------------------------------------------------------------------------


class OverduePaymentsInput(ToolInput):
    sort: Literal["largest", "oldest"] = Field(
        default="largest", description="largest: highest amount first; oldest: earliest due date first."
    )
    limit: int = limit_field("payments")
    vendor_id: Annotated[str | None, RecordRef("vendor")] = Field(
        default=None, max_length=64, description="Only this vendor's payments (a vendor id of your tenant)."
    )


class OverduePaymentsOutput(BaseModel):
    tenant_id: str
    currency: str
    as_of: str = Field(description="Date (UTC) that days overdue are counted to.")
    total_count: int
    total_amount: Decimal
    shown: int
    payments: list[OverduePayment]


def list_overdue_payments(ctx: ToolContext, data: OverduePaymentsInput) -> OverduePaymentsOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    # "overdue" is the Kernel's status: it reports scheduled payments past their due date as overdue.
    overdue = live_payments(ctx, vendor_id=data.vendor_id, status="overdue")
    if data.sort == "largest":
        overdue.sort(key=lambda p: (-p.amount, p.due_date, p.id))
    else:
        overdue.sort(key=lambda p: (p.due_date, -p.amount, p.id))
    as_of = today_utc()
    shown = overdue[: data.limit]
    return OverduePaymentsOutput(
        tenant_id=tenant.id,
        currency=tenant.currency,
        as_of=as_of.isoformat(),
        total_count=len(overdue),
        total_amount=total(p.amount for p in overdue),
        shown=len(shown),
        payments=_overdue_rows(ctx, shown, as_of),
    )


TOOLS = [
    Tool(
        id="vpm.domain.unrecorded_payments.list",
        title="Payments without a VPM record",
        description=(
            "List the tenant's payments that have no vendor-payment-management (VPM) record, "
            "largest first, with the total count and amount."
        ),
        layer=Layer.DOMAIN,
        domain="finance",
        input_model=UnrecordedPaymentsInput,
        output_model=UnrecordedPaymentsOutput,
        handler=list_unrecorded_payments,
        required_scopes=frozenset({"finance:read"}),
        examples=("Which payments have no VPM record?",),
    ),
    Tool(
        id="finance.domain.health.summarize",
        title="Finance health summary",
        description=(
            "Summarise the tenant's payables health: count and amount of payments per status, "
            "overdue payments (count, amount, the oldest one, the top vendors by overdue amount), "
            "payments without a VPM record, duplicate payments, and plain-sentence findings. "
            "Use it first for any general question about payments, overdue money or finance risk."
        ),
        layer=Layer.DOMAIN,
        domain="finance",
        input_model=FinanceHealthInput,
        output_model=FinanceHealthOutput,
        handler=summarize_finance_health,
        required_scopes=frozenset({"finance:read"}),
        examples=(
            "How healthy are our finances?",
            "How much do we owe in overdue payments?",
            "Which vendors have the most overdue money?",
        ),
    ),
    Tool(
        id="finance.domain.overdue_payments.list",
        title="Overdue payments",
        description=(
            "List the tenant's overdue payments, largest or oldest first, optionally for one vendor, "
            "with days overdue, vendor names, and the total count and amount of all overdue payments."
        ),
        layer=Layer.DOMAIN,
        domain="finance",
        input_model=OverduePaymentsInput,
        output_model=OverduePaymentsOutput,
        handler=list_overdue_payments,
        required_scopes=frozenset({"finance:read"}),
        examples=(
            "Which payments are overdue?",
            "Show the oldest overdue payments.",
        ),
    ),
]
