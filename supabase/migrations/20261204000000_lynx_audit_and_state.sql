-- Lynx's audit log and state tables on PostgreSQL (Supabase or any PostgreSQL 14 or later).
--
-- The same tables as the embedded SQLite default: the audit tables come from
-- SQLITE_SCHEMA in lynx_core/audit/log.py and the state tables from SQLITE_STATE_SCHEMA in
-- lynx_core/store/schema.py. Keep the three in step.
--
-- Timestamps are TEXT holding ISO 8601 strings, exactly as Lynx writes them, because each
-- audit row's hash covers the stored text: a timestamptz column would hand back a
-- different string and every chain would fail verification.
--
-- The Supabase CLI (supabase db push) or lynx_core.store.migrate.apply_migrations applies
-- this file. Both may run it against the same database (the CLI records its migrations in
-- supabase_migrations.schema_migrations, Lynx in lynx_schema_migrations), so every
-- statement is safe to run a second time.

-- Audit tables: append-only, one hash chain per tenant and table.

CREATE TABLE IF NOT EXISTS audit_events (
    seq bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    tenant_id text NOT NULL,
    chain_index bigint NOT NULL,
    event_type text NOT NULL,
    actor_id text NOT NULL,
    run_id text,
    tool_id text,
    layer text,
    risk text,
    subject_id text,
    input_json text,
    output_json text,
    error text,
    rule text,
    reason text,
    alternative text,
    latency_ms double precision,
    details_json text,
    created_at text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (tenant_id, chain_index)
);
CREATE INDEX IF NOT EXISTS audit_events_tenant_time ON audit_events (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS audit_events_run ON audit_events (run_id);

CREATE TABLE IF NOT EXISTS lynx_runs (
    seq bigserial PRIMARY KEY,
    run_id text NOT NULL UNIQUE,
    tenant_id text NOT NULL,
    chain_index bigint NOT NULL,
    user_id text NOT NULL,
    query text NOT NULL,
    response text NOT NULL,
    status text NOT NULL CHECK (status IN ('completed', 'failed', 'blocked')),
    provider text NOT NULL,
    model text NOT NULL,
    started_at text NOT NULL,
    ended_at text NOT NULL,
    duration_ms double precision NOT NULL,
    tool_calls integer NOT NULL,
    error text,
    created_at text NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    UNIQUE (tenant_id, chain_index)
);
CREATE INDEX IF NOT EXISTS lynx_runs_tenant_time ON lynx_runs (tenant_id, started_at);

-- Reject every change to an audit row. The row triggers cover UPDATE and DELETE, and the
-- statement triggers cover TRUNCATE, which fires no row triggers. The table owner or a
-- superuser can still drop or disable these triggers; AuditLog.verify then names the
-- first row whose hash no longer matches.
CREATE OR REPLACE FUNCTION lynx_reject_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING HINT = 'Audit rows are never changed or removed; append a new event instead.';
END;
$$;

CREATE OR REPLACE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION lynx_reject_audit_change();
CREATE OR REPLACE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION lynx_reject_audit_change();
CREATE OR REPLACE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION lynx_reject_audit_change();

CREATE OR REPLACE TRIGGER lynx_runs_no_update BEFORE UPDATE ON lynx_runs
    FOR EACH ROW EXECUTE FUNCTION lynx_reject_audit_change();
CREATE OR REPLACE TRIGGER lynx_runs_no_delete BEFORE DELETE ON lynx_runs
    FOR EACH ROW EXECUTE FUNCTION lynx_reject_audit_change();
CREATE OR REPLACE TRIGGER lynx_runs_no_truncate BEFORE TRUNCATE ON lynx_runs
    FOR EACH STATEMENT EXECUTE FUNCTION lynx_reject_audit_change();

-- State tables: sessions, drafts, approval requests, decisions and executions. Their rows
-- change as work moves through its lifecycle, always by conditional UPDATEs and unique
-- rows, which is what makes an approved action run exactly once.

CREATE TABLE IF NOT EXISTS sessions (
    token_hash text PRIMARY KEY,
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    created_at text NOT NULL,
    expires_at text NOT NULL,
    revoked_at text
);

CREATE TABLE IF NOT EXISTS drafts (
    draft_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    kind text NOT NULL,
    tool_id text NOT NULL,
    execute_tool_id text,
    title text NOT NULL,
    payload_json text NOT NULL,
    preview_json text NOT NULL,
    status text NOT NULL CHECK (status IN
        ('draft', 'submitted', 'approved', 'rejected', 'cancelled', 'executed')),
    created_by text NOT NULL,
    run_id text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS drafts_tenant ON drafts (tenant_id, status);

CREATE TABLE IF NOT EXISTS approval_requests (
    request_id text PRIMARY KEY,
    tenant_id text NOT NULL,
    draft_id text NOT NULL REFERENCES drafts (draft_id),
    tool_id text NOT NULL,
    domain text NOT NULL,
    requested_by text NOT NULL,
    status text NOT NULL CHECK (status IN
        ('pending', 'approved', 'rejected', 'expired', 'executing', 'executed', 'failed', 'cancelled')),
    amount text,
    currency text,
    required_approvals integer NOT NULL,
    policy_json text NOT NULL,
    conversation_excerpt text NOT NULL DEFAULT '',
    payload_hash text NOT NULL,
    round integer NOT NULL DEFAULT 1,
    created_at text NOT NULL,
    expires_at text NOT NULL,
    decided_at text,
    executed_at text,
    result_json text,
    error text,
    next_step text,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS approval_requests_tenant ON approval_requests (tenant_id, status);
-- At most one open request per draft.
CREATE UNIQUE INDEX IF NOT EXISTS approval_requests_open_draft ON approval_requests (draft_id)
    WHERE status IN ('pending', 'approved', 'executing');

CREATE TABLE IF NOT EXISTS approval_decisions (
    decision_id text PRIMARY KEY,
    request_id text NOT NULL REFERENCES approval_requests (request_id),
    tenant_id text NOT NULL,
    round integer NOT NULL,
    approver_id text NOT NULL,
    approver_roles text NOT NULL,
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason text NOT NULL DEFAULT '',
    created_at text NOT NULL,
    UNIQUE (request_id, round, approver_id)
);

CREATE TABLE IF NOT EXISTS executions (
    request_id text NOT NULL REFERENCES approval_requests (request_id),
    round integer NOT NULL,
    tenant_id text NOT NULL,
    tool_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('started', 'succeeded', 'failed')),
    result_json text,
    error text,
    started_at text NOT NULL,
    ended_at text,
    PRIMARY KEY (request_id, round)
);

-- Supabase serves every table of the public schema through its Data API, where anyone
-- with the project's public anon key can read and write a table that has row level
-- security off (Supabase database linter, rule 0013 rls_disabled_in_public). With row
-- level security on and no policy, those API roles get no rows, so the audit log and the
-- approvals change only through Lynx. The tables' owner and superusers bypass row level
-- security: on Supabase the migrations run as the postgres role, the role of the default
-- connection string. An application role that owns none of these tables needs BYPASSRLS
-- or policies of its own, or it sees empty tables and every insert fails.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE lynx_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE drafts ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE approval_decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE executions ENABLE ROW LEVEL SECURITY;
