"""Append-only audit log with a per-tenant hash chain."""

from lynx_core.audit.events import EVENT_TYPES, AuditEvent, RunRecord
from lynx_core.audit.log import AuditLog, VerificationReport

__all__ = ["EVENT_TYPES", "AuditEvent", "AuditLog", "RunRecord", "VerificationReport"]
