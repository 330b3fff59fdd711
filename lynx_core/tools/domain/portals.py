"""Domain tool for the tenant's customer and vendor portals."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, limit_field
from lynx_core.tools.registry import Layer, Tool


class PortalView(BaseModel):
    portal_id: str
    name: str
    audience: str = Field(description="customer or vendor.")
    status: str = Field(description="draft, disabled or enabled.")
    pages: list[str]
    features: list[str]
    theme: str
    enabled_by: str | None = Field(description="User id of whoever enabled the portal, if enabled.")
    enabled_at: str | None


class PortalsInput(ToolInput):
    status: Literal["draft", "disabled", "enabled"] | None = Field(
        default=None, description="Only portals in this status."
    )
    audience: Literal["customer", "vendor"] | None = Field(default=None, description="Only portals for this audience.")
    limit: int = limit_field("portals")


class PortalsOutput(BaseModel):
    tenant_id: str
    total_count: int
    shown: int
    portals: list[PortalView] = Field(description="Portals sorted by name.")


def list_portals(ctx: ToolContext, data: PortalsInput) -> PortalsOutput:
    portals = [
        p for p in ctx.kernel.list_portals(ctx.actor.tenant_id)
        if (data.status is None or p.status == data.status) and (data.audience is None or p.audience == data.audience)
    ]
    shown = portals[: data.limit]
    return PortalsOutput(
        tenant_id=ctx.actor.tenant_id,
        total_count=len(portals),
        shown=len(shown),
        portals=[
            PortalView(
                portal_id=p.id, name=p.name, audience=p.audience, status=p.status, pages=list(p.pages),
                features=list(p.features), theme=p.theme, enabled_by=p.enabled_by,
                enabled_at=p.enabled_at.isoformat() if p.enabled_at else None,
            )
            for p in shown
        ],
    )


TOOLS = [
    Tool(
        id="portal.domain.portals.list",
        title="Portals",
        description=(
            "List the tenant's customer and vendor portals with their status (draft, disabled, "
            "enabled), pages, features and theme. Use it to find a portal id."
        ),
        layer=Layer.DOMAIN,
        domain="portals",
        input_model=PortalsInput,
        output_model=PortalsOutput,
        handler=list_portals,
        required_scopes=frozenset({"portals:read"}),
        examples=(
            "Which portals do we have?",
            "Is the supplier portal enabled?",
        ),
    ),
]
