"""Domain tool for one vendor's payments in vendor payment management (VPM)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, live_payments, total
from lynx_core.tools.domain.finance import PaymentRow, StatusTotals, payment_rows, status_totals
from lynx_core.tools.registry import Layer, RecordRef, Tool


class VendorPaymentRow(PaymentRow):
    created_at: str
    paid_date: str | None
    duplicate_of: str | None = Field(description="Id of the earlier payment this one duplicates, if any.")


class VendorPaymentsInput(ToolInput):
    vendor_id: Annotated[str, RecordRef("vendor")] = Field(
        min_length=1, max_length=64, description="The vendor's id (a vendor id of your tenant)."
    )
    recent_limit: int = Field(
        default=10, ge=1, le=50, description="How many of the latest payments to list (1 to 50)."
    )


class VendorPaymentsOutput(BaseModel):
    tenant_id: str
    vendor_id: str
    vendor_name: str
    vendor_status: str
    currency: str
    payment_count: int
    payment_amount: Decimal
    by_status: list[StatusTotals]
    without_vpm_count: int = Field(description="Payments without a VPM record, cancelled ones left out.")
    without_vpm_amount: Decimal
    duplicate_count: int
    duplicate_amount: Decimal
    recent_shown: int
    recent_payments: list[VendorPaymentRow] = Field(description="The latest payments, newest first.")


def summarize_vendor_payments(ctx: ToolContext, data: VendorPaymentsInput) -> VendorPaymentsOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    vendor = ctx.kernel.get_vendor(tenant.id, data.vendor_id)
    payments = live_payments(ctx, vendor_id=vendor.id)
    # A cancelled payment needs no VPM record, so it is left out here as in the tenant-wide list.
    without_vpm = [p for p in payments if p.vpm_record_id is None and p.status != "cancelled"]
    duplicates = [p for p in payments if p.duplicate_of is not None]
    recent = sorted(payments, key=lambda p: (p.created_at, p.id), reverse=True)[: data.recent_limit]
    recent_rows = [
        VendorPaymentRow(
            **row.model_dump(), created_at=payment.created_at.isoformat(),
            paid_date=payment.paid_date.isoformat() if payment.paid_date else None,
            duplicate_of=payment.duplicate_of,
        )
        for row, payment in zip(payment_rows(ctx, recent), recent, strict=True)
    ]
    return VendorPaymentsOutput(
        tenant_id=tenant.id,
        vendor_id=vendor.id,
        vendor_name=vendor.name,
        vendor_status=vendor.status,
        currency=tenant.currency,
        payment_count=len(payments),
        payment_amount=total(p.amount for p in payments),
        by_status=status_totals(payments),
        without_vpm_count=len(without_vpm),
        without_vpm_amount=total(p.amount for p in without_vpm),
        duplicate_count=len(duplicates),
        duplicate_amount=total(p.amount for p in duplicates),
        recent_shown=len(recent_rows),
        recent_payments=recent_rows,
    )


TOOLS = [
    Tool(
        id="vpm.domain.vendor_payments.summarize",
        title="One vendor's payments",
        description=(
            "Summarise one vendor's payments by vendor id: totals, count and amount per status, "
            "payments without a VPM record (cancelled ones left out), duplicates, and the latest payments. "
            "Look up the vendor id first with the vendor search or vendor summary tool."
        ),
        layer=Layer.DOMAIN,
        domain="finance",
        input_model=VendorPaymentsInput,
        output_model=VendorPaymentsOutput,
        handler=summarize_vendor_payments,
        required_scopes=frozenset({"finance:read"}),
        examples=(
            "How much have we paid Helios Steel Works?",
            "Show the last payments to this vendor.",
        ),
    ),
]
