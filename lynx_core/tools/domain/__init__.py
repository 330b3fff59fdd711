"""Domain tools: low risk, read-only, scoped to the caller's tenant."""

from lynx_core.tools.domain import (
    design,
    documents,
    finance,
    iam,
    policies,
    portals,
    risk,
    runs,
    tenant,
    vendors,
    vpm,
    workflows,
)

TOOLS = [
    *finance.TOOLS,
    *vpm.TOOLS,
    *risk.TOOLS,
    *vendors.TOOLS,
    *documents.TOOLS,
    *workflows.TOOLS,
    *policies.TOOLS,
    *tenant.TOOLS,
    *design.TOOLS,
    *iam.TOOLS,
    *runs.TOOLS,
    *portals.TOOLS,
]
