"""The per-call context a tool handler receives besides its input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lynx_core.actor import Actor

if TYPE_CHECKING:
    from lynx_core.audit.log import AuditLog
    from lynx_core.kernel.base import Kernel
    from lynx_core.store.drafts import DraftStore
    from lynx_core.tools.registry import ToolRegistry


@dataclass(frozen=True)
class ToolContext:
    """Per-call context; handlers read the Kernel and the draft store through it only."""

    actor: Actor
    kernel: "Kernel"
    drafts: "DraftStore"
    run_id: str | None
    call_id: str
    #: For cell tools: the approved request being executed, and the key that makes the
    #: Kernel write idempotent. None for every other layer.
    approval_request_id: str | None = None
    idempotency_key: str | None = None
    #: Read access to the audit log, for tools that report on past runs; tools never write it.
    audit: "AuditLog | None" = None
    #: The registry, for tools that explain which tools the caller may use.
    registry: "ToolRegistry | None" = None
