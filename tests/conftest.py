"""Shared fixtures: a seeded embedded Kernel, Lynx services on temporary SQLite, demo actors.

An autouse guard fails any test that opens a network connection outside the loopback
range, so no test can reach a real model API or any other host.
"""

from __future__ import annotations

import ipaddress
import shutil
import socket
from pathlib import Path

import pytest

from lynx_core.actor import Actor
from lynx_core.config import Settings
from lynx_core.services import Services

DEMO_PASSWORD = "lynx-demo-2026"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # Unix domain sockets stay on this machine.
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise RuntimeError(f"Tests may only connect to loopback addresses, not {address!r}.")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_loopback(address):
        raise RuntimeError(f"Tests may only connect to loopback addresses, not {address!r}.")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "KERNEL_API_URL", "OPENAI_BASE_URL", "LYNX_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def kernel_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed the embedded Kernel once per test session; tests get copies of the file."""
    from lynx_core.kernel.embedded import EmbeddedKernel

    path = tmp_path_factory.mktemp("kernel-template") / "kernel.sqlite"
    kernel = EmbeddedKernel(path)
    kernel.close()
    return path


def copy_kernel(template: Path, target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(template) + suffix)
        if source.exists():
            shutil.copy(source, target_dir / (template.name + suffix))
    return target_dir / template.name


@pytest.fixture
def kernel(kernel_template: Path, tmp_path: Path):
    from lynx_core.kernel.embedded import EmbeddedKernel

    kernel = EmbeddedKernel(copy_kernel(kernel_template, tmp_path))
    yield kernel
    kernel.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(lynx_data_dir=tmp_path, lynx_log_dir=tmp_path / "logs", environment="test")


@pytest.fixture
def services(settings: Settings, kernel) -> Services:
    services = Services.open(settings, kernel=kernel)
    yield services
    services.db.close()


def actor_for(services: Services, email: str) -> Actor:
    """Return the demo user with this e-mail as an actor (password checked by the Kernel)."""
    user = services.kernel.authenticate(email, DEMO_PASSWORD)
    assert user is not None, f"demo account {email} is missing"
    return Actor.from_user(user)
