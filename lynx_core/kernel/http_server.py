"""JSON over HTTP for any `Kernel`, so `HttpKernel` can reach a Kernel in another process.

Routes (all under ``/api``, all requiring ``Authorization: Bearer <api key>``)::

    GET  /ping
    GET  /tenants                                GET /tenants/{tenant_id}
    POST /authenticate                           body {email, password} -> {"user": User | null}
    GET  /owner/{kind}/{record_id}               -> {"tenant_id": str | null}
    GET  /tenants/{t}/users                      GET /tenants/{t}/users/{user_id}
    GET  /tenants/{t}/roles
    GET  /tenants/{t}/vendors?status=&search=    GET /tenants/{t}/vendors/{vendor_id}
    GET  /tenants/{t}/vendors/by-name?name=
    GET  /tenants/{t}/documents?vendor_id=&status=
    GET  /tenants/{t}/documents/{document_id}
    GET  /tenants/{t}/payments?vendor_id=&status=&without_vpm_record=true|false
    GET  /tenants/{t}/payments/{payment_id}      POST /tenants/{t}/payments (record_payment)
    GET  /tenants/{t}/workflows                  GET /tenants/{t}/workflows/{workflow_id}
    POST /tenants/{t}/workflows (publish_workflow)
    GET  /tenants/{t}/approval-policies          GET /tenants/{t}/approval-policies/{domain}
    GET  /tenants/{t}/portals                    GET /tenants/{t}/portals/{portal_id}
    POST /tenants/{t}/portals (enable_portal)
    GET  /tenants/{t}/design-tokens              GET /tenants/{t}/brand-rules
    GET  /tenants/{t}/document-requests          POST /tenants/{t}/document-requests

Records are returned as their pydantic JSON (amounts as strings), and lists as JSON arrays.
Errors are ``{"error": {"code", "message", "hint"}}`` with 401 for a missing or wrong key,
400 for a malformed body or parameter, 404 for an unknown record (plus ``kind`` and
``record_id``), 422 when the Kernel rejects a value, and 500 for anything unexpected.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from lynx_core.errors import KernelError, KernelNotFoundError, KernelValidationError
from lynx_core.kernel.base import Kernel
from lynx_core.kernel.models import WorkflowStep

logger = logging.getLogger(__name__)

class BadRequestError(Exception):
    """A request body or query parameter is malformed or has the wrong type."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def error_response(
    status: int, code: str, message: str, hint: str = "", **extra: Any
) -> JSONResponse:
    """Build the JSON error body that every failing route returns."""
    return JSONResponse({"error": {"code": code, "message": message, "hint": hint, **extra}}, status_code=status)


class BearerAuthMiddleware:
    """Reject every HTTP request whose bearer token is not the API key, with a 401 JSON error."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._expected = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._is_authorised(Headers(scope=scope)):
            logger.warning("Rejected %s %s: missing or wrong API key", scope.get("method"), scope.get("path"))
            response = error_response(
                401,
                "unauthorized",
                "The API key is missing or wrong.",
                hint="Send the header 'Authorization: Bearer <KERNEL_API_KEY>'.",
            )
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _is_authorised(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self._expected)


# --- Request bodies --------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthenticateBody(_Body):
    email: str
    password: str


class RecordPaymentBody(_Body):
    vendor_id: str
    amount: Decimal
    currency: str
    invoice_ref: str
    due_date: dt.date
    created_by: str
    idempotency_key: str
    memo: str | None = None


class DocumentRequestItem(_Body):
    document_id: str
    message: str


class PublishDocumentRequestsBody(_Body):
    requests: list[DocumentRequestItem]
    created_by: str
    idempotency_key: str


class PublishWorkflowBody(_Body):
    name: str
    domain: str
    steps: list[WorkflowStep]
    sla_hours: float
    replaces_workflow_id: str | None = None
    published_by: str
    idempotency_key: str


class EnablePortalBody(_Body):
    name: str
    audience: str
    pages: list[str]
    features: list[str]
    theme: str
    portal_id: str | None = None
    enabled_by: str
    idempotency_key: str


async def _parse_body(request: Request, model: type[BaseModel]) -> Any:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"The request body is not valid JSON: {exc}.", hint="Send a JSON object.") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()
        )
        raise BadRequestError(
            f"Invalid request body: {problems}.", hint="Correct the listed fields and send again."
        ) from exc


def _optional_query(request: Request, name: str) -> str | None:
    """Return a query parameter, treating an empty value like a missing one."""
    value = request.query_params.get(name)
    return value if value else None


def _optional_bool_query(request: Request, name: str) -> bool | None:
    value = _optional_query(request, name)
    if value is None:
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise BadRequestError(f"Invalid value {value!r} for {name}.", hint="Use true or false.")


def _to_json(result: Any) -> Any:
    return TypeAdapter(Any).dump_python(result, mode="json")


# --- Application -----------------------------------------------------------------------------


def create_kernel_app(kernel: Kernel, api_key: str) -> Starlette:
    """Build the Starlette app serving ``kernel``. Every route needs ``api_key`` as a bearer token.

    Kernel calls run in Starlette's thread pool because the Kernel API is blocking.
    """
    if not api_key:
        raise ValueError("The Kernel API key is empty. Set a long random key to serve the Kernel.")

    def route(path: str, handler: Callable[..., Awaitable[Any]], method: str = "GET") -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                result = await handler(request, **request.path_params)
            except BadRequestError as exc:
                logger.info("Bad request %s %s: %s", request.method, request.url.path, exc.message)
                return error_response(400, "bad_request", exc.message, exc.hint)
            except KernelNotFoundError as exc:
                logger.info("Not found %s %s: %s %s", request.method, request.url.path, exc.kind, exc.record_id)
                return error_response(
                    404, exc.code, exc.message, exc.hint, kind=exc.kind, record_id=exc.record_id
                )
            except KernelValidationError as exc:
                logger.info("Rejected %s %s: %s", request.method, request.url.path, exc.message)
                return error_response(422, exc.code, exc.message, exc.hint)
            except KernelError as exc:
                logger.warning("Kernel failed on %s %s: %s", request.method, request.url.path, exc)
                return error_response(502, exc.code, exc.message, exc.hint)
            except Exception:
                logger.exception("Unexpected error on %s %s", request.method, request.url.path)
                return error_response(
                    500, "internal_error", "The Kernel failed unexpectedly.", hint="See the server log."
                )
            return JSONResponse(_to_json(result))

        return Route(path, endpoint, methods=[method])

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return run_in_threadpool(function, *args, **kwargs)

    async def ping(request: Request) -> dict[str, str]:
        await call(kernel.ping)
        return {"status": "ok"}

    async def list_tenants(request: Request) -> Any:
        return await call(kernel.list_tenants)

    async def get_tenant(request: Request, tenant_id: str) -> Any:
        return await call(kernel.get_tenant, tenant_id)

    async def authenticate(request: Request) -> Any:
        body = await _parse_body(request, AuthenticateBody)
        return {"user": await call(kernel.authenticate, body.email, body.password)}

    async def owner_of(request: Request, kind: str, record_id: str) -> Any:
        return {"tenant_id": await call(kernel.owner_of, kind, record_id)}

    async def list_users(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_users, tenant_id)

    async def get_user(request: Request, tenant_id: str, user_id: str) -> Any:
        return await call(kernel.get_user, tenant_id, user_id)

    async def list_roles(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_roles, tenant_id)

    async def list_vendors(request: Request, tenant_id: str) -> Any:
        return await call(
            kernel.list_vendors,
            tenant_id,
            status=_optional_query(request, "status"),
            search=_optional_query(request, "search"),
        )

    async def find_vendor_by_name(request: Request, tenant_id: str) -> Any:
        return await call(kernel.find_vendor_by_name, tenant_id, request.query_params.get("name", ""))

    async def get_vendor(request: Request, tenant_id: str, vendor_id: str) -> Any:
        return await call(kernel.get_vendor, tenant_id, vendor_id)

    async def list_documents(request: Request, tenant_id: str) -> Any:
        return await call(
            kernel.list_vendor_documents,
            tenant_id,
            vendor_id=_optional_query(request, "vendor_id"),
            status=_optional_query(request, "status"),
        )

    async def get_document(request: Request, tenant_id: str, document_id: str) -> Any:
        return await call(kernel.get_vendor_document, tenant_id, document_id)

    async def list_payments(request: Request, tenant_id: str) -> Any:
        return await call(
            kernel.list_payments,
            tenant_id,
            vendor_id=_optional_query(request, "vendor_id"),
            status=_optional_query(request, "status"),
            without_vpm_record=_optional_bool_query(request, "without_vpm_record"),
        )

    async def get_payment(request: Request, tenant_id: str, payment_id: str) -> Any:
        return await call(kernel.get_payment, tenant_id, payment_id)

    async def record_payment(request: Request, tenant_id: str) -> Any:
        body = await _parse_body(request, RecordPaymentBody)
        return await call(kernel.record_payment, tenant_id, **body.model_dump())

    async def list_workflows(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_workflows, tenant_id)

    async def get_workflow(request: Request, tenant_id: str, workflow_id: str) -> Any:
        return await call(kernel.get_workflow, tenant_id, workflow_id)

    async def publish_workflow(request: Request, tenant_id: str) -> Any:
        body = await _parse_body(request, PublishWorkflowBody)
        fields = {name: getattr(body, name) for name in PublishWorkflowBody.model_fields}
        return await call(kernel.publish_workflow, tenant_id, **fields)

    async def list_policies(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_approval_policies, tenant_id)

    async def get_policy(request: Request, tenant_id: str, domain: str) -> Any:
        return await call(kernel.get_approval_policy, tenant_id, domain)

    async def list_portals(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_portals, tenant_id)

    async def get_portal(request: Request, tenant_id: str, portal_id: str) -> Any:
        return await call(kernel.get_portal, tenant_id, portal_id)

    async def enable_portal(request: Request, tenant_id: str) -> Any:
        body = await _parse_body(request, EnablePortalBody)
        return await call(kernel.enable_portal, tenant_id, **body.model_dump())

    async def list_design_tokens(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_design_tokens, tenant_id)

    async def list_brand_rules(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_brand_rules, tenant_id)

    async def list_document_requests(request: Request, tenant_id: str) -> Any:
        return await call(kernel.list_document_requests, tenant_id)

    async def publish_document_requests(request: Request, tenant_id: str) -> Any:
        body = await _parse_body(request, PublishDocumentRequestsBody)
        return await call(
            kernel.publish_document_requests,
            tenant_id,
            requests=[(item.document_id, item.message) for item in body.requests],
            created_by=body.created_by,
            idempotency_key=body.idempotency_key,
        )

    tenant = "/api/tenants/{tenant_id}"
    routes = [
        route("/api/ping", ping),
        route("/api/tenants", list_tenants),
        route(tenant, get_tenant),
        route("/api/authenticate", authenticate, "POST"),
        # ":path" lets an id containing "/" reach the Kernel and come back as not found.
        route("/api/owner/{kind}/{record_id:path}", owner_of),
        route(f"{tenant}/users", list_users),
        route(f"{tenant}/users/{{user_id:path}}", get_user),
        route(f"{tenant}/roles", list_roles),
        route(f"{tenant}/vendors", list_vendors),
        route(f"{tenant}/vendors/by-name", find_vendor_by_name),
        route(f"{tenant}/vendors/{{vendor_id:path}}", get_vendor),
        route(f"{tenant}/documents", list_documents),
        route(f"{tenant}/documents/{{document_id:path}}", get_document),
        route(f"{tenant}/payments", list_payments),
        route(f"{tenant}/payments", record_payment, "POST"),
        route(f"{tenant}/payments/{{payment_id:path}}", get_payment),
        route(f"{tenant}/workflows", list_workflows),
        route(f"{tenant}/workflows", publish_workflow, "POST"),
        route(f"{tenant}/workflows/{{workflow_id:path}}", get_workflow),
        route(f"{tenant}/approval-policies", list_policies),
        route(f"{tenant}/approval-policies/{{domain:path}}", get_policy),
        route(f"{tenant}/portals", list_portals),
        route(f"{tenant}/portals", enable_portal, "POST"),
        route(f"{tenant}/portals/{{portal_id:path}}", get_portal),
        route(f"{tenant}/design-tokens", list_design_tokens),
        route(f"{tenant}/brand-rules", list_brand_rules),
        route(f"{tenant}/document-requests", list_document_requests),
        route(f"{tenant}/document-requests", publish_document_requests, "POST"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = "route_not_found" if exc.status_code == 404 else "http_error"
        return error_response(
            exc.status_code,
            code,
            f"{request.method} {request.url.path} failed: {exc.detail}.",
            hint="Check the URL and method against the Kernel API routes.",
        )

    return Starlette(
        routes=routes,
        middleware=[Middleware(BearerAuthMiddleware, api_key=api_key)],
        exception_handlers={HTTPException: http_error},
    )
