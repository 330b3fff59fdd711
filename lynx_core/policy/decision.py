"""Policy decisions as values: allowed, or denied with the rule, the reason and a way forward.

The reason and alternative are what the audit log stores and what the person reads, so they
are written as plain sentences.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str = ""
    #: What would make the call allowed: a role, a scope, an approval.
    needed: str = ""
    #: What the person can do instead: a draft, an approval request, who to ask.
    alternative: str = ""

    @classmethod
    def allow(cls, rule: str) -> "Decision":
        return cls(allowed=True, rule=rule)

    @classmethod
    def deny(cls, rule: str, reason: str, *, needed: str = "", alternative: str = "") -> "Decision":
        return cls(allowed=False, rule=rule, reason=reason, needed=needed, alternative=alternative)

    def explain(self) -> str:
        """Return the refusal as one paragraph for the chat."""
        parts = [f"Refused by rule '{self.rule}': {self.reason}"]
        if self.needed:
            parts.append(f"Needed: {self.needed}")
        if self.alternative:
            parts.append(f"Instead: {self.alternative}")
        return " ".join(parts)


#: Rule names used in decisions; docs/audit.md lists them and a test keeps the two in step.
RULES = {
    "unknown_tool": "Only registered tools can be called.",
    "invalid_input": "A tool's input must match its schema.",
    "input_too_large": "A tool's input must stay under the size limit.",
    "tenant_isolation": "A user sees and touches only their own tenant.",
    "kernel_unavailable": "A call is allowed only when the Kernel can confirm the caller and the records.",
    "user_inactive": "Only active users of the tenant may use Lynx.",
    "role_required": "The tool needs one of its roles.",
    "scope_required": "The tool needs every one of its scopes.",
    "approval_required": "A cell tool runs only from an approved approval request.",
    "self_approval": "Nobody approves their own request.",
    "approver_role_required": "The approver needs the approver role of the tenant's policy.",
    "approver_scope_required": "The approver needs the approver scope of the tenant's policy.",
    "approval_state": "An approval decision needs a pending request.",
    "approval_expired": "Requests past their expiry time cannot be approved.",
    "reason_required": "A rejection needs a reason.",
    "not_found": "The draft or approval request does not exist in the caller's tenant.",
    "not_owner": "Only a draft's author requests its approval; only the requester or an approver cancels.",
    "no_cell_tool": "A proposal without a cell tool is applied by a person, not approved in Lynx.",
}
