"""Lynx's entry point: ``streamlit run app.py``.

Streamlit imports this module to find ``app`` (an ``st.App``: the pages, ``/health`` and a
lifespan hook that opens and closes the services). It also runs this file as the start
page (sign-in) for every browser session; there ``__name__`` is ``"__main__"``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import streamlit as st

logger = logging.getLogger("app")

if __name__ == "__main__":
    # Streamlit runs this file as the start page; the scripts in pages/ are the other pages.
    from lynx_core.ui.sign_in import render

    render()
else:
    from starlette.routing import Route

    import sys

    from lynx_core.api.health import health
    from lynx_core.config import load_settings
    from lynx_core.errors import ConfigError
    from lynx_core.logs import configure_logging
    from lynx_core.services import Services, set_services

    # Check the settings before the server starts, so a bad value stops start-up with the
    # setting's name and the fix rather than a traceback from inside the lifespan hook.
    try:
        load_settings()
    except ConfigError as exc:
        print(f"Lynx cannot start. {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    @asynccontextmanager
    async def lifespan(_app):
        settings = load_settings()
        log_file = configure_logging(settings.lynx_log_dir, settings.log_level, settings.secret_values())
        services = Services.open(settings)
        set_services(services)
        logger.info("Lynx started", extra={"version": services.version, "log_file": str(log_file),
                                           "environment": settings.environment})
        try:
            yield {"services": services}
        finally:
            set_services(None)
            services.close()
            logger.info("Lynx stopped")

    app = st.App("app.py", lifespan=lifespan, routes=[Route("/health", health, methods=["GET"])])
