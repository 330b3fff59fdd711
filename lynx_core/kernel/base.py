"""The Kernel interface that Lynx reads from and, through cell tools only, writes to.

Two implementations share it: `EmbeddedKernel` (a local SQLite database seeded with demo
tenants) and `HttpKernel` (a client for a Kernel served over HTTP). Every read takes the
caller's tenant id and returns only that tenant's records; a record of another tenant is
reported as not found, exactly like a record that does not exist.

Writes are narrow and idempotent: each takes an ``idempotency_key``, and a second call with
the same key returns the record the first call created instead of creating another one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from lynx_core.kernel.models import (
    ApprovalPolicy,
    BrandRule,
    DesignToken,
    DocumentRequest,
    Payment,
    Portal,
    RoleDefinition,
    Tenant,
    User,
    Vendor,
    VendorDocument,
    Workflow,
    WorkflowStep,
)

#: Kinds of record a tool input may name. The tenant guard looks up their owner in the Kernel.
RecordKind = Literal[
    "vendor", "payment", "document", "workflow", "portal", "user", "document_request"
]


@runtime_checkable
class Kernel(Protocol):
    # Tenants, users and permissions.
    def list_tenants(self) -> list[Tenant]: ...
    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def authenticate(self, email: str, password: str) -> User | None: ...
    def get_user(self, tenant_id: str, user_id: str) -> User: ...
    def list_users(self, tenant_id: str) -> list[User]: ...
    def list_roles(self, tenant_id: str) -> list[RoleDefinition]: ...

    def owner_of(self, kind: RecordKind, record_id: str) -> str | None:
        """Return the tenant id that owns the record, or None when no such record exists.

        Only the tenant guard calls this: it is how a cross-tenant id is distinguished
        from a mistyped one.
        """
        ...

    # Vendors, documents and payments.
    def list_vendors(
        self, tenant_id: str, *, status: str | None = None, search: str | None = None
    ) -> list[Vendor]: ...
    def get_vendor(self, tenant_id: str, vendor_id: str) -> Vendor: ...
    def find_vendor_by_name(self, tenant_id: str, name: str) -> list[Vendor]: ...
    def list_vendor_documents(
        self,
        tenant_id: str,
        *,
        vendor_id: str | None = None,
        status: str | None = None,
    ) -> list[VendorDocument]: ...
    def get_vendor_document(self, tenant_id: str, document_id: str) -> VendorDocument: ...
    def list_payments(
        self,
        tenant_id: str,
        *,
        vendor_id: str | None = None,
        status: str | None = None,
        without_vpm_record: bool | None = None,
    ) -> list[Payment]: ...
    def get_payment(self, tenant_id: str, payment_id: str) -> Payment: ...

    # Workflows, policies, portals and design.
    def list_workflows(self, tenant_id: str) -> list[Workflow]: ...
    def get_workflow(self, tenant_id: str, workflow_id: str) -> Workflow: ...
    def list_approval_policies(self, tenant_id: str) -> list[ApprovalPolicy]: ...
    def get_approval_policy(self, tenant_id: str, domain: str) -> ApprovalPolicy: ...
    def list_portals(self, tenant_id: str) -> list[Portal]: ...
    def get_portal(self, tenant_id: str, portal_id: str) -> Portal: ...
    def list_design_tokens(self, tenant_id: str) -> list[DesignToken]: ...
    def list_brand_rules(self, tenant_id: str) -> list[BrandRule]: ...
    def list_document_requests(self, tenant_id: str) -> list[DocumentRequest]: ...

    # Narrow, idempotent writes used by cell tools only.
    def record_payment(
        self,
        tenant_id: str,
        *,
        vendor_id: str,
        amount: Decimal,
        currency: str,
        invoice_ref: str,
        due_date: dt.date,
        created_by: str,
        idempotency_key: str,
        memo: str | None = None,
    ) -> Payment: ...
    def publish_document_requests(
        self,
        tenant_id: str,
        *,
        requests: list[tuple[str, str]],
        created_by: str,
        idempotency_key: str,
    ) -> list[DocumentRequest]:
        """Publish requests for missing documents; ``requests`` contains (document_id, message) pairs."""
        ...
    def publish_workflow(
        self,
        tenant_id: str,
        *,
        name: str,
        domain: str,
        steps: list[WorkflowStep],
        sla_hours: float,
        replaces_workflow_id: str | None,
        published_by: str,
        idempotency_key: str,
    ) -> Workflow: ...
    def enable_portal(
        self,
        tenant_id: str,
        *,
        name: str,
        audience: str,
        pages: list[str],
        features: list[str],
        theme: str,
        portal_id: str | None,
        enabled_by: str,
        idempotency_key: str,
    ) -> Portal: ...

    def ping(self) -> None:
        """Raise `KernelError` when the Kernel cannot respond."""
        ...
