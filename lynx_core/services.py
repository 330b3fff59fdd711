"""The services object: one set of stores, clients and services per process.

`app.py`'s lifespan hook opens it at start-up and closes it at shutdown; Streamlit pages and
HTTP routes reach the same object through `get_services()`. When a page runs without the
lifespan (Streamlit's AppTest), `get_services()` opens it on first use.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from lynx_core import __version__
from lynx_core.audit import AuditLog
from lynx_core.config import Settings, load_settings
from lynx_core.kernel.base import Kernel
from lynx_core.policy.approvals import ApprovalService
from lynx_core.policy.executor import ToolExecutor
from lynx_core.policy.sessions import SessionService
from lynx_core.store.db import Database
from lynx_core.store.drafts import DraftStore
from lynx_core.store.schema import SQLITE_STATE_SCHEMA
from lynx_core.tools.catalog import build_registry
from lynx_core.tools.registry import ToolRegistry

logger = logging.getLogger(__name__)


def open_kernel(settings: Settings) -> Kernel:
    """Return the HTTP Kernel when KERNEL_API_URL is set, else the embedded Kernel."""
    if settings.kernel_api_url is not None:
        from lynx_core.kernel.http_client import HttpKernel

        assert settings.kernel_api_key is not None
        return HttpKernel(str(settings.kernel_api_url).rstrip("/"), settings.kernel_api_key.get_secret_value())
    from lynx_core.kernel.embedded import EmbeddedKernel

    return EmbeddedKernel(settings.lynx_data_dir / "kernel.sqlite")


def database_url(settings: Settings) -> str:
    if settings.lynx_database_url:
        return settings.lynx_database_url
    return f"sqlite:///{settings.lynx_data_dir / 'lynx.sqlite'}"


@dataclass
class Services:
    settings: Settings
    kernel: Kernel
    db: Database
    audit: AuditLog
    drafts: DraftStore
    registry: ToolRegistry
    executor: ToolExecutor
    sessions: SessionService
    approvals: ApprovalService
    version: str = __version__

    @classmethod
    def open(cls, settings: Settings, *, kernel: Kernel | None = None) -> "Services":
        settings.lynx_data_dir.mkdir(parents=True, exist_ok=True)
        kernel = kernel or open_kernel(settings)
        db = Database(database_url(settings))
        if db.dialect == "sqlite":
            db.executescript(SQLITE_STATE_SCHEMA)
        else:
            from lynx_core.store.migrate import apply_migrations

            apply_migrations(db)
        audit = AuditLog(db, spool_path=settings.lynx_data_dir / "audit-spool.jsonl")
        audit.create_schema()
        drafts = DraftStore(db)
        registry = build_registry()
        executor = ToolExecutor(registry=registry, kernel=kernel, audit=audit, drafts=drafts)
        services = cls(
            settings=settings, kernel=kernel, db=db, audit=audit, drafts=drafts, registry=registry,
            executor=executor,
            sessions=SessionService(db=db, kernel=kernel, audit=audit, lifetime_hours=settings.lynx_session_hours),
            approvals=ApprovalService(kernel=kernel, drafts=drafts, audit=audit, executor=executor, registry=registry,
                                      default_expiry_hours=settings.lynx_approval_expiry_hours),
        )
        logger.info("services opened", extra={"kernel": type(kernel).__name__, "database": db.dialect,
                                               "llm_provider": settings.llm_provider, "tools": len(registry)})
        return services

    def close(self) -> None:
        self.db.close()
        close = getattr(self.kernel, "close", None)
        if close is not None:
            close()
        logger.info("services closed")


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """Return the process's services, opening them from the settings on first use."""
    global _services
    with _lock:
        if _services is None:
            from lynx_core.logs import configure_logging

            settings = load_settings()
            configure_logging(settings.lynx_log_dir, settings.log_level, settings.secret_values())
            _services = Services.open(settings)
        return _services


def set_services(services: Services | None) -> None:
    """Install (or clear) the process's services; used by the lifespan hook and by tests."""
    global _services
    with _lock:
        _services = services

