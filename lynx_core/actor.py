"""The signed-in person on whose behalf Lynx acts."""

from __future__ import annotations

from dataclasses import dataclass

from lynx_core.ids import TenantId, UserId


@dataclass(frozen=True)
class Actor:
    """A user of one tenant, with the roles and scopes the Kernel granted at the last check."""

    user_id: UserId
    tenant_id: TenantId
    email: str
    display_name: str
    roles: frozenset[str]
    scopes: frozenset[str]

    @classmethod
    def from_user(cls, user) -> "Actor":
        """Build an actor from a Kernel `User` record."""
        return cls(
            user_id=UserId(user.id),
            tenant_id=TenantId(user.tenant_id),
            email=user.email,
            display_name=user.display_name,
            roles=frozenset(user.roles),
            scopes=frozenset(user.scopes),
        )

    def has_any_role(self, roles: frozenset[str]) -> bool:
        return not roles or bool(self.roles & roles)
