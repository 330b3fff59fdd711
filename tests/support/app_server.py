"""Start the real app (``streamlit run app.py``) on a free loopback port for a test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_app(data_dir: Path, *, env: dict[str, str] | None = None, timeout: float = 90.0) -> Iterator[str]:
    """Run the app with its data under ``data_dir``; yield its base URL; stop it afterwards."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    environ.update({
        "LYNX_DATA_DIR": str(data_dir / "data"),
        "LYNX_LOG_DIR": str(data_dir / "logs"),
        "ENVIRONMENT": "test",
        **(env or {}),
    })
    log_path = data_dir / "app-output.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1"],
            cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"The app exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
                try:
                    if httpx.get(f"{base_url}/health", timeout=10).status_code in (200, 503):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"The app did not answer within {timeout} s:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.5)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
