"""SQLite schema of Lynx's own state: sessions, drafts, approval requests, executions.

These tables change as work moves through its lifecycle; the audit tables (in
`lynx_core.audit.log`) never do. PostgreSQL gets the same tables from
``supabase/migrations``.
"""

SQLITE_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE IF NOT EXISTS drafts (
    draft_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    execute_tool_id TEXT,
    title TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    preview_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('draft', 'submitted', 'approved', 'rejected', 'cancelled', 'executed')),
    created_by TEXT NOT NULL,
    run_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS drafts_tenant ON drafts (tenant_id, status);

CREATE TABLE IF NOT EXISTS approval_requests (
    request_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    draft_id TEXT NOT NULL REFERENCES drafts (draft_id),
    tool_id TEXT NOT NULL,
    domain TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed', 'cancelled')),
    amount TEXT,
    currency TEXT,
    required_approvals INTEGER NOT NULL,
    policy_json TEXT NOT NULL,
    conversation_excerpt TEXT NOT NULL DEFAULT '',
    payload_hash TEXT NOT NULL,
    round INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_at TEXT,
    executed_at TEXT,
    result_json TEXT,
    error TEXT,
    next_step TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS approval_requests_tenant ON approval_requests (tenant_id, status);
CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_open_draft ON approval_requests (draft_id)
    WHERE status IN ('pending', 'approved', 'executing');

CREATE TABLE IF NOT EXISTS approval_decisions (
    decision_id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES approval_requests (request_id),
    tenant_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    approver_id TEXT NOT NULL,
    approver_roles TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (request_id, round, approver_id)
);

CREATE TABLE IF NOT EXISTS executions (
    request_id TEXT NOT NULL REFERENCES approval_requests (request_id),
    round INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    tool_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('started', 'succeeded', 'failed')),
    result_json TEXT,
    error TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    PRIMARY KEY (request_id, round)
);
"""
