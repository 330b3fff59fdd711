"""A `Kernel` reached over HTTP, speaking the JSON API of `lynx_core.kernel.http_server`.

Failures are retried with exponential backoff when they are likely to pass: connection
errors, timeouts, 429 and 502/503/504. Retrying writes is safe because every write carries
an idempotency key, so the Kernel returns the first result for a repeat. Other 4xx
responses are not retried. Error responses become the same exceptions `EmbeddedKernel`
raises: 404 -> KernelNotFoundError, 422 -> KernelValidationError, anything else that fails ->
KernelAPIError with the HTTP status (None when no response arrived).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from lynx_core.errors import KernelAPIError, KernelNotFoundError, KernelValidationError
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

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Statuses that usually clear on their own, so the request is sent again.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: Upper bound on a server's Retry-After, so one header cannot stall a caller for minutes.
MAX_RETRY_AFTER_SECONDS = 10.0


def _segment(value: str) -> str:
    """Percent-encode one path segment, including any "/" inside an id."""
    return quote(value, safe="")


class HttpKernel:
    """Kernel client over ``httpx.Client``. One instance may be shared by threads.

    ``retries`` is the number of attempts after the first, and attempt ``n`` waits
    ``backoff * 2 ** (n - 1)`` seconds first (or the server's Retry-After, up to 10 s).
    Pass ``transport`` to route requests through a test transport.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, not {retries}.")
        if backoff < 0:
            raise ValueError(f"backoff must be 0 or more seconds, not {backoff}.")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpKernel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        # Shows the URL only, so the API key cannot leak into logs or tracebacks.
        return f"HttpKernel(base_url={self.base_url!r})"

    # --- Transport --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Send the request with retries and return the decoded JSON body of the response."""
        query = {name: value for name, value in (params or {}).items() if value is not None}
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self._client.request(method, path, params=query, json=body)
            except httpx.TransportError as exc:
                reason, status, retry_after = f"{type(exc).__name__}: {exc}", None, None
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return self._handle(method, path, response)
                reason, status = f"HTTP {response.status_code}", response.status_code
                retry_after = _retry_after_seconds(response)

            if attempt == attempts:
                logger.error(
                    "Kernel request %s %s failed after %d attempts: %s", method, path, attempts, reason
                )
                raise KernelAPIError(
                    f"The Kernel request {method} {path} failed after {attempts} attempts: {reason}.",
                    status=status,
                )
            delay = self.backoff * 2 ** (attempt - 1)
            if retry_after is not None:
                delay = max(delay, retry_after)
            logger.warning(
                "Kernel request %s %s failed (%s); retry %d of %d in %.2f s",
                method, path, reason, attempt, self.retries, delay,
            )
            time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _handle(self, method: str, path: str, response: httpx.Response) -> Any:
        if response.is_success:
            try:
                return response.json()
            except ValueError as exc:
                raise KernelAPIError(
                    f"The Kernel response to {method} {path} is not JSON.",
                    status=response.status_code,
                ) from exc

        error = _error_body(response)
        message = str(error.get("message") or f"HTTP {response.status_code}")
        hint = str(error.get("hint") or "")
        if response.status_code == 404 and error.get("code") == "not_found":
            raise KernelNotFoundError(str(error.get("kind", "record")), str(error.get("record_id", "")))
        if response.status_code == 422:
            raise KernelValidationError(message, hint=hint)
        logger.error(
            "Kernel request %s %s failed with HTTP %d: %s", method, path, response.status_code, message
        )
        if response.status_code == 401:
            message = "The Kernel rejected the API key (HTTP 401). Check KERNEL_API_KEY."
        elif response.status_code == 404:
            message = f"The Kernel has no route {method} {path} (HTTP 404): {message}"
        else:
            message = f"The Kernel request {method} {path} failed with HTTP {response.status_code}: {message}"
        raise KernelAPIError(message, status=response.status_code)

    def _get(self, path: str, adapter: TypeAdapter[T], **params: Any) -> T:
        return self._parse(adapter, self._request("GET", path, params=params), path)

    def _post(self, path: str, adapter: TypeAdapter[T], body: dict[str, Any]) -> T:
        return self._parse(adapter, self._request("POST", path, body=body), path)

    @staticmethod
    def _parse(adapter: TypeAdapter[T], data: Any, path: str) -> T:
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            raise KernelAPIError(
                f"The Kernel response to {path} does not match the record types: {exc}."
            ) from exc

    @staticmethod
    def _tenant_path(tenant_id: str, *parts: str) -> str:
        return "/".join(["/api/tenants", _segment(tenant_id), *parts])

    # --- Tenants, users and permissions ------------------------------------------------------

    def ping(self) -> None:
        self._request("GET", "/api/ping")

    def list_tenants(self) -> list[Tenant]:
        return self._get("/api/tenants", _adapter(list[Tenant]))

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._get(self._tenant_path(tenant_id), _adapter(Tenant))

    def authenticate(self, email: str, password: str) -> User | None:
        data = self._request("POST", "/api/authenticate", body={"email": email, "password": password})
        return self._parse(_adapter(User | None), data.get("user") if isinstance(data, dict) else data, "/api/authenticate")

    def get_user(self, tenant_id: str, user_id: str) -> User:
        return self._get(self._tenant_path(tenant_id, "users", _segment(user_id)), _adapter(User))

    def list_users(self, tenant_id: str) -> list[User]:
        return self._get(self._tenant_path(tenant_id, "users"), _adapter(list[User]))

    def list_roles(self, tenant_id: str) -> list[RoleDefinition]:
        return self._get(self._tenant_path(tenant_id, "roles"), _adapter(list[RoleDefinition]))

    def owner_of(self, kind: RecordKind, record_id: str) -> str | None:
        data = self._request("GET", f"/api/owner/{_segment(kind)}/{_segment(record_id)}")
        return self._parse(_adapter(str | None), data.get("tenant_id") if isinstance(data, dict) else data, "/api/owner")

    # --- Vendors, documents and payments -----------------------------------------------------

    def list_vendors(
        self, tenant_id: str, *, status: str | None = None, search: str | None = None
    ) -> list[Vendor]:
        return self._get(
            self._tenant_path(tenant_id, "vendors"), _adapter(list[Vendor]), status=status, search=search
        )

    def get_vendor(self, tenant_id: str, vendor_id: str) -> Vendor:
        return self._get(self._tenant_path(tenant_id, "vendors", _segment(vendor_id)), _adapter(Vendor))

    def find_vendor_by_name(self, tenant_id: str, name: str) -> list[Vendor]:
        return self._get(self._tenant_path(tenant_id, "vendors", "by-name"), _adapter(list[Vendor]), name=name)

    def list_vendor_documents(
        self,
        tenant_id: str,
        *,
        vendor_id: str | None = None,
        status: str | None = None,
    ) -> list[VendorDocument]:
        return self._get(
            self._tenant_path(tenant_id, "documents"),
            _adapter(list[VendorDocument]),
            vendor_id=vendor_id,
            status=status,
        )

    def get_vendor_document(self, tenant_id: str, document_id: str) -> VendorDocument:
        return self._get(
            self._tenant_path(tenant_id, "documents", _segment(document_id)), _adapter(VendorDocument)
        )

    def list_payments(
        self,
        tenant_id: str,
        *,
        vendor_id: str | None = None,
        status: str | None = None,
        without_vpm_record: bool | None = None,
    ) -> list[Payment]:
        flag = None if without_vpm_record is None else str(without_vpm_record).lower()
        return self._get(
            self._tenant_path(tenant_id, "payments"),
            _adapter(list[Payment]),
            vendor_id=vendor_id,
            status=status,
            without_vpm_record=flag,
        )

    def get_payment(self, tenant_id: str, payment_id: str) -> Payment:
        return self._get(self._tenant_path(tenant_id, "payments", _segment(payment_id)), _adapter(Payment))

    # --- Workflows, policies, portals and design ---------------------------------------------

    def list_workflows(self, tenant_id: str) -> list[Workflow]:
        return self._get(self._tenant_path(tenant_id, "workflows"), _adapter(list[Workflow]))

    def get_workflow(self, tenant_id: str, workflow_id: str) -> Workflow:
        return self._get(self._tenant_path(tenant_id, "workflows", _segment(workflow_id)), _adapter(Workflow))

    def list_approval_policies(self, tenant_id: str) -> list[ApprovalPolicy]:
        return self._get(self._tenant_path(tenant_id, "approval-policies"), _adapter(list[ApprovalPolicy]))

    def get_approval_policy(self, tenant_id: str, domain: str) -> ApprovalPolicy:
        return self._get(
            self._tenant_path(tenant_id, "approval-policies", _segment(domain)), _adapter(ApprovalPolicy)
        )

    def list_portals(self, tenant_id: str) -> list[Portal]:
        return self._get(self._tenant_path(tenant_id, "portals"), _adapter(list[Portal]))

    def get_portal(self, tenant_id: str, portal_id: str) -> Portal:
        return self._get(self._tenant_path(tenant_id, "portals", _segment(portal_id)), _adapter(Portal))

    def list_design_tokens(self, tenant_id: str) -> list[DesignToken]:
        return self._get(self._tenant_path(tenant_id, "design-tokens"), _adapter(list[DesignToken]))

    def list_brand_rules(self, tenant_id: str) -> list[BrandRule]:
        return self._get(self._tenant_path(tenant_id, "brand-rules"), _adapter(list[BrandRule]))

    def list_document_requests(self, tenant_id: str) -> list[DocumentRequest]:
        return self._get(self._tenant_path(tenant_id, "document-requests"), _adapter(list[DocumentRequest]))

    # --- Narrow, idempotent writes -----------------------------------------------------------

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
        body = {
            "vendor_id": vendor_id,
            # A string keeps every digit, but a JSON number would pass through a float.
            "amount": str(amount),
            "currency": currency,
            "invoice_ref": invoice_ref,
            "due_date": due_date.isoformat(),
            "created_by": created_by,
            "idempotency_key": idempotency_key,
        }
        if memo is not None:
            # Sent only when set, so a Kernel that predates memos still accepts payments without one.
            body["memo"] = memo
        return self._post(self._tenant_path(tenant_id, "payments"), _adapter(Payment), body)

    def publish_document_requests(
        self,
        tenant_id: str,
        *,
        requests: list[tuple[str, str]],
        created_by: str,
        idempotency_key: str,
    ) -> list[DocumentRequest]:
        body = {
            "requests": [{"document_id": document_id, "message": message} for document_id, message in requests],
            "created_by": created_by,
            "idempotency_key": idempotency_key,
        }
        return self._post(
            self._tenant_path(tenant_id, "document-requests"), _adapter(list[DocumentRequest]), body
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
        body = {
            "name": name,
            "domain": domain,
            "steps": [step.model_dump(mode="json") for step in steps],
            "sla_hours": sla_hours,
            "replaces_workflow_id": replaces_workflow_id,
            "published_by": published_by,
            "idempotency_key": idempotency_key,
        }
        return self._post(self._tenant_path(tenant_id, "workflows"), _adapter(Workflow), body)

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
        body = {
            "name": name,
            "audience": audience,
            "pages": list(pages),
            "features": list(features),
            "theme": theme,
            "portal_id": portal_id,
            "enabled_by": enabled_by,
            "idempotency_key": idempotency_key,
        }
        return self._post(self._tenant_path(tenant_id, "portals"), _adapter(Portal), body)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    """Return a cached TypeAdapter, because building one per call would dominate small requests."""
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = TypeAdapter(annotation)
    return adapter


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"message": response.text[:200]}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _retry_after_seconds(response: httpx.Response) -> float | None:
    """Return the Retry-After header in seconds (capped), or None if absent or a date."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        return None
