"""Domain tool for vendor document status: which purchases lack a PO, GRN or invoice."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, limit_field, vendor_names
from lynx_core.tools.registry import Layer, RecordRef, Tool


class DocumentRow(BaseModel):
    document_id: str = Field(description="The id a document-request draft needs.")
    vendor_id: str
    vendor_name: str
    purchase_ref: str
    doc_type: str
    status: str
    amount: Decimal = Field(description="Amount of the purchase the document belongs to.")
    due_date: str
    open_request_id: str | None = Field(description="Id of the request already sent for it, if any.")


class VendorMissing(BaseModel):
    vendor_id: str
    vendor_name: str
    document_count: int
    purchase_count: int
    by_type: dict[str, int] = Field(description="Documents per type (PO, GRN, INVOICE).")


class DocumentStatusInput(ToolInput):
    vendor_id: Annotated[str | None, RecordRef("vendor")] = Field(
        default=None, min_length=1, max_length=64,
        description="Only this vendor's documents (a vendor id of your tenant).",
    )
    doc_type: Literal["PO", "GRN", "INVOICE"] | None = Field(default=None, description="Only this document type.")
    include_requested: bool = Field(
        default=False,
        description="Also list documents already requested from the vendor but not yet on file.",
    )
    limit: int = limit_field("documents and vendors")


class DocumentStatusOutput(BaseModel):
    tenant_id: str
    required_documents: list[str] = Field(description="Documents the tenant requires for every purchase.")
    statuses: list[str] = Field(description="Document statuses counted: missing, and requested if asked.")
    total_documents: int
    total_purchases: int
    total_vendors: int
    vendors_shown: int
    vendors: list[VendorMissing] = Field(description="Vendors with the most such documents first.")
    documents_shown: int
    documents: list[DocumentRow] = Field(description="Documents, earliest due date first.")


def list_document_status(ctx: ToolContext, data: DocumentStatusInput) -> DocumentStatusOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    statuses = ["missing", "requested"] if data.include_requested else ["missing"]
    documents = [
        d for d in ctx.kernel.list_vendor_documents(tenant.id, vendor_id=data.vendor_id)
        if d.status in statuses and (data.doc_type is None or d.doc_type == data.doc_type)
    ]
    names = vendor_names(ctx)
    open_requests = {
        request.document_id: request.id
        for request in ctx.kernel.list_document_requests(tenant.id)
        if request.status == "sent"
    }

    per_vendor: dict[str, VendorMissing] = {}
    purchases: dict[str, set[str]] = {}
    for document in documents:
        row = per_vendor.setdefault(
            document.vendor_id,
            VendorMissing(
                vendor_id=document.vendor_id, vendor_name=names.get(document.vendor_id, document.vendor_id),
                document_count=0, purchase_count=0, by_type={},
            ),
        )
        row.document_count += 1
        row.by_type[document.doc_type] = row.by_type.get(document.doc_type, 0) + 1
        purchases.setdefault(document.vendor_id, set()).add(document.purchase_ref)
    for vendor_id, refs in purchases.items():
        per_vendor[vendor_id].purchase_count = len(refs)
    vendors = sorted(per_vendor.values(), key=lambda v: (-v.document_count, v.vendor_name, v.vendor_id))

    # The Kernel lists documents by due date, then purchase and type.
    shown = documents[: data.limit]
    rows = [
        DocumentRow(
            document_id=d.id, vendor_id=d.vendor_id, vendor_name=names.get(d.vendor_id, d.vendor_id),
            purchase_ref=d.purchase_ref, doc_type=d.doc_type, status=d.status, amount=d.amount,
            due_date=d.due_date.isoformat(), open_request_id=open_requests.get(d.id),
        )
        for d in shown
    ]
    return DocumentStatusOutput(
        tenant_id=tenant.id,
        required_documents=list(tenant.settings.required_documents),
        statuses=statuses,
        total_documents=len(documents),
        total_purchases=len({d.purchase_ref for d in documents}),
        total_vendors=len(vendors),
        vendors_shown=min(len(vendors), data.limit),
        vendors=vendors[: data.limit],
        documents_shown=len(rows),
        documents=rows,
    )


TOOLS = [
    Tool(
        id="docs.domain.document_status.list",
        title="Missing vendor documents",
        description=(
            "List purchases whose PO, GRN (goods received note) or invoice is missing, optionally "
            "for one vendor or one document type: counts per vendor, and document rows with the "
            "document ids that document-request drafts need. Set include_requested to also see "
            "documents already requested from the vendor."
        ),
        layer=Layer.DOMAIN,
        domain="documents",
        input_model=DocumentStatusInput,
        output_model=DocumentStatusOutput,
        handler=list_document_status,
        required_scopes=frozenset({"documents:read"}),
        examples=(
            "Which purchases are missing a goods received note?",
            "Which vendors owe us the most documents?",
            "Which invoices are missing for Helios Steel Works?",
        ),
    ),
]
