"""Cell tool that sends approved requests for missing vendor documents."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from lynx_core.errors import KernelValidationError
from lynx_core.tools.cell.common import require_idempotency_key
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer, RecordRef, Tool

TOOL_ID = "docs.cell.document_requests.publish"

MAX_REQUESTS = 200
MAX_MESSAGE_LENGTH = 2000


class DocumentRequestItem(BaseModel):
    document_id: str = Field(min_length=1, max_length=64, description="Id of a missing document.")
    vendor_id: str = Field(min_length=1, max_length=64, description="Id of the vendor that owes the document.")
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_LENGTH, description="Text sent to the vendor.")


def _item_field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


class DocumentRequestsPublishInput(BaseModel):
    """Requests to publish, plus top-level copies of every id they name.

    The tenant guard reads record ids only from top-level fields, so ids nested inside
    ``requests`` would go unchecked. ``document_ids`` and ``vendor_ids`` therefore repeat
    them: both are filled from ``requests`` when omitted, and rejected when given but
    different, so every id in a request is always checked by the guard.
    """

    requests: list[DocumentRequestItem] = Field(min_length=1, max_length=MAX_REQUESTS)
    document_ids: list[Annotated[str, RecordRef("document")]] = Field(
        default_factory=list,
        description="The document id of each request, in the same order (filled in when omitted).",
    )
    vendor_ids: list[Annotated[str, RecordRef("vendor")]] = Field(
        default_factory=list,
        description="The distinct vendor ids of the requests, in order of first appearance (filled in when omitted).",
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_id_lists(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
            return data
        items = data["requests"]
        data = dict(data)
        if not data.get("document_ids"):
            data["document_ids"] = [_item_field(item, "document_id") for item in items]
        if not data.get("vendor_ids"):
            vendor_ids = [_item_field(item, "vendor_id") for item in items]
            data["vendor_ids"] = list(dict.fromkeys(vendor_ids))
        return data

    @model_validator(mode="after")
    def _check_id_lists(self) -> "DocumentRequestsPublishInput":
        document_ids = [item.document_id for item in self.requests]
        if self.document_ids != document_ids:
            raise ValueError("document_ids must list the document id of each request, in the same order")
        if len(set(document_ids)) != len(document_ids):
            raise ValueError("each document may be requested only once per call")
        vendor_ids = list(dict.fromkeys(item.vendor_id for item in self.requests))
        if self.vendor_ids != vendor_ids:
            raise ValueError("vendor_ids must list the distinct vendor ids of the requests, in order of first appearance")
        return self


class PublishedRequest(BaseModel):
    request_id: str
    document_id: str
    vendor_id: str
    status: str


class DocumentRequestsPublishOutput(BaseModel):
    published: int
    vendor_count: int
    requests: list[PublishedRequest]


def publish_document_requests(
    ctx: ToolContext, data: DocumentRequestsPublishInput
) -> DocumentRequestsPublishOutput:
    """Publish the requests after checking that each document belongs to the stated vendor."""
    idempotency_key = require_idempotency_key(ctx, TOOL_ID)
    tenant_id = ctx.actor.tenant_id
    # The Kernel takes (document_id, message) pairs and reads the vendor from the document,
    # so a request whose vendor_id disagrees with the document is stopped here.
    for item in data.requests:
        document = ctx.kernel.get_vendor_document(tenant_id, item.document_id)
        if document.vendor_id != item.vendor_id:
            raise KernelValidationError(
                f"Document {document.id} ({document.doc_type} of {document.purchase_ref}) belongs to vendor "
                f"{document.vendor_id}, not {item.vendor_id}.",
                hint="Draft the document requests again so that each names the document's own vendor.",
            )
    published = ctx.kernel.publish_document_requests(
        tenant_id,
        requests=[(item.document_id, item.message) for item in data.requests],
        created_by=ctx.actor.user_id,
        idempotency_key=idempotency_key,
    )
    return DocumentRequestsPublishOutput(
        published=len(published),
        vendor_count=len({request.vendor_id for request in published}),
        requests=[
            PublishedRequest(
                request_id=request.id, document_id=request.document_id,
                vendor_id=request.vendor_id, status=request.status,
            )
            for request in published
        ],
    )


TOOLS = [
    Tool(
        id=TOOL_ID,
        title="Send approved document requests",
        description=(
            "Send vendors the approved requests for missing documents and mark each document "
            "as requested. Runs only from an approved approval request; to start one, draft "
            "the requests with docs.cluster.document_request.draft or "
            "docs.cluster.document_requests.batch_draft and request approval."
        ),
        layer=Layer.CELL,
        domain="documents",
        input_model=DocumentRequestsPublishInput,
        output_model=DocumentRequestsPublishOutput,
        handler=publish_document_requests,
        required_scopes=frozenset({"documents:draft"}),
        approval_domain="documents",
        examples=("Send the approved document requests",),
    ),
]
