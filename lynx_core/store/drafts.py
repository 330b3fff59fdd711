"""Storage of drafts, approval requests, approval decisions and executions.

This module only reads and writes rows. Who may move a record from one state to another, and
the audit events for each move, belong to `lynx_core.policy.approvals`. Every state change
here is a conditional UPDATE (``WHERE status = <expected>``), so of two concurrent callers
exactly one wins and the other gets zero changed rows.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from lynx_core.ids import new_id
from lynx_core.store.db import Database


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


@dataclass(frozen=True)
class Draft:
    draft_id: str
    tenant_id: str
    kind: str
    tool_id: str
    execute_tool_id: str | None
    title: str
    payload: dict[str, Any]
    preview: dict[str, Any]
    status: str
    created_by: str
    run_id: str | None
    created_at: str
    updated_at: str
    version: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Draft":
        data = dict(row)
        data["payload"] = json.loads(data.pop("payload_json"))
        data["preview"] = json.loads(data.pop("preview_json"))
        return cls(**data)


@dataclass(frozen=True)
class ApprovalRequest:
    request_id: str
    tenant_id: str
    draft_id: str
    tool_id: str
    domain: str
    requested_by: str
    status: str
    amount: str | None
    currency: str | None
    required_approvals: int
    policy: dict[str, Any]
    conversation_excerpt: str
    payload_hash: str
    round: int
    created_at: str
    expires_at: str
    decided_at: str | None
    executed_at: str | None
    result: Any
    error: str | None
    next_step: str | None
    version: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "ApprovalRequest":
        data = dict(row)
        data["policy"] = json.loads(data.pop("policy_json"))
        result_json = data.pop("result_json")
        data["result"] = json.loads(result_json) if result_json else None
        return cls(**data)

    @property
    def expires(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.expires_at)


class DraftStore:
    """Rows of drafts and approval requests in Lynx's state database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # Drafts.

    def create_draft(
        self,
        *,
        tenant_id: str,
        kind: str,
        tool_id: str,
        execute_tool_id: str | None,
        title: str,
        payload: dict[str, Any],
        preview: dict[str, Any],
        created_by: str,
        run_id: str | None,
    ) -> Draft:
        draft_id = new_id("drf")
        now = _now()
        self.db.execute(
            "INSERT INTO drafts (draft_id, tenant_id, kind, tool_id, execute_tool_id, title, "
            "payload_json, preview_json, status, created_by, run_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, ?)",
            (draft_id, tenant_id, kind, tool_id, execute_tool_id, title,
             json.dumps(payload, default=str), json.dumps(preview, default=str),
             created_by, run_id, now, now),
        )
        draft = self.get_draft(tenant_id, draft_id)
        assert draft is not None
        return draft

    def update_draft(
        self, tenant_id: str, draft_id: str, *, title: str, payload: dict[str, Any], preview: dict[str, Any]
    ) -> bool:
        """Replace a draft's content; only drafts not yet submitted can change."""
        changed = self.db.execute(
            "UPDATE drafts SET title = ?, payload_json = ?, preview_json = ?, updated_at = ?, "
            "version = version + 1 WHERE tenant_id = ? AND draft_id = ? AND status = 'draft'",
            (title, json.dumps(payload, default=str), json.dumps(preview, default=str), _now(),
             tenant_id, draft_id),
        )
        return changed == 1

    def get_draft(self, tenant_id: str, draft_id: str) -> Draft | None:
        row = self.db.query_one(
            "SELECT * FROM drafts WHERE tenant_id = ? AND draft_id = ?", (tenant_id, draft_id)
        )
        return Draft.from_row(row) if row else None

    def list_drafts(self, tenant_id: str, *, created_by: str | None = None, limit: int = 200) -> list[Draft]:
        sql = "SELECT * FROM drafts WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if created_by:
            sql += " AND created_by = ?"
            params.append(created_by)
        sql += " ORDER BY created_at DESC LIMIT ?"
        params.append(limit)
        return [Draft.from_row(row) for row in self.db.query(sql, params)]

    def move_draft(self, tenant_id: str, draft_id: str, *, from_status: tuple[str, ...], to_status: str) -> bool:
        marks = ", ".join("?" for _ in from_status)
        changed = self.db.execute(
            f"UPDATE drafts SET status = ?, updated_at = ?, version = version + 1 "
            f"WHERE tenant_id = ? AND draft_id = ? AND status IN ({marks})",
            (to_status, _now(), tenant_id, draft_id, *from_status),
        )
        return changed == 1

    # Approval requests.

    def create_request(
        self,
        *,
        tenant_id: str,
        draft_id: str,
        tool_id: str,
        domain: str,
        requested_by: str,
        amount: str | None,
        currency: str | None,
        required_approvals: int,
        policy: dict[str, Any],
        conversation_excerpt: str,
        payload_hash: str,
        expires_at: dt.datetime,
    ) -> ApprovalRequest:
        request_id = new_id("apr")
        self.db.execute(
            "INSERT INTO approval_requests (request_id, tenant_id, draft_id, tool_id, domain, "
            "requested_by, status, amount, currency, required_approvals, policy_json, "
            "conversation_excerpt, payload_hash, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
            (request_id, tenant_id, draft_id, tool_id, domain, requested_by, amount, currency,
             required_approvals, json.dumps(policy, default=str), conversation_excerpt,
             payload_hash, _now(), expires_at.isoformat()),
        )
        request = self.get_request(tenant_id, request_id)
        assert request is not None
        return request

    def get_request(self, tenant_id: str, request_id: str) -> ApprovalRequest | None:
        row = self.db.query_one(
            "SELECT * FROM approval_requests WHERE tenant_id = ? AND request_id = ?",
            (tenant_id, request_id),
        )
        return ApprovalRequest.from_row(row) if row else None

    def find_request_tenant(self, request_id: str) -> str | None:
        row = self.db.query_one("SELECT tenant_id FROM approval_requests WHERE request_id = ?", (request_id,))
        return row["tenant_id"] if row else None

    def list_requests(
        self,
        tenant_id: str,
        *,
        statuses: tuple[str, ...] | None = None,
        requested_by: str | None = None,
        draft_id: str | None = None,
        limit: int = 500,
    ) -> list[ApprovalRequest]:
        sql = "SELECT * FROM approval_requests WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            params.extend(statuses)
        if requested_by:
            sql += " AND requested_by = ?"
            params.append(requested_by)
        if draft_id:
            sql += " AND draft_id = ?"
            params.append(draft_id)
        sql += " ORDER BY created_at DESC LIMIT ?"
        params.append(limit)
        return [ApprovalRequest.from_row(row) for row in self.db.query(sql, params)]

    def move_request(
        self,
        tenant_id: str,
        request_id: str,
        *,
        from_status: tuple[str, ...],
        to_status: str,
        expected_round: int | None = None,
        **fields: Any,
    ) -> bool:
        """Change a request's status if it is in one of ``from_status`` (and, if given, in
        ``expected_round``); return whether it did."""
        assignments = ["status = ?", "version = version + 1"]
        values: list[Any] = [to_status]
        for name, value in fields.items():
            if name not in {"decided_at", "executed_at", "result_json", "error", "next_step", "round", "expires_at"}:
                raise ValueError(f"Field {name!r} cannot be set on an approval request.")
            assignments.append(f"{name} = ?")
            values.append(value)
        marks = ", ".join("?" for _ in from_status)
        sql = (f"UPDATE approval_requests SET {', '.join(assignments)} "
               f"WHERE tenant_id = ? AND request_id = ? AND status IN ({marks})")
        params: list[Any] = [*values, tenant_id, request_id, *from_status]
        if expected_round is not None:
            sql += " AND round = ?"
            params.append(expected_round)
        return self.db.execute(sql, params) == 1

    # Decisions.

    def add_decision(
        self,
        *,
        tenant_id: str,
        request_id: str,
        round_number: int,
        approver_id: str,
        approver_roles: list[str],
        decision: str,
        reason: str,
    ) -> bool:
        """Record one approver's decision; False when that approver already decided this round."""
        from lynx_core.store.db import IntegrityConflict

        try:
            self.db.execute(
                "INSERT INTO approval_decisions (decision_id, request_id, tenant_id, round, "
                "approver_id, approver_roles, decision, reason, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new_id("dec"), request_id, tenant_id, round_number, approver_id,
                 json.dumps(sorted(approver_roles)), decision, reason, _now()),
            )
        except IntegrityConflict:
            return False
        return True

    def list_decisions(self, tenant_id: str, request_id: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT * FROM approval_decisions WHERE tenant_id = ? AND request_id = ? ORDER BY created_at",
            (tenant_id, request_id),
        )
        for row in rows:
            row["approver_roles"] = json.loads(row["approver_roles"])
        return rows

    def list_tenant_decisions(self, tenant_id: str, limit: int = 200) -> list[dict[str, Any]]:
        return self.db.query(
            "SELECT d.*, r.tool_id, r.amount, r.currency, r.requested_by, r.status AS request_status "
            "FROM approval_decisions d JOIN approval_requests r ON r.request_id = d.request_id "
            "WHERE d.tenant_id = ? ORDER BY d.created_at DESC LIMIT ?",
            (tenant_id, limit),
        )

    # Executions.

    def start_execution(self, *, tenant_id: str, request_id: str, round_number: int, tool_id: str) -> bool:
        """Claim the execution of one approval round; False if it was already claimed."""
        from lynx_core.store.db import IntegrityConflict

        try:
            self.db.execute(
                "INSERT INTO executions (request_id, round, tenant_id, tool_id, status, started_at) "
                "VALUES (?, ?, ?, ?, 'started', ?)",
                (request_id, round_number, tenant_id, tool_id, _now()),
            )
        except IntegrityConflict:
            return False
        return True

    def finish_execution(
        self, *, request_id: str, round_number: int, status: str, result: Any = None, error: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE executions SET status = ?, result_json = ?, error = ?, ended_at = ? "
            "WHERE request_id = ? AND round = ? AND status = 'started'",
            (status, json.dumps(result, default=str) if result is not None else None, error, _now(),
             request_id, round_number),
        )

    def get_execution(self, request_id: str, round_number: int) -> dict[str, Any] | None:
        return self.db.query_one(
            "SELECT * FROM executions WHERE request_id = ? AND round = ?", (request_id, round_number)
        )
