"""The offline assistant: question rules, answers from real tool results, and determinism."""

from __future__ import annotations

import re

import pytest

from lynx_core.assistant import AssistantRunner, RunFinished, TextDelta, ToolCallFinished, ToolCallStarted
from lynx_core.assistant.messages import Message, ModelTurn
from lynx_core.assistant.providers.offline import (
    EXAMPLE_QUESTIONS,
    INTRO_NO_MODEL,
    MAX_TABLE_ROWS,
    UNMAPPED_NO_MODEL,
    OfflineProvider,
    plan_calls,
    render_table,
)
from tests.conftest import actor_for

ADMINS = {"acme": "ada.admin@acme.test", "borealis": "bella.admin@borealis.test"}
FINANCE = {"acme": "felix.finance@acme.test", "borealis": "bruno.finance@borealis.test"}
PROCUREMENT = {"acme": "paula.procurement@acme.test", "borealis": "pete.procurement@borealis.test"}
VENDORS = {"acme": "Helios Steel Works", "borealis": "Nordlicht Textiles"}
CURRENCY = {"acme": "EUR", "borealis": "GBP"}

# (question with {vendor} and {currency} filled in per tenant, expected tool ids in call order)
CANONICAL_QUESTIONS = [
    ("Which payments have no VPM record?", ["vpm.domain.unrecorded_payments.list"]),
    ("How healthy are our finances?", ["finance.domain.health.summarize"]),
    ("Which payments are overdue?", ["finance.domain.overdue_payments.list"]),
    ("Run an audit risk scan for duplicate payments.", ["audit.domain.risk.scan"]),
    ("Tell me about vendor {vendor}.", ["vendor.domain.vendor.summarize"]),
    ("How much have we paid {vendor}?",
     ["vendor.domain.vendor.summarize", "vpm.domain.vendor_payments.summarize"]),
    ("Which vendors are blocked?", ["vendor.domain.vendors.search"]),
    ("Which documents are missing?", ["docs.domain.document_status.list"]),
    ("Which vendor documents are missing?", ["docs.domain.document_status.list"]),
    ("Show missing vendor documents", ["docs.domain.document_status.list"]),
    ("Which workflows have slow or redundant steps?", ["workflow.domain.inefficiency.scan"]),
    ("Show me the steps of the Spot buy workflow.", ["workflow.domain.workflow.read"]),
    ("Who has to approve a payment?", ["workflow.domain.approval_policies.read"]),
    ("What are our customisations?", ["tenant.domain.profile.read"]),
    ("What are our design tokens and brand rules?", ["design.domain.brand.read"]),
    ("What can I do? What are my permissions?", ["iam.domain.permissions.explain"]),
    ("Who are the users and their roles?", ["iam.domain.users.list"]),
    ("What did I ask Lynx recently?", ["lynx.domain.runs.recent"]),
    ("Which portals do we have?", ["portal.domain.portals.list"]),
    ("Draft a payment of 1,250.00 {currency} to {vendor} for invoice INV-2291",
     ["vpm.cluster.payment.draft"]),
    ("Request the missing documents from {vendor}", ["docs.cluster.document_request.draft"]),
    ("Draft a leaner version of the Spot buy workflow",
     ["workflow.domain.workflow.read", "workflow.cluster.workflow_proposal.draft"]),
    ("Scaffold a customer portal called Returns Hub for returns and refunds",
     ["portal.cluster.portal.scaffold"]),
    ("Record the payment of 1,250.00 {currency} to {vendor} for invoice INV-2291 now",
     ["vpm.cell.payment.record"]),
    ("Show finance health, overdue payments and the audit risk scan.",
     ["finance.domain.health.summarize", "finance.domain.overdue_payments.list", "audit.domain.risk.scan"]),
]


def run_offline(services, email: str, question: str) -> list[object]:
    actor = actor_for(services, email)
    return list(AssistantRunner(services, OfflineProvider()).run(actor, question))


def started_tools(events: list[object]) -> list[str]:
    return [event.tool_id for event in events if isinstance(event, ToolCallStarted)]


@pytest.mark.parametrize("tenant", ["acme", "borealis"])
@pytest.mark.parametrize(("question", "expected"), CANONICAL_QUESTIONS)
def test_canonical_question_maps_to_tools(services, tenant, question, expected):
    text = question.format(vendor=VENDORS[tenant], currency=CURRENCY[tenant])

    events = run_offline(services, ADMINS[tenant], text)

    assert started_tools(events) == expected
    final = events[-1]
    assert isinstance(final, RunFinished)
    assert final.provider == "offline"
    assert final.model == "rules-v1"
    assert final.response.startswith(INTRO_NO_MODEL)
    assert final.response == "".join(event.text for event in events if isinstance(event, TextDelta))


@pytest.mark.parametrize(("tenant", "other"), [("acme", "borealis"), ("borealis", "acme")])
def test_answer_lists_only_own_payments(services, tenant, other):
    actor = actor_for(services, FINANCE[tenant])
    other_actor = actor_for(services, FINANCE[other])
    own = {payment.reference for payment in services.kernel.list_payments(actor.tenant_id)}
    foreign = {payment.reference for payment in services.kernel.list_payments(other_actor.tenant_id)}

    events = run_offline(services, FINANCE[tenant], "Which payments have no VPM record?")

    response = events[-1].response
    references = set(re.findall(r"PAY-[A-Z]+-\d+", response))
    assert len(references) >= 5
    assert references <= own
    assert not references & foreign
    result = next(event.result for event in events if isinstance(event, ToolCallFinished))
    for row in result.output["payments"][:10]:
        assert row["payment_id"] in response
    assert f"{result.output['total_count']}" in response
    assert events[-1].status == "completed"


def test_vendor_name_is_extracted(services):
    events = run_offline(services, FINANCE["acme"], "Tell me about vendor Quarry & Sons.")

    started = next(event for event in events if isinstance(event, ToolCallStarted))
    assert started.arguments == {"vendor_name": "Quarry & Sons"}
    response = events[-1].response
    assert "Quarry & Sons" in response
    assert "data, not instructions" in response


def test_payment_draft_arguments_are_parsed():
    planned = plan_calls("Draft a payment of 1,250.00 EUR to Helios Steel Works for invoice INV-2291")

    assert [(call.tool_id, call.arguments) for call in planned] == [(
        "vpm.cluster.payment.draft",
        {"vendor_name": "Helios Steel Works", "amount": "1250.00", "currency": "EUR", "invoice_ref": "INV-2291"},
    )]


def test_payment_draft_answer_names_next_step(services):
    events = run_offline(
        services, PROCUREMENT["acme"], "Draft a payment of 1,250.00 EUR to Helios Steel Works for invoice INV-2291"
    )

    result = next(event.result for event in events if isinstance(event, ToolCallFinished))
    assert result.status == "succeeded"
    response = events[-1].response
    assert result.output["draft_id"] in response
    assert "draft" in response.lower()
    assert "Request approval" in response
    assert events[-1].status == "completed"


def test_record_payment_now_is_refused_and_explained(services):
    actor = actor_for(services, FINANCE["acme"])
    before = len(services.kernel.list_payments(actor.tenant_id))

    events = run_offline(
        services, FINANCE["acme"], "Record the payment of 1,250.00 EUR to Helios Steel Works for invoice INV-2291 now"
    )

    started = next(event for event in events if isinstance(event, ToolCallStarted))
    assert started.tool_id == "vpm.cell.payment.record"
    assert started.arguments == {
        "vendor_name": "Helios Steel Works", "amount": "1250.00", "currency": "EUR", "invoice_ref": "INV-2291",
    }
    result = next(event.result for event in events if isinstance(event, ToolCallFinished))
    assert result.status == "refused"
    assert result.refusal.rule == "approval_required"
    response = events[-1].response
    assert response.startswith(INTRO_NO_MODEL)
    assert "approval_required" in response
    assert result.refusal.reason in response
    assert result.refusal.needed in response
    assert result.refusal.alternative in response
    assert events[-1].status == "blocked"
    assert len(services.kernel.list_payments(actor.tenant_id)) == before
    assert services.audit.get_run(actor.tenant_id, events[-1].run_id)["status"] == "blocked"


def test_workflow_id_is_accepted_directly(services):
    actor = actor_for(services, ADMINS["borealis"])
    workflow = next(w for w in services.kernel.list_workflows(actor.tenant_id) if w.status == "active")

    events = run_offline(services, ADMINS["borealis"], f"Draft a leaner version of workflow {workflow.id}")

    started = [event for event in events if isinstance(event, ToolCallStarted)]
    assert [(event.tool_id, event.arguments) for event in started] == [
        ("workflow.cluster.workflow_proposal.draft", {"workflow_id": workflow.id}),
    ]


def test_several_intents_become_parallel_calls():
    provider = OfflineProvider()
    tools = [
        {"name": tool_id.replace(".", "__"), "tool_id": tool_id, "description": "", "parameters": {}}
        for tool_id in ("finance.domain.health.summarize", "finance.domain.overdue_payments.list")
    ]

    items = list(provider.stream(
        system="", messages=[Message(role="user", content="Show finance health and overdue payments.")], tools=tools,
    ))

    assert len(items) == 1
    turn = items[0]
    assert isinstance(turn, ModelTurn)
    assert [call.name for call in turn.tool_calls] == [
        "finance__domain__health__summarize", "finance__domain__overdue_payments__list",
    ]
    assert len({call.id for call in turn.tool_calls}) == 2


def test_unmapped_question_lists_examples(services):
    events = run_offline(services, FINANCE["acme"], "What is the weather like in Lisbon?")

    assert started_tools(events) == []
    response = events[-1].response
    assert response.startswith(UNMAPPED_NO_MODEL)
    for example in EXAMPLE_QUESTIONS[:5]:
        assert example in response
    assert events[-1].status == "completed"


def test_same_question_gives_same_answer(services):
    first = run_offline(services, FINANCE["borealis"], "Which payments are overdue? How healthy are our finances?")
    second = run_offline(services, FINANCE["borealis"], "Which payments are overdue? How healthy are our finances?")

    assert first[-1].response == second[-1].response
    assert first[-1].run_id != second[-1].run_id


def test_mapped_tool_missing_from_specs_is_not_called():
    provider = OfflineProvider()

    items = list(provider.stream(
        system="", messages=[Message(role="user", content="Which payments have no VPM record?")], tools=[],
    ))

    assert len(items) > 1
    assert items[-1].tool_calls == []
    assert items[-1].text.startswith(UNMAPPED_NO_MODEL)


def test_long_table_note_follows_the_table():
    rows = [{"payment_id": f"pay_{n}", "amount": "10.00"} for n in range(MAX_TABLE_ROWS + 2)]

    lines = render_table(rows, "EUR")

    assert len([line for line in lines if line.startswith("| pay_")]) == MAX_TABLE_ROWS
    assert lines[-2] == ""
    total = MAX_TABLE_ROWS + 2
    assert lines[-1] == f"_This table shows {MAX_TABLE_ROWS} of the {total} rows the tool returned; the tool card has all {total}._"


def test_other_tenants_vendor_is_not_found(services):
    events = run_offline(services, PROCUREMENT["borealis"], "Tell me about vendor Helios Steel Works")

    response = events[-1].response
    assert "No record of your tenant matches vendor_name 'Helios Steel Works'." in response
    assert "Check the spelling" in response
    assert "not_found" not in response
    assert "Candidate count" not in response
