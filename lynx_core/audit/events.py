"""The audit event types Lynx writes, and the record that carries one.

`AuditLog.append` rejects any type not listed in `EVENT_TYPES`, so a new kind of event has to
be named and described here first (and `docs/audit.md` lists them all).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: Every event type, with the sentence the audit page shows for it.
EVENT_TYPES: dict[str, str] = {
    "run.started": "A person asked Lynx something; the run began.",
    "tool.started": "A tool call passed every check and its handler started.",
    "tool.succeeded": "A tool call finished and its output matched the schema.",
    "tool.failed": "A tool call's handler failed; the error says why.",
    "tool.refused": "A tool call was refused by a rule before it ran.",
    "tenant.isolation_breach": "A request named a record of another tenant (critical alert).",
    "llm.error": "The language model API failed during a run.",
    "llm.fallback": "The run continued on the offline assistant after an LLM failure.",
    "session.signed_in": "A person signed in.",
    "session.signed_out": "A person signed out.",
    "draft.created": "A cluster tool created a draft.",
    "draft.submitted": "A draft was submitted for approval.",
    "draft.cancelled": "A draft was cancelled by its author or a manager.",
    "approval.requested": "An approval request was opened for a draft.",
    "approval.approved": "An approver approved the request.",
    "approval.partially_approved": "The first of two required approvers approved the request.",
    "approval.rejected": "An approver rejected the request, with a reason.",
    "approval.expired": "The request passed its expiry time without a decision.",
    "approval.refused": "An approval decision was refused by a rule.",
    "execution.started": "An approved request started its live change in the Kernel.",
    "execution.succeeded": "The live change was made in the Kernel.",
    "execution.failed": "The live change failed; the request can be retried or cancelled.",
}

#: Event types that the SOP treats as critical alerts.
CRITICAL_EVENT_TYPES = frozenset({"tenant.isolation_breach"})


@dataclass(frozen=True)
class AuditEvent:
    """One event to append; the log adds the sequence number, time and hashes."""

    event_type: str
    tenant_id: str
    actor_id: str
    run_id: str | None = None
    tool_id: str | None = None
    layer: str | None = None
    risk: str | None = None
    subject_id: str | None = None
    input: Any = None
    output: Any = None
    error: str | None = None
    rule: str | None = None
    reason: str | None = None
    alternative: str | None = None
    latency_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """A finished Lynx run: one question and its answer."""

    run_id: str
    tenant_id: str
    user_id: str
    query: str
    response: str
    status: str  # completed, failed or blocked
    provider: str
    model: str
    started_at: dt.datetime
    ended_at: dt.datetime
    tool_calls: int
    error: str | None = None
