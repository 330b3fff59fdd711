"""Tenant guard and role/scope checks, each returning a `Decision`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lynx_core.actor import Actor
from lynx_core.kernel.base import Kernel
from lynx_core.policy.decision import Decision
from lynx_core.tools.registry import Tool


def check_tenant(*, actor: Actor, tool: Tool, tool_input: BaseModel, kernel: Kernel) -> tuple[Decision, list[dict[str, str]]]:
    """Check that every record the input names belongs to the actor's tenant.

    Returns the decision and, when denied, the foreign records found (kind and id only: the
    other tenant's id is never shown to the caller).
    """
    foreign: list[dict[str, str]] = []
    for field_name, kind in tool.record_fields().items():
        value: Any = getattr(tool_input, field_name, None)
        ids = value if isinstance(value, (list, tuple)) else [value]
        for record_id in ids:
            if not record_id:
                continue
            owner = kernel.owner_of(kind, str(record_id))
            if owner is not None and owner != actor.tenant_id:
                foreign.append({"field": field_name, "kind": kind, "record_id": str(record_id), "owner": owner})
    if not foreign:
        return Decision.allow("tenant_isolation"), []
    first = foreign[0]
    return (
        Decision.deny(
            "tenant_isolation",
            f"The {first['kind']} {first['record_id']!r} in field '{first['field']}' does not belong "
            "to your tenant. Lynx only reads and changes records of your own tenant; this attempt "
            "was logged and reported to the operations team.",
            needed="a record id from your own tenant",
            alternative=f"List your tenant's {first['kind']}s and use one of their ids.",
        ),
        foreign,
    )


def check_roles_and_scopes(*, actor: Actor, tool: Tool, active: bool = True) -> Decision:
    """Check the actor (as just read from the Kernel) against the tool's roles and scopes."""
    if not active:
        return Decision.deny(
            "user_inactive",
            "Your account is disabled in the Kernel.",
            alternative="Ask your tenant administrator to re-enable it.",
        )
    if not actor.has_any_role(tool.required_roles):
        roles = " or ".join(sorted(tool.required_roles))
        return Decision.deny(
            "role_required",
            f"{tool.id} needs the role {roles}; you have {', '.join(sorted(actor.roles)) or 'no role'}.",
            needed=f"role {roles}",
            alternative=f"Ask a user with the role {roles}, or ask your tenant administrator for the role.",
        )
    missing = sorted(tool.required_scopes - actor.scopes)
    if missing:
        return Decision.deny(
            "scope_required",
            f"{tool.id} needs the scope {', '.join(missing)}, which your account does not have.",
            needed=f"scope {', '.join(missing)}",
            alternative="Ask your tenant administrator to grant the scope, or ask a colleague who has it.",
        )
    return Decision.allow("role_and_scope")
