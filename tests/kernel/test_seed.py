"""The demo data: fixed tenants and users, realistic volumes and shares, and no randomness between builds."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from lynx_core.kernel.seed import (
    ROLE_SCOPES,
    SEED_ANCHOR,
    SLOW_STEP_P95_HOURS,
    TenantSeed,
    build_demo_data,
)


@pytest.fixture(scope="module")
def demo() -> dict[str, TenantSeed]:
    return {seed.tenant.id: seed for seed in build_demo_data()}


@pytest.fixture(scope="module", params=["tnt_acme", "tnt_borealis"])
def tenant_seed(request: pytest.FixtureRequest, demo: dict[str, TenantSeed]) -> TenantSeed:
    return demo[request.param]


def test_two_builds_are_equal(demo: dict[str, TenantSeed]) -> None:
    again = {seed.tenant.id: seed for seed in build_demo_data()}
    assert again == demo


def test_build_does_not_read_the_clock(monkeypatch: pytest.MonkeyPatch, demo: dict[str, TenantSeed]) -> None:
    class ExplodingDate(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            raise AssertionError("the seed read date.today()")

    class ExplodingDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:
            raise AssertionError("the seed read datetime.now()")

    monkeypatch.setattr("lynx_core.kernel.seed.dt.date", ExplodingDate)
    monkeypatch.setattr("lynx_core.kernel.seed.dt.datetime", ExplodingDatetime)
    rebuilt = {seed.tenant.id: seed for seed in build_demo_data()}
    assert rebuilt["tnt_acme"].payments == demo["tnt_acme"].payments


def test_tenant_settings_differ_as_specified(demo: dict[str, TenantSeed]) -> None:
    acme = demo["tnt_acme"].tenant
    borealis = demo["tnt_borealis"].tenant

    assert (acme.name, acme.slug, acme.currency) == ("Acme Manufacturing", "acme", "EUR")
    assert acme.settings.approval_mode == "single"
    assert acme.settings.manual_approval_enabled is False
    assert acme.settings.cryptographic_timestamps is True
    assert acme.settings.second_approver_threshold is None
    assert acme.settings.required_documents == ["PO", "GRN", "INVOICE"]
    assert acme.settings.custom_vendor_fields == ["cost_centre"]

    assert (borealis.name, borealis.slug, borealis.currency) == ("Borealis Retail", "borealis", "GBP")
    assert borealis.settings.approval_mode == "hybrid"
    assert borealis.settings.manual_approval_enabled is True
    assert borealis.settings.second_approver_threshold == Decimal("10000.00")
    assert borealis.settings.approval_expiry_hours == 48
    assert borealis.settings.required_documents == ["PO", "INVOICE"]
    assert borealis.settings.payment_terms_days == 45
    assert borealis.settings.fiscal_year_start_month == 4


def test_financial_controller_role_exists_only_at_borealis(demo: dict[str, TenantSeed]) -> None:
    acme_roles = {role.name for role in demo["tnt_acme"].roles}
    borealis_roles = {role.name for role in demo["tnt_borealis"].roles}

    assert "financial_controller" not in acme_roles
    assert borealis_roles == acme_roles | {"financial_controller"}


def test_user_scopes_are_union_of_role_scopes(tenant_seed: TenantSeed) -> None:
    for user in tenant_seed.users:
        if user.id == "usr_acme_deputy":
            continue
        expected = {scope for role in user.roles for scope in ROLE_SCOPES[role]}
        assert set(user.scopes) == expected, user.id


def test_deputy_lacks_finance_approve(demo: dict[str, TenantSeed]) -> None:
    deputy = next(user for user in demo["tnt_acme"].users if user.id == "usr_acme_deputy")

    assert deputy.roles == ["finance_manager"]
    assert "finance:approve" not in deputy.scopes
    assert "finance:draft" in deputy.scopes


def test_user_emails_are_unique_across_tenants(demo: dict[str, TenantSeed]) -> None:
    emails = [user.email.lower() for seed in demo.values() for user in seed.users]

    assert len(emails) == 13
    assert len(set(emails)) == 13


def test_ids_are_unique_across_tenants(demo: dict[str, TenantSeed]) -> None:
    ids = [
        record.id
        for seed in demo.values()
        for records in (
            seed.vendors, seed.payments, seed.documents, seed.document_requests,
            seed.workflows, seed.policies, seed.portals, seed.brand_rules,
        )
        for record in records
    ]

    assert len(ids) == len(set(ids))


def test_vendor_ids_do_not_name_the_tenant(tenant_seed: TenantSeed) -> None:
    for vendor in tenant_seed.vendors:
        assert vendor.id.startswith("ven_")
        assert len(vendor.id) == len("ven_") + 10
        assert tenant_seed.tenant.slug not in vendor.id


def test_vendor_status_shares(tenant_seed: TenantSeed) -> None:
    statuses = Counter(vendor.status for vendor in tenant_seed.vendors)

    assert len(tenant_seed.vendors) == 120
    assert statuses == {"active": 102, "inactive": 12, "blocked": 6}


def test_vendor_names_are_unique(tenant_seed: TenantSeed) -> None:
    names = [vendor.name for vendor in tenant_seed.vendors]

    assert len(names) == len(set(names))


def test_first_three_vendors_are_hand_named(demo: dict[str, TenantSeed]) -> None:
    acme = demo["tnt_acme"].vendors[:3]
    borealis = demo["tnt_borealis"].vendors[:3]

    assert [(v.name, v.status) for v in acme] == [
        ("Helios Steel Works", "active"),
        ("Orbit Logistics", "inactive"),
        ("Quarry & Sons", "active"),
    ]
    assert acme[0].risk_rating == "low"
    assert "APPROVED BY THE CFO" in acme[2].notes
    assert "48,000 EUR" in acme[2].notes
    assert [(v.name, v.status) for v in borealis] == [
        ("Nordlicht Textiles", "active"),
        ("Fjord Packaging", "blocked"),
        ("Aurora Print House", "active"),
    ]
    assert "25,000 GBP" in borealis[2].notes


def test_vendor_custom_fields_follow_tenant_schema(tenant_seed: TenantSeed) -> None:
    expected = set(tenant_seed.tenant.settings.custom_vendor_fields)
    for vendor in tenant_seed.vendors:
        assert set(vendor.custom_fields) == expected
        assert all(vendor.custom_fields.values())


def test_payment_volume_and_currency(tenant_seed: TenantSeed) -> None:
    payments = tenant_seed.payments
    code = tenant_seed.reference_code

    assert len(payments) >= 2000
    assert {p.currency for p in payments} == {tenant_seed.tenant.currency}
    assert {p.source for p in payments} == {"kernel"}
    assert all(p.reference.startswith(f"PAY-{code}-") for p in payments)
    assert len({p.reference for p in payments}) == len(payments)
    assert all(p.invoice_ref.startswith("INV-") for p in payments)


def test_payment_references_use_agreed_codes(demo: dict[str, TenantSeed]) -> None:
    assert demo["tnt_acme"].payments[0].reference == "PAY-ACME-000001"
    assert demo["tnt_borealis"].payments[0].reference == "PAY-BOR-000001"


def test_payments_fall_in_18_months_before_anchor(tenant_seed: TenantSeed) -> None:
    earliest = dt.date(2025, 6, 1)
    for payment in tenant_seed.payments:
        assert earliest <= payment.created_at.date() < SEED_ANCHOR


def test_payment_amounts_are_log_normal(tenant_seed: TenantSeed) -> None:
    amounts = [p.amount for p in tenant_seed.payments]
    typical = sum(Decimal(200) <= a <= Decimal(20000) for a in amounts)

    assert typical / len(amounts) > 0.85
    assert max(amounts) > Decimal(50000)
    assert max(amounts) <= Decimal(150000)
    assert min(amounts) > 0
    assert all(a == a.quantize(Decimal("0.01")) for a in amounts)


def test_payment_status_rules(tenant_seed: TenantSeed) -> None:
    payments = tenant_seed.payments
    statuses = Counter(p.status for p in payments)

    assert 0.08 <= statuses["overdue"] / len(payments) <= 0.12
    assert statuses["paid"] > len(payments) / 2
    assert statuses["scheduled"] > 0
    assert 0 < statuses["cancelled"] < len(payments) * 0.05
    for payment in payments:
        if payment.status == "overdue":
            assert payment.due_date < SEED_ANCHOR
            assert payment.paid_date is None
        if payment.status == "scheduled":
            assert payment.due_date > SEED_ANCHOR
        if payment.status == "paid":
            assert payment.paid_date is not None
            assert payment.paid_date <= SEED_ANCHOR


def test_about_8_percent_lack_vpm_record(tenant_seed: TenantSeed) -> None:
    payments = tenant_seed.payments
    without = [p for p in payments if p.vpm_record_id is None]

    assert 0.06 <= len(without) / len(payments) <= 0.10
    assert all(p.vpm_record_id.startswith("VPM-") for p in payments if p.vpm_record_id)


def test_duplicates_repeat_vendor_invoice_and_amount(tenant_seed: TenantSeed) -> None:
    by_id = {p.id: p for p in tenant_seed.payments}
    duplicates = [p for p in tenant_seed.payments if p.duplicate_of is not None]

    assert 0.015 <= len(duplicates) / len(by_id) <= 0.025
    for duplicate in duplicates:
        original = by_id[duplicate.duplicate_of]
        assert original.duplicate_of is None
        assert (duplicate.vendor_id, duplicate.invoice_ref, duplicate.amount) == (
            original.vendor_id,
            original.invoice_ref,
            original.amount,
        )
        assert duplicate.created_at > original.created_at


def test_originals_have_unique_invoice_refs(tenant_seed: TenantSeed) -> None:
    refs = [p.invoice_ref for p in tenant_seed.payments if p.duplicate_of is None]

    assert len(refs) == len(set(refs))


def test_payments_created_by_tenant_users(tenant_seed: TenantSeed) -> None:
    user_ids = {user.id for user in tenant_seed.users}

    assert {p.created_by for p in tenant_seed.payments} <= user_ids


def test_documents_cover_required_types(tenant_seed: TenantSeed) -> None:
    required = tenant_seed.tenant.settings.required_documents
    by_purchase: dict[str, list[str]] = {}
    for document in tenant_seed.documents:
        by_purchase.setdefault(document.purchase_ref, []).append(document.doc_type)

    assert 550 <= len(by_purchase) <= 650
    assert all(types == required for types in by_purchase.values())
    assert all(ref.startswith("PO-") for ref in by_purchase)


def test_document_status_shares(tenant_seed: TenantSeed) -> None:
    documents = tenant_seed.documents
    statuses = Counter(d.status for d in documents)

    assert 0.11 <= statuses["missing"] / len(documents) <= 0.19
    assert 0 < statuses["requested"] < len(documents) * 0.06
    for document in documents:
        assert (document.received_at is not None) == (document.status == "on_file")


def test_requested_documents_have_sent_requests(tenant_seed: TenantSeed) -> None:
    requested = {d.id for d in tenant_seed.documents if d.status == "requested"}

    assert {r.document_id for r in tenant_seed.document_requests} == requested
    assert {r.status for r in tenant_seed.document_requests} == {"sent"}


def test_workflow_shape(tenant_seed: TenantSeed) -> None:
    workflows = tenant_seed.workflows
    roles = {role.name for role in tenant_seed.roles}

    assert len(workflows) == 50
    assert Counter(w.status for w in workflows)["active"] >= 40
    assert len({w.domain for w in workflows}) >= 5
    for workflow in workflows:
        assert 3 <= len(workflow.steps) <= 8, workflow.name
        assert [s.order for s in workflow.steps] == list(range(1, len(workflow.steps) + 1))
        assert {s.role for s in workflow.steps} <= roles
        assert all(s.p95_hours >= s.avg_hours for s in workflow.steps)


def test_slow_and_redundant_workflow_counts(tenant_seed: TenantSeed) -> None:
    slow = [
        w for w in tenant_seed.workflows if any(s.p95_hours > SLOW_STEP_P95_HOURS for s in w.steps)
    ]
    redundant = [w for w in tenant_seed.workflows if any(s.duplicates_step for s in w.steps)]

    assert len(slow) == 10
    assert len(redundant) == 8


def test_redundant_step_names_an_earlier_step(tenant_seed: TenantSeed) -> None:
    for workflow in tenant_seed.workflows:
        for index, step in enumerate(workflow.steps):
            if step.duplicates_step is not None:
                earlier = [s.name for s in workflow.steps[:index]]
                assert step.duplicates_step in earlier, workflow.name


def test_acme_policies(demo: dict[str, TenantSeed]) -> None:
    policies = {p.domain: p for p in demo["tnt_acme"].policies}

    assert list(policies) == ["payments", "documents", "workflows", "portals", "design"]
    assert policies["payments"].approver_roles == ["finance_manager"]
    assert policies["payments"].approver_scope == "finance:approve"
    assert policies["payments"].second_approver_threshold is None
    assert policies["documents"].approver_roles == ["finance_manager", "tenant_admin"]
    assert policies["documents"].approver_scope == "documents:approve"
    for domain in ("workflows", "portals", "design"):
        assert policies[domain].approver_roles == ["tenant_admin"]
        assert policies[domain].approver_scope == f"{domain}:approve"
    assert {p.expiry_hours for p in policies.values()} == {72}


def test_borealis_policies(demo: dict[str, TenantSeed]) -> None:
    policies = {p.domain: p for p in demo["tnt_borealis"].policies}
    payments = policies["payments"]

    assert payments.approver_roles == ["finance_manager", "financial_controller"]
    assert payments.second_approver_threshold == Decimal("10000.00")
    assert payments.second_approver_roles == ["financial_controller"]
    assert {p.expiry_hours for p in policies.values()} == {48}
    assert policies["design"].approver_scope == "design:approve"


def test_policy_descriptions_are_single_sentences(tenant_seed: TenantSeed) -> None:
    for policy in tenant_seed.policies:
        assert policy.description.endswith(".")
        assert policy.description.count(". ") == 0, policy.description


def test_portals_mix_audiences_and_statuses(tenant_seed: TenantSeed) -> None:
    portals = tenant_seed.portals

    assert len(portals) == 3
    assert {p.audience for p in portals} == {"customer", "vendor"}
    assert {p.status for p in portals} == {"draft", "disabled", "enabled"}
    for portal in portals:
        assert portal.pages
        assert portal.features
        assert (portal.enabled_by is not None) == (portal.status == "enabled")


def test_brands_differ_between_tenants(demo: dict[str, TenantSeed]) -> None:
    acme = {t.name: t.value for t in demo["tnt_acme"].design_tokens}
    borealis = {t.name: t.value for t in demo["tnt_borealis"].design_tokens}

    assert 18 <= len(acme) <= 24
    assert acme.keys() == borealis.keys()
    assert acme["color.brand.primary"] != borealis["color.brand.primary"]
    assert acme["font.family.body"] != borealis["font.family.body"]
    categories = {t.category for t in demo["tnt_acme"].design_tokens}
    assert categories == {"color", "typography", "spacing", "radius"}


def test_brand_rule_count_and_severity(tenant_seed: TenantSeed) -> None:
    rules = tenant_seed.brand_rules

    assert 6 <= len(rules) <= 8
    assert {r.severity for r in rules} == {"must", "should"}
