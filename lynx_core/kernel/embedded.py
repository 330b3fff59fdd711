"""A Kernel kept in a local SQLite file and seeded with the demo tenants.

Each table stores the full record as JSON in ``record_json`` and copies out only the columns
that reads filter, join or sort on, so a record read back equals the record written. Every
read has ``tenant_id = ?`` in its WHERE clause. Writes run in ``BEGIN IMMEDIATE`` transactions
under one lock, which is what makes the idempotency-key check and the insert atomic. Triggers
reject every DELETE, because the Kernel keeps history and changes a status instead.

Lists are ordered deterministically: vendors by name, documents by due date and purchase,
payments and document requests by creation time, other records by name or id.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, TypeAdapter

from lynx_core.errors import KernelNotFoundError, KernelValidationError
from lynx_core.ids import new_id
from lynx_core.kernel.base import RecordKind
from lynx_core.kernel.models import (
    ApprovalPolicy,
    BrandRule,
    DesignToken,
    DocumentRequest,
    Payment,
    Portal,
    RoleDefinition,
    Tenant,
    User,
    Vendor,
    VendorDocument,
    Workflow,
    WorkflowStep,
)
from lynx_core.kernel.seed import DEMO_PASSWORD, SEED_VERSION, TenantSeed, build_demo_data

logger = logging.getLogger(__name__)

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

MAX_PAYMENT_AMOUNT = Decimal("1000000.00")
MAX_PAYMENT_MEMO = 500
_CENTS = Decimal("0.01")

VENDOR_STATUSES = ("active", "inactive", "blocked")
DOCUMENT_STATUSES = ("on_file", "missing", "requested")
PAYMENT_STATUSES = ("scheduled", "paid", "overdue", "cancelled")
PORTAL_AUDIENCES = ("customer", "vendor")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    reference_code TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS roles (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    record_json TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email_folded TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vendors (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name_folded TEXT NOT NULL,
    status TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vendors_by_tenant ON vendors (tenant_id, name_folded);
CREATE TABLE IF NOT EXISTS vendor_documents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    status TEXT NOT NULL,
    due_date TEXT NOT NULL,
    purchase_ref TEXT NOT NULL,
    type_rank INTEGER NOT NULL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_by_tenant ON vendor_documents (tenant_id, due_date);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    status TEXT NOT NULL,
    has_vpm_record INTEGER NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_tenant ON payments (tenant_id, created_at);
CREATE TABLE IF NOT EXISTS document_requests (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    document_id TEXT NOT NULL REFERENCES vendor_documents(id),
    created_at TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workflows (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approval_policies (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    domain TEXT NOT NULL,
    position INTEGER NOT NULL,
    record_json TEXT NOT NULL,
    UNIQUE (tenant_id, domain)
);
CREATE TABLE IF NOT EXISTS portals (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS design_tokens (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    record_json TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE TABLE IF NOT EXISTS brand_rules (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    position INTEGER NOT NULL,
    record_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    result_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

_RECORD_TABLES = (
    "tenants", "roles", "users", "vendors", "vendor_documents", "payments", "document_requests",
    "workflows", "approval_policies", "portals", "design_tokens", "brand_rules", "idempotency_keys",
)

#: Table that contains each kind of record `owner_of` accepts.
_OWNER_TABLES: dict[str, str] = {
    "vendor": "vendors",
    "payment": "payments",
    "document": "vendor_documents",
    "workflow": "workflows",
    "portal": "portals",
    "user": "users",
    "document_request": "document_requests",
}

_POLICY_DOMAINS = ("payments", "documents", "workflows", "portals", "design")
_DOCUMENT_TYPE_RANK = {"PO": 0, "GRN": 1, "INVOICE": 2}

_PAYMENT_ADAPTER = TypeAdapter(Payment)
_WORKFLOW_ADAPTER = TypeAdapter(Workflow)
_PORTAL_ADAPTER = TypeAdapter(Portal)
_REQUESTS_ADAPTER = TypeAdapter(list[DocumentRequest])


def _fold(text: str) -> str:
    """Return the form names and e-mail addresses are compared in: case-folded, single spaces."""
    return " ".join(text.split()).casefold()


def _iso(moment: dt.datetime | dt.date) -> str:
    return moment.isoformat()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class EmbeddedKernel:
    """Kernel backed by one SQLite file, which is created and seeded on first open.

    One connection is shared by all threads and guarded by a re-entrant lock, so calls from
    several threads are serialised. Open several instances on the same file only if they
    tolerate SQLite's busy timeout (5 s).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._hasher = PasswordHasher()
        self._dummy_hash: str | None = None
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=5.0
        )
        self._conn.create_function("fold", 1, _fold, deterministic=True)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._ensure_seeded()

    # --- Life cycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database connection. Later calls raise `sqlite3.ProgrammingError`."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> EmbeddedKernel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ping(self) -> None:
        with self._lock:
            self._conn.execute("SELECT 1").fetchone()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one write transaction, holding the lock for its whole length."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _ensure_seeded(self) -> None:
        with self._transaction() as conn:
            _create_schema(conn)
            row = conn.execute("SELECT value FROM meta WHERE key = 'seed_version'").fetchone()
            if row is not None:
                if row[0] != str(SEED_VERSION):
                    logger.warning(
                        "Kernel database %s contains seed version %s, but this code seeds "
                        "version %s. Delete the file to reseed it",
                        self.path,
                        row[0],
                        SEED_VERSION,
                    )
                return
            self._seed(conn)

    def _seed(self, conn: sqlite3.Connection) -> None:
        started = time.perf_counter()
        logger.info("Seeding the demo Kernel database %s", self.path)
        tenants = build_demo_data()
        for tenant_seed in tenants:
            _insert_tenant_seed(conn, tenant_seed, self._hasher)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('seed_version', ?)", (str(SEED_VERSION),)
        )
        logger.info(
            "Seeded %d tenants with %d records (%d vendors, %d payments) in %.2f s",
            len(tenants),
            sum(seed.record_count() for seed in tenants),
            sum(len(seed.vendors) for seed in tenants),
            sum(len(seed.payments) for seed in tenants),
            time.perf_counter() - started,
        )

    # --- Generic reads ----------------------------------------------------------------------

    def _fetch_all(self, model: type[ModelT], sql: str, params: tuple[Any, ...]) -> list[ModelT]:
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [model.model_validate_json(row[0]) for row in rows]

    def _fetch_one(
        self, model: type[ModelT], kind: str, record_id: str, sql: str, params: tuple[Any, ...]
    ) -> ModelT:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        if row is None:
            raise KernelNotFoundError(kind, record_id)
        return model.model_validate_json(row[0])

    def _require_tenant(self, conn: sqlite3.Connection, tenant_id: str) -> Tenant:
        row = conn.execute("SELECT record_json FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
        if row is None:
            raise KernelNotFoundError("tenant", tenant_id)
        return Tenant.model_validate_json(row[0])

    def _list_in_tenant(
        self, model: type[ModelT], tenant_id: str, sql: str, params: tuple[Any, ...]
    ) -> list[ModelT]:
        """Run a tenant-filtered list query, raising KernelNotFoundError for an unknown tenant."""
        with self._lock:
            self._require_tenant(self._conn, tenant_id)
            rows = self._conn.execute(sql, params).fetchall()
        return [model.model_validate_json(row[0]) for row in rows]

    # --- Tenants, users and permissions ------------------------------------------------------

    def list_tenants(self) -> list[Tenant]:
        return self._fetch_all(Tenant, "SELECT record_json FROM tenants ORDER BY id", ())

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._fetch_one(
            Tenant, "tenant", tenant_id, "SELECT record_json FROM tenants WHERE id = ?", (tenant_id,)
        )

    def authenticate(self, email: str, password: str) -> User | None:
        """Return the active user with this e-mail and password, or None.

        An unknown e-mail still costs one hash verification, so response times do not reveal
        which addresses exist.
        """
        with self._lock:
            row = self._conn.execute(
                "SELECT password_hash, active, record_json FROM users WHERE email_folded = ?",
                (_fold(email),),
            ).fetchone()
        if row is None:
            self._verify(self._get_dummy_hash(), password)
            return None
        password_hash, active, record_json = row
        if not self._verify(password_hash, password) or not active:
            return None
        return User.model_validate_json(record_json)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _get_dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(uuid.uuid4().hex)
        return self._dummy_hash

    def get_user(self, tenant_id: str, user_id: str) -> User:
        return self._fetch_one(
            User,
            "user",
            user_id,
            "SELECT record_json FROM users WHERE tenant_id = ? AND id = ?",
            (tenant_id, user_id),
        )

    def list_users(self, tenant_id: str) -> list[User]:
        return self._list_in_tenant(
            User, tenant_id, "SELECT record_json FROM users WHERE tenant_id = ? ORDER BY id", (tenant_id,)
        )

    def list_roles(self, tenant_id: str) -> list[RoleDefinition]:
        return self._list_in_tenant(
            RoleDefinition,
            tenant_id,
            "SELECT record_json FROM roles WHERE tenant_id = ? ORDER BY position",
            (tenant_id,),
        )

    def owner_of(self, kind: RecordKind, record_id: str) -> str | None:
        table = _OWNER_TABLES.get(kind)
        if table is None:
            raise KernelValidationError(
                f"Unknown record kind {kind!r}.",
                hint=f"Use one of: {', '.join(sorted(_OWNER_TABLES))}.",
            )
        with self._lock:
            row = self._conn.execute(
                f"SELECT tenant_id FROM {table} WHERE id = ?", (record_id,)  # noqa: S608
            ).fetchone()
        return None if row is None else str(row[0])

    # --- Vendors, documents and payments -----------------------------------------------------

    def list_vendors(
        self, tenant_id: str, *, status: str | None = None, search: str | None = None
    ) -> list[Vendor]:
        """List the tenant's vendors. ``search`` matches part of the name or tax id, in any case."""
        sql = "SELECT record_json FROM vendors WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if status is not None:
            _check_choice("vendor status", status, VENDOR_STATUSES)
            sql += " AND status = ?"
            params.append(status)
        if search is not None and search.strip():
            sql += (
                " AND (instr(name_folded, ?) > 0"
                " OR instr(fold(json_extract(record_json, '$.tax_id')), ?) > 0)"
            )
            params += [_fold(search), _fold(search)]
        sql += " ORDER BY name_folded, id"
        return self._list_in_tenant(Vendor, tenant_id, sql, tuple(params))

    def get_vendor(self, tenant_id: str, vendor_id: str) -> Vendor:
        return self._fetch_one(
            Vendor,
            "vendor",
            vendor_id,
            "SELECT record_json FROM vendors WHERE tenant_id = ? AND id = ?",
            (tenant_id, vendor_id),
        )

    def find_vendor_by_name(self, tenant_id: str, name: str) -> list[Vendor]:
        """Return vendors whose name equals ``name`` ignoring case and spacing.

        When none does, return the vendors whose name contains it instead, so "quarry"
        still finds "Quarry & Sons". An empty name finds nothing.
        """
        folded = _fold(name)
        if not folded:
            return []
        exact = self._list_in_tenant(
            Vendor,
            tenant_id,
            "SELECT record_json FROM vendors WHERE tenant_id = ? AND name_folded = ? ORDER BY id",
            (tenant_id, folded),
        )
        if exact:
            return exact
        return self._list_in_tenant(
            Vendor,
            tenant_id,
            "SELECT record_json FROM vendors WHERE tenant_id = ? AND instr(name_folded, ?) > 0"
            " ORDER BY name_folded, id",
            (tenant_id, folded),
        )

    def list_vendor_documents(
        self,
        tenant_id: str,
        *,
        vendor_id: str | None = None,
        status: str | None = None,
    ) -> list[VendorDocument]:
        sql = "SELECT record_json FROM vendor_documents WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if vendor_id is not None:
            sql += " AND vendor_id = ?"
            params.append(vendor_id)
        if status is not None:
            _check_choice("document status", status, DOCUMENT_STATUSES)
            sql += " AND status = ?"
            params.append(status)
        sql += " ORDER BY due_date, purchase_ref, type_rank"
        return self._list_in_tenant(VendorDocument, tenant_id, sql, tuple(params))

    def get_vendor_document(self, tenant_id: str, document_id: str) -> VendorDocument:
        return self._fetch_one(
            VendorDocument,
            "document",
            document_id,
            "SELECT record_json FROM vendor_documents WHERE tenant_id = ? AND id = ?",
            (tenant_id, document_id),
        )

    def list_payments(
        self,
        tenant_id: str,
        *,
        vendor_id: str | None = None,
        status: str | None = None,
        without_vpm_record: bool | None = None,
    ) -> list[Payment]:
        """List payments. ``without_vpm_record`` True keeps those without a VPM record, False the others."""
        sql = "SELECT record_json FROM payments WHERE tenant_id = ?"
        params: list[Any] = [tenant_id]
        if vendor_id is not None:
            sql += " AND vendor_id = ?"
            params.append(vendor_id)
        if status is not None:
            _check_choice("payment status", status, PAYMENT_STATUSES)
            # Scheduled and overdue are distinguished by today's date, not by the stored status.
            stored = ("scheduled", "overdue") if status in ("scheduled", "overdue") else (status,)
            sql += f" AND status IN ({', '.join('?' for _ in stored)})"
            params.extend(stored)
        if without_vpm_record is not None:
            sql += " AND has_vpm_record = ?"
            params.append(0 if without_vpm_record else 1)
        sql += " ORDER BY created_at, id"
        payments = [_as_of_today(p) for p in self._list_in_tenant(Payment, tenant_id, sql, tuple(params))]
        return payments if status is None else [p for p in payments if p.status == status]

    def get_payment(self, tenant_id: str, payment_id: str) -> Payment:
        return _as_of_today(self._fetch_one(
            Payment,
            "payment",
            payment_id,
            "SELECT record_json FROM payments WHERE tenant_id = ? AND id = ?",
            (tenant_id, payment_id),
        ))

    # --- Workflows, policies, portals and design ---------------------------------------------

    def list_workflows(self, tenant_id: str) -> list[Workflow]:
        return self._list_in_tenant(
            Workflow,
            tenant_id,
            "SELECT record_json FROM workflows WHERE tenant_id = ? ORDER BY name, version, id",
            (tenant_id,),
        )

    def get_workflow(self, tenant_id: str, workflow_id: str) -> Workflow:
        return self._fetch_one(
            Workflow,
            "workflow",
            workflow_id,
            "SELECT record_json FROM workflows WHERE tenant_id = ? AND id = ?",
            (tenant_id, workflow_id),
        )

    def list_approval_policies(self, tenant_id: str) -> list[ApprovalPolicy]:
        return self._list_in_tenant(
            ApprovalPolicy,
            tenant_id,
            "SELECT record_json FROM approval_policies WHERE tenant_id = ? ORDER BY position",
            (tenant_id,),
        )

    def get_approval_policy(self, tenant_id: str, domain: str) -> ApprovalPolicy:
        return self._fetch_one(
            ApprovalPolicy,
            "approval policy",
            domain,
            "SELECT record_json FROM approval_policies WHERE tenant_id = ? AND domain = ?",
            (tenant_id, domain),
        )

    def list_portals(self, tenant_id: str) -> list[Portal]:
        return self._list_in_tenant(
            Portal,
            tenant_id,
            "SELECT record_json FROM portals WHERE tenant_id = ? ORDER BY name, id",
            (tenant_id,),
        )

    def get_portal(self, tenant_id: str, portal_id: str) -> Portal:
        return self._fetch_one(
            Portal,
            "portal",
            portal_id,
            "SELECT record_json FROM portals WHERE tenant_id = ? AND id = ?",
            (tenant_id, portal_id),
        )

    def list_design_tokens(self, tenant_id: str) -> list[DesignToken]:
        return self._list_in_tenant(
            DesignToken,
            tenant_id,
            "SELECT record_json FROM design_tokens WHERE tenant_id = ? ORDER BY name",
            (tenant_id,),
        )

    def list_brand_rules(self, tenant_id: str) -> list[BrandRule]:
        return self._list_in_tenant(
            BrandRule,
            tenant_id,
            "SELECT record_json FROM brand_rules WHERE tenant_id = ? ORDER BY position",
            (tenant_id,),
        )

    def list_document_requests(self, tenant_id: str) -> list[DocumentRequest]:
        return self._list_in_tenant(
            DocumentRequest,
            tenant_id,
            "SELECT record_json FROM document_requests WHERE tenant_id = ? ORDER BY created_at, id",
            (tenant_id,),
        )

    # --- Idempotent writes -------------------------------------------------------------------

    def _run_idempotent(
        self,
        tenant_id: str,
        kind: str,
        idempotency_key: str,
        adapter: TypeAdapter[T],
        create: Callable[[sqlite3.Connection, Tenant], T],
    ) -> T:
        """Return the stored result for a known key, or run ``create`` and store its result.

        The lookup, the write and the key's insert share one transaction under the lock, so
        concurrent calls with one key write exactly once. A key first used by another tenant
        or for another kind of write is rejected rather than answered.
        """
        if not idempotency_key or not idempotency_key.strip():
            raise KernelValidationError(
                "The idempotency key is empty.",
                hint="Pass a unique key per intended write, and reuse it only to retry that write.",
            )
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT tenant_id, kind, result_json FROM idempotency_keys WHERE key = ?",
                (idempotency_key,),
            ).fetchone()
            if row is not None:
                if row[0] != tenant_id or row[1] != kind:
                    raise KernelValidationError(
                        f"The idempotency key {idempotency_key!r} was already used for another request.",
                        hint="Generate a new idempotency key for this write.",
                    )
                logger.info(
                    "Replaying %s for tenant %s from idempotency key %s", kind, tenant_id, idempotency_key
                )
                return adapter.validate_json(row[2])
            tenant = self._require_tenant(conn, tenant_id)
            result = create(conn, tenant)
            conn.execute(
                "INSERT INTO idempotency_keys (key, tenant_id, kind, result_json, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (idempotency_key, tenant_id, kind, adapter.dump_json(result).decode(), _iso(_utc_now())),
            )
            return result

    def record_payment(
        self,
        tenant_id: str,
        *,
        vendor_id: str,
        amount: Decimal,
        currency: str,
        invoice_ref: str,
        due_date: dt.date,
        created_by: str,
        idempotency_key: str,
        memo: str | None = None,
    ) -> Payment:
        """Record a scheduled payment to an active vendor of the tenant.

        The amount must be more than 0 and at most 1,000,000.00 with at most two decimals.
        The currency must be the tenant's, and the memo at most 500 characters. No live
        payment to the vendor may already carry the same invoice reference. Lynx-recorded
        payments always get a new VPM record id and a reference of the form PAY-<CODE>-L000001.
        """

        def create(conn: sqlite3.Connection, tenant: Tenant) -> Payment:
            vendor = _vendor_in_tenant(conn, tenant_id, vendor_id)
            if vendor.status != "active":
                raise KernelValidationError(
                    f"Vendor {vendor.name} ({vendor.id}) is {vendor.status}, so no payment can be recorded for it.",
                    hint="Choose an active vendor, or ask a tenant admin to reactivate this one.",
                )
            checked_amount = _check_amount(amount)
            _check_payment_fields(tenant, currency, invoice_ref, due_date, created_by)
            checked_memo = _check_memo(memo)
            existing = conn.execute(
                "SELECT json_extract(record_json, '$.reference') FROM payments WHERE tenant_id = ? "
                "AND vendor_id = ? AND status != 'cancelled' "
                "AND upper(trim(json_extract(record_json, '$.invoice_ref'))) = upper(trim(?))",
                (tenant_id, vendor.id, invoice_ref),
            ).fetchone()
            if existing is not None:
                raise KernelValidationError(
                    f"Invoice {invoice_ref.strip()} of {vendor.name} is already paid or scheduled by "
                    f"payment {existing[0]}, so recording it again would pay it twice.",
                    hint="Check that payment; cancel it in the Kernel first if it is wrong.",
                )

            code = conn.execute(
                "SELECT reference_code FROM tenants WHERE id = ?", (tenant_id,)
            ).fetchone()[0]
            lynx_count = conn.execute(
                "SELECT count(*) FROM payments WHERE tenant_id = ? AND source = 'lynx'", (tenant_id,)
            ).fetchone()[0]

            payment = Payment(
                id=new_id("pay"),
                tenant_id=tenant_id,
                vendor_id=vendor.id,
                reference=f"PAY-{code}-L{lynx_count + 1:06d}",
                invoice_ref=invoice_ref.strip(),
                amount=checked_amount,
                currency=tenant.currency,
                status="scheduled",
                due_date=due_date,
                vpm_record_id=f"VPM-L{uuid.uuid4().hex[:10].upper()}",
                created_by=created_by,
                source="lynx",
                memo=checked_memo,
                created_at=_utc_now(),
            )
            _insert_payments(conn, [payment])
            logger.info(
                "Recorded payment %s of %s %s to vendor %s for tenant %s",
                payment.id, payment.amount, payment.currency, vendor.id, tenant_id,
            )
            return payment

        return self._run_idempotent(tenant_id, "payment", idempotency_key, _PAYMENT_ADAPTER, create)

    def publish_document_requests(
        self,
        tenant_id: str,
        *,
        requests: list[tuple[str, str]],
        created_by: str,
        idempotency_key: str,
    ) -> list[DocumentRequest]:
        """Send one request per (document_id, message) and mark each document "requested".

        Every document must belong to the tenant and not be on file. If one fails, none is
        requested.
        """

        def create(conn: sqlite3.Connection, tenant: Tenant) -> list[DocumentRequest]:
            if not requests:
                raise KernelValidationError(
                    "No document requests were given.",
                    hint="Pass at least one (document_id, message) pair.",
                )
            _check_not_empty("created_by", created_by)
            seen: set[str] = set()
            documents: list[tuple[VendorDocument, str]] = []
            for document_id, message in requests:
                if document_id in seen:
                    raise KernelValidationError(
                        f"Document {document_id} is listed twice.",
                        hint="Request each document once per call.",
                    )
                seen.add(document_id)
                document = _document_in_tenant(conn, tenant_id, document_id)
                if document.status == "on_file":
                    raise KernelValidationError(
                        f"Document {document.id} ({document.doc_type} of {document.purchase_ref}) is already on file.",
                        hint="Request only documents whose status is missing or requested.",
                    )
                _check_not_empty("message", message)
                documents.append((document, message.strip()))

            now = _utc_now()
            created = []
            for document, message in documents:
                request = DocumentRequest(
                    id=new_id("dreq"),
                    tenant_id=tenant_id,
                    vendor_id=document.vendor_id,
                    document_id=document.id,
                    message=message,
                    status="sent",
                    created_by=created_by,
                    created_at=now,
                )
                _update_document(conn, document.model_copy(update={"status": "requested"}))
                _insert_document_requests(conn, [request])
                created.append(request)
            logger.info("Published %d document requests for tenant %s", len(created), tenant_id)
            return created

        return self._run_idempotent(
            tenant_id, "document_requests", idempotency_key, _REQUESTS_ADAPTER, create
        )

    def publish_workflow(
        self,
        tenant_id: str,
        *,
        name: str,
        domain: str,
        steps: list[WorkflowStep],
        sla_hours: float,
        replaces_workflow_id: str | None,
        published_by: str,
        idempotency_key: str,
    ) -> Workflow:
        """Publish a new active workflow, retiring the one it replaces (if any).

        Every step's role must be in the tenant's role catalogue. The replaced workflow keeps
        its record and only changes status to "retired".
        """

        def create(conn: sqlite3.Connection, tenant: Tenant) -> Workflow:
            _check_not_empty("name", name)
            _check_not_empty("domain", domain)
            _check_not_empty("published_by", published_by)
            if not steps:
                raise KernelValidationError(
                    "The workflow has no steps.", hint="Pass at least one step."
                )
            if not isinstance(sla_hours, (int, float)) or not sla_hours > 0:
                raise KernelValidationError(
                    f"Invalid SLA {sla_hours!r}: it must be a positive number of hours.",
                    hint="Pass the SLA in hours, e.g. 48.",
                )
            roles = {
                row[0] for row in conn.execute("SELECT name FROM roles WHERE tenant_id = ?", (tenant_id,))
            }
            for step in steps:
                if step.role not in roles:
                    raise KernelValidationError(
                        f"Step {step.order} ({step.name}) names role {step.role!r}, which {tenant.name} does not have.",
                        hint=f"Use one of: {', '.join(sorted(roles))}.",
                    )
            orders = [step.order for step in steps]
            if len(set(orders)) != len(orders):
                raise KernelValidationError(
                    f"Step orders {orders} repeat a number.", hint="Number the steps 1, 2, 3 and so on."
                )

            version = 1
            if replaces_workflow_id is not None:
                replaced = _workflow_in_tenant(conn, tenant_id, replaces_workflow_id)
                if replaced.status == "retired":
                    raise KernelValidationError(
                        f"Workflow {replaced.name} ({replaced.id}) is already retired.",
                        hint="Replace the workflow that is currently active instead.",
                    )
                _update_workflow(conn, replaced.model_copy(update={"status": "retired"}))
                version = replaced.version + 1

            workflow = Workflow(
                id=new_id("wf"),
                tenant_id=tenant_id,
                name=name.strip(),
                domain=domain.strip(),
                status="active",
                steps=sorted(steps, key=lambda step: step.order),
                runs_last_90_days=0,
                sla_hours=float(sla_hours),
                version=version,
                published_by=published_by,
                published_at=_utc_now(),
            )
            _insert_workflows(conn, [workflow])
            logger.info(
                "Published workflow %s version %d for tenant %s, replacing %s",
                workflow.id, version, tenant_id, replaces_workflow_id,
            )
            return workflow

        return self._run_idempotent(tenant_id, "workflow", idempotency_key, _WORKFLOW_ADAPTER, create)

    def enable_portal(
        self,
        tenant_id: str,
        *,
        name: str,
        audience: str,
        pages: list[str],
        features: list[str],
        theme: str,
        portal_id: str | None,
        enabled_by: str,
        idempotency_key: str,
    ) -> Portal:
        """Create a portal, or update the one named by ``portal_id``, with status "enabled"."""

        def create(conn: sqlite3.Connection, tenant: Tenant) -> Portal:
            _check_not_empty("name", name)
            _check_not_empty("theme", theme)
            _check_not_empty("enabled_by", enabled_by)
            _check_choice("portal audience", audience, PORTAL_AUDIENCES)
            fields = {
                "name": name.strip(),
                "audience": audience,
                "status": "enabled",
                "pages": list(pages),
                "features": list(features),
                "theme": theme.strip(),
                "enabled_by": enabled_by,
                "enabled_at": _utc_now(),
            }
            if portal_id is None:
                portal = Portal(id=new_id("prt"), tenant_id=tenant_id, **fields)  # type: ignore[arg-type]
                _insert_portals(conn, [portal])
            else:
                current = _portal_in_tenant(conn, tenant_id, portal_id)
                portal = Portal.model_validate({**current.model_dump(), **fields})
                _update_portal(conn, portal)
            logger.info("Enabled portal %s for tenant %s", portal.id, tenant_id)
            return portal

        return self._run_idempotent(tenant_id, "portal", idempotency_key, _PORTAL_ADAPTER, create)


# --- Validation helpers ----------------------------------------------------------------------


def _check_choice(label: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise KernelValidationError(
            f"Invalid {label} {value!r}.", hint=f"Use one of: {', '.join(allowed)}."
        )


def _check_not_empty(field_name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise KernelValidationError(
            f"The field {field_name} is empty or not text.", hint=f"Pass a non-empty {field_name}."
        )


def _check_memo(memo: object) -> str | None:
    """Return the memo stripped, or None when empty. Raise KernelValidationError when invalid."""
    if memo is None:
        return None
    if not isinstance(memo, str):
        raise KernelValidationError(
            f"Invalid memo of type {type(memo).__name__}: a memo is text.",
            hint="Pass the memo as a string, or leave it out.",
        )
    if len(memo) > MAX_PAYMENT_MEMO:
        raise KernelValidationError(
            f"The memo has {len(memo):,} characters; the limit is {MAX_PAYMENT_MEMO}.",
            hint="Shorten the memo and keep the details in the invoice.",
        )
    return memo.strip() or None


def _check_payment_fields(
    tenant: Tenant, currency: object, invoice_ref: object, due_date: object, created_by: object
) -> None:
    """Raise KernelValidationError unless currency, invoice reference, due date and author are valid."""
    if not isinstance(currency, str) or currency.strip().upper() != tenant.currency:
        raise KernelValidationError(
            f"Invalid currency {currency!r}: payments of {tenant.name} are in {tenant.currency}.",
            hint=f"Convert the amount to {tenant.currency} and record it in that currency.",
        )
    if not isinstance(invoice_ref, str) or not invoice_ref.strip():
        raise KernelValidationError(
            "The invoice reference is empty.",
            hint="Pass the vendor's invoice number, e.g. INV-202611-12345.",
        )
    if not isinstance(due_date, dt.date):
        raise KernelValidationError(f"Invalid due date {due_date!r}.", hint="Pass a date such as 2026-12-31.")
    _check_not_empty("created_by", created_by)


def _as_of_today(payment: Payment) -> Payment:
    """Report a scheduled payment whose due date has passed as overdue.

    The demo data is seeded once with fixed dates, so without this a payment due after the
    seed date would stay "scheduled" forever.
    """
    if payment.status == "scheduled" and payment.due_date < dt.date.today():
        return payment.model_copy(update={"status": "overdue"})
    return payment


def _check_amount(amount: object) -> Decimal:
    """Return the amount with two decimal places, or raise KernelValidationError."""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if isinstance(amount, bool) or not value.is_finite():
        raise KernelValidationError(
            f"Invalid amount {amount!r}: it is not a number.", hint="Pass a decimal such as 1250.00."
        )
    if value <= 0 or value > MAX_PAYMENT_AMOUNT:
        raise KernelValidationError(
            f"Invalid amount {value}: it must be more than 0 and at most {MAX_PAYMENT_AMOUNT:,}.",
            hint="Split larger payments or ask finance to record them in the Kernel directly.",
        )
    if value != value.quantize(_CENTS):
        raise KernelValidationError(
            f"Invalid amount {value}: it has more than two decimal places.",
            hint="Round the amount to whole cents.",
        )
    return value.quantize(_CENTS)


def _get_in_tenant(
    conn: sqlite3.Connection, model: type[ModelT], table: str, kind: str, tenant_id: str, record_id: str
) -> ModelT:
    row = conn.execute(
        f"SELECT record_json FROM {table} WHERE tenant_id = ? AND id = ?",  # noqa: S608
        (tenant_id, record_id),
    ).fetchone()
    if row is None:
        raise KernelNotFoundError(kind, record_id)
    return model.model_validate_json(row[0])


def _vendor_in_tenant(conn: sqlite3.Connection, tenant_id: str, vendor_id: str) -> Vendor:
    return _get_in_tenant(conn, Vendor, "vendors", "vendor", tenant_id, vendor_id)


def _document_in_tenant(conn: sqlite3.Connection, tenant_id: str, document_id: str) -> VendorDocument:
    return _get_in_tenant(conn, VendorDocument, "vendor_documents", "document", tenant_id, document_id)


def _workflow_in_tenant(conn: sqlite3.Connection, tenant_id: str, workflow_id: str) -> Workflow:
    return _get_in_tenant(conn, Workflow, "workflows", "workflow", tenant_id, workflow_id)


def _portal_in_tenant(conn: sqlite3.Connection, tenant_id: str, portal_id: str) -> Portal:
    return _get_in_tenant(conn, Portal, "portals", "portal", tenant_id, portal_id)


# --- Schema and row writers ------------------------------------------------------------------


def _create_schema(conn: sqlite3.Connection) -> None:
    # executescript() would commit the open transaction, so run the statements one by one.
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table in _RECORD_TABLES:
        conn.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_never_deleted BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'Kernel records are never deleted: change the status instead'); END"
        )


def _insert_tenant_seed(conn: sqlite3.Connection, seed: TenantSeed, hasher: PasswordHasher) -> None:
    tenant_id = seed.tenant.id
    conn.execute(
        "INSERT INTO tenants (id, reference_code, record_json) VALUES (?, ?, ?)",
        (tenant_id, seed.reference_code, seed.tenant.model_dump_json()),
    )
    conn.executemany(
        "INSERT INTO roles (tenant_id, name, position, record_json) VALUES (?, ?, ?, ?)",
        [(tenant_id, role.name, index, role.model_dump_json()) for index, role in enumerate(seed.roles)],
    )
    conn.executemany(
        "INSERT INTO users (id, tenant_id, email_folded, password_hash, active, record_json)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                user.id,
                tenant_id,
                _fold(user.email),
                hasher.hash(DEMO_PASSWORD),
                int(user.active),
                user.model_dump_json(),
            )
            for user in seed.users
        ],
    )
    conn.executemany(
        "INSERT INTO vendors (id, tenant_id, name_folded, status, record_json) VALUES (?, ?, ?, ?, ?)",
        [(v.id, tenant_id, _fold(v.name), v.status, v.model_dump_json()) for v in seed.vendors],
    )
    _insert_documents(conn, seed.documents)
    _insert_document_requests(conn, seed.document_requests)
    _insert_payments(conn, seed.payments)
    _insert_workflows(conn, seed.workflows)
    conn.executemany(
        "INSERT INTO approval_policies (id, tenant_id, domain, position, record_json)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (policy.id, tenant_id, policy.domain, _POLICY_DOMAINS.index(policy.domain), policy.model_dump_json())
            for policy in seed.policies
        ],
    )
    _insert_portals(conn, seed.portals)
    conn.executemany(
        "INSERT INTO design_tokens (tenant_id, name, record_json) VALUES (?, ?, ?)",
        [(tenant_id, token.name, token.model_dump_json()) for token in seed.design_tokens],
    )
    conn.executemany(
        "INSERT INTO brand_rules (id, tenant_id, position, record_json) VALUES (?, ?, ?, ?)",
        [(rule.id, tenant_id, index, rule.model_dump_json()) for index, rule in enumerate(seed.brand_rules)],
    )


def _document_row(document: VendorDocument) -> tuple[Any, ...]:
    return (
        document.status,
        _iso(document.due_date),
        document.purchase_ref,
        _DOCUMENT_TYPE_RANK[document.doc_type],
        document.model_dump_json(),
        document.id,
        document.tenant_id,
        document.vendor_id,
    )


def _insert_documents(conn: sqlite3.Connection, documents: list[VendorDocument]) -> None:
    conn.executemany(
        "INSERT INTO vendor_documents (status, due_date, purchase_ref, type_rank, record_json,"
        " id, tenant_id, vendor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [_document_row(document) for document in documents],
    )


def _update_document(conn: sqlite3.Connection, document: VendorDocument) -> None:
    conn.execute(
        "UPDATE vendor_documents SET status = ?, due_date = ?, purchase_ref = ?, type_rank = ?,"
        " record_json = ? WHERE id = ? AND tenant_id = ? AND vendor_id = ?",
        _document_row(document),
    )


def _insert_document_requests(conn: sqlite3.Connection, requests: list[DocumentRequest]) -> None:
    conn.executemany(
        "INSERT INTO document_requests (id, tenant_id, document_id, created_at, record_json)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (r.id, r.tenant_id, r.document_id, _iso(r.created_at), r.model_dump_json())
            for r in requests
        ],
    )


def _insert_payments(conn: sqlite3.Connection, payments: list[Payment]) -> None:
    conn.executemany(
        "INSERT INTO payments (id, tenant_id, vendor_id, status, has_vpm_record, source,"
        " created_at, record_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                p.id,
                p.tenant_id,
                p.vendor_id,
                p.status,
                int(p.vpm_record_id is not None),
                p.source,
                _iso(p.created_at),
                p.model_dump_json(),
            )
            for p in payments
        ],
    )


def _insert_workflows(conn: sqlite3.Connection, workflows: list[Workflow]) -> None:
    conn.executemany(
        "INSERT INTO workflows (id, tenant_id, name, version, record_json) VALUES (?, ?, ?, ?, ?)",
        [(w.id, w.tenant_id, w.name, w.version, w.model_dump_json()) for w in workflows],
    )


def _update_workflow(conn: sqlite3.Connection, workflow: Workflow) -> None:
    conn.execute(
        "UPDATE workflows SET name = ?, version = ?, record_json = ? WHERE id = ? AND tenant_id = ?",
        (workflow.name, workflow.version, workflow.model_dump_json(), workflow.id, workflow.tenant_id),
    )


def _insert_portals(conn: sqlite3.Connection, portals: list[Portal]) -> None:
    conn.executemany(
        "INSERT INTO portals (id, tenant_id, name, record_json) VALUES (?, ?, ?, ?)",
        [(p.id, p.tenant_id, p.name, p.model_dump_json()) for p in portals],
    )


def _update_portal(conn: sqlite3.Connection, portal: Portal) -> None:
    conn.execute(
        "UPDATE portals SET name = ?, record_json = ? WHERE id = ? AND tenant_id = ?",
        (portal.name, portal.model_dump_json(), portal.id, portal.tenant_id),
    )


__all__ = ["EmbeddedKernel", "MAX_PAYMENT_AMOUNT"]
