"""Cell tool that publishes an approved workflow, retiring the one it replaces."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from lynx_core.kernel.models import WorkflowStep
from lynx_core.tools.cell.common import require_idempotency_key
from lynx_core.tools.context import ToolContext
from lynx_core.tools.registry import Layer, RecordRef, Tool

TOOL_ID = "workflow.cell.workflow.publish"

MAX_STEPS = 30
#: Upper bound for step durations and SLAs: one year in hours.
MAX_HOURS = 8760.0


class WorkflowStepInput(BaseModel):
    """One step of the workflow to publish, in the Kernel's `WorkflowStep` shape."""

    order: int = Field(ge=1, le=MAX_STEPS, description="Position of the step, counting from 1.")
    name: str = Field(min_length=1, max_length=120)
    role: str = Field(min_length=1, max_length=64, description="A role of the tenant's role catalogue.")
    avg_hours: float = Field(ge=0, le=MAX_HOURS, description="Expected duration of the step in hours.")
    p95_hours: float = Field(ge=0, le=MAX_HOURS, description="95th-percentile duration of the step in hours.")
    manual: bool = Field(default=False, description="True for a paper or out-of-band step.")
    duplicates_step: None = Field(
        default=None, description="Always null: a published workflow has no step that repeats another."
    )

    @model_validator(mode="after")
    def _check_hours(self) -> "WorkflowStepInput":
        if self.p95_hours < self.avg_hours:
            raise ValueError(f"step {self.order}: p95_hours must be at least avg_hours")
        return self


class WorkflowPublishInput(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    domain: str = Field(min_length=1, max_length=64, description="Business area, e.g. procurement.")
    steps: list[WorkflowStepInput] = Field(min_length=1, max_length=MAX_STEPS)
    sla_hours: float = Field(gt=0, le=MAX_HOURS, description="Target end-to-end duration in hours.")
    replaces_workflow_id: Annotated[str | None, RecordRef("workflow")] = Field(
        default=None, description="Id of the workflow this one replaces; it is retired on publishing."
    )

    @model_validator(mode="after")
    def _check_orders(self) -> "WorkflowPublishInput":
        orders = [step.order for step in self.steps]
        if orders != list(range(1, len(orders) + 1)):
            raise ValueError(f"step orders must be 1, 2, 3 and so on in list order, not {orders}")
        return self


class WorkflowPublishOutput(BaseModel):
    workflow_id: str
    name: str
    domain: str
    status: str
    version: int
    step_count: int
    sla_hours: float
    replaced_workflow_id: str | None


def publish_workflow(ctx: ToolContext, data: WorkflowPublishInput) -> WorkflowPublishOutput:
    """Publish the workflow; the Kernel re-checks every step's role against the catalogue."""
    idempotency_key = require_idempotency_key(ctx, TOOL_ID)
    workflow = ctx.kernel.publish_workflow(
        ctx.actor.tenant_id,
        name=data.name,
        domain=data.domain,
        steps=[WorkflowStep(**step.model_dump()) for step in data.steps],
        sla_hours=data.sla_hours,
        replaces_workflow_id=data.replaces_workflow_id,
        published_by=ctx.actor.user_id,
        idempotency_key=idempotency_key,
    )
    return WorkflowPublishOutput(
        workflow_id=workflow.id,
        name=workflow.name,
        domain=workflow.domain,
        status=workflow.status,
        version=workflow.version,
        step_count=len(workflow.steps),
        sla_hours=workflow.sla_hours,
        replaced_workflow_id=data.replaces_workflow_id,
    )


TOOLS = [
    Tool(
        id=TOOL_ID,
        title="Publish an approved workflow",
        description=(
            "Publish a workflow as active and retire the workflow it replaces, if any. Runs only "
            "from an approval request a tenant admin has approved; to start one, draft the "
            "workflow with workflow.cluster.approval_workflow.draft or "
            "workflow.cluster.workflow_proposal.draft and request approval."
        ),
        layer=Layer.CELL,
        domain="workflows",
        input_model=WorkflowPublishInput,
        output_model=WorkflowPublishOutput,
        handler=publish_workflow,
        required_scopes=frozenset({"workflows:draft"}),
        approval_domain="workflows",
        examples=("Publish the approved purchase requisition workflow",),
    ),
]
