"""The Kernel: the platform's source of truth, reached through one `Kernel` interface.

`EmbeddedKernel` keeps a seeded SQLite file for demos and tests, and `HttpKernel` is the
client of a Kernel served over HTTP (see `lynx_core.kernel.http_server`).
"""

from lynx_core.kernel.base import Kernel, RecordKind
from lynx_core.kernel.embedded import EmbeddedKernel
from lynx_core.kernel.http_client import HttpKernel
from lynx_core.kernel.models import (
    ApprovalPolicy,
    BrandRule,
    DesignToken,
    DocumentRequest,
    KernelRecord,
    Payment,
    Portal,
    RoleDefinition,
    Tenant,
    TenantSettings,
    User,
    Vendor,
    VendorDocument,
    Workflow,
    WorkflowStep,
)

__all__ = [
    "ApprovalPolicy",
    "BrandRule",
    "DesignToken",
    "DocumentRequest",
    "EmbeddedKernel",
    "HttpKernel",
    "Kernel",
    "KernelRecord",
    "Payment",
    "Portal",
    "RecordKind",
    "RoleDefinition",
    "Tenant",
    "TenantSettings",
    "User",
    "Vendor",
    "VendorDocument",
    "Workflow",
    "WorkflowStep",
]
