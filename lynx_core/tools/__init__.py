"""Tool registry and the domain / cluster / cell tools."""
