"""HttpKernel against the real Kernel HTTP server, and its retries against a scripted server.

The Kernel server runs under uvicorn on 127.0.0.1 in a background thread and serves an
EmbeddedKernel. Every read through HTTP must equal the same read made directly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import uvicorn

from lynx_core.errors import KernelAPIError, KernelNotFoundError, KernelValidationError
from lynx_core.kernel import EmbeddedKernel, HttpKernel, Kernel, WorkflowStep
from lynx_core.kernel.http_server import create_kernel_app
from lynx_core.kernel.seed import DEMO_PASSWORD

API_KEY = "test-kernel-key-8f3a"
ACME = "tnt_acme"
BOREALIS = "tnt_borealis"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedKernel]:
    kernel = EmbeddedKernel(tmp_path_factory.mktemp("http") / "kernel.sqlite")
    yield kernel
    kernel.close()


@pytest.fixture(scope="module")
def server_url(embedded: EmbeddedKernel) -> Iterator[str]:
    """Serve ``embedded`` with uvicorn on a free loopback port for the whole module."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_kernel_app(embedded, API_KEY), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped during start-up"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def client(server_url: str) -> Iterator[HttpKernel]:
    kernel = HttpKernel(server_url, API_KEY, timeout=5.0, retries=1, backoff=0.01)
    yield kernel
    kernel.close()


@pytest.fixture
def raw(server_url: str) -> Iterator[httpx.Client]:
    """A plain HTTP client with the right key, for checks below the HttpKernel layer."""
    with httpx.Client(base_url=server_url, headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        yield http


# --- Scripted server for retry behaviour -----------------------------------------------------


class ScriptedServer:
    """Loopback HTTP server that responds with scripted statuses, then 200 {"status": "ok"}.

    A script item is a status code, or a (status code, seconds to wait first) pair.
    """

    def __init__(self, script: list[int | tuple[int, float]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
                with owner._lock:
                    owner.requests.append(dict(self.headers))
                    item = owner.script.pop(0) if owner.script else 200
                status, delay = item if isinstance(item, tuple) else (item, 0.0)
                if delay:
                    time.sleep(delay)
                body = json.dumps(
                    {"status": "ok"} if status == 200 else {"error": {"code": "scripted", "message": f"scripted {status}", "hint": ""}}
                ).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # The client gave up waiting, which is what a timeout test wants.

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def scripted_client(url: str, **options: Any) -> HttpKernel:
    settings = {"retries": 3, "backoff": 0.01, "timeout": 2.0}
    settings.update(options)
    return HttpKernel(url, API_KEY, **settings)


# --- Reads match the embedded Kernel ---------------------------------------------------------


def test_http_kernel_satisfies_protocol(client: HttpKernel) -> None:
    assert isinstance(client, Kernel)


def test_ping_succeeds(client: HttpKernel) -> None:
    client.ping()


ReadCall = Callable[[Kernel], Any]


READS: dict[str, ReadCall] = {
    "list_tenants": lambda k: k.list_tenants(),
    "get_tenant": lambda k: k.get_tenant(BOREALIS),
    "list_users": lambda k: k.list_users(ACME),
    "get_user": lambda k: k.get_user(ACME, "usr_acme_deputy"),
    "list_roles": lambda k: k.list_roles(BOREALIS),
    "list_vendors": lambda k: k.list_vendors(ACME),
    "list_vendors_status": lambda k: k.list_vendors(BOREALIS, status="blocked"),
    "list_vendors_search": lambda k: k.list_vendors(ACME, search="steel"),
    "get_vendor": lambda k: k.get_vendor(ACME, k.list_vendors(ACME)[5].id),
    "find_vendor_by_name": lambda k: k.find_vendor_by_name(ACME, "quarry & sons"),
    "list_vendor_documents": lambda k: k.list_vendor_documents(ACME),
    "list_vendor_documents_filtered": lambda k: k.list_vendor_documents(BOREALIS, status="missing"),
    "get_vendor_document": lambda k: k.get_vendor_document(ACME, k.list_vendor_documents(ACME)[7].id),
    "list_payments": lambda k: k.list_payments(ACME),
    "list_payments_overdue": lambda k: k.list_payments(BOREALIS, status="overdue"),
    "list_payments_without_vpm": lambda k: k.list_payments(ACME, without_vpm_record=True),
    "list_payments_with_vpm": lambda k: k.list_payments(ACME, without_vpm_record=False),
    "get_payment": lambda k: k.get_payment(BOREALIS, k.list_payments(BOREALIS)[11].id),
    "list_workflows": lambda k: k.list_workflows(ACME),
    "get_workflow": lambda k: k.get_workflow(ACME, k.list_workflows(ACME)[3].id),
    "list_approval_policies": lambda k: k.list_approval_policies(BOREALIS),
    "get_approval_policy": lambda k: k.get_approval_policy(BOREALIS, "payments"),
    "list_portals": lambda k: k.list_portals(ACME),
    "get_portal": lambda k: k.get_portal(ACME, k.list_portals(ACME)[1].id),
    "list_design_tokens": lambda k: k.list_design_tokens(BOREALIS),
    "list_brand_rules": lambda k: k.list_brand_rules(ACME),
    "list_document_requests": lambda k: k.list_document_requests(ACME),
    "owner_of": lambda k: k.owner_of("vendor", k.list_vendors(BOREALIS)[0].id),
    "owner_of_missing": lambda k: k.owner_of("payment", "pay_missing"),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_read_over_http_equals_embedded(name: str, client: HttpKernel, embedded: EmbeddedKernel) -> None:
    via_http = READS[name](client)
    direct = READS[name](embedded)

    assert via_http == direct
    assert type(via_http) is type(direct)


def test_amounts_keep_decimal_precision(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    payments = client.list_payments(ACME)

    assert all(isinstance(p.amount, Decimal) for p in payments)
    assert [p.amount for p in payments] == [p.amount for p in embedded.list_payments(ACME)]


def test_authenticate_over_http(client: HttpKernel) -> None:
    user = client.authenticate("Bella.Admin@borealis.test", DEMO_PASSWORD)

    assert user is not None
    assert user.id == "usr_bor_admin"
    assert client.authenticate("bella.admin@borealis.test", "nope") is None
    assert client.authenticate("nobody@borealis.test", DEMO_PASSWORD) is None


# --- Authentication of the API ---------------------------------------------------------------


def test_wrong_api_key_gets_401(server_url: str) -> None:
    with HttpKernel(server_url, "wrong-key", retries=3, backoff=0.01) as wrong:
        with pytest.raises(KernelAPIError) as error:
            wrong.list_tenants()

    assert error.value.status == 401
    assert "API key" in error.value.message


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {API_KEY}"}, {"Authorization": "Bearer wrong"}],
)
def test_missing_or_wrong_bearer_gets_json_401(server_url: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{server_url}/api/tenants", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"
    assert API_KEY not in response.text


def test_create_kernel_app_requires_key(embedded: EmbeddedKernel) -> None:
    with pytest.raises(ValueError, match="API key is empty"):
        create_kernel_app(embedded, "")


# --- Error mapping ---------------------------------------------------------------------------


def test_foreign_record_maps_to_not_found(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    foreign_id = embedded.list_vendors(BOREALIS)[0].id

    with pytest.raises(KernelNotFoundError) as via_http:
        client.get_vendor(ACME, foreign_id)
    with pytest.raises(KernelNotFoundError) as direct:
        embedded.get_vendor(ACME, foreign_id)

    assert via_http.value.kind == "vendor"
    assert via_http.value.record_id == foreign_id
    assert str(via_http.value) == str(direct.value)


def test_id_with_slash_is_not_found(client: HttpKernel) -> None:
    with pytest.raises(KernelNotFoundError) as error:
        client.get_payment(ACME, "../tenants/tnt_borealis")

    assert error.value.record_id == "../tenants/tnt_borealis"


def test_unknown_tenant_maps_to_not_found(client: HttpKernel) -> None:
    with pytest.raises(KernelNotFoundError) as error:
        client.list_payments("tnt_nope")

    assert error.value.kind == "tenant"


def test_rejected_value_maps_to_validation_error(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    [orbit] = embedded.find_vendor_by_name(ACME, "Orbit Logistics")

    with pytest.raises(KernelValidationError) as error:
        client.record_payment(
            ACME,
            vendor_id=orbit.id,
            amount=Decimal("100.00"),
            currency="EUR",
            invoice_ref="INV-X",
            due_date=dt.date(2027, 1, 1),
            created_by="usr_acme_finance",
            idempotency_key="http-inactive",
        )
    assert "Orbit Logistics" in error.value.message
    assert error.value.hint


def test_bad_filter_maps_to_validation_error(client: HttpKernel) -> None:
    with pytest.raises(KernelValidationError, match="Invalid payment status"):
        client.list_payments(ACME, status="lost")


def test_unknown_route_is_api_error(server_url: str) -> None:
    with HttpKernel(f"{server_url}/wrong-prefix", API_KEY, retries=0) as misrouted:
        with pytest.raises(KernelAPIError) as error:
            misrouted.ping()

    assert error.value.status == 404
    assert "no route" in error.value.message


def test_malformed_json_body_gets_400(raw: httpx.Client) -> None:
    response = raw.post(
        f"/api/tenants/{ACME}/payments", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "lots"},
        {"due_date": "next tuesday"},
        {"created_by": 42},
        {"unexpected": "field"},
    ],
)
def test_wrong_body_types_get_400(raw: httpx.Client, change: dict[str, Any]) -> None:
    body = {
        "vendor_id": "ven_x",
        "amount": "10.00",
        "currency": "EUR",
        "invoice_ref": "INV-1",
        "due_date": "2027-01-01",
        "created_by": "usr_acme_finance",
        "idempotency_key": "http-types",
    }
    body.update(change)
    response = raw.post(f"/api/tenants/{ACME}/payments", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["hint"]


def test_body_that_is_not_object_gets_400(raw: httpx.Client) -> None:
    response = raw.post("/api/authenticate", json=["a", "b"])

    assert response.status_code == 400


def test_bad_boolean_query_gets_400(raw: httpx.Client) -> None:
    response = raw.get(f"/api/tenants/{ACME}/payments", params={"without_vpm_record": "maybe"})

    assert response.status_code == 400
    assert "without_vpm_record" in response.json()["error"]["message"]


def test_not_found_body_names_kind_and_id(raw: httpx.Client) -> None:
    response = raw.get(f"/api/tenants/{ACME}/vendors/ven_missing")

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["kind"], error["record_id"]) == ("not_found", "vendor", "ven_missing")
    assert error["message"] and error["hint"]


# --- Writes over HTTP ------------------------------------------------------------------------


def test_record_payment_over_http_is_idempotent(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    [helios] = embedded.find_vendor_by_name(ACME, "Helios Steel Works")
    arguments = {
        "vendor_id": helios.id,
        "amount": Decimal("4321.09"),
        "currency": "EUR",
        "invoice_ref": "INV-HTTP-1",
        "due_date": dt.date(2027, 2, 1),
        "created_by": "usr_acme_finance",
        "idempotency_key": "http-pay-1",
        "memo": "Steel for line 2",
    }
    count = len(embedded.list_payments(ACME))

    first = client.record_payment(ACME, **arguments)
    again = client.record_payment(ACME, **arguments)

    assert first == again
    assert first.amount == Decimal("4321.09")
    assert first.source == "lynx"
    assert first.memo == "Steel for line 2"
    assert embedded.get_payment(ACME, first.id) == first
    assert len(embedded.list_payments(ACME)) == count + 1


def test_publish_document_requests_over_http(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    document = embedded.list_vendor_documents(BOREALIS, status="missing")[0]

    created = client.publish_document_requests(
        BOREALIS,
        requests=[(document.id, "Please send the invoice.")],
        created_by="usr_bor_procurement",
        idempotency_key="http-docs-1",
    )

    assert [request.document_id for request in created] == [document.id]
    assert embedded.get_vendor_document(BOREALIS, document.id).status == "requested"
    assert created[0] in embedded.list_document_requests(BOREALIS)


def test_publish_workflow_over_http(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    steps = [
        WorkflowStep(order=1, name="Raise", role="procurement_officer", avg_hours=1.5, p95_hours=4.0, manual=False),
        WorkflowStep(
            order=2, name="Approve", role="financial_controller", avg_hours=3.0, p95_hours=9.5, manual=True
        ),
    ]

    workflow = client.publish_workflow(
        BOREALIS,
        name="HTTP workflow",
        domain="finance",
        steps=steps,
        sla_hours=36.5,
        replaces_workflow_id=None,
        published_by="usr_bor_admin",
        idempotency_key="http-wf-1",
    )

    assert workflow.steps == steps
    assert embedded.get_workflow(BOREALIS, workflow.id) == workflow


def test_enable_portal_over_http(client: HttpKernel, embedded: EmbeddedKernel) -> None:
    disabled = next(p for p in embedded.list_portals(ACME) if p.status == "disabled")

    portal = client.enable_portal(
        ACME,
        name=disabled.name,
        audience=disabled.audience,
        pages=disabled.pages,
        features=disabled.features,
        theme=disabled.theme,
        portal_id=disabled.id,
        enabled_by="usr_acme_admin",
        idempotency_key="http-portal-1",
    )

    assert portal.status == "enabled"
    assert embedded.get_portal(ACME, disabled.id) == portal


# --- Retries ---------------------------------------------------------------------------------


def test_retries_503_until_success(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lynx_core.kernel.http_client")
    with ScriptedServer([503, 503]) as server, scripted_client(server.url) as kernel:
        kernel.ping()

    assert len(server.requests) == 3
    assert all(headers["Authorization"] == f"Bearer {API_KEY}" for headers in server.requests)
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2
    assert "HTTP 503" in retries[0]
    assert not any(API_KEY in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("status", [429, 502, 504])
def test_retries_other_transient_statuses(status: int) -> None:
    with ScriptedServer([status]) as server, scripted_client(server.url) as kernel:
        kernel.ping()

    assert len(server.requests) == 2


def test_gives_up_after_retries_run_out(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="lynx_core.kernel.http_client")
    with ScriptedServer([503] * 10) as server, scripted_client(server.url, retries=2) as kernel:
        with pytest.raises(KernelAPIError) as error:
            kernel.ping()

    assert error.value.status == 503
    assert "after 3 attempts" in error.value.message
    assert len(server.requests) == 3
    assert any(r.levelno == logging.ERROR for r in caplog.records)


@pytest.mark.parametrize("status", [400, 401, 403, 409, 500])
def test_does_not_retry_other_errors(status: int) -> None:
    with ScriptedServer([status]) as server, scripted_client(server.url) as kernel:
        with pytest.raises(KernelAPIError) as error:
            kernel.ping()

    assert error.value.status == status
    assert len(server.requests) == 1


def test_retries_timeouts() -> None:
    with ScriptedServer([(200, 1.0)]) as server, scripted_client(server.url, timeout=0.2) as kernel:
        kernel.ping()

    assert len(server.requests) == 2


def test_unreachable_kernel_raises_api_error() -> None:
    # Bind and close a socket to find a loopback port that nothing listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with scripted_client(f"http://127.0.0.1:{port}", retries=2) as kernel:
        with pytest.raises(KernelAPIError) as error:
            kernel.ping()

    assert error.value.status is None
    assert "ConnectError" in error.value.message


def test_backoff_doubles_each_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr("lynx_core.kernel.http_client.time.sleep", delays.append)

    with ScriptedServer([503, 503, 503]) as server, scripted_client(server.url, backoff=0.5) as kernel:
        kernel.ping()

    assert delays == [0.5, 1.0, 2.0]


def test_repr_leaves_out_api_key(server_url: str) -> None:
    with HttpKernel(server_url, API_KEY) as kernel:
        assert API_KEY not in repr(kernel)



def test_record_payment_sends_memo_only_when_set(client: HttpKernel, monkeypatch) -> None:
    bodies: list[dict] = []
    monkeypatch.setattr(client, "_post", lambda path, adapter, body: bodies.append(body))
    arguments = {"vendor_id": "ven_1", "amount": Decimal("10.00"), "currency": "EUR", "invoice_ref": "INV-M",
                 "due_date": dt.date(2027, 2, 1), "created_by": "usr_acme_finance", "idempotency_key": "memo-key"}

    client.record_payment(ACME, **arguments)
    client.record_payment(ACME, **arguments, memo="Steel for line 2")

    assert "memo" not in bodies[0]
    assert bodies[1]["memo"] == "Steel for line 2"
