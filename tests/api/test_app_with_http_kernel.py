"""The app against a Kernel served over HTTP: KERNEL_API_URL switches Lynx to the HTTP client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from lynx_core.config import Settings
from lynx_core.kernel.http_client import HttpKernel
from lynx_core.services import Services, open_kernel
from tests.conftest import actor_for, copy_kernel
from tests.support.app_server import ROOT, free_port

API_KEY = "test-kernel-key-0123456789"


def start_kernel_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lynx_core.kernel.serve", "--data-dir", str(data_dir), "--port", str(port)],
        cwd=ROOT, env={**os.environ, "KERNEL_API_KEY": API_KEY, "LYNX_LOG_DIR": str(data_dir / "logs")},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/ping", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"The Kernel server did not start: {process.stderr.read().decode()[-2000:]}")


def test_governed_calls_and_approval_run_over_http_kernel(kernel_template: Path, tmp_path: Path) -> None:
    copy_kernel(kernel_template, tmp_path / "kernel")
    process, url = start_kernel_server(tmp_path / "kernel")
    try:
        settings = Settings(lynx_data_dir=tmp_path / "lynx", lynx_log_dir=tmp_path / "logs", environment="test",
                            kernel_api_url=url, kernel_api_key=API_KEY)
        kernel = open_kernel(settings)
        assert isinstance(kernel, HttpKernel)
        services = Services.open(settings, kernel=kernel)

        paula = actor_for(services, "paula.procurement@acme.test")
        listed = services.executor.execute(paula, "vpm.domain.unrecorded_payments.list", {})
        assert listed.status == "succeeded"
        assert listed.output["tenant_id"] == "tnt_acme"

        foreign = services.kernel.list_vendors("tnt_borealis")[0].id
        refused = services.executor.execute(paula, "vendor.domain.vendor.summarize", {"vendor_id": foreign})
        assert refused.refusal.rule == "tenant_isolation"

        draft = services.executor.execute(paula, "vpm.cluster.payment.draft", {
            "vendor_name": "Helios Steel Works", "amount": "410.00", "currency": "EUR", "invoice_ref": "INV-HTTP-1"})
        request = services.approvals.submit(paula, draft.output["draft_id"])
        outcome = services.approvals.approve(actor_for(services, "felix.finance@acme.test"), request.request_id)
        assert outcome.status == "executed", outcome.message
        recorded = [p for p in services.kernel.list_payments("tnt_acme") if p.invoice_ref == "INV-HTTP-1"]
        assert len(recorded) == 1
        assert recorded[0].source == "lynx"
        services.db.close()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_kernel_server_refuses_to_start_without_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lynx_core.kernel.serve", "--data-dir", str(tmp_path)],
        cwd=ROOT, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "KERNEL_API_KEY is missing" in result.stderr
