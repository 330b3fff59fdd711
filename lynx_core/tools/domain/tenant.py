"""Domain tool for the tenant's profile and settings, each explained in plain language."""

from __future__ import annotations

import calendar

from pydantic import BaseModel, Field

from lynx_core.formatting import money
from lynx_core.kernel.models import Tenant, TenantSettings
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput
from lynx_core.tools.registry import Layer, Tool


class SettingExplanation(BaseModel):
    setting: str
    meaning: str = Field(description="What the current value means for the tenant and for Lynx.")


class TenantProfileInput(ToolInput):
    pass


class TenantProfileOutput(BaseModel):
    tenant_id: str
    name: str
    slug: str
    currency: str
    industry: str
    settings: TenantSettings
    explanations: list[SettingExplanation] = Field(description="One entry per setting, in the order of settings.")


def _approval_meanings(tenant: Tenant) -> list[tuple[str, str]]:
    settings = tenant.settings
    if settings.approval_mode == "hybrid":
        mode = (
            "hybrid: one approver decides each request, and a payment above the second-approver "
            "threshold also needs a second, different approver."
        )
    else:
        mode = "single: one approver decides each request that Lynx prepares."
    threshold = (
        f"Payments above {money(settings.second_approver_threshold, tenant.currency)} need a second approver."
        if settings.second_approver_threshold is not None
        else "No second-approver threshold is set, so no payment needs a second approver."
    )
    manual = (
        "Approval steps done by hand outside the app (paper, e-mail) are allowed in workflows."
        if settings.manual_approval_enabled
        else (
            "Approval steps done by hand outside the app (paper, e-mail) are switched off, so approvals "
            "happen in the app."
        )
    )
    return [
        ("approval_mode", f"Approval mode is {mode}"),
        ("manual_approval_enabled", manual),
        ("second_approver_threshold", threshold),
        (
            "approval_expiry_hours",
            f"An approval request expires when nobody decides it within {settings.approval_expiry_hours} "
            "hours (each approval policy can set its own expiry); it must then be requested again.",
        ),
    ]


def _other_meanings(tenant: Tenant) -> list[tuple[str, str]]:
    settings = tenant.settings
    timestamps = (
        "The tenant requires cryptographic timestamps on its records."
        if settings.cryptographic_timestamps
        else "The tenant does not require cryptographic timestamps on its records."
    )
    custom = (
        f"Vendor records carry the extra fields {', '.join(settings.custom_vendor_fields)}; vendor summaries show them."
        if settings.custom_vendor_fields
        else "Vendor records have no extra fields."
    )
    return [
        ("cryptographic_timestamps", timestamps),
        (
            "required_documents",
            f"Every purchase must have these documents on file: {', '.join(settings.required_documents)}. "
            "Lynx reports a purchase as missing documents when any of them is not on file.",
        ),
        (
            "payment_terms_days",
            f"Invoices are due {settings.payment_terms_days} days after issue unless a vendor has its own terms.",
        ),
        ("custom_vendor_fields", custom),
        (
            "fiscal_year_start_month",
            f"The fiscal year starts in {calendar.month_name[settings.fiscal_year_start_month]}.",
        ),
        ("locale", f"The tenant's locale (language and number format) is {settings.locale}."),
    ]


def read_tenant_profile(ctx: ToolContext, data: TenantProfileInput) -> TenantProfileOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    meanings = dict(_approval_meanings(tenant) + _other_meanings(tenant))
    # A setting added to the Kernel model later still gets an entry, without an explanation.
    fallback = "Lynx has no explanation for this setting yet; see its value under settings."
    return TenantProfileOutput(
        tenant_id=tenant.id,
        name=tenant.name,
        slug=tenant.slug,
        currency=tenant.currency,
        industry=tenant.industry,
        settings=tenant.settings,
        explanations=[
            SettingExplanation(setting=name, meaning=meanings.get(name, fallback))
            for name in TenantSettings.model_fields
        ],
    )


TOOLS = [
    Tool(
        id="tenant.domain.profile.read",
        title="Tenant profile and settings",
        description=(
            "Read the tenant's profile (name, currency, industry) and its customised settings, "
            "with a plain-language explanation of what each setting means: approval mode and "
            "threshold, manual approvals, required documents, payment terms, custom vendor fields, "
            "fiscal year and locale."
        ),
        layer=Layer.DOMAIN,
        domain="tenant",
        input_model=TenantProfileInput,
        output_model=TenantProfileOutput,
        handler=read_tenant_profile,
        examples=(
            "How is our tenant set up?",
            "Which documents does every purchase need?",
            "What currency do we work in?",
        ),
    ),
]
