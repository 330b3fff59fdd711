"""Domain tools for workflows: read one workflow and scan all of them for slow or repeated steps."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from lynx_core.kernel.models import Workflow, WorkflowStep
from lynx_core.tools.context import ToolContext
from lynx_core.tools.domain.common import ToolInput, limit_field
from lynx_core.tools.registry import Layer, RecordRef, Tool

#: A step whose 95th-percentile duration is above this many hours counts as slow.
SLOW_STEP_P95_HOURS = 72.0
#: A step whose average duration is above this share of the workflow's SLA counts as slow.
SLOW_STEP_SLA_SHARE = 0.5
#: Estimated share of a slow step's average duration that a redesign saves.
SLOW_STEP_SAVING_SHARE = 0.5


class StepView(BaseModel):
    order: int
    name: str
    role: str
    avg_hours: float
    p95_hours: float = Field(description="95th-percentile duration in hours.")
    manual: bool = Field(description="True when the step happens outside the app (paper, e-mail).")
    duplicates_step: str | None = Field(description="Earlier step that this one checks again, if any.")


def _step_view(step: WorkflowStep) -> StepView:
    return StepView(
        order=step.order, name=step.name, role=step.role, avg_hours=step.avg_hours,
        p95_hours=step.p95_hours, manual=step.manual, duplicates_step=step.duplicates_step,
    )


# --- Read one workflow -------------------------------------------------------------------------


class WorkflowReadInput(ToolInput):
    workflow_id: Annotated[str | None, RecordRef("workflow")] = Field(
        default=None, min_length=1, max_length=64, description="The workflow's id (a workflow id of your tenant)."
    )
    workflow_name: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The workflow's name or part of it, any case; used when workflow_id is not given.",
    )

    @model_validator(mode="after")
    def _one_way_to_name_the_workflow(self) -> "WorkflowReadInput":
        if (self.workflow_id is None) == (self.workflow_name is None):
            raise ValueError("give exactly one of workflow_id or workflow_name")
        return self


class WorkflowCandidate(BaseModel):
    workflow_id: str
    name: str
    domain: str
    status: str
    version: int


class WorkflowView(BaseModel):
    workflow_id: str
    name: str
    domain: str
    status: str
    version: int
    sla_hours: float
    runs_last_90_days: int
    published_by: str | None
    published_at: str | None
    avg_hours_total: float = Field(description="Sum of the steps' average durations.")
    step_count: int
    steps: list[StepView]


class WorkflowReadOutput(BaseModel):
    tenant_id: str
    match: Literal["id", "name", "ambiguous", "not_found"] = Field(
        description=(
            "id or name: workflow holds the one workflow found. ambiguous: several workflows match "
            "the name, see candidates and call again with a workflow_id. not_found: none matches."
        )
    )
    workflow: WorkflowView | None
    candidate_count: int
    candidates: list[WorkflowCandidate] = Field(description="At most 25 candidates, active ones first.")


def _workflow_view(workflow: Workflow) -> WorkflowView:
    return WorkflowView(
        workflow_id=workflow.id,
        name=workflow.name,
        domain=workflow.domain,
        status=workflow.status,
        version=workflow.version,
        sla_hours=workflow.sla_hours,
        runs_last_90_days=workflow.runs_last_90_days,
        published_by=workflow.published_by,
        published_at=workflow.published_at.isoformat() if workflow.published_at else None,
        avg_hours_total=round(sum(step.avg_hours for step in workflow.steps), 1),
        step_count=len(workflow.steps),
        steps=[_step_view(step) for step in sorted(workflow.steps, key=lambda s: s.order)],
    )


def _find_by_name(workflows: list[Workflow], name: str) -> list[Workflow]:
    """Return the workflows named ``name`` (any case), else those whose name contains it.

    Among several versions of one name, only the active one is kept when there is one.
    """
    folded = " ".join(name.split()).casefold()
    exact = [w for w in workflows if w.name.casefold() == folded]
    found = exact or [w for w in workflows if folded in w.name.casefold()]
    active = [w for w in found if w.status == "active"]
    if exact and len(active) == 1:
        return active
    return sorted(found, key=lambda w: (w.status != "active", w.name, -w.version, w.id))


def read_workflow(ctx: ToolContext, data: WorkflowReadInput) -> WorkflowReadOutput:
    tenant_id = ctx.actor.tenant_id
    if data.workflow_id is not None:
        found = [ctx.kernel.get_workflow(tenant_id, data.workflow_id)]
        match = "id"
    else:
        assert data.workflow_name is not None
        found = _find_by_name(ctx.kernel.list_workflows(tenant_id), data.workflow_name)
        match = {0: "not_found", 1: "name"}.get(len(found), "ambiguous")

    if match in ("id", "name"):
        return WorkflowReadOutput(
            tenant_id=tenant_id, match=match, workflow=_workflow_view(found[0]), candidate_count=0, candidates=[],
        )
    candidates = [
        WorkflowCandidate(workflow_id=w.id, name=w.name, domain=w.domain, status=w.status, version=w.version)
        for w in found[:25]
    ]
    return WorkflowReadOutput(
        tenant_id=tenant_id, match=match, workflow=None, candidate_count=len(found), candidates=candidates,
    )


# --- Inefficiency scan -------------------------------------------------------------------------


class StepFinding(BaseModel):
    order: int
    step_name: str
    role: str
    kind: Literal["slow", "redundant"]
    reason: str
    avg_hours: float
    p95_hours: float
    hours_saved_per_run: float = Field(description="Estimate; see the tool description.")


class WorkflowFindings(BaseModel):
    workflow_id: str
    name: str
    domain: str
    status: str
    sla_hours: float
    runs_last_90_days: int
    avg_hours_total: float
    hours_saved_per_run: float
    hours_saved_90_days: float = Field(description="hours_saved_per_run times the runs of the last 90 days.")
    findings: list[StepFinding]


class InefficiencyInput(ToolInput):
    status: Literal["active", "draft", "retired", "any"] = Field(
        default="active", description="Which workflows to scan; any scans every status."
    )
    kind: Literal["slow", "redundant", "any"] = Field(default="any", description="Which findings to report.")
    limit: int = limit_field("workflows")


class InefficiencyOutput(BaseModel):
    tenant_id: str
    workflows_scanned: int
    total_count: int = Field(description="Workflows with at least one finding.")
    slow_step_count: int
    redundant_step_count: int
    hours_saved_90_days: float = Field(description="Estimated total over every workflow with findings.")
    shown: int
    workflows: list[WorkflowFindings] = Field(description="Largest estimated saving over 90 days first.")


def _step_findings(workflow: Workflow, kind: str) -> list[StepFinding]:
    findings = []
    for step in sorted(workflow.steps, key=lambda s: s.order):
        base = {
            "order": step.order, "step_name": step.name, "role": step.role,
            "avg_hours": step.avg_hours, "p95_hours": step.p95_hours,
        }
        # A redundant step is removed whole, so it is reported as redundant even when also slow.
        if step.duplicates_step is not None and kind in ("redundant", "any"):
            findings.append(StepFinding(
                **base, kind="redundant",
                reason=f"It repeats the check of the earlier step '{step.duplicates_step}'.",
                hours_saved_per_run=step.avg_hours,
            ))
            continue
        reasons = []
        if step.p95_hours > SLOW_STEP_P95_HOURS:
            reasons.append(f"its 95th-percentile duration of {step.p95_hours:g} h exceeds {SLOW_STEP_P95_HOURS:g} h")
        if step.avg_hours > workflow.sla_hours * SLOW_STEP_SLA_SHARE:
            reasons.append(
                f"its average of {step.avg_hours:g} h is more than half the {workflow.sla_hours:g} h SLA"
            )
        if reasons and kind in ("slow", "any"):
            findings.append(StepFinding(
                **base, kind="slow", reason=f"Slow: {' and '.join(reasons)}.",
                hours_saved_per_run=round(step.avg_hours * SLOW_STEP_SAVING_SHARE, 1),
            ))
    return findings


def scan_workflow_inefficiency(ctx: ToolContext, data: InefficiencyInput) -> InefficiencyOutput:
    workflows = [
        w for w in ctx.kernel.list_workflows(ctx.actor.tenant_id)
        if data.status == "any" or w.status == data.status
    ]
    results = []
    for workflow in workflows:
        findings = _step_findings(workflow, data.kind)
        if not findings:
            continue
        per_run = round(sum(f.hours_saved_per_run for f in findings), 1)
        results.append(WorkflowFindings(
            workflow_id=workflow.id, name=workflow.name, domain=workflow.domain, status=workflow.status,
            sla_hours=workflow.sla_hours, runs_last_90_days=workflow.runs_last_90_days,
            avg_hours_total=round(sum(step.avg_hours for step in workflow.steps), 1),
            hours_saved_per_run=per_run,
            hours_saved_90_days=round(per_run * workflow.runs_last_90_days, 1),
            findings=findings,
        ))
    results.sort(key=lambda r: (-r.hours_saved_90_days, -r.hours_saved_per_run, r.name, r.workflow_id))
    shown = results[: data.limit]
    return InefficiencyOutput(
        tenant_id=ctx.actor.tenant_id,
        workflows_scanned=len(workflows),
        total_count=len(results),
        slow_step_count=sum(1 for r in results for f in r.findings if f.kind == "slow"),
        redundant_step_count=sum(1 for r in results for f in r.findings if f.kind == "redundant"),
        hours_saved_90_days=round(sum(r.hours_saved_90_days for r in results), 1),
        shown=len(shown),
        workflows=shown,
    )


TOOLS = [
    Tool(
        id="workflow.domain.inefficiency.scan",
        title="Workflow inefficiency scan",
        description=(
            "Find slow steps (95th-percentile duration above 72 hours, or an average above half the "
            "workflow's SLA) and redundant steps (a step that repeats an earlier check) in the "
            "tenant's workflows, largest estimated saving first. Estimated saving per run: the whole "
            "average of a redundant step, half the average of a slow step; the 90-day estimate "
            "multiplies it by the runs of the last 90 days."
        ),
        layer=Layer.DOMAIN,
        domain="workflows",
        input_model=InefficiencyInput,
        output_model=InefficiencyOutput,
        handler=scan_workflow_inefficiency,
        required_scopes=frozenset({"workflows:read"}),
        examples=(
            "Which workflows are slow?",
            "Where do our approval workflows repeat checks?",
            "How many hours could we save by fixing our workflows?",
        ),
    ),
    Tool(
        id="workflow.domain.workflow.read",
        title="Read a workflow",
        description=(
            "Read one workflow, named by workflow_id or by name (exact or partial), with its steps in "
            "order: role, average and 95th-percentile hours, whether the step is manual, and which "
            "earlier step it repeats. When the name matches several workflows, it returns the "
            "candidates instead. Use it before drafting a redesign."
        ),
        layer=Layer.DOMAIN,
        domain="workflows",
        input_model=WorkflowReadInput,
        output_model=WorkflowReadOutput,
        handler=read_workflow,
        required_scopes=frozenset({"workflows:read"}),
        examples=("Show me the steps of the purchase order approval workflow.",),
    ),
]
