"""Cell tools: high risk, narrow live changes in the Kernel, run only from an approved request."""

from lynx_core.tools.cell import documents, payments, portals, workflows

TOOLS = [*payments.TOOLS, *documents.TOOLS, *workflows.TOOLS, *portals.TOOLS]
