"""Sign-in with Kernel accounts and sessions that expire after 8 hours."""

from __future__ import annotations

import datetime as dt

import pytest

from lynx_core.errors import AuthenticationError, SessionExpiredError
from lynx_core.services import Services
from tests.conftest import DEMO_PASSWORD


def test_sign_in_returns_actor_and_audits(services: Services) -> None:
    token, actor = services.sessions.sign_in("Felix.Finance@acme.test", DEMO_PASSWORD)
    assert actor.tenant_id == "tnt_acme"
    assert "finance_manager" in actor.roles
    assert services.sessions.resolve(token).user_id == actor.user_id
    assert services.audit.list_events("tnt_acme", event_type="session.signed_in")[0]["actor_id"] == actor.user_id


@pytest.mark.parametrize(("email", "password"), [
    ("felix.finance@acme.test", "wrong"),
    ("nobody@acme.test", DEMO_PASSWORD),
    ("", ""),
])
def test_wrong_credentials_are_rejected(services: Services, email: str, password: str) -> None:
    with pytest.raises(AuthenticationError, match="e-mail address or password is wrong"):
        services.sessions.sign_in(email, password)


def test_session_expires_after_eight_hours(services: Services) -> None:
    token, _ = services.sessions.sign_in("felix.finance@acme.test", DEMO_PASSWORD)
    now = dt.datetime.now(dt.timezone.utc)
    assert services.sessions.resolve(token, now=now + dt.timedelta(hours=7, minutes=59))
    with pytest.raises(SessionExpiredError, match="8 hours after sign-in"):
        services.sessions.resolve(token, now=now + dt.timedelta(hours=8, minutes=1))


def test_signed_out_and_unknown_tokens_are_rejected(services: Services) -> None:
    token, _ = services.sessions.sign_in("felix.finance@acme.test", DEMO_PASSWORD)
    services.sessions.sign_out(token)
    with pytest.raises(SessionExpiredError, match="signed out"):
        services.sessions.resolve(token)
    with pytest.raises(SessionExpiredError, match="unknown"):
        services.sessions.resolve("forged-token")
    with pytest.raises(SessionExpiredError, match="not signed in"):
        services.sessions.resolve(None)


def test_token_is_stored_only_as_hash(services: Services) -> None:
    token, _ = services.sessions.sign_in("felix.finance@acme.test", DEMO_PASSWORD)
    rows = services.db.query("SELECT token_hash FROM sessions")
    assert token not in {row["token_hash"] for row in rows}
