"""Verify the audit log's hash chains of every tenant; exit 1 when one is broken.

Run: ``.venv/bin/python -m jobs.verify_audit`` (uses the same settings as the app). Suitable
for cron or a systemd timer; the result is also logged.
"""

from __future__ import annotations

import logging
import sys

from lynx_core.config import load_settings
from lynx_core.errors import ConfigError
from lynx_core.logs import configure_logging
from lynx_core.services import Services

logger = logging.getLogger(__name__)


def verify_all(services: Services) -> bool:
    """Verify each tenant's chains, print one line per tenant, and return whether all are intact."""
    intact = True
    tenants = services.audit.tenants()
    for tenant_id in tenants:
        report = services.audit.verify(tenant_id)
        print(f"{tenant_id}: {report.summary()}")
        for table, (index, digest) in services.audit.chain_heads(tenant_id).items():
            print(f"{tenant_id}: head of {table} is position {index}, hash {digest}")
        if not report.ok:
            intact = False
            logger.error("audit chain broken", extra={"tenant_id": tenant_id, "detail": report.summary()})
    if not tenants:
        print("The audit log is empty; nothing to verify.")
    logger.info("audit verification finished", extra={"tenants": len(tenants), "intact": intact})
    return intact


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"Cannot run: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.lynx_log_dir, settings.log_level, settings.secret_values())
    services = Services.open(settings)
    try:
        return 0 if verify_all(services) else 1
    finally:
        services.close()


if __name__ == "__main__":
    sys.exit(main())
