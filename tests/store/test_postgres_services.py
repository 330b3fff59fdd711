"""Lynx's services run end to end on PostgreSQL, and an approved payment executes once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lynx_core.config import Settings
from lynx_core.policy.approvals import ApprovalOutcome
from lynx_core.services import Services
from tests.conftest import actor_for

pytestmark = pytest.mark.postgres

PAULA = "paula.procurement@acme.test"
FELIX = "felix.finance@acme.test"


@pytest.fixture
def pg_services(pg_url: str, tmp_path: Path, kernel) -> Iterator[Services]:
    settings = Settings(lynx_database_url=pg_url, lynx_data_dir=tmp_path, lynx_log_dir=tmp_path / "logs",
                        environment="test")
    services = Services.open(settings, kernel=kernel)
    yield services
    services.db.close()  # the kernel fixture closes the Kernel


def lynx_payment_count(services: Services, tenant_id: str) -> int:
    return sum(1 for payment in services.kernel.list_payments(tenant_id) if payment.source == "lynx")


def test_services_open_on_postgres(pg_services: Services) -> None:
    assert pg_services.db.dialect == "postgresql"
    assert pg_services.db.query("SELECT version FROM lynx_schema_migrations") != []


def test_domain_tool_call_is_audited(pg_services: Services) -> None:
    paula = actor_for(pg_services, PAULA)

    result = pg_services.executor.execute(paula, "vpm.domain.unrecorded_payments.list", {})

    assert result.ok, result.for_model()
    events = pg_services.audit.list_events(paula.tenant_id, tool_id="vpm.domain.unrecorded_payments.list")
    types = sorted(event["event_type"] for event in events)
    assert types == ["tool.started", "tool.succeeded"]
    assert all(event["actor_id"] == paula.user_id for event in events)
    report = pg_services.audit.verify(paula.tenant_id)
    assert report.ok, report.summary()


def test_concurrent_approvals_execute_payment_once(pg_services: Services) -> None:
    paula = actor_for(pg_services, PAULA)
    felix = actor_for(pg_services, FELIX)
    drafted = pg_services.executor.execute(paula, "vpm.cluster.payment.draft", {
        "vendor_name": "Helios Steel Works", "amount": "1250.00", "currency": "EUR", "invoice_ref": "INV-PG-1",
    })
    assert drafted.ok, drafted.for_model()
    submitted = pg_services.approvals.submit(paula, drafted.output["draft_id"])
    assert submitted.status == "pending", submitted.message
    request_id = submitted.request_id
    before = lynx_payment_count(pg_services, paula.tenant_id)

    callers = 20
    barrier = threading.Barrier(callers)
    outcomes: list[ApprovalOutcome] = []
    errors: list[BaseException] = []

    def approve() -> None:
        barrier.wait()
        try:
            outcomes.append(pg_services.approvals.approve(felix, request_id))
        except BaseException as exc:  # reported by the asserts below
            errors.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(outcomes) == callers
    assert lynx_payment_count(pg_services, paula.tenant_id) == before + 1
    assert [outcome for outcome in outcomes if outcome.refused] == []
    assert {outcome.request_id for outcome in outcomes} == {request_id}
    carried_out = [outcome for outcome in outcomes if outcome.message.startswith("Approved and carried out.")]
    assert len(carried_out) == 1
    assert carried_out[0].status == "executed"
    # The other calls report the request as it stood when they lost the race, which can be
    # any state from pending (the winner has not moved it yet) to executed.
    others = [outcome for outcome in outcomes if outcome is not carried_out[0]]
    assert {outcome.status for outcome in others} <= {"pending", "approved", "executing", "executed"}
    for outcome in others:
        assert outcome.message.startswith(("You already approved this request.", "The request was already approved.")), (
            outcome.message
        )

    request = pg_services.drafts.get_request(paula.tenant_id, request_id)
    assert request is not None
    assert request.status == "executed"
    assert pg_services.drafts.get_draft(paula.tenant_id, drafted.output["draft_id"]).status == "executed"
    decisions = pg_services.drafts.list_decisions(paula.tenant_id, request_id)
    assert [decision["approver_id"] for decision in decisions] == [felix.user_id]
    executions = pg_services.db.query("SELECT status FROM executions WHERE request_id = ?", (request_id,))
    assert executions == [{"status": "succeeded"}]
    succeeded = pg_services.audit.list_events(paula.tenant_id, subject_id=request_id, event_type="execution.succeeded")
    assert len(succeeded) == 1
    report = pg_services.audit.verify(paula.tenant_id)
    assert report.ok, report.summary()
