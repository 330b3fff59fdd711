"""The approval page's data: each request with the context a manager needs to decide it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lynx_core.actor import Actor
from lynx_core.errors import KernelError
from lynx_core.formatting import money
from lynx_core.kernel.base import Kernel
from lynx_core.policy.approvals import ApprovalProgress, ApprovalService
from lynx_core.policy.decision import Decision
from lynx_core.store.drafts import ApprovalRequest, Draft, DraftStore


@dataclass(frozen=True)
class QueueFilters:
    tool_id: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    requested_by: str | None = None
    min_age_hours: float | None = None


@dataclass
class ApprovalView:
    request: ApprovalRequest
    draft: Draft
    requester_name: str
    age_hours: float
    decisions: list[dict[str, Any]]
    can_decide: Decision
    progress: ApprovalProgress
    risk_notes: list[str] = field(default_factory=list)
    vendor_snapshot: dict[str, Any] | None = None


def _age_hours(request: ApprovalRequest, now: dt.datetime) -> float:
    return (now - dt.datetime.fromisoformat(request.created_at)).total_seconds() / 3600


def _vendor_snapshot(kernel: Kernel, tenant_id: str, vendor_id: str, currency: str) -> dict[str, Any] | None:
    try:
        vendor = kernel.get_vendor(tenant_id, vendor_id)
        payments = kernel.list_payments(tenant_id, vendor_id=vendor_id)
    except KernelError:
        return None
    live = [p for p in payments if p.deleted_at is None]
    return {
        "name": vendor.name,
        "status": vendor.status,
        "risk_rating": vendor.risk_rating,
        "country": vendor.country,
        "payment_terms_days": vendor.payment_terms_days,
        "payments": len(live),
        "overdue": sum(1 for p in live if p.status == "overdue"),
        "without_vpm_record": sum(1 for p in live if p.vpm_record_id is None and p.status != "cancelled"),
        "total_paid": money(sum((p.amount for p in live if p.status == "paid"), Decimal("0")), currency),
        "notes_untrusted": vendor.notes,
    }


def _live_duplicate_notes(kernel: Kernel, tenant_id: str, vendor_id: str, invoice_ref: str) -> list[str]:
    """Warn when the invoice was paid or scheduled since the draft was made (checked now, not then)."""
    try:
        payments = kernel.list_payments(tenant_id, vendor_id=vendor_id)
    except KernelError:
        return []
    same = [p for p in payments if p.status != "cancelled" and p.invoice_ref.strip().upper() == invoice_ref.strip().upper()]
    return [
        f"Invoice {invoice_ref} already has payment {p.reference} ({money(p.amount, p.currency)}, {p.status}); "
        "the Kernel will refuse a second payment, so reject this request."
        for p in same
    ]


def _open_duplicate_notes(approvals: ApprovalService, actor: Actor, request: ApprovalRequest, vendor_id: str,
                          invoice_ref: str) -> list[str]:
    """Warn when another open request that the actor may see would pay the same invoice of the same vendor."""
    drafts = approvals.drafts
    notes = []
    for other in drafts.list_requests(request.tenant_id, statuses=("pending", "approved", "executing")):
        if other.request_id == request.request_id or other.tool_id != request.tool_id:
            continue
        if not approvals.can_view(actor, other):
            continue
        other_draft = drafts.get_draft(request.tenant_id, other.draft_id)
        if other_draft is None or other_draft.payload.get("vendor_id") != vendor_id:
            continue
        if str(other_draft.payload.get("invoice_ref", "")).strip().upper() == invoice_ref.strip().upper():
            notes.append(f"Request {other.request_id} ({other.status}) would pay the same invoice {invoice_ref}; "
                         "approve at most one of them.")
    return notes


def build_queue(
    *,
    actor: Actor,
    approvals: ApprovalService,
    drafts: DraftStore,
    kernel: Kernel,
    statuses: tuple[str, ...] = ("pending",),
    filters: QueueFilters = QueueFilters(),
) -> list[ApprovalView]:
    """Return the tenant's requests in ``statuses`` matching the filters, oldest first."""
    now = dt.datetime.now(dt.timezone.utc)
    names = {u.id: u.display_name for u in kernel.list_users(actor.tenant_id)}
    currency = kernel.get_tenant(actor.tenant_id).currency
    views: list[ApprovalView] = []
    for request in approvals.queue(actor, statuses=statuses):
        amount = Decimal(request.amount) if request.amount else None
        if filters.tool_id and request.tool_id != filters.tool_id:
            continue
        if filters.requested_by and request.requested_by != filters.requested_by:
            continue
        if filters.min_amount is not None and (amount is None or amount < filters.min_amount):
            continue
        if filters.max_amount is not None and (amount is None or amount > filters.max_amount):
            continue
        age = _age_hours(request, now)
        if filters.min_age_hours is not None and age < filters.min_age_hours:
            continue
        draft = drafts.get_draft(actor.tenant_id, request.draft_id)
        if draft is None:
            continue
        notes = ["High risk: the last required approval carries out a live change in the Kernel."]
        threshold = request.policy.get("second_approver_threshold")
        if amount is not None and threshold:
            relation = "above" if amount > Decimal(threshold) else "within"
            notes.append(f"Amount {money(amount, request.currency)} is {relation} the second-approver threshold "
                         f"of {money(threshold, request.currency)}.")
        # The note above states the threshold from the request's policy, so the draft's own
        # threshold warning would repeat it.
        notes.extend(w for w in draft.preview.get("warnings", []) if "second-approver threshold" not in w)
        vendor_id = draft.preview.get("vendor_id") or draft.payload.get("vendor_id")
        snapshot = _vendor_snapshot(kernel, actor.tenant_id, vendor_id, currency) if vendor_id else None
        invoice_ref = draft.payload.get("invoice_ref")
        if vendor_id and invoice_ref and request.status in ("pending", "failed"):
            notes.extend(_live_duplicate_notes(kernel, actor.tenant_id, vendor_id, invoice_ref))
            notes.extend(_open_duplicate_notes(approvals, actor, request, vendor_id, invoice_ref))
        if snapshot and snapshot["risk_rating"] == "high":
            notes.append("The vendor's risk rating is high.")
        views.append(ApprovalView(
            request=request, draft=draft, requester_name=names.get(request.requested_by, request.requested_by),
            age_hours=age, decisions=drafts.list_decisions(actor.tenant_id, request.request_id),
            can_decide=approvals.can_decide(actor, request), progress=approvals.progress(request),
            risk_notes=notes, vendor_snapshot=snapshot,
        ))
    views.sort(key=lambda v: v.request.created_at)
    return views
