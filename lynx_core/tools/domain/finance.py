"""Domain tools for the financial discipline coach: read-only views of payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from lynx_core.kernel.models import Payment
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer, RecordRef, Tool


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
    payments = [p for p in payments if p.deleted_at is None and p.vpm_record_id is None]
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
]
