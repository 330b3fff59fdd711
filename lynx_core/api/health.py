"""``GET /health``: 200 when every component Lynx needs can be used, 503 naming those that cannot."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from lynx_core import __version__
from lynx_core.services import Services, get_services

logger = logging.getLogger(__name__)


def check_components(services: Services) -> list[dict[str, str]]:
    """Return one entry per failing component: the audit store (a write lock) and the Kernel."""
    failing: list[dict[str, str]] = []
    try:
        services.audit.check_writable()
    except Exception as exc:  # any failure means the audit log cannot be written
        failing.append({"component": "audit_store", "error": f"{type(exc).__name__}: {exc}"})
    try:
        spooled = services.audit.spooled_count()
    except OSError as exc:
        spooled = 0
        failing.append({"component": "audit_spool", "error": str(exc)})
    if spooled:
        failing.append({"component": "audit_store",
                        "error": f"{spooled} audit rows are waiting in the local spool for the database"})
    try:
        services.kernel.ping()
    except Exception as exc:
        failing.append({"component": "kernel", "error": f"{type(exc).__name__}: {exc}"})
    return failing


async def health(request: Request) -> JSONResponse:
    services = get_services()
    failing = await run_in_threadpool(check_components, services)
    body: dict[str, Any] = {"status": "healthy", "version": __version__}
    if failing:
        body = {"status": "unhealthy", "version": __version__, "failing": failing}
        logger.error("health check failed", extra={"failing": [f["component"] for f in failing]})
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
