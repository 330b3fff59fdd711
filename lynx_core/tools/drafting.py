"""Drafting output shared by every cluster tool: a saved draft and a preview a person can read.

A draft's payload is exactly the input of the cell tool that would carry it out, so what a
manager approves is what runs. Drafts without a cell tool (policy revisions, for example)
are proposals that a person applies by hand in the Kernel's administration.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from lynx_core.tools.context import ToolContext


class Change(BaseModel):
    """One line of "what will change in the Kernel"."""

    target: str
    before: str | None = None
    after: str


class DraftPreview(BaseModel):
    summary: str
    changes: list[Change] = Field(default_factory=list)
    #: Checks against the Kernel that passed, e.g. "Vendor Helios Steel Works is active".
    checks: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    amount: str | None = None
    currency: str | None = None
    vendor_id: str | None = None


class DraftOutput(BaseModel):
    draft_id: str
    kind: str
    title: str
    status: str
    preview: DraftPreview
    #: The cell tool that carries the draft out after approval, or None for a manual proposal.
    executes_with: str | None
    next_step: str


def save_draft(
    ctx: ToolContext,
    *,
    tool_id: str,
    kind: str,
    title: str,
    payload: BaseModel | dict[str, Any],
    preview: DraftPreview,
    executes_with: str | None,
) -> DraftOutput:
    """Store a new draft owned by the caller and return its output record."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    draft = ctx.drafts.create_draft(
        tenant_id=ctx.actor.tenant_id,
        kind=kind,
        tool_id=tool_id,
        execute_tool_id=executes_with,
        title=title,
        payload=data,
        preview=preview.model_dump(mode="json"),
        created_by=ctx.actor.user_id,
        run_id=ctx.run_id,
    )
    if executes_with:
        next_step = (
            "This is a draft: nothing has changed in the Kernel. Use 'Request approval' to send it "
            "to a manager; it is carried out only after their approval."
        )
    else:
        next_step = (
            "This is a proposal for a person to apply in the Kernel's administration; Lynx has no "
            "tool that applies it."
        )
    return DraftOutput(
        draft_id=draft.draft_id, kind=kind, title=title, status=draft.status, preview=preview,
        executes_with=executes_with, next_step=next_step,
    )
