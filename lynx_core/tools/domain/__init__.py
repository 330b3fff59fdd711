"""Domain tools: low risk, read-only, scoped to the caller's tenant."""

from lynx_core.tools.domain import finance

TOOLS = [*finance.TOOLS]
