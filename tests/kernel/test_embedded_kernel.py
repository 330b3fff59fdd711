"""EmbeddedKernel: seeding, tenant isolation, filters, validated writes and idempotency."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from lynx_core.errors import KernelNotFoundError, KernelValidationError
from lynx_core.kernel import EmbeddedKernel, Kernel, WorkflowStep
from lynx_core.kernel.seed import DEMO_PASSWORD, SEED_VERSION

ACME = "tnt_acme"
BOREALIS = "tnt_borealis"


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed one database per module. Tests that write get their own copy."""
    path = tmp_path_factory.mktemp("embedded") / "kernel.sqlite"
    EmbeddedKernel(path).close()
    return path


@pytest.fixture(scope="module")
def reader(seeded_file: Path) -> Iterator[EmbeddedKernel]:
    """A kernel shared by the read-only tests of this module."""
    kernel = EmbeddedKernel(seeded_file)
    yield kernel
    kernel.close()


@pytest.fixture
def kernel(seeded_file: Path, tmp_path: Path) -> Iterator[EmbeddedKernel]:
    """A kernel on a private copy of the seeded file, for tests that write."""
    path = tmp_path / "kernel.sqlite"
    shutil.copy(seeded_file, path)
    kernel = EmbeddedKernel(path)
    yield kernel
    kernel.close()


def vendor_named(kernel: EmbeddedKernel, tenant_id: str, name: str):
    [vendor] = kernel.find_vendor_by_name(tenant_id, name)
    return vendor


def pay(kernel: EmbeddedKernel, tenant_id: str = ACME, **overrides):
    """Record a valid payment to Helios Steel Works, with ``overrides`` replacing arguments."""
    arguments = {
        "vendor_id": vendor_named(kernel, ACME, "Helios Steel Works").id,
        "amount": Decimal("1250.50"),
        "currency": "EUR",
        "invoice_ref": "INV-TEST-1",
        "due_date": dt.date(2027, 1, 15),
        "created_by": "usr_acme_finance",
        "idempotency_key": "key-default",
    }
    arguments.update(overrides)
    return kernel.record_payment(tenant_id, **arguments)


def payment_count(kernel: EmbeddedKernel, tenant_id: str = ACME) -> int:
    return len(kernel.list_payments(tenant_id))


# --- Opening and seeding ---------------------------------------------------------------------


def test_embedded_kernel_satisfies_protocol(reader: EmbeddedKernel) -> None:
    assert isinstance(reader, Kernel)


def test_database_uses_wal_and_foreign_keys(reader: EmbeddedKernel, seeded_file: Path) -> None:
    with sqlite3.connect(seeded_file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert reader._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_first_open_logs_counts_without_secrets(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="lynx_core.kernel")
    EmbeddedKernel(tmp_path / "fresh.sqlite").close()

    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("Seeding the demo Kernel database") for message in messages)
    assert any("240 vendors" in message for message in messages)
    assert not any(DEMO_PASSWORD in message or "$argon2" in message for message in messages)


def test_reopening_keeps_data_and_skips_seeding(
    kernel: EmbeddedKernel, caplog: pytest.LogCaptureFixture
) -> None:
    payment = pay(kernel, idempotency_key="reopen")
    count = payment_count(kernel)
    kernel.close()

    caplog.set_level(logging.INFO, logger="lynx_core.kernel")
    with EmbeddedKernel(kernel.path) as reopened:
        assert reopened.get_payment(ACME, payment.id) == payment
        assert payment_count(reopened) == count
        assert len(reopened.list_tenants()) == 2
    assert not any("Seeding" in record.getMessage() for record in caplog.records)
    with sqlite3.connect(kernel.path) as conn:
        stored = conn.execute("SELECT value FROM meta WHERE key = 'seed_version'").fetchone()[0]
    assert stored == str(SEED_VERSION)


def test_passwords_are_stored_as_argon2_hashes(seeded_file: Path) -> None:
    with sqlite3.connect(seeded_file) as conn:
        hashes = [row[0] for row in conn.execute("SELECT password_hash FROM users")]

    assert len(hashes) == 13
    assert all(value.startswith("$argon2id$") for value in hashes)
    assert len(set(hashes)) == 13
    assert not any(DEMO_PASSWORD in value for value in hashes)


def test_delete_is_rejected_by_database(seeded_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.sqlite"
    shutil.copy(seeded_file, path)
    with sqlite3.connect(path) as conn:
        for table in ("payments", "vendors", "vendor_documents", "workflows", "portals", "users"):
            with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
                conn.execute(f"DELETE FROM {table}")


# --- Authentication --------------------------------------------------------------------------


def test_authenticate_accepts_demo_password(reader: EmbeddedKernel) -> None:
    user = reader.authenticate("felix.finance@acme.test", DEMO_PASSWORD)

    assert user is not None
    assert user.id == "usr_acme_finance"
    assert user.tenant_id == ACME


def test_authenticate_ignores_email_case_and_spaces(reader: EmbeddedKernel) -> None:
    user = reader.authenticate("  Carla.Controller@BOREALIS.test ", DEMO_PASSWORD)

    assert user is not None
    assert user.id == "usr_bor_controller"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("felix.finance@acme.test", "wrong-password"),
        ("felix.finance@acme.test", ""),
        ("nobody@acme.test", DEMO_PASSWORD),
        ("", DEMO_PASSWORD),
    ],
)
def test_authenticate_rejects_bad_credentials(reader: EmbeddedKernel, email: str, password: str) -> None:
    assert reader.authenticate(email, password) is None


def test_authenticate_rejects_inactive_user(kernel: EmbeddedKernel) -> None:
    with sqlite3.connect(kernel.path) as conn:
        conn.execute("UPDATE users SET active = 0 WHERE id = 'usr_acme_viewer'")

    assert kernel.authenticate("victor.viewer@acme.test", DEMO_PASSWORD) is None


# --- Tenant isolation ------------------------------------------------------------------------


def test_every_list_returns_only_own_tenant(reader: EmbeddedKernel) -> None:
    for tenant_id in (ACME, BOREALIS):
        listings = [
            reader.list_users(tenant_id),
            reader.list_roles(tenant_id),
            reader.list_vendors(tenant_id),
            reader.list_vendor_documents(tenant_id),
            reader.list_payments(tenant_id),
            reader.list_workflows(tenant_id),
            reader.list_approval_policies(tenant_id),
            reader.list_portals(tenant_id),
            reader.list_design_tokens(tenant_id),
            reader.list_brand_rules(tenant_id),
            reader.list_document_requests(tenant_id),
        ]
        for records in listings:
            assert records
            assert {record.tenant_id for record in records} == {tenant_id}


def test_foreign_record_is_reported_like_missing_one(reader: EmbeddedKernel) -> None:
    borealis_vendor = reader.list_vendors(BOREALIS)[0]
    borealis_payment = reader.list_payments(BOREALIS)[0]
    borealis_document = reader.list_vendor_documents(BOREALIS)[0]
    borealis_workflow = reader.list_workflows(BOREALIS)[0]
    borealis_portal = reader.list_portals(BOREALIS)[0]
    cases = [
        ("vendor", reader.get_vendor, borealis_vendor.id),
        ("payment", reader.get_payment, borealis_payment.id),
        ("document", reader.get_vendor_document, borealis_document.id),
        ("workflow", reader.get_workflow, borealis_workflow.id),
        ("portal", reader.get_portal, borealis_portal.id),
        ("user", reader.get_user, "usr_bor_admin"),
    ]
    for kind, getter, foreign_id in cases:
        with pytest.raises(KernelNotFoundError) as foreign:
            getter(ACME, foreign_id)
        with pytest.raises(KernelNotFoundError) as missing:
            getter(ACME, "does_not_exist")
        assert foreign.value.kind == missing.value.kind == kind
        assert str(foreign.value) == str(missing.value).replace("does_not_exist", foreign_id)


def test_unknown_tenant_is_not_found(reader: EmbeddedKernel) -> None:
    with pytest.raises(KernelNotFoundError) as error:
        reader.list_vendors("tnt_nope")

    assert error.value.kind == "tenant"
    with pytest.raises(KernelNotFoundError):
        reader.get_tenant("tnt_nope")


def test_find_vendor_by_name_stays_in_tenant(reader: EmbeddedKernel) -> None:
    assert reader.find_vendor_by_name(ACME, "Aurora Print House") == []
    assert reader.list_vendors(ACME, search="Nordlicht") == []


def test_owner_of_names_owning_tenant(reader: EmbeddedKernel) -> None:
    cases = {
        "vendor": reader.list_vendors(BOREALIS)[0].id,
        "payment": reader.list_payments(BOREALIS)[0].id,
        "document": reader.list_vendor_documents(BOREALIS)[0].id,
        "workflow": reader.list_workflows(BOREALIS)[0].id,
        "portal": reader.list_portals(BOREALIS)[0].id,
        "user": "usr_bor_admin",
        "document_request": reader.list_document_requests(BOREALIS)[0].id,
    }
    for kind, record_id in cases.items():
        assert reader.owner_of(kind, record_id) == BOREALIS, kind  # type: ignore[arg-type]
        assert reader.owner_of(kind, "missing_id") is None  # type: ignore[arg-type]


def test_owner_of_rejects_unknown_kind(reader: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError, match="Unknown record kind"):
        reader.owner_of("spaceship", "x")  # type: ignore[arg-type]


# --- Reads and filters -----------------------------------------------------------------------


def test_tenants_and_users_read_back(reader: EmbeddedKernel) -> None:
    assert [tenant.id for tenant in reader.list_tenants()] == [ACME, BOREALIS]
    assert reader.get_tenant(BOREALIS).settings.approval_mode == "hybrid"
    assert len(reader.list_users(ACME)) == 7
    assert len(reader.list_users(BOREALIS)) == 6
    assert "finance:approve" not in reader.get_user(ACME, "usr_acme_deputy").scopes


def test_roles_keep_catalogue_order(reader: EmbeddedKernel) -> None:
    names = [role.name for role in reader.list_roles(BOREALIS)]

    assert names[0] == "tenant_admin"
    assert names[-1] == "financial_controller"
    assert "financial_controller" not in [role.name for role in reader.list_roles(ACME)]


def test_list_vendors_filters_by_status(reader: EmbeddedKernel) -> None:
    blocked = reader.list_vendors(BOREALIS, status="blocked")

    assert len(blocked) == 6
    assert {vendor.status for vendor in blocked} == {"blocked"}
    assert "Fjord Packaging" in [vendor.name for vendor in blocked]


def test_list_vendors_rejects_unknown_status(reader: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError, match="Invalid vendor status 'asleep'"):
        reader.list_vendors(ACME, status="asleep")


def test_list_vendors_search_ignores_case(reader: EmbeddedKernel) -> None:
    found = reader.list_vendors(ACME, search="hELIOS")

    assert [vendor.name for vendor in found] == ["Helios Steel Works"]


def test_list_vendors_search_matches_tax_id(reader: EmbeddedKernel) -> None:
    helios = vendor_named(reader, ACME, "Helios Steel Works")

    assert reader.list_vendors(ACME, search=helios.tax_id.lower()) == [helios]


def test_list_vendors_is_sorted_by_name(reader: EmbeddedKernel) -> None:
    names = [vendor.name.casefold() for vendor in reader.list_vendors(ACME)]

    assert len(names) == 120
    assert names == sorted(names)


def test_find_vendor_by_name_prefers_exact_match(reader: EmbeddedKernel) -> None:
    assert [v.name for v in reader.find_vendor_by_name(ACME, "  quarry &  SONS ")] == ["Quarry & Sons"]
    assert [v.name for v in reader.find_vendor_by_name(ACME, "quarry")] == ["Quarry & Sons"]
    assert reader.find_vendor_by_name(ACME, "   ") == []


def test_list_payments_filters(reader: EmbeddedKernel) -> None:
    everything = reader.list_payments(ACME)
    overdue = reader.list_payments(ACME, status="overdue")
    without = reader.list_payments(ACME, without_vpm_record=True)
    with_record = reader.list_payments(ACME, without_vpm_record=False)
    vendor_id = everything[0].vendor_id

    assert overdue and {p.status for p in overdue} == {"overdue"}
    assert without and all(p.vpm_record_id is None for p in without)
    assert all(p.vpm_record_id is not None for p in with_record)
    assert len(without) + len(with_record) == len(everything)
    assert {p.vendor_id for p in reader.list_payments(ACME, vendor_id=vendor_id)} == {vendor_id}


def test_list_payments_is_sorted_by_creation(reader: EmbeddedKernel) -> None:
    payments = reader.list_payments(BOREALIS)
    keys = [(p.created_at, p.id) for p in payments]

    assert keys == sorted(keys)
    assert reader.list_payments(BOREALIS) == payments


def test_list_vendor_documents_filters(reader: EmbeddedKernel) -> None:
    missing = reader.list_vendor_documents(ACME, status="missing")
    vendor_id = missing[0].vendor_id
    of_vendor = reader.list_vendor_documents(ACME, vendor_id=vendor_id, status="missing")

    assert {d.status for d in missing} == {"missing"}
    assert of_vendor and {d.vendor_id for d in of_vendor} == {vendor_id}
    with pytest.raises(KernelValidationError):
        reader.list_vendor_documents(ACME, status="lost")


def test_approval_policy_by_domain(reader: EmbeddedKernel) -> None:
    policy = reader.get_approval_policy(BOREALIS, "payments")

    assert policy.second_approver_threshold == Decimal("10000.00")
    assert [p.domain for p in reader.list_approval_policies(ACME)] == [
        "payments", "documents", "workflows", "portals", "design",
    ]
    with pytest.raises(KernelNotFoundError):
        reader.get_approval_policy(ACME, "lunch")


# --- record_payment --------------------------------------------------------------------------


def test_record_payment_creates_scheduled_lynx_payment(kernel: EmbeddedKernel) -> None:
    before = payment_count(kernel)
    payment = pay(kernel, idempotency_key="first")

    assert payment.status == "scheduled"
    assert payment.source == "lynx"
    assert payment.amount == Decimal("1250.50")
    assert payment.currency == "EUR"
    assert payment.vpm_record_id is not None
    assert payment.reference == "PAY-ACME-L000001"
    assert payment.created_by == "usr_acme_finance"
    assert kernel.get_payment(ACME, payment.id) == payment
    assert payment_count(kernel) == before + 1


def test_record_payment_keeps_memo(kernel: EmbeddedKernel) -> None:
    payment = pay(kernel, idempotency_key="memo", memo="  Steel for line 2  ")

    assert payment.memo == "Steel for line 2"
    assert kernel.get_payment(ACME, payment.id).memo == "Steel for line 2"
    assert pay(kernel, idempotency_key="no-memo", invoice_ref="INV-TEST-2").memo is None
    assert pay(kernel, idempotency_key="blank-memo", invoice_ref="INV-TEST-3", memo="   ").memo is None


@pytest.mark.parametrize(("memo", "message"), [
    ("x" * 501, "the limit is 500"),
    (42, "a memo is text"),
])
def test_record_payment_rejects_bad_memo(kernel: EmbeddedKernel, memo: object, message: str) -> None:
    before = payment_count(kernel)

    with pytest.raises(KernelValidationError, match=message):
        pay(kernel, idempotency_key="bad-memo", memo=memo)

    assert payment_count(kernel) == before


def test_record_payment_numbers_lynx_references(kernel: EmbeddedKernel) -> None:
    pay(kernel, idempotency_key="one")
    second = pay(kernel, idempotency_key="two", invoice_ref="INV-TEST-2")
    borealis = kernel.record_payment(
        BOREALIS,
        vendor_id=vendor_named(kernel, BOREALIS, "Nordlicht Textiles").id,
        amount=Decimal("10"),
        currency="GBP",
        invoice_ref="INV-1",
        due_date=dt.date(2027, 1, 1),
        created_by="usr_bor_finance",
        idempotency_key="three",
    )

    assert second.reference == "PAY-ACME-L000002"
    assert borealis.reference == "PAY-BOR-L000001"
    assert borealis.amount == Decimal("10.00")


def test_record_payment_rejects_second_payment_of_same_invoice(kernel: EmbeddedKernel) -> None:
    first = pay(kernel, idempotency_key="one")
    with pytest.raises(KernelValidationError, match=f"already paid or scheduled by payment {first.reference}"):
        pay(kernel, idempotency_key="two", invoice_ref=" inv-test-1 ")
    assert pay(kernel, idempotency_key="one").id == first.id


@pytest.mark.parametrize("amount", [Decimal("0.01"), Decimal("1000000.00"), Decimal("99.5")])
def test_record_payment_accepts_amount_bounds(kernel: EmbeddedKernel, amount: Decimal) -> None:
    assert pay(kernel, amount=amount).amount == amount


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("0"), "more than 0"),
        (Decimal("-5.00"), "more than 0"),
        (Decimal("1000000.01"), "at most 1,000,000.00"),
        (Decimal("10.005"), "two decimal places"),
        (Decimal("NaN"), "not a number"),
        (Decimal("Infinity"), "not a number"),
    ],
)
def test_record_payment_rejects_bad_amount(kernel: EmbeddedKernel, amount: Decimal, message: str) -> None:
    before = payment_count(kernel)

    with pytest.raises(KernelValidationError, match=message):
        pay(kernel, amount=amount)
    assert payment_count(kernel) == before


def test_record_payment_rejects_inactive_vendor(kernel: EmbeddedKernel) -> None:
    orbit = vendor_named(kernel, ACME, "Orbit Logistics")

    with pytest.raises(KernelValidationError) as error:
        pay(kernel, vendor_id=orbit.id)
    assert "Orbit Logistics" in error.value.message
    assert "inactive" in error.value.message


def test_record_payment_rejects_blocked_vendor(kernel: EmbeddedKernel) -> None:
    fjord = vendor_named(kernel, BOREALIS, "Fjord Packaging")

    with pytest.raises(KernelValidationError, match="Fjord Packaging .* is blocked"):
        pay(kernel, BOREALIS, vendor_id=fjord.id, currency="GBP", created_by="usr_bor_finance")


def test_record_payment_unknown_or_foreign_vendor_not_found(kernel: EmbeddedKernel) -> None:
    nordlicht = vendor_named(kernel, BOREALIS, "Nordlicht Textiles")

    for vendor_id in ("ven_0000000000", nordlicht.id):
        with pytest.raises(KernelNotFoundError) as error:
            pay(kernel, vendor_id=vendor_id)
        assert error.value.kind == "vendor"


def test_record_payment_rejects_foreign_currency(kernel: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError, match="are in EUR"):
        pay(kernel, currency="GBP")


def test_record_payment_accepts_lowercase_currency(kernel: EmbeddedKernel) -> None:
    assert pay(kernel, currency="eur").currency == "EUR"


@pytest.mark.parametrize("invoice_ref", ["", "   "])
def test_record_payment_rejects_empty_invoice_ref(kernel: EmbeddedKernel, invoice_ref: str) -> None:
    with pytest.raises(KernelValidationError, match="invoice reference is empty"):
        pay(kernel, invoice_ref=invoice_ref)


# --- Idempotency -----------------------------------------------------------------------------


def test_repeated_key_returns_first_payment(kernel: EmbeddedKernel) -> None:
    first = pay(kernel, idempotency_key="same")
    count = payment_count(kernel)
    again = pay(kernel, idempotency_key="same", amount=Decimal("999.00"))

    assert again == first
    assert payment_count(kernel) == count


def test_rejected_call_does_not_use_up_key(kernel: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError):
        pay(kernel, idempotency_key="retry-me", amount=Decimal("-1"))

    assert pay(kernel, idempotency_key="retry-me").amount == Decimal("1250.50")


def test_key_of_other_tenant_or_kind_is_rejected(kernel: EmbeddedKernel) -> None:
    pay(kernel, idempotency_key="shared")

    with pytest.raises(KernelValidationError, match="already used"):
        kernel.record_payment(
            BOREALIS,
            vendor_id=vendor_named(kernel, BOREALIS, "Nordlicht Textiles").id,
            amount=Decimal("5"),
            currency="GBP",
            invoice_ref="INV-2",
            due_date=dt.date(2027, 1, 1),
            created_by="usr_bor_finance",
            idempotency_key="shared",
        )
    with pytest.raises(KernelValidationError, match="already used"):
        kernel.enable_portal(
            ACME, name="P", audience="vendor", pages=[], features=[], theme="t",
            portal_id=None, enabled_by="usr_acme_admin", idempotency_key="shared",
        )


def test_empty_key_is_rejected(kernel: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError, match="idempotency key is empty"):
        pay(kernel, idempotency_key=" ")


def test_concurrent_calls_with_one_key_write_once(kernel: EmbeddedKernel) -> None:
    before = payment_count(kernel)
    barrier = threading.Barrier(20)
    results = []
    errors = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(pay(kernel, idempotency_key="race"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 20
    assert len({payment.id for payment in results}) == 1
    assert payment_count(kernel) == before + 1


def test_two_connections_with_one_key_write_once(kernel: EmbeddedKernel) -> None:
    before = payment_count(kernel)
    second = EmbeddedKernel(kernel.path)
    barrier = threading.Barrier(20)
    results = []

    def worker(target: EmbeddedKernel) -> None:
        barrier.wait()
        results.append(pay(target, idempotency_key="race-two-connections").id)

    threads = [threading.Thread(target=worker, args=(kernel if i % 2 else second,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    second.close()

    assert len(results) == 20
    assert len(set(results)) == 1
    assert payment_count(kernel) == before + 1


# --- publish_document_requests ---------------------------------------------------------------


def test_publish_document_requests_marks_documents(kernel: EmbeddedKernel) -> None:
    missing = kernel.list_vendor_documents(ACME, status="missing")[:2]
    before = len(kernel.list_document_requests(ACME))

    created = kernel.publish_document_requests(
        ACME,
        requests=[(doc.id, f"Please send {doc.doc_type}.") for doc in missing],
        created_by="usr_acme_procurement",
        idempotency_key="docs-1",
    )

    assert [request.document_id for request in created] == [doc.id for doc in missing]
    assert {request.status for request in created} == {"sent"}
    assert [request.vendor_id for request in created] == [doc.vendor_id for doc in missing]
    for doc in missing:
        assert kernel.get_vendor_document(ACME, doc.id).status == "requested"
    assert len(kernel.list_document_requests(ACME)) == before + 2


def test_publish_document_requests_is_idempotent(kernel: EmbeddedKernel) -> None:
    doc = kernel.list_vendor_documents(BOREALIS, status="missing")[0]
    arguments = {
        "requests": [(doc.id, "Please send it.")],
        "created_by": "usr_bor_procurement",
        "idempotency_key": "docs-2",
    }
    first = kernel.publish_document_requests(BOREALIS, **arguments)
    count = len(kernel.list_document_requests(BOREALIS))

    assert kernel.publish_document_requests(BOREALIS, **arguments) == first
    assert len(kernel.list_document_requests(BOREALIS)) == count


def test_publish_document_requests_rejects_on_file_document(kernel: EmbeddedKernel) -> None:
    missing = kernel.list_vendor_documents(ACME, status="missing")[0]
    on_file = kernel.list_vendor_documents(ACME, status="on_file")[0]

    with pytest.raises(KernelValidationError, match="already on file"):
        kernel.publish_document_requests(
            ACME,
            requests=[(missing.id, "Send it."), (on_file.id, "Send it.")],
            created_by="usr_acme_procurement",
            idempotency_key="docs-3",
        )
    assert kernel.get_vendor_document(ACME, missing.id).status == "missing"


def test_publish_document_requests_rejects_foreign_document(kernel: EmbeddedKernel) -> None:
    foreign = kernel.list_vendor_documents(BOREALIS, status="missing")[0]

    with pytest.raises(KernelNotFoundError):
        kernel.publish_document_requests(
            ACME, requests=[(foreign.id, "x")], created_by="usr_acme_procurement", idempotency_key="docs-4"
        )


def test_publish_document_requests_rejects_empty_list(kernel: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError, match="No document requests"):
        kernel.publish_document_requests(
            ACME, requests=[], created_by="usr_acme_procurement", idempotency_key="docs-5"
        )


# --- publish_workflow ------------------------------------------------------------------------


def steps_with_roles(*roles: str) -> list[WorkflowStep]:
    return [
        WorkflowStep(order=i, name=f"Step {i}", role=role, avg_hours=2.0, p95_hours=6.0, manual=False)
        for i, role in enumerate(roles, start=1)
    ]


def test_publish_workflow_retires_replaced_one(kernel: EmbeddedKernel) -> None:
    old = next(w for w in kernel.list_workflows(ACME) if w.status == "active")
    count = len(kernel.list_workflows(ACME))

    new = kernel.publish_workflow(
        ACME,
        name=old.name,
        domain=old.domain,
        steps=steps_with_roles("procurement_officer", "finance_manager"),
        sla_hours=48,
        replaces_workflow_id=old.id,
        published_by="usr_acme_admin",
        idempotency_key="wf-1",
    )

    assert new.status == "active"
    assert new.version == old.version + 1
    assert new.published_by == "usr_acme_admin"
    assert new.runs_last_90_days == 0
    assert kernel.get_workflow(ACME, old.id).status == "retired"
    assert len(kernel.list_workflows(ACME)) == count + 1


def test_publish_workflow_rejects_role_missing_in_tenant(kernel: EmbeddedKernel) -> None:
    with pytest.raises(KernelValidationError, match="financial_controller"):
        kernel.publish_workflow(
            ACME,
            name="Controller check",
            domain="finance",
            steps=steps_with_roles("finance_manager", "financial_controller"),
            sla_hours=24,
            replaces_workflow_id=None,
            published_by="usr_acme_admin",
            idempotency_key="wf-2",
        )


def test_publish_workflow_accepts_borealis_only_role(kernel: EmbeddedKernel) -> None:
    workflow = kernel.publish_workflow(
        BOREALIS,
        name="Controller check",
        domain="finance",
        steps=steps_with_roles("finance_manager", "financial_controller"),
        sla_hours=24,
        replaces_workflow_id=None,
        published_by="usr_bor_admin",
        idempotency_key="wf-3",
    )

    assert workflow.version == 1
    assert kernel.get_workflow(BOREALIS, workflow.id) == workflow


def test_publish_workflow_rejects_retired_or_foreign_replacement(kernel: EmbeddedKernel) -> None:
    retired = next(w for w in kernel.list_workflows(ACME) if w.status == "retired")
    foreign = kernel.list_workflows(BOREALIS)[0]
    arguments = {
        "name": "X",
        "domain": "finance",
        "steps": steps_with_roles("finance_manager"),
        "sla_hours": 24,
        "published_by": "usr_acme_admin",
    }

    with pytest.raises(KernelValidationError, match="already retired"):
        kernel.publish_workflow(ACME, replaces_workflow_id=retired.id, idempotency_key="wf-4", **arguments)
    with pytest.raises(KernelNotFoundError):
        kernel.publish_workflow(ACME, replaces_workflow_id=foreign.id, idempotency_key="wf-5", **arguments)


def test_publish_workflow_is_idempotent(kernel: EmbeddedKernel) -> None:
    arguments = {
        "name": "Quick buy",
        "domain": "procurement",
        "steps": steps_with_roles("procurement_officer"),
        "sla_hours": 8,
        "replaces_workflow_id": None,
        "published_by": "usr_acme_admin",
        "idempotency_key": "wf-6",
    }
    first = kernel.publish_workflow(ACME, **arguments)
    count = len(kernel.list_workflows(ACME))

    assert kernel.publish_workflow(ACME, **arguments) == first
    assert len(kernel.list_workflows(ACME)) == count


# --- enable_portal ---------------------------------------------------------------------------


def test_enable_portal_updates_existing(kernel: EmbeddedKernel) -> None:
    draft = next(p for p in kernel.list_portals(ACME) if p.status == "draft")

    enabled = kernel.enable_portal(
        ACME,
        name=draft.name,
        audience=draft.audience,
        pages=draft.pages + ["FAQ"],
        features=draft.features,
        theme=draft.theme,
        portal_id=draft.id,
        enabled_by="usr_acme_admin",
        idempotency_key="portal-1",
    )

    assert enabled.id == draft.id
    assert enabled.status == "enabled"
    assert enabled.pages[-1] == "FAQ"
    assert enabled.enabled_by == "usr_acme_admin"
    assert kernel.get_portal(ACME, draft.id) == enabled
    assert len(kernel.list_portals(ACME)) == 3


def test_enable_portal_creates_new(kernel: EmbeddedKernel) -> None:
    created = kernel.enable_portal(
        BOREALIS,
        name="Borealis Gift Cards",
        audience="customer",
        pages=["Home", "Balance"],
        features=["balance check"],
        theme="borealis-nordic",
        portal_id=None,
        enabled_by="usr_bor_admin",
        idempotency_key="portal-2",
    )

    assert created.status == "enabled"
    assert kernel.owner_of("portal", created.id) == BOREALIS
    assert len(kernel.list_portals(BOREALIS)) == 4


def test_enable_portal_rejects_foreign_portal_and_bad_audience(kernel: EmbeddedKernel) -> None:
    foreign = kernel.list_portals(BOREALIS)[0]
    arguments = {
        "name": "X",
        "pages": [],
        "features": [],
        "theme": "t",
        "enabled_by": "usr_acme_admin",
    }

    with pytest.raises(KernelNotFoundError):
        kernel.enable_portal(ACME, audience="vendor", portal_id=foreign.id, idempotency_key="p-3", **arguments)
    with pytest.raises(KernelValidationError, match="Invalid portal audience"):
        kernel.enable_portal(ACME, audience="everyone", portal_id=None, idempotency_key="p-4", **arguments)
