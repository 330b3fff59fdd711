"""Cluster tool that drafts a revision of an approval policy as a proposal for a person to apply.

No cell tool changes approval policies: a policy decides who may approve Lynx's own actions,
so a change to it is applied by a person in the Kernel's administration.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from lynx_core.errors import KernelValidationError
from lynx_core.formatting import money
from lynx_core.kernel.models import ApprovalPolicy, RoleDefinition
from lynx_core.tools.context import ToolContext
from lynx_core.tools.drafting import Change, DraftOutput, DraftPreview, save_draft
from lynx_core.tools.registry import Layer, Tool

TOOL_ID = "policy.cluster.policy_revision.draft"

PolicyDomain = Literal["payments", "documents", "workflows", "portals", "design"]
#: Maximum approval expiry a proposal may set: 30 days.
MAX_EXPIRY_HOURS = 720
#: Expiry above which a proposal gets a warning, because approvals go stale.
LONG_EXPIRY_HOURS = 72


class PolicyRevisionInput(BaseModel):
    domain: PolicyDomain = Field(description="Policy to revise: payments, documents, workflows, portals or design.")
    approver_roles: list[str] | None = Field(
        default=None, min_length=1, max_length=10, description="New approver roles; omit to keep the current ones."
    )
    approver_scope: str | None = Field(
        default=None, max_length=64, description="New scope approvers need, e.g. finance:approve; omit to keep it."
    )
    second_approver_threshold: Decimal | None = Field(
        default=None, gt=0, decimal_places=2,
        description="Amount above which a second approver is needed; omit to keep the current one.",
    )
    second_approver_roles: list[str] | None = Field(
        default=None, max_length=10, description="Roles of which one second approver must hold one; omit to keep."
    )
    remove_second_approver: bool = Field(
        default=False, description="True to drop the second-approver threshold and roles."
    )
    expiry_hours: int | None = Field(
        default=None, ge=1, le=MAX_EXPIRY_HOURS, description="Hours before a pending request expires; omit to keep."
    )
    rationale: str = Field(min_length=10, max_length=2000, description="Why the policy should change.")


class PolicyRevisionProposal(BaseModel):
    """The stored proposal: the policy as it is and as proposed, with the reason."""

    policy_id: str
    domain: str
    current: dict[str, Any]
    proposed: dict[str, Any]
    rationale: str


def _policy_fields(policy: ApprovalPolicy) -> dict[str, Any]:
    return {
        "approver_roles": list(policy.approver_roles),
        "approver_scope": policy.approver_scope,
        "second_approver_threshold": policy.second_approver_threshold,
        "second_approver_roles": list(policy.second_approver_roles),
        "expiry_hours": policy.expiry_hours,
    }


def _proposed_fields(current: dict[str, Any], data: PolicyRevisionInput) -> dict[str, Any]:
    proposed = dict(current)
    if data.remove_second_approver:
        if data.second_approver_threshold is not None or data.second_approver_roles:
            raise KernelValidationError(
                "The proposal both removes the second approver and sets a second-approver threshold or roles.",
                hint="Either set remove_second_approver or give the new threshold and roles, not both.",
            )
        proposed["second_approver_threshold"] = None
        proposed["second_approver_roles"] = []
    if data.approver_roles is not None:
        proposed["approver_roles"] = list(dict.fromkeys(role.strip() for role in data.approver_roles))
    if data.approver_scope is not None:
        proposed["approver_scope"] = data.approver_scope.strip()
    if data.second_approver_threshold is not None:
        proposed["second_approver_threshold"] = data.second_approver_threshold
    if data.second_approver_roles is not None:
        proposed["second_approver_roles"] = list(dict.fromkeys(role.strip() for role in data.second_approver_roles))
    if data.expiry_hours is not None:
        proposed["expiry_hours"] = data.expiry_hours
    return proposed


def _check_proposal(proposed: dict[str, Any], roles: list[RoleDefinition], tenant_name: str) -> None:
    catalogue = {role.name: role for role in roles}
    named = proposed["approver_roles"] + proposed["second_approver_roles"]
    unknown = [role for role in named if role not in catalogue]
    if unknown:
        raise KernelValidationError(
            f"Unknown role {', '.join(repr(r) for r in unknown)}: {tenant_name} has no such role.",
            hint=f"Use one of the tenant's roles: {', '.join(catalogue)}.",
        )
    scope = proposed["approver_scope"]
    if not any(scope in role.scopes for role in roles):
        raise KernelValidationError(
            f"Unknown scope {scope!r}: no role of {tenant_name} grants it.",
            hint="Use a scope that one of the approver roles grants, e.g. finance:approve.",
        )
    # Every approver, the second one included, needs the approver scope.
    for field_name in ("approver_roles", "second_approver_roles"):
        named_roles = proposed[field_name]
        if named_roles and not any(scope in catalogue[role].scopes for role in named_roles):
            raise KernelValidationError(
                f"None of the {field_name.replace('_', ' ')} {', '.join(named_roles)} grants the scope {scope}, "
                "so nobody in them could approve requests under this policy.",
                hint=f"Name a role that grants {scope}, or choose a scope these roles have.",
            )
    threshold_set = proposed["second_approver_threshold"] is not None
    if threshold_set != bool(proposed["second_approver_roles"]):
        raise KernelValidationError(
            "A second-approver threshold needs second-approver roles, and the roles need a threshold.",
            hint="Give both second_approver_threshold and second_approver_roles, or remove the second approver.",
        )


def _show(value: Any, currency: str) -> str:
    if value is None or value == []:
        return "none"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, Decimal):
        return money(value, currency)
    return str(value)


def _warnings(current: dict[str, Any], proposed: dict[str, Any], domain: str, roles: list[RoleDefinition]) -> list[str]:
    warnings = []
    old_threshold, new_threshold = current["second_approver_threshold"], proposed["second_approver_threshold"]
    if old_threshold is not None and new_threshold is None:
        warnings.append("Removing the second approver lets one person approve any amount.")
    elif old_threshold is not None and new_threshold is not None and new_threshold > old_threshold:
        warnings.append("Raising the threshold lets more payments pass with a single approver.")
    if new_threshold is not None and domain != "payments":
        warnings.append(f"Only payment drafts carry an amount, so a threshold in the {domain} policy never applies.")
    if proposed["expiry_hours"] > max(current["expiry_hours"], LONG_EXPIRY_HOURS):
        warnings.append(
            f"An expiry of {proposed['expiry_hours']} hours leaves requests open longer, so approvers may decide on stale data."
        )
    catalogue = {role.name: role for role in roles}
    named = dict.fromkeys(proposed["approver_roles"] + proposed["second_approver_roles"])
    without_scope = [role for role in named if proposed["approver_scope"] not in catalogue[role].scopes]
    if without_scope:
        warnings.append(
            f"Role {', '.join(without_scope)} does not grant {proposed['approver_scope']}, so its members cannot approve."
        )
    return warnings


def draft_policy_revision(ctx: ToolContext, data: PolicyRevisionInput) -> DraftOutput:
    """Compare the proposed policy with the Kernel's current one and save it as a proposal."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    policy = ctx.kernel.get_approval_policy(tenant.id, data.domain)
    roles = ctx.kernel.list_roles(tenant.id)
    current = _policy_fields(policy)
    proposed = _proposed_fields(current, data)
    if proposed == current:
        raise KernelValidationError(
            f"The proposal matches the current {data.domain} policy: {policy.description}",
            hint="Name at least one field to change.",
        )
    _check_proposal(proposed, roles, tenant.name)

    changed = [name for name in current if proposed[name] != current[name]]
    changes = [
        Change(target=f"{data.domain} policy: {name}", before=_show(current[name], tenant.currency),
               after=_show(proposed[name], tenant.currency))
        for name in changed
    ]
    summary = "; ".join(
        f"{name.replace('_', ' ')} {_show(current[name], tenant.currency)} → {_show(proposed[name], tenant.currency)}"
        for name in changed
    )
    payload = PolicyRevisionProposal(
        policy_id=policy.id, domain=data.domain, current=current, proposed=proposed, rationale=data.rationale.strip()
    )
    preview = DraftPreview(
        summary=f"Proposal to revise the {data.domain} approval policy: {summary}.",
        changes=changes,
        checks=[
            f"Every named role is in {tenant.name}'s role catalogue",
            f"At least one approver role grants {proposed['approver_scope']}",
            f"Current policy: {policy.description}",
        ],
        warnings=_warnings(current, proposed, data.domain, roles),
    )
    return save_draft(
        ctx, tool_id=TOOL_ID, kind="policy_revision", title=f"Revise the {data.domain} approval policy",
        payload=payload, preview=preview, executes_with=None,
    )


TOOLS: list[Tool] = [
    Tool(
        id=TOOL_ID,
        title="Propose an approval policy revision",
        description=(
            "Draft a proposed change to one of the tenant's approval policies (approver roles and "
            "scope, second-approver threshold and roles, expiry) with a rationale; the preview "
            "compares it with the current Kernel policy. Creates a proposal only: a tenant "
            "administrator applies it by hand in the Kernel, and Lynx never changes policies."
        ),
        layer=Layer.CLUSTER,
        domain="policies",
        input_model=PolicyRevisionInput,
        output_model=DraftOutput,
        handler=draft_policy_revision,
        required_roles=frozenset({"tenant_admin", "finance_manager"}),
        executes_with=None,
        examples=(
            "Propose lowering the payment second-approver threshold to 5,000",
            "Suggest that document requests expire after 24 hours because vendors answer quickly",
        ),
    ),
]
