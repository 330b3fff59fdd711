"""Sign-in and sessions for the embedded default: Kernel accounts, hashed tokens, 8-hour expiry.

The session token is random and shown only to the browser session that signed in; the
database keeps its SHA-256, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from lynx_core.actor import Actor
from lynx_core.audit import AuditEvent, AuditLog
from lynx_core.errors import AuthenticationError, KernelNotFoundError, SessionExpiredError
from lynx_core.kernel.base import Kernel
from lynx_core.store.db import Database

logger = logging.getLogger(__name__)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionService:
    def __init__(self, *, db: Database, kernel: Kernel, audit: AuditLog, lifetime_hours: float = 8.0) -> None:
        self.db = db
        self.kernel = kernel
        self.audit = audit
        self.lifetime = dt.timedelta(hours=lifetime_hours)

    def sign_in(self, email: str, password: str) -> tuple[str, Actor]:
        """Check the credentials against the Kernel and open a session; return (token, actor)."""
        email = (email or "").strip()
        user = self.kernel.authenticate(email, password or "") if email and password else None
        if user is None:
            logger.info("sign-in failed", extra={"email_domain": email.rpartition("@")[2][:100]})
            raise AuthenticationError(
                "The e-mail address or password is wrong, or the account is disabled.",
                hint="Check both and try again; the README lists the demo accounts.",
            )
        actor = Actor.from_user(user)
        token = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.timezone.utc)
        self.db.execute(
            "INSERT INTO sessions (token_hash, tenant_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_hash_token(token), actor.tenant_id, actor.user_id, now.isoformat(), (now + self.lifetime).isoformat()),
        )
        self.audit.append(AuditEvent(event_type="session.signed_in", tenant_id=actor.tenant_id, actor_id=actor.user_id))
        logger.info("signed in", extra={"tenant_id": actor.tenant_id, "user_id": actor.user_id})
        return token, actor

    def resolve(self, token: str | None, *, now: dt.datetime | None = None) -> Actor:
        """Return the actor of a valid session; raise `SessionExpiredError` otherwise."""
        if not token:
            raise SessionExpiredError("you are not signed in")
        row = self.db.query_one("SELECT * FROM sessions WHERE token_hash = ?", (_hash_token(token),))
        if row is None:
            raise SessionExpiredError("the session is unknown")
        if row["revoked_at"]:
            raise SessionExpiredError("you signed out")
        now = now or dt.datetime.now(dt.timezone.utc)
        if dt.datetime.fromisoformat(row["expires_at"]) <= now:
            raise SessionExpiredError(f"sessions end {self.lifetime.total_seconds() / 3600:g} hours after sign-in")
        try:
            user = self.kernel.get_user(row["tenant_id"], row["user_id"])
        except KernelNotFoundError:
            raise SessionExpiredError("the account no longer exists") from None
        if not user.active:
            raise SessionExpiredError("the account is disabled")
        return Actor.from_user(user)

    def sign_out(self, token: str) -> None:
        row = self.db.query_one("SELECT * FROM sessions WHERE token_hash = ?", (_hash_token(token),))
        if row is None or row["revoked_at"]:
            return
        self.db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
            (dt.datetime.now(dt.timezone.utc).isoformat(), _hash_token(token)),
        )
        self.audit.append(AuditEvent(event_type="session.signed_out", tenant_id=row["tenant_id"], actor_id=row["user_id"]))
