"""Cluster tool that drafts a vendor payment for approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from lynx_core.errors import KernelValidationError
from lynx_core.formatting import money
from lynx_core.kernel.models import Payment, Tenant, Vendor
from lynx_core.tools.cell import payments as payment_cell
from lynx_core.tools.cluster.common import build_payload, resolve_vendor
from lynx_core.tools.context import ToolContext
from lynx_core.tools.drafting import Change, DraftOutput, DraftPreview, save_draft
from lynx_core.tools.registry import Layer, RecordRef, Tool

TOOL_ID = "vpm.cluster.payment.draft"
_CENTS = Decimal("0.01")


class PaymentDraftInput(BaseModel):
    vendor_id: Annotated[str | None, RecordRef("vendor")] = Field(
        default=None, max_length=64, description="Id of the vendor to pay. Give this or vendor_name."
    )
    vendor_name: str | None = Field(
        default=None, max_length=200, description="Vendor name, e.g. Helios Steel Works. Give this or vendor_id."
    )
    amount: Decimal = Field(description="Amount to pay, e.g. 1250.00; more than 0 and at most 1,000,000.00.")
    currency: str | None = Field(
        default=None, max_length=8, description="ISO 4217 code; defaults to the tenant's currency, the only one allowed."
    )
    invoice_ref: str = Field(min_length=1, max_length=64, description="The vendor's invoice number, e.g. INV-2291.")
    due_date: dt.date | None = Field(
        default=None, description="Due date; defaults to today plus the tenant's payment terms."
    )
    memo: str | None = Field(
        default=None, max_length=payment_cell.MAX_MEMO_LENGTH, description="Note for the approver."
    )

    @model_validator(mode="after")
    def _require_vendor(self) -> "PaymentDraftInput":
        if not self.vendor_id and not (self.vendor_name and self.vendor_name.strip()):
            raise ValueError("give vendor_id or vendor_name")
        return self


def _check_vendor_active(vendor: Vendor) -> None:
    if vendor.status != "active":
        raise KernelValidationError(
            f"Vendor {vendor.name} ({vendor.id}) is {vendor.status}, so no payment can be drafted for it.",
            hint="Choose an active vendor, or ask a tenant admin to reactivate this one first.",
        )


def _check_amount(amount: Decimal, currency: str) -> Decimal:
    if not amount.is_finite():
        raise KernelValidationError(f"Invalid amount {amount}: it is not a number.", hint="Pass an amount such as 1250.00.")
    if amount <= 0:
        raise KernelValidationError(
            f"Invalid amount {amount} {currency}: a payment must be more than 0.",
            hint="Pass the positive amount to pay; refunds and credit notes are not payments.",
        )
    if amount > payment_cell.MAX_PAYMENT_AMOUNT:
        raise KernelValidationError(
            f"Invalid amount {money(amount, currency)}: Lynx drafts payments of at most "
            f"{money(payment_cell.MAX_PAYMENT_AMOUNT, currency)}.",
            hint="Check the amount for extra digits, or ask finance to record a payment this large in the Kernel directly.",
        )
    if amount != amount.quantize(_CENTS):
        raise KernelValidationError(
            f"Invalid amount {amount}: it has more than two decimal places.", hint="Round the amount to whole cents."
        )
    return amount.quantize(_CENTS)


def _check_currency(requested: str | None, tenant: Tenant) -> str:
    if requested is None or not requested.strip():
        return tenant.currency
    currency = requested.strip().upper()
    if currency != tenant.currency:
        raise KernelValidationError(
            f"Invalid currency {requested!r}: payments of {tenant.name} are in {tenant.currency}.",
            hint=f"Convert the amount to {tenant.currency} and draft the payment in that currency.",
        )
    return currency


def _same_invoice(payments: list[Payment], invoice_ref: str) -> list[Payment]:
    folded = invoice_ref.casefold()
    return [
        p for p in payments
        if p.invoice_ref.casefold() == folded and p.status != "cancelled" and p.deleted_at is None
    ]


def _warnings(ctx: ToolContext, tenant: Tenant, vendor: Vendor, amount: Decimal, due_date: dt.date,
              earlier: list[Payment], vendor_payments: list[Payment]) -> list[str]:
    warnings = []
    for payment in earlier:
        warnings.append(
            f"Possible duplicate: payment {payment.reference} of {money(payment.amount, payment.currency)} "
            f"for invoice {payment.invoice_ref} to this vendor already exists ({payment.status}, due {payment.due_date})."
        )
    overdue = [p for p in vendor_payments if p.status == "overdue" and p.deleted_at is None]
    if overdue:
        total = sum((p.amount for p in overdue), Decimal("0"))
        warnings.append(
            f"Vendor has {len(overdue)} overdue payment{'s' if len(overdue) != 1 else ''} "
            f"totalling {money(total, tenant.currency)}."
        )
    policy = ctx.kernel.get_approval_policy(tenant.id, "payments")
    threshold = policy.second_approver_threshold
    if threshold is not None and amount > threshold and policy.second_approver_roles:
        warnings.append(
            f"Above the tenant's second-approver threshold of {money(threshold, tenant.currency)}: two approvers "
            f"will be needed, one of them a {' or '.join(policy.second_approver_roles)}."
        )
    if vendor.risk_rating == "high":
        warnings.append(f"Vendor {vendor.name} has a high risk rating.")
    if due_date < dt.date.today():
        warnings.append(f"The due date {due_date} is in the past, so the payment will be late when recorded.")
    return warnings


def draft_payment(ctx: ToolContext, data: PaymentDraftInput) -> DraftOutput:
    """Check the payment against the Kernel and save it as a draft for approval."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    vendor = resolve_vendor(ctx, data.vendor_id, data.vendor_name)
    _check_vendor_active(vendor)
    currency = _check_currency(data.currency, tenant)
    amount = _check_amount(data.amount, currency)
    invoice_ref = data.invoice_ref.strip()
    if not invoice_ref:
        raise KernelValidationError("The invoice reference is empty.", hint="Pass the vendor's invoice number.")
    # The vendor's own payment terms win over the tenant's default terms.
    terms_days = vendor.payment_terms_days or tenant.settings.payment_terms_days
    due_date = data.due_date or dt.date.today() + dt.timedelta(days=terms_days)

    payload = build_payload(
        payment_cell.PaymentRecordInput,
        vendor_id=vendor.id, amount=amount, currency=currency, invoice_ref=invoice_ref,
        due_date=due_date, memo=data.memo.strip() if data.memo and data.memo.strip() else None,
    )
    vendor_payments = ctx.kernel.list_payments(tenant.id, vendor_id=vendor.id)
    earlier = _same_invoice(vendor_payments, invoice_ref)

    checks = [
        f"Vendor {vendor.name} ({vendor.id}) is active",
        f"Amount {money(amount, currency)} is more than 0 and at most "
        f"{money(payment_cell.MAX_PAYMENT_AMOUNT, currency)}",
        f"Currency {currency} is {tenant.name}'s currency",
    ]
    if not earlier:
        checks.append(f"No other payment to this vendor for invoice {invoice_ref}")
    if data.due_date is None:
        whose = "vendor's" if vendor.payment_terms_days else "tenant's"
        checks.append(f"Due date set to today plus the {whose} {terms_days}-day payment terms")

    description = (
        f"New scheduled payment of {money(amount, currency)} to {vendor.name} for invoice {invoice_ref}, "
        f"due {due_date}, with a new VPM record"
    )
    preview = DraftPreview(
        summary=f"Pay {money(amount, currency)} to {vendor.name} for invoice {invoice_ref}, due {due_date}.",
        changes=[Change(target="Kernel payments", before=None, after=description)],
        checks=checks,
        warnings=_warnings(ctx, tenant, vendor, amount, due_date, earlier, vendor_payments),
        amount=str(amount),
        currency=currency,
        vendor_id=vendor.id,
    )
    return save_draft(
        ctx, tool_id=TOOL_ID, kind="payment", title=f"Payment of {money(amount, currency)} to {vendor.name}",
        payload=payload, preview=preview, executes_with=payment_cell.TOOL_ID,
    )


TOOLS: list[Tool] = [
    Tool(
        id=TOOL_ID,
        title="Draft a vendor payment",
        description=(
            "Check a payment to a vendor against the Kernel (vendor active, amount, currency, "
            "possible duplicate invoice) and save it as a draft with a preview. Creates a draft "
            "only: nothing is paid or recorded until a finance approver approves the request."
        ),
        layer=Layer.CLUSTER,
        domain="finance",
        input_model=PaymentDraftInput,
        output_model=DraftOutput,
        handler=draft_payment,
        required_scopes=frozenset({"finance:draft"}),
        executes_with=payment_cell.TOOL_ID,
        examples=(
            "Draft a payment of 1,250.00 EUR to Helios Steel Works for invoice INV-2291",
            "Prepare a payment of 480 to Helios Steel Works for invoice INV-7731, due on 15 January",
        ),
    ),
]
