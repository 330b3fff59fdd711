"""Serve the embedded Kernel over HTTP, so Lynx can run against ``KERNEL_API_URL``.

Run: ``KERNEL_API_KEY=... .venv/bin/python -m lynx_core.kernel.serve --port 9100``, then start
Lynx with ``KERNEL_API_URL=http://127.0.0.1:9100`` and the same ``KERNEL_API_KEY``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import uvicorn

from lynx_core.kernel.embedded import EmbeddedKernel
from lynx_core.kernel.http_server import create_kernel_app
from lynx_core.logs import configure_logging

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the embedded demo Kernel over HTTP.")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("LYNX_DATA_DIR", "data")),
                        help="directory of kernel.sqlite (default: LYNX_DATA_DIR or data)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9100, help="port to listen on (default 9100)")
    args = parser.parse_args(argv)

    api_key = os.environ.get("KERNEL_API_KEY", "")
    if len(api_key) < 16:
        print("KERNEL_API_KEY is missing or shorter than 16 characters; set it to a random secret.", file=sys.stderr)
        return 2
    configure_logging(Path(os.environ.get("LYNX_LOG_DIR", "logs")), os.environ.get("LOG_LEVEL", "INFO"), [api_key])
    kernel = EmbeddedKernel(args.data_dir / "kernel.sqlite")
    logger.info("Kernel API starting", extra={"host": args.host, "port": args.port})
    try:
        uvicorn.run(create_kernel_app(kernel, api_key), host=args.host, port=args.port, log_level="warning")
    finally:
        kernel.close()
        logger.info("Kernel API stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
