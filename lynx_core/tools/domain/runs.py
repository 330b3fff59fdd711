"""Domain tool for the caller's own recent Lynx runs, read from the audit log."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from lynx_core.errors import ToolError
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, limit_field
from lynx_core.tools.registry import Layer, Tool

#: Audit event types that end a tool call, and the outcome each one records.
_CALL_OUTCOMES = {"tool.succeeded": "succeeded", "tool.failed": "failed", "tool.refused": "refused"}
#: Tool calls listed per run; a run rarely makes more than a handful.
MAX_CALLS_PER_RUN = 20


class ToolCallView(BaseModel):
    tool_id: str
    outcome: Literal["succeeded", "failed", "refused"]
    rule: str | None = Field(description="For a refused call: the rule that refused it.")


class RunView(BaseModel):
    run_id: str
    started_at: str
    ended_at: str
    duration_ms: float | None
    status: str = Field(description="completed, failed or blocked.")
    query: str = Field(description="What the caller asked, as typed.")
    provider: str
    model: str
    tool_call_count: int = Field(description="Tool calls the run recorded.")
    tool_calls: list[ToolCallView] = Field(description=f"The run's first {MAX_CALLS_PER_RUN} tool calls, in order.")
    error: str | None


class RecentRunsInput(ToolInput):
    status: Literal["completed", "failed", "blocked"] | None = Field(
        default=None, description="Only runs with this status."
    )
    limit: int = limit_field("runs", default=10, maximum=100)


class RecentRunsOutput(BaseModel):
    tenant_id: str
    user_id: str
    shown: int
    has_more: bool = Field(description="True when older runs exist beyond the ones shown.")
    runs: list[RunView] = Field(description="The caller's runs, newest first.")


def _tool_calls(ctx: ToolContext, run_id: str) -> list[ToolCallView]:
    assert ctx.audit is not None
    events = ctx.audit.list_events(ctx.actor.tenant_id, run_id=run_id, limit=500)
    return [
        ToolCallView(tool_id=event["tool_id"] or "", outcome=_CALL_OUTCOMES[event["event_type"]], rule=event["rule"])
        for event in events
        if event["event_type"] in _CALL_OUTCOMES
    ]


def list_recent_runs(ctx: ToolContext, data: RecentRunsInput) -> RecentRunsOutput:
    if ctx.audit is None:
        raise ToolError("The audit log is not available to this call, so past runs cannot be listed.")
    tenant_id, user_id = ctx.actor.tenant_id, ctx.actor.user_id
    # Reading one row beyond the limit shows whether older runs exist without counting them all.
    rows = ctx.audit.list_runs(tenant_id, user_id=user_id, status=data.status, limit=data.limit + 1)
    runs = []
    for row in rows[: data.limit]:
        calls = _tool_calls(ctx, row["run_id"])
        runs.append(RunView(
            run_id=row["run_id"], started_at=str(row["started_at"]), ended_at=str(row["ended_at"]),
            duration_ms=row["duration_ms"], status=row["status"], query=row["query"],
            provider=row["provider"], model=row["model"], tool_call_count=row["tool_calls"],
            tool_calls=calls[:MAX_CALLS_PER_RUN], error=row["error"],
        ))
    return RecentRunsOutput(
        tenant_id=tenant_id, user_id=user_id, shown=len(runs), has_more=len(rows) > data.limit, runs=runs,
    )


TOOLS = [
    Tool(
        id="lynx.domain.runs.recent",
        title="My recent Lynx runs",
        description=(
            "List the caller's own recent Lynx runs, newest first: when, what they asked, the "
            "status, and which tools each run called with what outcome. Other people's runs are "
            "never included."
        ),
        layer=Layer.DOMAIN,
        domain="lynx",
        input_model=RecentRunsInput,
        output_model=RecentRunsOutput,
        handler=list_recent_runs,
        examples=(
            "What did I ask Lynx recently?",
            "Which of my recent requests failed?",
        ),
    ),
]
