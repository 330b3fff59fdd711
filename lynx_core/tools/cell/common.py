"""Helpers shared by the cell tools."""

from __future__ import annotations

from lynx_core.errors import KernelValidationError
from lynx_core.tools.context import ToolContext


def require_idempotency_key(ctx: ToolContext, tool_id: str) -> str:
    """Return the call's idempotency key, or raise when the call has none.

    The executor sets the key only when it runs a cell tool from an approved request, and the
    Kernel needs it to write at most once, so a call without one is never sent to the Kernel.
    """
    if not ctx.idempotency_key:
        raise KernelValidationError(
            f"{tool_id} has no idempotency key, so it cannot write to the Kernel safely.",
            hint="Run it through an approved approval request; the request id becomes the key.",
        )
    return ctx.idempotency_key
