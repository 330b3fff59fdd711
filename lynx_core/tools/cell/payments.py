"""Cell tool that records one approved payment in the Kernel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from lynx_core.tools.cell.common import require_idempotency_key
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer, RecordRef, Tool

TOOL_ID = "vpm.cell.payment.record"

#: Largest payment Lynx may record; the embedded Kernel rejects larger amounts as well.
MAX_PAYMENT_AMOUNT = Decimal("1000000.00")
#: Maximum memo length in characters. The embedded Kernel has the same limit.
MAX_MEMO_LENGTH = 500


class PaymentRecordInput(BaseModel):
    """One payment exactly as a manager approved it."""

    vendor_id: Annotated[str, RecordRef("vendor")] = Field(
        min_length=1, max_length=64, description="Id of an active vendor of your tenant."
    )
    amount: Decimal = Field(
        gt=0, le=MAX_PAYMENT_AMOUNT, decimal_places=2,
        description="Amount with at most two decimal places, more than 0 and at most 1,000,000.00.",
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code; must be the tenant's currency.")
    invoice_ref: str = Field(min_length=1, max_length=64, description="The vendor's invoice number.")
    due_date: dt.date = Field(description="Date the payment is due, e.g. 2027-01-15.")
    memo: str | None = Field(
        default=None, max_length=MAX_MEMO_LENGTH,
        description="Note for the approver, stored with the payment in the Kernel.",
    )


class PaymentRecordOutput(BaseModel):
    payment_id: str
    reference: str
    amount: Decimal
    currency: str
    vendor_id: str
    vendor_name: str
    invoice_ref: str
    due_date: dt.date
    status: str
    vpm_record_id: str | None
    source: str
    memo: str | None


def record_payment(ctx: ToolContext, data: PaymentRecordInput) -> PaymentRecordOutput:
    """Record the payment; the Kernel re-checks the vendor, amount and currency."""
    idempotency_key = require_idempotency_key(ctx, TOOL_ID)
    tenant_id = ctx.actor.tenant_id
    payment = ctx.kernel.record_payment(
        tenant_id,
        vendor_id=data.vendor_id,
        amount=data.amount,
        currency=data.currency,
        invoice_ref=data.invoice_ref,
        due_date=data.due_date,
        created_by=ctx.actor.user_id,
        idempotency_key=idempotency_key,
        memo=data.memo,
    )
    vendor = ctx.kernel.get_vendor(tenant_id, payment.vendor_id)
    return PaymentRecordOutput(
        payment_id=payment.id,
        reference=payment.reference,
        amount=payment.amount,
        currency=payment.currency,
        vendor_id=payment.vendor_id,
        vendor_name=vendor.name,
        invoice_ref=payment.invoice_ref,
        due_date=payment.due_date,
        status=payment.status,
        vpm_record_id=payment.vpm_record_id,
        source=payment.source,
        memo=payment.memo,
    )


TOOLS = [
    Tool(
        id=TOOL_ID,
        title="Record an approved payment",
        description=(
            "Record one scheduled payment to a vendor in the Kernel, with a new VPM record. "
            "Runs only from an approval request that a finance approver has approved; to start "
            "one, draft the payment with vpm.cluster.payment.draft and request approval."
        ),
        layer=Layer.CELL,
        domain="finance",
        input_model=PaymentRecordInput,
        output_model=PaymentRecordOutput,
        handler=record_payment,
        required_scopes=frozenset({"finance:draft"}),
        approval_domain="payments",
        examples=("Record the approved payment to Helios Steel Works",),
    ),
]
