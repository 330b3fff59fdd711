"""Exceptions raised by Lynx.

Every exception derives from `LynxError` and carries structured fields; its message says what
failed, why, and what to do next::

    LynxError
    ├── ConfigError                 a setting is missing or invalid at start-up
    ├── AuthenticationError         wrong e-mail or password
    ├── SessionExpiredError         the session is unknown, revoked or older than its lifetime
    ├── KernelError
    │   ├── KernelNotFoundError     a record does not exist in the caller's tenant
    │   ├── KernelValidationError   the Kernel rejected a value (inactive vendor, bad amount)
    │   └── KernelAPIError          the HTTP Kernel failed or timed out after retries
    ├── AuditWriteError             the audit store could not be written
    └── ToolError
        └── ToolNotFoundError       no registered tool has that id

Refusals by policy (a missing role, an invalid input, an approval rule) are not exceptions:
they are `Decision` values that the executor and the approval service return and audit.
"""

from __future__ import annotations


class LynxError(Exception):
    """Base class of every error raised by Lynx."""

    #: Short machine-readable code, stored in the audit log and returned by the API.
    code = "lynx_error"

    def __init__(self, message: str, *, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}".strip())


class ConfigError(LynxError):
    """A setting is missing or has an invalid value."""

    code = "config_invalid"

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        self.setting = setting
        super().__init__(f"Invalid setting {setting}: {problem}.", hint=f"Fix: {fix}")


class AuthenticationError(LynxError):
    """The e-mail address or the password is wrong, or the account is disabled."""

    code = "authentication_failed"


class SessionExpiredError(LynxError):
    """The session token is unknown, revoked or expired."""

    code = "session_expired"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Your session is no longer valid: {reason}.", hint="Sign in again.")


class KernelError(LynxError):
    """Base class of errors reported by the Kernel."""

    code = "kernel_error"


class KernelNotFoundError(KernelError):
    """A record does not exist in the caller's tenant."""

    code = "not_found"

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(
            f"No {kind} with id {record_id!r} exists in your tenant.",
            hint=f"Check the id, or list the {kind}s you can see first.",
        )


class KernelValidationError(KernelError):
    """The Kernel rejected a value, for example an inactive vendor or a negative amount."""

    code = "kernel_validation"


class KernelAPIError(KernelError):
    """The HTTP Kernel returned an error or could not be reached after the retries."""

    code = "kernel_api_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message, hint="Check that the Kernel at KERNEL_API_URL is up, then retry.")


class AuditWriteError(LynxError):
    """The audit store could not be written, so the action did not count."""

    code = "audit_unavailable"


class ToolError(LynxError):
    """Base class of errors about a tool call."""

    code = "tool_error"


class ToolNotFoundError(ToolError):
    """No registered tool has the requested id."""

    code = "unknown_tool"

    def __init__(self, tool_id: str) -> None:
        self.tool_id = tool_id
        super().__init__(
            f"There is no tool named {tool_id!r}.",
            hint="Only registered tools can be called; ask Lynx what it can do.",
        )


