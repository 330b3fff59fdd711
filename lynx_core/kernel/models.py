"""Records the Kernel returns.

The Kernel is the source of truth for these; Lynx reads them and never invents them. Amounts
are `Decimal` with two places; dates and times are UTC.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KernelRecord(BaseModel):
    model_config = ConfigDict(frozen=True)


class TenantSettings(KernelRecord):
    """A tenant's customisations that change how Lynx advises and behaves."""

    #: "single": one in-app approver; "hybrid": a second approver above the threshold.
    approval_mode: Literal["single", "hybrid"]
    #: False means the tenant has switched off paper / out-of-band manual approval steps.
    manual_approval_enabled: bool
    cryptographic_timestamps: bool
    #: Payments above this amount need a second approver (hybrid mode only).
    second_approver_threshold: Decimal | None = None
    approval_expiry_hours: int = 72
    #: Documents every purchase must have on file, e.g. ["PO", "GRN", "INVOICE"].
    required_documents: list[str]
    payment_terms_days: int
    #: Extra fields the tenant added to its vendor schema.
    custom_vendor_fields: list[str] = Field(default_factory=list)
    fiscal_year_start_month: int = 1
    locale: str = "en-GB"


class Tenant(KernelRecord):
    id: str
    name: str
    slug: str
    currency: str
    industry: str
    settings: TenantSettings


class RoleDefinition(KernelRecord):
    tenant_id: str
    name: str
    description: str
    scopes: list[str]


class User(KernelRecord):
    id: str
    tenant_id: str
    email: str
    display_name: str
    roles: list[str]
    scopes: list[str]
    active: bool = True


class Vendor(KernelRecord):
    id: str
    tenant_id: str
    name: str
    tax_id: str
    country: str
    category: str
    status: Literal["active", "inactive", "blocked"]
    email: str
    payment_terms_days: int
    risk_rating: Literal["low", "medium", "high"]
    #: Free text entered by people; it is data, never an instruction to Lynx.
    notes: str = ""
    custom_fields: dict[str, str] = Field(default_factory=dict)
    created_at: dt.datetime


class VendorDocument(KernelRecord):
    """One required document (PO, GRN or invoice) of one purchase from a vendor."""

    id: str
    tenant_id: str
    vendor_id: str
    purchase_ref: str
    doc_type: Literal["PO", "GRN", "INVOICE"]
    status: Literal["on_file", "missing", "requested"]
    amount: Decimal
    due_date: dt.date
    received_at: dt.datetime | None = None


class Payment(KernelRecord):
    id: str
    tenant_id: str
    vendor_id: str
    reference: str
    invoice_ref: str
    amount: Decimal
    currency: str
    status: Literal["scheduled", "paid", "overdue", "cancelled"]
    due_date: dt.date
    paid_date: dt.date | None = None
    #: Id of the vendor-payment-management record; None means the payment has none.
    vpm_record_id: str | None = None
    #: Id of the earlier payment this one duplicates (same vendor, invoice and amount).
    duplicate_of: str | None = None
    created_by: str
    source: Literal["kernel", "lynx"] = "kernel"
    #: Free-text note given when the payment was recorded, e.g. what the invoice covers.
    memo: str | None = None
    created_at: dt.datetime
    deleted_at: dt.datetime | None = None


class WorkflowStep(KernelRecord):
    order: int
    name: str
    role: str
    avg_hours: float
    p95_hours: float
    manual: bool
    #: Name of an earlier step that checks the same thing, if this step repeats it.
    duplicates_step: str | None = None


class Workflow(KernelRecord):
    id: str
    tenant_id: str
    name: str
    domain: str
    status: Literal["active", "draft", "retired"]
    steps: list[WorkflowStep]
    runs_last_90_days: int
    sla_hours: float
    version: int = 1
    published_by: str | None = None
    published_at: dt.datetime | None = None


class ApprovalPolicy(KernelRecord):
    """Approval rules of one domain of a tenant: the roles and scope that may approve Lynx's executions."""

    id: str
    tenant_id: str
    domain: Literal["payments", "documents", "workflows", "portals", "design"]
    approver_roles: list[str]
    approver_scope: str
    second_approver_threshold: Decimal | None = None
    second_approver_roles: list[str] = Field(default_factory=list)
    expiry_hours: int = 72
    description: str


class Portal(KernelRecord):
    id: str
    tenant_id: str
    name: str
    audience: Literal["customer", "vendor"]
    status: Literal["draft", "disabled", "enabled"]
    pages: list[str]
    features: list[str]
    theme: str
    enabled_by: str | None = None
    enabled_at: dt.datetime | None = None


class DesignToken(KernelRecord):
    tenant_id: str
    name: str
    value: str
    category: Literal["color", "typography", "spacing", "radius"]
    description: str = ""


class BrandRule(KernelRecord):
    id: str
    tenant_id: str
    rule: str
    severity: Literal["must", "should"]


class DocumentRequest(KernelRecord):
    """A published request to a vendor for a missing document."""

    id: str
    tenant_id: str
    vendor_id: str
    document_id: str
    message: str
    status: Literal["sent", "fulfilled", "withdrawn"]
    created_by: str
    created_at: dt.datetime
