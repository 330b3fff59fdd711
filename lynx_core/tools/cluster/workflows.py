"""Cluster tools that draft approval workflows: a new one, or a leaner version of an existing one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, Field

from lynx_core.errors import KernelValidationError
from lynx_core.kernel.models import Tenant, Workflow, WorkflowStep
from lynx_core.tools.cell import workflows as workflow_cell
from lynx_core.tools.cluster.common import build_payload, fold, hours
from lynx_core.tools.context import ToolContext
from lynx_core.tools.drafting import Change, DraftOutput, DraftPreview, save_draft
from lynx_core.tools.registry import Layer, RecordRef, Tool

NEW_TOOL_ID = "workflow.cluster.approval_workflow.draft"
PROPOSAL_TOOL_ID = "workflow.cluster.workflow_proposal.draft"

#: A step whose 95th-percentile duration exceeds this many hours counts as slow.
SLOW_STEP_P95_HOURS = 72.0


def _check_roles(ctx: ToolContext, tenant: Tenant, steps: list[tuple[int, str, str]]) -> None:
    """Raise when a step's role is missing from the tenant's role catalogue.

    ``steps`` contains (order, step name, role) for every step.
    """
    roles = {role.name for role in ctx.kernel.list_roles(tenant.id)}
    unknown = [f"step {order} ({name}) names role {role!r}" for order, name, role in steps if role not in roles]
    if unknown:
        raise KernelValidationError(
            f"Unknown role in the workflow: {'; '.join(unknown)}, which {tenant.name} does not have.",
            hint=f"Use one of the tenant's roles: {', '.join(sorted(roles))}.",
        )


def _describe_step(step: WorkflowStep | workflow_cell.WorkflowStepInput) -> str:
    kind = "manual" if step.manual else "digital"
    return f"{step.role}, {hours(step.avg_hours)} avg / {hours(step.p95_hours)} p95, {kind}"


# --- A new workflow --------------------------------------------------------------------------


class StepDraft(BaseModel):
    name: str = Field(min_length=1, max_length=120, description="What happens in the step, e.g. Budget check.")
    role: str = Field(min_length=1, max_length=64, description="Role that carries out the step, e.g. finance_manager.")
    expected_hours: float = Field(gt=0, le=workflow_cell.MAX_HOURS, description="Expected duration in hours.")
    p95_hours: float | None = Field(
        default=None, gt=0, le=workflow_cell.MAX_HOURS,
        description="95th-percentile duration in hours, if known; defaults to expected_hours.",
    )
    manual: bool = Field(default=False, description="True for a paper or out-of-band step.")


class ApprovalWorkflowDraftInput(BaseModel):
    name: str = Field(min_length=1, max_length=120, description="Workflow name, e.g. Purchase requisition.")
    domain: str = Field(min_length=1, max_length=64, description="Business area, e.g. procurement or finance.")
    steps: list[StepDraft] = Field(min_length=1, max_length=workflow_cell.MAX_STEPS, description="Steps in order.")
    sla_hours: float = Field(gt=0, le=workflow_cell.MAX_HOURS, description="Target end-to-end duration in hours.")


def _new_workflow_warnings(
    ctx: ToolContext, tenant: Tenant, data: ApprovalWorkflowDraftInput, steps: list[workflow_cell.WorkflowStepInput]
) -> list[str]:
    warnings = []
    expected = sum(step.avg_hours for step in steps)
    if expected > data.sla_hours:
        warnings.append(
            f"The steps are expected to take {hours(expected)} in total, more than the SLA of {hours(data.sla_hours)}."
        )
    seen: dict[str, int] = {}
    for step in steps:
        earlier = seen.setdefault(fold(step.name), step.order)
        if earlier != step.order:
            warnings.append(
                f"Steps {earlier} and {step.order} are both named {step.name!r}; "
                "if the later one checks the same thing again, drop it."
            )
    workflows = ctx.kernel.list_workflows(tenant.id)
    for workflow in workflows:
        if workflow.status == "active" and fold(workflow.name) == fold(data.name):
            warnings.append(
                f"An active workflow named {workflow.name} ({workflow.id}) already exists; publishing this "
                "adds a second one. To replace it, use workflow.cluster.workflow_proposal.draft instead."
            )
    domains = {fold(workflow.domain) for workflow in workflows}
    if fold(data.domain) not in domains:
        warnings.append(f"No existing workflow uses the domain {data.domain!r}; check its spelling.")
    if any(step.p95_hours == step.avg_hours for step in steps):
        warnings.append("Steps without p95_hours use their expected hours as p95 until real durations are measured.")
    return warnings


def draft_approval_workflow(ctx: ToolContext, data: ApprovalWorkflowDraftInput) -> DraftOutput:
    """Check a new workflow's steps against the tenant's roles and save it as a draft."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    name, domain = data.name.strip(), data.domain.strip()
    if not name or not domain:
        raise KernelValidationError("The workflow name or domain is blank.", hint="Pass both as text.")
    _check_roles(ctx, tenant, [(order, step.name, step.role.strip()) for order, step in enumerate(data.steps, 1)])
    manual_steps = [order for order, step in enumerate(data.steps, 1) if step.manual]
    if manual_steps and not tenant.settings.manual_approval_enabled:
        raise KernelValidationError(
            f"Steps {', '.join(map(str, manual_steps))} are manual, but {tenant.name} has switched off manual "
            "approval steps.",
            hint="Make those steps digital (manual false).",
        )
    for order, step in enumerate(data.steps, 1):
        if step.p95_hours is not None and step.p95_hours < step.expected_hours:
            raise KernelValidationError(
                f"Step {order} ({step.name}) has p95_hours {step.p95_hours} below its expected_hours "
                f"{step.expected_hours}.",
                hint="The 95th percentile is at least the expected duration; swap or correct the values.",
            )

    steps = [
        build_payload(
            workflow_cell.WorkflowStepInput,
            order=order, name=step.name.strip(), role=step.role.strip(), avg_hours=step.expected_hours,
            p95_hours=step.p95_hours if step.p95_hours is not None else step.expected_hours, manual=step.manual,
        )
        for order, step in enumerate(data.steps, 1)
    ]
    payload = build_payload(workflow_cell.WorkflowPublishInput, name=name, domain=domain, steps=steps, sla_hours=data.sla_hours)
    expected = sum(step.avg_hours for step in steps)
    preview = DraftPreview(
        summary=(
            f"Publish a new {domain} workflow {name!r} with {len(steps)} steps, expected to take "
            f"{hours(expected)} against an SLA of {hours(data.sla_hours)}."
        ),
        changes=[
            Change(target="Kernel workflows", after=f"New active workflow {name!r} ({domain}), version 1"),
            *[Change(target=f"Step {step.order}: {step.name}", after=_describe_step(step)) for step in steps],
        ],
        checks=[
            f"Every step's role is in {tenant.name}'s role catalogue",
            "Manual steps are allowed" if tenant.settings.manual_approval_enabled
            else "No manual steps, as the tenant requires",
        ],
        warnings=_new_workflow_warnings(ctx, tenant, data, steps),
    )
    return save_draft(
        ctx, tool_id=NEW_TOOL_ID, kind="workflow", title=f"New workflow: {name}",
        payload=payload, preview=preview, executes_with=workflow_cell.TOOL_ID,
    )


# --- A leaner version of an existing workflow ------------------------------------------------


class WorkflowProposalDraftInput(BaseModel):
    workflow_id: Annotated[str, RecordRef("workflow")] = Field(
        min_length=1, max_length=64, description="Id of the workflow to improve."
    )


@dataclass
class LeanVersion:
    """The proposed steps of a leaner workflow and how each original step changes."""

    steps: list[workflow_cell.WorkflowStepInput] = field(default_factory=list)
    #: One before/after line per original step.
    changes: list[Change] = field(default_factory=list)
    removed: int = 0
    made_digital: int = 0
    slow_notes: list[str] = field(default_factory=list)


def _lean_version(workflow: Workflow) -> LeanVersion:
    """Build the leaner version of a workflow's steps.

    A step that repeats a check made by an earlier step is removed, and every kept manual step
    becomes digital. A slow step (p95 above `SLOW_STEP_P95_HOURS`) is flagged for automation or
    parallel handling. It keeps its measured hours, because no saving for it can be measured yet.
    """
    lean = LeanVersion()
    earlier_names: set[str] = set()
    for step in sorted(workflow.steps, key=lambda s: s.order):
        target = f"Step {step.order}: {step.name}"
        if step.duplicates_step and fold(step.duplicates_step) in earlier_names:
            lean.removed += 1
            lean.changes.append(Change(
                target=target, before=_describe_step(step),
                after=f"removed: repeats step {step.duplicates_step!r} (saves {hours(step.avg_hours)} avg)",
            ))
            continue
        earlier_names.add(fold(step.name))
        new_step = build_payload(
            workflow_cell.WorkflowStepInput,
            order=len(lean.steps) + 1, name=step.name, role=step.role, avg_hours=step.avg_hours,
            p95_hours=step.p95_hours, manual=False,
        )
        lean.steps.append(new_step)
        notes = []
        if step.manual:
            lean.made_digital += 1
            notes.append("made digital")
        if step.p95_hours > SLOW_STEP_P95_HOURS:
            notes.append("slow: automate it or run it in parallel")
            lean.slow_notes.append(
                f"Step {step.name!r} takes {hours(step.p95_hours)} at p95, over {hours(SLOW_STEP_P95_HOURS)}: "
                "automate it or run it in parallel with the step before. Its hours stay as measured until "
                "the new version has run."
            )
        after = f"step {new_step.order}: {_describe_step(new_step)} ({'; '.join(notes) or 'unchanged'})"
        lean.changes.append(Change(target=target, before=_describe_step(step), after=after))
    return lean


def _describe_counts(removed: int, made_digital: int, slow: int) -> str:
    parts = []
    if removed:
        parts.append(f"{removed} repeated step{'s' if removed != 1 else ''} removed")
    if made_digital:
        parts.append(f"{made_digital} manual step{'s' if made_digital != 1 else ''} made digital")
    if slow:
        parts.append(f"{slow} slow step{'s' if slow != 1 else ''} flagged")
    return ", ".join(parts)


def draft_workflow_proposal(ctx: ToolContext, data: WorkflowProposalDraftInput) -> DraftOutput:
    """Propose a digital, leaner version of a workflow that replaces it when published."""
    tenant = ctx.kernel.get_tenant(ctx.actor.tenant_id)
    workflow = ctx.kernel.get_workflow(tenant.id, data.workflow_id)
    if workflow.status == "retired":
        raise KernelValidationError(
            f"Workflow {workflow.name} ({workflow.id}) is retired, so it cannot be replaced.",
            hint="Propose changes to the workflow that is currently active instead.",
        )
    lean = _lean_version(workflow)
    kept_steps, removed, made_digital, slow_notes = lean.steps, lean.removed, lean.made_digital, lean.slow_notes
    if not removed and not made_digital and not slow_notes:
        raise KernelValidationError(
            f"Workflow {workflow.name} ({workflow.id}) has no repeated, manual or slow steps, so there is nothing to improve.",
            hint="Draft a new workflow with workflow.cluster.approval_workflow.draft to change it in other ways.",
        )
    _check_roles(ctx, tenant, [(step.order, step.name, step.role) for step in kept_steps])

    before_hours = sum(step.avg_hours for step in workflow.steps)
    after_hours = sum(step.avg_hours for step in kept_steps)
    saved = round(before_hours - after_hours, 1)
    payload = build_payload(
        workflow_cell.WorkflowPublishInput,
        name=workflow.name, domain=workflow.domain, steps=kept_steps, sla_hours=workflow.sla_hours,
        replaces_workflow_id=workflow.id,
    )
    checks = [f"Workflow {workflow.name} ({workflow.id}) is {workflow.status} and can be replaced",
              f"Every kept step's role is in {tenant.name}'s role catalogue"]
    warnings = list(slow_notes)
    if workflow.status == "draft":
        warnings.append("The workflow being replaced was never published; publishing this makes the new version active.")
    if saved and workflow.runs_last_90_days:
        warnings.append(
            f"Estimate: at the last 90 days' {workflow.runs_last_90_days} runs, removing steps saves about "
            f"{hours(round(saved * workflow.runs_last_90_days))} of work per 90 days."
        )
    preview = DraftPreview(
        summary=(
            f"Replace {workflow.name} (version {workflow.version}) with a leaner version {workflow.version + 1}: "
            f"{_describe_counts(removed, made_digital, len(slow_notes))}. Expected hours "
            f"{hours(round(before_hours, 1))} → {hours(round(after_hours, 1))}, saving {hours(saved)} per run."
        ),
        changes=[
            Change(target=f"Workflow {workflow.name} ({workflow.id})", before=f"{workflow.status}, version {workflow.version}",
                   after=f"retired, replaced by version {workflow.version + 1}"),
            *lean.changes,
        ],
        checks=checks,
        warnings=warnings,
    )
    return save_draft(
        ctx, tool_id=PROPOSAL_TOOL_ID, kind="workflow", title=f"Leaner workflow: {workflow.name}",
        payload=payload, preview=preview, executes_with=workflow_cell.TOOL_ID,
    )


TOOLS: list[Tool] = [
    Tool(
        id=NEW_TOOL_ID,
        title="Draft a new approval workflow",
        description=(
            "Draft a new approval workflow from named steps, each with a role and expected hours, "
            "and an SLA; every role is checked against the tenant's role catalogue. Creates a "
            "draft only: the workflow is published after a tenant admin approves the request."
        ),
        layer=Layer.CLUSTER,
        domain="workflows",
        input_model=ApprovalWorkflowDraftInput,
        output_model=DraftOutput,
        handler=draft_approval_workflow,
        required_scopes=frozenset({"workflows:draft"}),
        executes_with=workflow_cell.TOOL_ID,
        examples=(
            "Draft a procurement workflow 'Spot buy' with a requisition by procurement, a budget check by finance "
            "and an admin sign-off, SLA 48 hours",
        ),
    ),
    Tool(
        id=PROPOSAL_TOOL_ID,
        title="Propose a leaner version of a workflow",
        description=(
            "Propose a digital, leaner version of an existing workflow: steps that repeat an "
            "earlier check are removed, manual steps become digital and slow steps are flagged; "
            "the preview shows each step before and after and the hours saved. Creates a draft "
            "only: the new version replaces the old one after a tenant admin approves the request."
        ),
        layer=Layer.CLUSTER,
        domain="workflows",
        input_model=WorkflowProposalDraftInput,
        output_model=DraftOutput,
        handler=draft_workflow_proposal,
        required_scopes=frozenset({"workflows:draft"}),
        executes_with=workflow_cell.TOOL_ID,
        examples=(
            "Propose a leaner version of the Spot buy workflow",
            "Remove the duplicate steps from workflow wf_cf25212ca1",
        ),
    ),
]
