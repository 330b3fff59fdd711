"""Typed identifiers shared by every layer.

They are plain strings at run time; the `NewType` wrappers let a type checker catch a user id
passed where a tenant id belongs.
"""

from __future__ import annotations

import uuid
from typing import NewType

TenantId = NewType("TenantId", str)
UserId = NewType("UserId", str)
RunId = NewType("RunId", str)
ToolId = NewType("ToolId", str)
DraftId = NewType("DraftId", str)
ApprovalRequestId = NewType("ApprovalRequestId", str)


def new_id(prefix: str) -> str:
    """Return a random identifier such as ``run_3f2a9c1e4b7d4e0f``."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"
