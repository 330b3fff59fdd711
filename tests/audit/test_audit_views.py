"""The audit page's queries: a run's own events and the approvals and executions after it."""

from __future__ import annotations

from lynx_core.assistant import AssistantRunner, RunFinished, ToolCallFinished
from lynx_core.assistant.providers.offline import OfflineProvider
from lynx_core.audit.views import AuditQueries
from lynx_core.services import Services
from tests.conftest import actor_for


def test_run_detail_follows_its_request(services: Services) -> None:
    paula = actor_for(services, "paula.procurement@acme.test")
    felix = actor_for(services, "felix.finance@acme.test")
    events = list(AssistantRunner(services, OfflineProvider()).run(
        paula, "Draft a payment of 90.00 EUR to Helios Steel Works for invoice INV-FOLLOW-1"))
    draft_id = next(e.result.output["draft_id"] for e in events if isinstance(e, ToolCallFinished))
    run_id = next(e.run_id for e in events if isinstance(e, RunFinished))
    submitted = services.approvals.submit(paula, draft_id, run_id=run_id)
    assert services.approvals.approve(felix, submitted.request_id).status == "executed"
    queries = AuditQueries(services.audit)

    run, run_events = queries.run_detail(felix, run_id)
    during, later = queries.split_run_events(felix, run, run_events)

    assert run is not None
    assert [e["event_type"] for e in during][0] == "run.started"
    assert "draft.created" in [e["event_type"] for e in during]
    assert all(e["created_at"] <= run["ended_at"] for e in during)
    later_types = [e["event_type"] for e in later]
    assert "approval.requested" in later_types
    assert "approval.approved" in later_types
    assert "execution.succeeded" in later_types
    # The cell tool's calls carry the run id but happen after the approval.
    assert later_types.index("approval.approved") < later_types.index("tool.succeeded")
    assert [e["chain_index"] for e in later] == sorted(e["chain_index"] for e in later)
    assert not {e["event_id"] for e in later} & {e["event_id"] for e in during}
    approved = next(e for e in later if e["event_type"] == "approval.approved")
    assert approved["actor_id"] == felix.user_id


def test_run_without_requests_has_no_follow_ups(services: Services) -> None:
    paula = actor_for(services, "paula.procurement@acme.test")
    events = list(AssistantRunner(services, OfflineProvider()).run(paula, "Which payments have no VPM record?"))
    run_id = events[-1].run_id
    queries = AuditQueries(services.audit)

    run, run_events = queries.run_detail(paula, run_id)
    during, later = queries.split_run_events(paula, run, run_events)

    assert later == []
    assert during == run_events


def test_requester_sees_outcomes_not_others_refusals(services: Services) -> None:
    paula = actor_for(services, "paula.procurement@acme.test")
    events = list(AssistantRunner(services, OfflineProvider()).run(
        paula, "Draft a payment of 95.00 EUR to Helios Steel Works for invoice INV-FOLLOW-2"))
    draft_id = next(e.result.output["draft_id"] for e in events if isinstance(e, ToolCallFinished))
    run_id = events[-1].run_id
    submitted = services.approvals.submit(paula, draft_id, run_id=run_id)
    assert services.approvals.approve(actor_for(services, "dora.deputy@acme.test"), submitted.request_id).refused
    services.approvals.cancel_draft(paula, draft_id, "not needed any more")
    queries = AuditQueries(services.audit)

    run, run_events = queries.run_detail(paula, run_id)
    _, later = queries.split_run_events(paula, run, run_events)
    _, later_for_auditor = queries.split_run_events(actor_for(services, "felix.finance@acme.test"), run, run_events)

    assert "draft.cancelled" in [e["event_type"] for e in later]
    assert "approval.refused" not in [e["event_type"] for e in later]
    assert "approval.refused" in [e["event_type"] for e in later_for_auditor]
