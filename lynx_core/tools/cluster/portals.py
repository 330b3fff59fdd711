"""Cluster tools that draft portals: a new one scaffolded from its audience, or a new configuration."""

from __future__ import annotations

import re
from collections import Counter
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from lynx_core.errors import KernelValidationError
from lynx_core.kernel.models import Portal, Tenant
from lynx_core.tools.cell import portals as portal_cell
from lynx_core.tools.cluster.common import build_payload, fold
from lynx_core.tools.context import ToolContext
from lynx_core.tools.drafting import Change, DraftOutput, DraftPreview, save_draft
from lynx_core.tools.registry import Layer, RecordRef, Tool

SCAFFOLD_TOOL_ID = "portal.cluster.portal.scaffold"
CONFIG_TOOL_ID = "portal.cluster.portal_config.draft"

Audience = Literal["customer", "vendor"]

#: Pages and features every portal of an audience starts with.
BASE_LAYOUT: dict[str, tuple[list[str], list[str]]] = {
    "customer": (
        ["Home", "Orders", "Invoices", "Support", "Account"],
        ["order tracking", "invoice download", "support tickets"],
    ),
    "vendor": (
        ["Home", "Onboarding", "Documents", "Purchase orders", "Payments", "Profile"],
        ["self-registration", "document upload", "document requests", "payment status"],
    ),
}

#: Words in the stated purpose that add a page and a feature: (pattern, page or None, feature).
PURPOSE_EXTRAS: tuple[tuple[str, str | None, str], ...] = (
    (r"\breturn", "Returns", "returns"),
    (r"\brefund", "Returns", "refund status"),
    (r"\bcatalog", "Catalogue", "catalogue"),
    (r"\b(bulk|wholesale|dealer)", None, "bulk ordering"),
    (r"\bprice", None, "price lists"),
    (r"\bcertificat", "Certificates", "certificate upload"),
    (r"\bcontract", "Contracts", "contract download"),
    (r"\binvoic", None, "invoice upload"),
    (r"\bbank", None, "bank detail change"),
    (r"\b(collect|store)", "Find a store", "store finder"),
)

SENSITIVE_FEATURES = {
    "bank detail change": (
        "The bank detail change feature is a common fraud target: confirm every change by a call-back "
        "to a known contact before paying to new details."
    ),
}


def _tenant_theme(tenant: Tenant, portals: list[Portal]) -> tuple[str, bool]:
    """Return the theme most of the tenant's portals use and True, or a slug-based id and False."""
    themes = Counter(portal.theme for portal in portals)
    if themes:
        return themes.most_common(1)[0][0], True
    return f"{tenant.slug}-default", False


def _design_summary(ctx: ToolContext, tenant: Tenant) -> str | None:
    tokens = {token.name: token.value for token in ctx.kernel.list_design_tokens(tenant.id)}
    parts = [
        f"{label} {tokens[name]}"
        for label, name in (("primary colour", "color.brand.primary"), ("heading font", "font.family.heading"),
                            ("body font", "font.family.body"))
        if name in tokens
    ]
    return ", ".join(parts) if parts else None


def _add_unique(items: list[str], item: str) -> None:
    if fold(item) not in {fold(existing) for existing in items}:
        items.append(item)


def _sensitive_warnings(features: list[str]) -> list[str]:
    return [SENSITIVE_FEATURES[fold(feature)] for feature in features if fold(feature) in SENSITIVE_FEATURES]


# --- A new portal ----------------------------------------------------------------------------


class PortalScaffoldInput(BaseModel):
    name: str = Field(min_length=1, max_length=120, description="Portal name, e.g. Acme Supplier Hub.")
    audience: Audience = Field(description="Who signs in: customer or vendor.")
    purpose: str = Field(
        min_length=1, max_length=1000, description="What the portal is for, in a sentence; it picks extra pages."
    )


def scaffold_portal(ctx: ToolContext, data: PortalScaffoldInput) -> DraftOutput:
    """Build a portal's pages and features from its audience and purpose and save it as a draft."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    portals = ctx.kernel.list_portals(tenant.id)
    name = data.name.strip()
    for portal in portals:
        if fold(portal.name) == fold(name):
            raise KernelValidationError(
                f"A portal named {portal.name} ({portal.id}) already exists and is {portal.status}.",
                hint="Choose another name, or change that portal with portal.cluster.portal_config.draft.",
            )

    base_pages, base_features = BASE_LAYOUT[data.audience]
    pages, features = list(base_pages), list(base_features)
    extras = []
    for pattern, page, feature in PURPOSE_EXTRAS:
        if re.search(pattern, data.purpose, flags=re.IGNORECASE):
            if page:
                _add_unique(pages, page)
            _add_unique(features, feature)
            extras.append(feature)
    theme, theme_known = _tenant_theme(tenant, portals)

    payload = build_payload(
        portal_cell.PortalEnableInput, portal_id=None, name=name, audience=data.audience,
        pages=pages, features=features, theme=theme,
    )
    checks = [f"No other portal of {tenant.name} is named {name!r}"]
    warnings = []
    if theme_known:
        checks.append(f"Theme {theme} is the one {tenant.name}'s portals use")
    else:
        warnings.append(f"{tenant.name} has no portal yet, so the theme id {theme!r} is a placeholder; check it.")
    design = _design_summary(ctx, tenant)
    if design:
        checks.append(f"Design tokens applied through the theme: {design}")
    warnings += _sensitive_warnings(features)
    preview = DraftPreview(
        summary=(
            f"Create and enable the {data.audience} portal {name!r} with {len(pages)} pages and "
            f"{len(features)} features in the {theme} theme"
            + (f"; added for the stated purpose: {', '.join(extras)}." if extras else ".")
        ),
        changes=[
            Change(target="Kernel portals", after=f"New {data.audience} portal {name!r}, enabled"),
            Change(target="Pages", after=", ".join(pages)),
            Change(target="Features", after=", ".join(features)),
            Change(target="Theme", after=theme),
        ],
        checks=checks,
        warnings=warnings,
    )
    return save_draft(
        ctx, tool_id=SCAFFOLD_TOOL_ID, kind="portal", title=f"New {data.audience} portal: {name}",
        payload=payload, preview=preview, executes_with=portal_cell.TOOL_ID,
    )


# --- A new configuration of an existing portal ------------------------------------------------

PortalItem = Annotated[str, Field(min_length=1, max_length=80)]


class PortalConfigDraftInput(BaseModel):
    portal_id: Annotated[str, RecordRef("portal")] = Field(
        min_length=1, max_length=64, description="Id of the portal to change."
    )
    add_pages: list[PortalItem] = Field(default_factory=list, max_length=portal_cell.MAX_PAGES)
    remove_pages: list[PortalItem] = Field(default_factory=list, max_length=portal_cell.MAX_PAGES)
    add_features: list[PortalItem] = Field(default_factory=list, max_length=portal_cell.MAX_FEATURES)
    remove_features: list[PortalItem] = Field(default_factory=list, max_length=portal_cell.MAX_FEATURES)
    theme: str | None = Field(default=None, max_length=64, description="New theme id; omit to keep the current one.")


def _apply(current: list[str], add: list[str], remove: list[str], label: str) -> tuple[list[str], list[str]]:
    """Return the new list and notes about additions that were already present."""
    both = {fold(item) for item in add} & {fold(item) for item in remove}
    if both:
        raise KernelValidationError(
            f"The same {label} is both added and removed: {', '.join(sorted(both))}.",
            hint=f"List each {label} in only one of the two fields.",
        )
    present = {fold(item) for item in current}
    absent = [item for item in remove if fold(item) not in present]
    if absent:
        raise KernelValidationError(
            f"Cannot remove {label}s the portal does not have: {', '.join(absent)}.",
            hint=f"The portal's {label}s are: {', '.join(current) or 'none'}.",
        )
    removed = {fold(item) for item in remove}
    result = [item for item in current if fold(item) not in removed]
    notes = []
    for item in add:
        if fold(item) in present:
            notes.append(f"The {label} {item!r} is already on the portal and is left as it is.")
        else:
            _add_unique(result, item.strip())
    return result, notes


def _describe_edit(portal: Portal, pages: list[str], features: list[str], theme: str) -> str:
    """Describe a portal change in a few words, e.g. "add page Contracts; theme a → b"."""
    parts = []
    for label, before, after in (("page", portal.pages, pages), ("feature", portal.features, features)):
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        if added:
            parts.append(f"add {label}{'s' if len(added) > 1 else ''} {', '.join(added)}")
        if removed:
            parts.append(f"remove {label}{'s' if len(removed) > 1 else ''} {', '.join(removed)}")
    if theme != portal.theme:
        parts.append(f"theme {portal.theme} → {theme}")
    if portal.status != "enabled":
        parts.append(f"enable it (now {portal.status})")
    return "; ".join(parts)


def draft_portal_config(ctx: ToolContext, data: PortalConfigDraftInput) -> DraftOutput:
    """Draft a portal's new pages, features or theme and show the difference."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    portal = ctx.kernel.get_portal(tenant.id, data.portal_id)
    pages, page_notes = _apply(portal.pages, data.add_pages, data.remove_pages, "page")
    features, feature_notes = _apply(portal.features, data.add_features, data.remove_features, "feature")
    if not pages:
        raise KernelValidationError(
            f"The change would leave portal {portal.name} without pages.", hint="Keep or add at least one page."
        )
    theme = data.theme.strip() if data.theme and data.theme.strip() else portal.theme
    if pages == portal.pages and features == portal.features and theme == portal.theme:
        raise KernelValidationError(
            f"The request does not change portal {portal.name}.",
            hint="Name pages or features to add or remove, or a new theme.",
        )

    payload = build_payload(
        portal_cell.PortalEnableInput, portal_id=portal.id, name=portal.name, audience=portal.audience,
        pages=pages, features=features, theme=theme,
    )
    changes = []
    if pages != portal.pages:
        changes.append(Change(target="Pages", before=", ".join(portal.pages), after=", ".join(pages)))
    if features != portal.features:
        changes.append(Change(target="Features", before=", ".join(portal.features) or "none",
                              after=", ".join(features) or "none"))
    if theme != portal.theme:
        changes.append(Change(target="Theme", before=portal.theme, after=theme))
    if portal.status != "enabled":
        changes.append(Change(target="Status", before=portal.status, after="enabled"))

    warnings = page_notes + feature_notes
    if portal.status != "enabled":
        warnings.append(f"The portal is {portal.status}; carrying out this draft also enables it.")
    known_themes = {other.theme for other in ctx.kernel.list_portals(tenant.id)}
    if theme not in known_themes:
        warnings.append(f"No portal of {tenant.name} uses the theme {theme!r} yet; check that it exists.")
    new_features = [item for item in features if fold(item) not in {fold(f) for f in portal.features}]
    warnings += _sensitive_warnings(new_features)
    preview = DraftPreview(
        summary=f"Change portal {portal.name}: {_describe_edit(portal, pages, features, theme)}.",
        changes=changes,
        checks=[f"Portal {portal.name} ({portal.id}) belongs to {tenant.name}",
                "Every removed page or feature is on the portal now"],
        warnings=warnings,
    )
    return save_draft(
        ctx, tool_id=CONFIG_TOOL_ID, kind="portal", title=f"Portal change: {portal.name}",
        payload=payload, preview=preview, executes_with=portal_cell.TOOL_ID,
    )


TOOLS: list[Tool] = [
    Tool(
        id=SCAFFOLD_TOOL_ID,
        title="Scaffold a new portal",
        description=(
            "Draft a new customer or vendor portal: pages and features come from the audience "
            "(customers: orders, invoices, support; vendors: onboarding, document upload, payment "
            "status) plus extras the stated purpose mentions, in the tenant's theme. Creates a draft "
            "only: the portal is enabled after a tenant admin approves the request."
        ),
        layer=Layer.CLUSTER,
        domain="portals",
        input_model=PortalScaffoldInput,
        output_model=DraftOutput,
        handler=scaffold_portal,
        required_scopes=frozenset({"portals:draft"}),
        executes_with=portal_cell.TOOL_ID,
        examples=(
            "Set up a vendor portal where suppliers upload certificates and check payment status",
            "Scaffold a customer portal for returns and refunds",
        ),
    ),
    Tool(
        id=CONFIG_TOOL_ID,
        title="Draft a portal configuration change",
        description=(
            "Draft pages and features to add to or remove from an existing portal, or a new "
            "theme; the preview shows the difference. Creates a draft only: the change goes live "
            "after a tenant admin approves the request, and it also enables the portal."
        ),
        layer=Layer.CLUSTER,
        domain="portals",
        input_model=PortalConfigDraftInput,
        output_model=DraftOutput,
        handler=draft_portal_config,
        required_scopes=frozenset({"portals:draft"}),
        executes_with=portal_cell.TOOL_ID,
        examples=(
            "Add a Contracts page to the supplier portal",
            "Remove the bank detail change feature from portal prt_cc7f2a5a08",
        ),
    ),
]
