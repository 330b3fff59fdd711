"""Domain tools for identity and access: the caller's own permissions, and the tenant's users."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.errors import ToolError
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, limit_field
from lynx_core.tools.registry import TOOL_ID_PATTERN, Layer, Tool

# --- The caller's permissions ------------------------------------------------------------------


class RoleView(BaseModel):
    name: str
    description: str
    scopes: list[str]


class ToolAccess(BaseModel):
    tool_id: str
    title: str
    layer: str
    risk: str
    runs_only_after_approval: bool = Field(
        description="True for high-risk (cell) tools: they run only from an approved approval request."
    )


class ToolDenial(ToolAccess):
    needs_one_of_roles: list[str] = Field(description="Roles the caller lacks; any one of them is enough.")
    missing_scopes: list[str] = Field(description="Scopes the caller lacks; all of them are needed.")
    explanation: str


class PermissionsInput(ToolInput):
    layer: Literal["domain", "cluster", "cell"] | None = Field(default=None, description="Only tools of this layer.")
    tool_id: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=TOOL_ID_PATTERN.pattern,
        description="Explain only this tool, e.g. finance.domain.health.summarize.",
    )
    limit: int = limit_field("tools per list")


class PermissionsOutput(BaseModel):
    tenant_id: str
    user_id: str
    display_name: str
    active: bool
    roles: list[RoleView] = Field(description="The caller's roles, read from the Kernel just now.")
    scopes: list[str]
    allowed_count: int
    allowed_tools: list[ToolAccess]
    denied_count: int
    denied_tools: list[ToolDenial]


def _access(tool: Tool) -> dict:
    return {
        "tool_id": tool.id, "title": tool.title, "layer": tool.layer.value, "risk": tool.risk.value,
        "runs_only_after_approval": tool.layer is Layer.CELL,
    }


def _denial(tool: Tool, roles: set[str], scopes: set[str]) -> ToolDenial | None:
    lacks_role = bool(tool.required_roles) and not (roles & tool.required_roles)
    missing_scopes = sorted(tool.required_scopes - scopes)
    if not lacks_role and not missing_scopes:
        return None
    needs = []
    if lacks_role:
        needs.append(f"one of the roles {', '.join(sorted(tool.required_roles))}")
    if missing_scopes:
        needs.append(f"the scope {', '.join(missing_scopes)}")
    return ToolDenial(
        **_access(tool),
        needs_one_of_roles=sorted(tool.required_roles) if lacks_role else [],
        missing_scopes=missing_scopes,
        explanation=f"You need {' and '.join(needs)}.",
    )


def explain_permissions(ctx: ToolContext, data: PermissionsInput) -> PermissionsOutput:
    if ctx.registry is None:
        raise ToolError("The tool registry is not available to this call, so permissions cannot be explained.")
    tenant_id = ctx.actor.tenant_id
    # Read fresh: the roles in the session may be older than the Kernel's.
    user = ctx.kernel.get_user(tenant_id, ctx.actor.user_id)
    roles, scopes = set(user.roles), set(user.scopes)
    role_views = [
        RoleView(name=r.name, description=r.description, scopes=list(r.scopes))
        for r in ctx.kernel.list_roles(tenant_id) if r.name in roles
    ]

    tools = [ctx.registry.get(data.tool_id)] if data.tool_id else list(ctx.registry)
    if data.layer is not None:
        tools = [t for t in tools if t.layer.value == data.layer]
    allowed: list[ToolAccess] = []
    denied: list[ToolDenial] = []
    for tool in tools:
        denial = _denial(tool, roles, scopes)
        if denial is None:
            allowed.append(ToolAccess(**_access(tool)))
        else:
            denied.append(denial)
    return PermissionsOutput(
        tenant_id=tenant_id,
        user_id=user.id,
        display_name=user.display_name,
        active=user.active,
        roles=role_views,
        scopes=sorted(scopes),
        allowed_count=len(allowed),
        allowed_tools=allowed[: data.limit],
        denied_count=len(denied),
        denied_tools=denied[: data.limit],
    )


# --- The tenant's users ------------------------------------------------------------------------


class UserView(BaseModel):
    user_id: str
    email: str
    display_name: str
    roles: list[str]
    scopes: list[str]
    active: bool


class UsersInput(ToolInput):
    role: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
        description="Only users with this role, e.g. finance_manager.",
    )
    include_inactive: bool = Field(default=True, description="Also list disabled accounts.")
    limit: int = limit_field("users")


class UsersOutput(BaseModel):
    tenant_id: str
    total_count: int
    shown: int
    users: list[UserView] = Field(description="Users sorted by id.")


def list_users(ctx: ToolContext, data: UsersInput) -> UsersOutput:
    users = [
        u for u in ctx.kernel.list_users(ctx.actor.tenant_id)
        if (data.role is None or data.role in u.roles) and (data.include_inactive or u.active)
    ]
    shown = users[: data.limit]
    return UsersOutput(
        tenant_id=ctx.actor.tenant_id,
        total_count=len(users),
        shown=len(shown),
        users=[
            UserView(
                user_id=u.id, email=u.email, display_name=u.display_name, roles=list(u.roles),
                scopes=sorted(u.scopes), active=u.active,
            )
            for u in shown
        ],
    )


TOOLS = [
    Tool(
        id="iam.domain.permissions.explain",
        title="My permissions",
        description=(
            "Explain the caller's own roles and scopes, read fresh from the Kernel, which tools "
            "they may use, and for every other tool which role or scope they lack. It explains "
            "only: every call is still checked when it runs. High-risk tools also need an "
            "approved request."
        ),
        layer=Layer.DOMAIN,
        domain="iam",
        input_model=PermissionsInput,
        output_model=PermissionsOutput,
        handler=explain_permissions,
        examples=(
            "What am I allowed to do?",
            "Why can't I run the audit risk scan?",
            "Which roles and scopes do I have?",
        ),
    ),
    Tool(
        id="iam.domain.users.list",
        title="Tenant users",
        description=(
            "List the tenant's users with their roles, scopes and whether the account is active, "
            "optionally only those with one role. Tenant administrators only."
        ),
        layer=Layer.DOMAIN,
        domain="iam",
        input_model=UsersInput,
        output_model=UsersOutput,
        handler=list_users,
        required_roles=frozenset({"tenant_admin"}),
        required_scopes=frozenset({"users:read"}),
        examples=(
            "Who are the users of our tenant?",
            "Who can approve payments?",
        ),
    ),
]
