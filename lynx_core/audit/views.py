"""What a signed-in person may read from the audit log, with the audit page's filters.

Holders of the ``audit:read`` scope can read every run and event of their tenant. Everyone
else can read their own, plus the decisions and executions of their own approval requests
after a run. No one sees another tenant's rows: every query is filtered by tenant id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any

from lynx_core.actor import Actor
from lynx_core.audit.log import AuditLog, VerificationReport

AUDIT_SCOPE = "audit:read"


@dataclass(frozen=True)
class AuditFilters:
    user_id: str | None = None
    tool_id: str | None = None
    status: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


#: Events by other people that a requester without audit:read can read after their own run.
REQUESTER_VISIBLE_EVENTS = frozenset({
    "approval.approved", "approval.partially_approved", "approval.rejected", "approval.expired",
    "draft.cancelled", "execution.started", "execution.succeeded", "execution.failed",
})


class AuditQueries:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    @staticmethod
    def sees_whole_tenant(actor: Actor) -> bool:
        return AUDIT_SCOPE in actor.scopes

    def _user_filter(self, actor: Actor, requested: str | None) -> str | None:
        return requested if self.sees_whole_tenant(actor) else actor.user_id

    def runs(self, actor: Actor, filters: AuditFilters, limit: int = 500) -> list[dict[str, Any]]:
        return self.audit.list_runs(
            actor.tenant_id, user_id=self._user_filter(actor, filters.user_id), status=filters.status,
            tool_id=filters.tool_id, since=filters.since, until=filters.until, limit=limit,
        )

    def events(self, actor: Actor, filters: AuditFilters, limit: int = 1000) -> list[dict[str, Any]]:
        return self.audit.list_events(
            actor.tenant_id, actor_id=self._user_filter(actor, filters.user_id), tool_id=filters.tool_id,
            since=filters.since, until=filters.until, limit=limit,
        )

    def run_detail(self, actor: Actor, run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Return a run and its events, or (None, []) when the actor may not see it."""
        run = self.audit.get_run(actor.tenant_id, run_id)
        events = self.audit.list_events(actor.tenant_id, run_id=run_id)
        if run is not None:
            owner = run["user_id"]
        elif events:
            owner = events[0]["actor_id"]
        else:
            owner = None
        if owner is None or (not self.sees_whole_tenant(actor) and owner != actor.user_id):
            return None, []
        return run, events

    def split_run_events(
        self, actor: Actor, run: dict[str, Any], run_events: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Split a run's events into those up to its end and those after it, in time order.

        After the run come the decisions, executions and expiry of the approval requests it
        submitted. Decisions carry no run id, so they are found through the request ids of the
        run's approval.requested events. An execution's tool calls carry the drafting run's id
        but happen later, so they move to the second list by time.
        """
        ended = run.get("ended_at") or ""
        during = [e for e in run_events if not ended or e["created_at"] <= ended]
        requested = [e for e in run_events if e["event_type"] == "approval.requested" and e["subject_id"]]
        # A request's own events have its id as subject; a cancellation has the draft's id.
        draft_ids = {json.loads(e["details_json"] or "{}").get("draft_id") for e in requested}
        subject_ids = sorted({e["subject_id"] for e in requested} | {d for d in draft_ids if d})
        seen = {e["event_id"] for e in during}
        after = {e["event_id"]: e for e in run_events if e["event_id"] not in seen}
        for subject_id in subject_ids:
            for event in self.audit.list_events(actor.tenant_id, subject_id=subject_id):
                if event["event_id"] not in seen:
                    after[event["event_id"]] = event
        if not self.sees_whole_tenant(actor):
            # Without audit:read a requester gets the outcome of their requests, not other people's
            # refused attempts.
            after = {key: e for key, e in after.items()
                     if e["actor_id"] == actor.user_id or e["event_type"] in REQUESTER_VISIBLE_EVENTS}
        return during, sorted(after.values(), key=lambda event: event["chain_index"])

    def chain_status(self, actor: Actor) -> VerificationReport:
        return self.audit.verify(actor.tenant_id)


def rows_to_csv(rows: list[dict[str, Any]]) -> bytes:
    """Return rows as CSV (UTF-8 with a header), the columns of the first row in order."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
