"""Measure governed tool-call latency per layer against the operating targets.

Run: ``.venv/bin/python bench/bench_tools.py [--calls 40]``. It seeds a throw-away embedded
Kernel and SQLite audit store in a temporary directory, runs tool calls through the real
executor (every gate and both audit writes included) and prints the median and p95 latency
per tool, the p95 target of its layer, and a throughput figure from several threads. It
prints figures only; it asserts nothing, because shared machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lynx_core.actor import Actor  # noqa: E402
from lynx_core.config import Settings  # noqa: E402
from lynx_core.services import Services  # noqa: E402

PASSWORD = "lynx-demo-2026"
TARGET_P95_MS = {"domain": 2000, "cluster": 5000, "cell": 10000}


def actor(services: Services, email: str) -> Actor:
    user = services.kernel.authenticate(email, PASSWORD)
    assert user is not None
    return Actor.from_user(user)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(name: str, layer: str, samples: list[float]) -> None:
    print(f"{name:45s} {layer:8s} n={len(samples):4d} median={statistics.median(samples):8.1f} ms "
          f"p95={percentile(samples, 0.95):8.1f} ms  target p95 < {TARGET_P95_MS[layer]} ms")


def time_calls(services: Services, who: Actor, tool_id: str, make_input, calls: int) -> list[float]:
    samples = []
    for index in range(calls):
        started = time.perf_counter()
        result = services.executor.execute(who, tool_id, make_input(index))
        samples.append((time.perf_counter() - started) * 1000)
        if not result.ok:
            raise SystemExit(f"{tool_id} did not succeed: {result.error}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per tool (default 40)")
    parser.add_argument("--threads", type=int, default=8, help="threads for the throughput run (default 8)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(lynx_data_dir=Path(tmp), lynx_log_dir=Path(tmp) / "logs", environment="test")
        services = Services.open(settings)
        paula = actor(services, "paula.procurement@acme.test")
        felix = actor(services, "felix.finance@acme.test")
        vendor = services.kernel.find_vendor_by_name("tnt_acme", "Helios Steel Works")[0]

        domain_tools = {
            "vpm.domain.unrecorded_payments.list": lambda i: {},
            "finance.domain.health.summarize": lambda i: {},
            "audit.domain.risk.scan": lambda i: {},
            "docs.domain.document_status.list": lambda i: {},
            "workflow.domain.inefficiency.scan": lambda i: {},
        }
        for tool_id, make_input in domain_tools.items():
            who = felix if tool_id.startswith("audit.") else paula
            report(tool_id, "domain", time_calls(services, who, tool_id, make_input, args.calls))

        draft_input = lambda i: {"vendor_id": vendor.id, "amount": "120.00", "currency": "EUR",  # noqa: E731
                                 "invoice_ref": f"INV-BENCH-{i}"}
        report("vpm.cluster.payment.draft", "cluster",
               time_calls(services, paula, "vpm.cluster.payment.draft", draft_input, args.calls))

        # Cell: the whole approval path (submit, approve, execute), timed from approve.
        cell_samples = []
        for index in range(args.calls):
            draft = services.executor.execute(paula, "vpm.cluster.payment.draft", draft_input(10_000 + index))
            request = services.approvals.submit(paula, draft.output["draft_id"])
            started = time.perf_counter()
            outcome = services.approvals.approve(felix, request.request_id)
            cell_samples.append((time.perf_counter() - started) * 1000)
            if outcome.status != "executed":
                raise SystemExit(f"approval did not execute: {outcome.message}")
        report("approve + vpm.cell.payment.record", "cell", cell_samples)

        # Throughput: several threads calling a domain tool at once, as concurrent users would.
        per_thread = max(1, args.calls // 2)
        threads = [
            threading.Thread(target=time_calls, args=(services, paula, "vpm.domain.unrecorded_payments.list",
                                                      lambda i: {}, per_thread))
            for _ in range(args.threads)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        total = per_thread * args.threads
        print(f"throughput: {total} domain calls from {args.threads} threads in {elapsed:.2f} s "
              f"= {total / elapsed * 60:,.0f} calls/minute (target 1,000 per tenant)")
        print(f"audit chain: {services.audit.verify().summary()}")
        services.close()


if __name__ == "__main__":
    main()
