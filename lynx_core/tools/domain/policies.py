"""Domain tool for the tenant's approval policies: who approves what, and within how long."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.formatting import money
from lynx_core.kernel.models import ApprovalPolicy, Tenant
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput
from lynx_core.tools.registry import Layer, Tool


class PolicyView(BaseModel):
    domain: str
    approver_roles: list[str]
    approver_scope: str
    second_approver_threshold: Decimal | None
    second_approver_roles: list[str]
    expiry_hours: int
    description: str = Field(description="The policy's description as stored in the Kernel.")
    summary: str = Field(description="The policy in one plain sentence.")


class ApprovalPoliciesInput(ToolInput):
    domain: Literal["payments", "documents", "workflows", "portals", "design"] | None = Field(
        default=None, description="Only the policy of this domain."
    )


class ApprovalPoliciesOutput(BaseModel):
    tenant_id: str
    currency: str
    approval_mode: str = Field(description="single: one approver; hybrid: a second one above the threshold.")
    second_approver_threshold: Decimal | None
    approval_expiry_hours: int = Field(description="The tenant's default time to decide a request.")
    manual_approval_enabled: bool
    sentences: list[str] = Field(description="The tenant-wide approval rules in plain sentences.")
    # The Kernel keeps at most one policy per domain, and there are five domains.
    policy_count: int
    policies: list[PolicyView]


def _either(names: list[str]) -> str:
    return " or ".join(names) if names else "nobody"


def _policy_summary(policy: ApprovalPolicy, currency: str) -> str:
    sentence = (
        f"{policy.domain.capitalize()}: a {_either(policy.approver_roles)} holding the scope "
        f"{policy.approver_scope} approves each request"
    )
    if policy.second_approver_threshold is not None:
        sentence += (
            f", and above {money(policy.second_approver_threshold, currency)} a second, different "
            f"approver who is a {_either(policy.second_approver_roles)} must approve too"
        )
    return sentence + f". Requests expire after {policy.expiry_hours} hours without a decision."


def _tenant_sentences(tenant: Tenant) -> list[str]:
    settings = tenant.settings
    if settings.approval_mode == "hybrid" and settings.second_approver_threshold is not None:
        mode = (
            "Approval mode is hybrid: one approver decides each request, and a payment above "
            f"{money(settings.second_approver_threshold, tenant.currency)} needs a second approver."
        )
    elif settings.approval_mode == "hybrid":
        mode = "Approval mode is hybrid, but the tenant has set no second-approver threshold."
    else:
        mode = "Approval mode is single: one approver decides each request."
    manual = (
        "Manual approval steps outside the app (paper, e-mail) are allowed."
        if settings.manual_approval_enabled
        else "Manual approval steps outside the app (paper, e-mail) are switched off."
    )
    return [
        mode,
        f"The tenant's approval expiry setting is {settings.approval_expiry_hours} hours; each policy "
        "states the expiry its requests get.",
        manual,
        "Nobody may approve their own request, and every change Lynx makes to live data needs an approved request.",
    ]


def read_approval_policies(ctx: ToolContext, data: ApprovalPoliciesInput) -> ApprovalPoliciesOutput:
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    policies = [
        p for p in ctx.kernel.list_approval_policies(tenant.id) if data.domain is None or p.domain == data.domain
    ]
    views = [
        PolicyView(
            domain=p.domain, approver_roles=list(p.approver_roles), approver_scope=p.approver_scope,
            second_approver_threshold=p.second_approver_threshold,
            second_approver_roles=list(p.second_approver_roles), expiry_hours=p.expiry_hours,
            description=p.description, summary=_policy_summary(p, tenant.currency),
        )
        for p in policies
    ]
    return ApprovalPoliciesOutput(
        tenant_id=tenant.id,
        currency=tenant.currency,
        approval_mode=tenant.settings.approval_mode,
        second_approver_threshold=tenant.settings.second_approver_threshold,
        approval_expiry_hours=tenant.settings.approval_expiry_hours,
        manual_approval_enabled=tenant.settings.manual_approval_enabled,
        sentences=_tenant_sentences(tenant),
        policy_count=len(views),
        policies=views,
    )


TOOLS = [
    Tool(
        id="workflow.domain.approval_policies.read",
        title="Approval policies",
        description=(
            "Read the tenant's approval policies per domain (payments, documents, workflows, "
            "portals, design): who approves, with which scope, the second-approver threshold and "
            "the expiry, plus the tenant's approval mode, in plain sentences. Use it to explain who "
            "must approve a draft."
        ),
        layer=Layer.DOMAIN,
        domain="workflows",
        input_model=ApprovalPoliciesInput,
        output_model=ApprovalPoliciesOutput,
        handler=read_approval_policies,
        examples=(
            "Who has to approve a payment?",
            "When does a payment need a second approver?",
            "How long does an approver have to decide?",
        ),
    ),
]
