"""Cell tool that enables an approved portal: a new one, or a new configuration of one."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from lynx_core.tools.cell.common import require_idempotency_key
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer, RecordRef, Tool

TOOL_ID = "portal.cell.portal.enable"

MAX_PAGES = 30
MAX_FEATURES = 30

PortalItem = Annotated[str, Field(min_length=1, max_length=80)]


def _check_distinct(values: list[str], label: str) -> list[str]:
    cleaned = [value.strip() for value in values]
    folded = [value.casefold() for value in cleaned]
    if any(not value for value in cleaned):
        raise ValueError(f"{label} must not be blank")
    if len(set(folded)) != len(folded):
        raise ValueError(f"{label} must not repeat an entry")
    return cleaned


class PortalEnableInput(BaseModel):
    portal_id: Annotated[str | None, RecordRef("portal")] = Field(
        default=None, description="Id of the portal to reconfigure; null creates a new portal."
    )
    name: str = Field(min_length=1, max_length=120)
    audience: Literal["customer", "vendor"]
    pages: list[PortalItem] = Field(min_length=1, max_length=MAX_PAGES, description="Page titles in menu order.")
    features: list[PortalItem] = Field(default_factory=list, max_length=MAX_FEATURES)
    theme: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="Design theme id, e.g. acme-industrial."
    )

    @field_validator("pages")
    @classmethod
    def _distinct_pages(cls, pages: list[str]) -> list[str]:
        return _check_distinct(pages, "pages")

    @field_validator("features")
    @classmethod
    def _distinct_features(cls, features: list[str]) -> list[str]:
        return _check_distinct(features, "features")


class PortalEnableOutput(BaseModel):
    portal_id: str
    name: str
    audience: str
    status: str
    pages: list[str]
    features: list[str]
    theme: str
    created: bool


def enable_portal(ctx: ToolContext, data: PortalEnableInput) -> PortalEnableOutput:
    """Create or update the portal with status "enabled"."""
    idempotency_key = require_idempotency_key(ctx, TOOL_ID)
    portal = ctx.kernel.enable_portal(
        ctx.actor.tenant_id,
        name=data.name,
        audience=data.audience,
        pages=list(data.pages),
        features=list(data.features),
        theme=data.theme,
        portal_id=data.portal_id,
        enabled_by=ctx.actor.user_id,
        idempotency_key=idempotency_key,
    )
    return PortalEnableOutput(
        portal_id=portal.id,
        name=portal.name,
        audience=portal.audience,
        status=portal.status,
        pages=portal.pages,
        features=portal.features,
        theme=portal.theme,
        created=data.portal_id is None,
    )


TOOLS = [
    Tool(
        id=TOOL_ID,
        title="Enable an approved portal",
        description=(
            "Create a customer or vendor portal, or apply a new configuration to an existing "
            "one, and enable it. Runs only from an approval request a tenant admin has approved; "
            "to start one, draft it with portal.cluster.portal.scaffold or "
            "portal.cluster.portal_config.draft and request approval."
        ),
        layer=Layer.CELL,
        domain="portals",
        input_model=PortalEnableInput,
        output_model=PortalEnableOutput,
        handler=enable_portal,
        required_scopes=frozenset({"portals:draft"}),
        approval_domain="portals",
        examples=("Enable the approved vendor portal",),
    ),
]
