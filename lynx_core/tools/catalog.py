"""Build the registry of every tool Lynx ships."""

from __future__ import annotations

from lynx_core.tools.registry import ToolRegistry


def build_registry() -> ToolRegistry:
    from lynx_core.tools.cell import TOOLS as CELL_TOOLS
    from lynx_core.tools.cluster import TOOLS as CLUSTER_TOOLS
    from lynx_core.tools.domain import TOOLS as DOMAIN_TOOLS

    return ToolRegistry([*DOMAIN_TOOLS, *CLUSTER_TOOLS, *CELL_TOOLS])
