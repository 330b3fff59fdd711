"""Cluster tools that draft requests to vendors for missing purchase documents.

Blocked vendors are never asked for documents, because a block means the tenant has stopped
dealing with them. Inactive vendors are still asked, with a warning, because paperwork for
their past purchases is still owed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from lynx_core.errors import KernelValidationError
from lynx_core.formatting import money
from lynx_core.kernel.models import Tenant, Vendor, VendorDocument
from lynx_core.tools.cell import documents as documents_cell
from lynx_core.tools.cluster.common import build_payload, resolve_vendor
from lynx_core.tools.context import ToolContext
from lynx_core.tools.drafting import Change, DraftOutput, DraftPreview, save_draft
from lynx_core.tools.registry import Layer, RecordRef, Tool

SINGLE_TOOL_ID = "docs.cluster.document_request.draft"
BATCH_TOOL_ID = "docs.cluster.document_requests.batch_draft"

DocType = Literal["PO", "GRN", "INVOICE"]
DOCUMENT_LABELS = {"PO": "purchase order", "GRN": "goods received note", "INVOICE": "invoice"}
MAX_BATCH_VENDORS = 50


def request_message(tenant: Tenant, vendor: Vendor, document: VendorDocument) -> str:
    """Write the polite request a vendor receives for one missing document."""
    label = DOCUMENT_LABELS[document.doc_type]
    return (
        f"Dear {vendor.name} team, our records show no {label} for purchase {document.purchase_ref} "
        f"({money(document.amount, tenant.currency)}, due {document.due_date}). Could you please send it "
        f"to us at your earliest convenience? Thank you for your help. {tenant.name} accounts payable"
    )


def _check_doc_types(tenant: Tenant, doc_types: list[str]) -> None:
    required = tenant.settings.required_documents
    unknown = [doc_type for doc_type in doc_types if doc_type not in required]
    if unknown:
        raise KernelValidationError(
            f"{tenant.name} does not require {', '.join(unknown)} documents; it requires {', '.join(required)}.",
            hint=f"Ask only for {', '.join(required)} documents.",
        )


def _check_not_blocked(vendor: Vendor) -> None:
    if vendor.status == "blocked":
        raise KernelValidationError(
            f"Vendor {vendor.name} ({vendor.id}) is blocked, so Lynx does not contact it for documents.",
            hint="Ask a tenant admin to unblock the vendor first, or collect the documents another way.",
        )


def _count_by_type(documents: list[VendorDocument]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for document in documents:
        counts[document.doc_type] += 1
    return ", ".join(f"{count} {doc_type}" for doc_type, count in counts.items())


def _past_due_warning(documents: list[VendorDocument]) -> list[str]:
    today = dt.date.today()
    past_due = [document for document in documents if document.due_date < today]
    if not past_due:
        return []
    return [f"Documents for purchases already past their due date: {len(past_due)} of {len(documents)}."]


def _payload_for(tenant: Tenant, pairs: list[tuple[Vendor, VendorDocument]]) -> documents_cell.DocumentRequestsPublishInput:
    return build_payload(
        documents_cell.DocumentRequestsPublishInput,
        requests=[
            {"document_id": document.id, "vendor_id": vendor.id, "message": request_message(tenant, vendor, document)}
            for vendor, document in pairs
        ],
    )


# --- One vendor ------------------------------------------------------------------------------


class DocumentRequestDraftInput(BaseModel):
    vendor_id: Annotated[str | None, RecordRef("vendor")] = Field(
        default=None, max_length=64, description="Id of the vendor. Give this or vendor_name."
    )
    vendor_name: str | None = Field(default=None, max_length=200, description="Vendor name. Give this or vendor_id.")
    doc_types: list[DocType] | None = Field(
        default=None, max_length=3, description="Only these document types; default all the tenant requires."
    )

    @model_validator(mode="after")
    def _require_vendor(self) -> "DocumentRequestDraftInput":
        if not self.vendor_id and not (self.vendor_name and self.vendor_name.strip()):
            raise ValueError("give vendor_id or vendor_name")
        return self


def draft_document_request(ctx: ToolContext, data: DocumentRequestDraftInput) -> DraftOutput:
    """Draft one request per missing document of one vendor."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    vendor = resolve_vendor(ctx, data.vendor_id, data.vendor_name)
    _check_not_blocked(vendor)
    doc_types = list(dict.fromkeys(data.doc_types or tenant.settings.required_documents))
    _check_doc_types(tenant, doc_types)

    documents = [
        document for document in ctx.kernel.list_vendor_documents(tenant.id, vendor_id=vendor.id)
        if document.doc_type in doc_types
    ]
    missing = [document for document in documents if document.status == "missing"]
    requested = [document for document in documents if document.status == "requested"]
    on_file = [document for document in documents if document.status == "on_file"]
    types_text = ", ".join(doc_types)
    if not missing:
        raise KernelValidationError(
            f"Vendor {vendor.name} has no missing {types_text} documents: {len(on_file)} are on file and "
            f"{len(requested)} were already requested.",
            hint="Nothing needs requesting; check the open requests instead.",
        )

    warnings = _past_due_warning(missing)
    if vendor.status == "inactive":
        warnings.insert(0, f"Vendor {vendor.name} is inactive; the requests concern its past purchases.")
    if len(missing) > documents_cell.MAX_REQUESTS:
        warnings.append(
            f"Only the first {documents_cell.MAX_REQUESTS} of {len(missing)} missing documents are included; "
            "draft again after these are sent."
        )
        missing = missing[: documents_cell.MAX_REQUESTS]

    checks = [f"Vendor {vendor.name} ({vendor.id}) is {vendor.status}, not blocked"]
    checks.append(f"{len(missing)} of the vendor's {types_text} documents are missing, not on file")
    if requested:
        checks.append(f"{len(requested)} already requested documents are left out")
    preview = DraftPreview(
        summary=(
            f"Ask {vendor.name} for {len(missing)} missing document{'s' if len(missing) != 1 else ''} "
            f"({_count_by_type(missing)})."
        ),
        changes=[
            Change(
                target=f"{document.doc_type} of {document.purchase_ref} ({document.id})",
                before="missing",
                after=f"requested from {vendor.name}",
            )
            for document in missing
        ],
        checks=checks,
        warnings=warnings,
        vendor_id=vendor.id,
    )
    return save_draft(
        ctx, tool_id=SINGLE_TOOL_ID, kind="document_requests",
        title=f"Request {len(missing)} missing documents from {vendor.name}",
        payload=_payload_for(tenant, [(vendor, document) for document in missing]),
        preview=preview, executes_with=documents_cell.TOOL_ID,
    )


# --- Many vendors ----------------------------------------------------------------------------


class DocumentRequestsBatchInput(BaseModel):
    doc_type: DocType | None = Field(default=None, description="Only this document type; default every required type.")
    max_vendors: int = Field(
        default=10, ge=1, le=MAX_BATCH_VENDORS,
        description="How many vendors to include, those with the most missing documents first.",
    )


def _group_by_vendor(
    documents: list[VendorDocument], vendors: dict[str, Vendor]
) -> list[tuple[Vendor, list[VendorDocument]]]:
    """Group documents by vendor: most missing documents first, then earliest due date, then name."""
    grouped: dict[str, list[VendorDocument]] = defaultdict(list)
    for document in documents:
        grouped[document.vendor_id].append(document)
    groups = [(vendors[vendor_id], docs) for vendor_id, docs in grouped.items() if vendor_id in vendors]
    groups.sort(key=lambda group: (-len(group[1]), min(d.due_date for d in group[1]), group[0].name))
    return groups


def _names(vendors: list[Vendor]) -> str:
    listed = ", ".join(vendor.name for vendor in vendors[:5])
    return listed + (f" and {len(vendors) - 5} more" if len(vendors) > 5 else "")


def draft_document_requests_batch(ctx: ToolContext, data: DocumentRequestsBatchInput) -> DraftOutput:
    """Draft requests for the missing documents of several vendors in one draft."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    doc_types = [data.doc_type] if data.doc_type else list(tenant.settings.required_documents)
    _check_doc_types(tenant, doc_types)
    vendors = {vendor.id: vendor for vendor in ctx.kernel.list_vendors(tenant.id)}
    missing = [
        document for document in ctx.kernel.list_vendor_documents(tenant.id, status="missing")
        if document.doc_type in doc_types
    ]
    groups = _group_by_vendor(missing, vendors)
    blocked = [vendor for vendor, _ in groups if vendor.status == "blocked"]
    groups = [group for group in groups if group[0].status != "blocked"]
    types_text = ", ".join(doc_types)
    if not groups:
        raise KernelValidationError(
            f"No vendor that is not blocked has missing {types_text} documents.",
            hint="Nothing needs requesting; check the open requests instead.",
        )

    chosen: list[tuple[Vendor, list[VendorDocument]]] = []
    request_count = 0
    for vendor, documents in groups[: data.max_vendors]:
        if request_count + len(documents) > documents_cell.MAX_REQUESTS:
            break
        chosen.append((vendor, documents))
        request_count += len(documents)

    warnings = []
    left_out = len(groups) - len(chosen)
    if left_out:
        warnings.append(
            f"{left_out} more vendor{'s' if left_out != 1 else ''} with missing documents "
            "are not included; raise max_vendors or draft again after these requests are sent."
        )
    if blocked:
        warnings.append(f"Blocked vendors are left out: {_names(blocked)}.")
    inactive = [vendor for vendor, _ in chosen if vendor.status == "inactive"]
    if inactive:
        warnings.append(f"Inactive vendors included for their past purchases: {_names(inactive)}.")
    all_documents = [document for _, documents in chosen for document in documents]
    warnings += _past_due_warning(all_documents)

    preview = DraftPreview(
        summary=(
            f"Ask {len(chosen)} vendor{'s' if len(chosen) != 1 else ''} for {request_count} missing "
            f"{types_text} documents ({_count_by_type(all_documents)})."
        ),
        changes=[
            Change(
                target=f"Vendor {vendor.name} ({vendor.id})",
                before=f"{len(documents)} missing",
                after="requested: " + ", ".join(f"{d.doc_type} of {d.purchase_ref}" for d in documents),
            )
            for vendor, documents in chosen
        ],
        checks=[
            "Every included vendor is active or inactive, none is blocked",
            "Every included document is missing, not on file or already requested",
            f"Document types limited to {types_text}, which {tenant.name} requires",
        ],
        warnings=warnings,
    )
    pairs = [(vendor, document) for vendor, documents in chosen for document in documents]
    return save_draft(
        ctx, tool_id=BATCH_TOOL_ID, kind="document_requests",
        title=f"Request {request_count} missing documents from {len(chosen)} vendors",
        payload=_payload_for(tenant, pairs), preview=preview, executes_with=documents_cell.TOOL_ID,
    )


TOOLS: list[Tool] = [
    Tool(
        id=SINGLE_TOOL_ID,
        title="Draft document requests for one vendor",
        description=(
            "Find one vendor's missing purchase documents (PO, GRN, invoice) in the Kernel and "
            "draft a polite request for each. Creates a draft only: nothing is sent until a "
            "manager approves the request."
        ),
        layer=Layer.CLUSTER,
        domain="documents",
        input_model=DocumentRequestDraftInput,
        output_model=DraftOutput,
        handler=draft_document_request,
        required_scopes=frozenset({"documents:draft"}),
        executes_with=documents_cell.TOOL_ID,
        examples=(
            "Ask Helios Steel Works for their missing documents",
            "Draft requests for the missing invoices of vendor ven_a8bd9dab8f",
        ),
    ),
    Tool(
        id=BATCH_TOOL_ID,
        title="Draft document requests for many vendors",
        description=(
            "Group the tenant's missing purchase documents by vendor, most missing first, and "
            "draft one request per document for up to max_vendors vendors; blocked vendors are "
            "left out. Creates a draft only: nothing is sent until a manager approves the request."
        ),
        layer=Layer.CLUSTER,
        domain="documents",
        input_model=DocumentRequestsBatchInput,
        output_model=DraftOutput,
        handler=draft_document_requests_batch,
        required_scopes=frozenset({"documents:draft"}),
        executes_with=documents_cell.TOOL_ID,
        examples=(
            "Chase all vendors with missing goods received notes",
            "Draft document requests for the 20 vendors with the most missing documents",
        ),
    ),
]
