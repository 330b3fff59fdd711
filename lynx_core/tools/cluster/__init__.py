"""Cluster tools: medium risk, they create or update drafts and never touch live records."""

from lynx_core.tools.cluster import design, documents, payments, policies, portals, workflows

TOOLS = [
    *payments.TOOLS,
    *documents.TOOLS,
    *workflows.TOOLS,
    *portals.TOOLS,
    *policies.TOOLS,
    *design.TOOLS,
]
