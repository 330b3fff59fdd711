"""Load and validate Lynx's settings.

Sources, highest precedence first: environment variables, then top-level keys of
``.streamlit/secrets.toml`` (the file Streamlit reads for ``st.secrets``), then the defaults
below. The defaults run the embedded stack: SQLite under ``data/``, the embedded Kernel, and
the offline assistant when no LLM key is set.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from lynx_core.errors import ConfigError

#: Every setting Lynx reads, with the fix shown when its value is invalid.
SETTING_FIXES: dict[str, str] = {
    "OPENAI_API_KEY": "set it to an OpenAI API key, or unset it to use the offline assistant",
    "OPENAI_BASE_URL": "use an http(s) URL such as http://127.0.0.1:11434/v1, or unset it",
    "ANTHROPIC_API_KEY": "set it to an Anthropic API key, or unset it",
    "LYNX_LLM_PROVIDER": "use one of auto, openai, anthropic, offline",
    "LYNX_OPENAI_MODEL": "name an OpenAI chat model, e.g. gpt-4.1-mini",
    "LYNX_ANTHROPIC_MODEL": "name an Anthropic model, e.g. claude-sonnet-4-5",
    "LYNX_LLM_TIMEOUT_SECONDS": "use a number of seconds between 1 and 300",
    "LYNX_MAX_TOOL_ROUNDS": "use a whole number between 1 and 20",
    "KERNEL_API_URL": "use the http(s) URL of the Kernel API, or unset it for the embedded Kernel",
    "KERNEL_API_KEY": "set the API key of the Kernel at KERNEL_API_URL",
    "SUPABASE_URL": "use your project's https://<ref>.supabase.co URL, or unset it",
    "SUPABASE_KEY": "set the Supabase service key, or unset SUPABASE_URL too",
    "LYNX_DATABASE_URL": "use postgresql://user@host:port/db, or unset it for SQLite in LYNX_DATA_DIR",
    "LYNX_DATA_DIR": "point it at a writable directory",
    "LYNX_LOG_DIR": "point it at a writable directory",
    "LOG_LEVEL": "use one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "ENVIRONMENT": "use one of development, test, staging, production",
    "LYNX_SESSION_HOURS": "use a number of hours between 0.01 and 24",
    "LYNX_APPROVAL_EXPIRY_HOURS": "use a whole number of hours between 1 and 720",
}


class Settings(BaseModel):
    """Validated settings; secrets are `SecretStr` so they never print."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    openai_api_key: SecretStr | None = None
    openai_base_url: AnyHttpUrl | None = None
    anthropic_api_key: SecretStr | None = None
    lynx_llm_provider: Literal["auto", "openai", "anthropic", "offline"] = "auto"
    lynx_openai_model: str = Field(default="gpt-4.1-mini", min_length=1)
    lynx_anthropic_model: str = Field(default="claude-sonnet-4-5", min_length=1)
    lynx_llm_timeout_seconds: float = Field(default=60.0, ge=1, le=300)
    lynx_max_tool_rounds: int = Field(default=6, ge=1, le=20)
    kernel_api_url: AnyHttpUrl | None = None
    kernel_api_key: SecretStr | None = None
    supabase_url: AnyHttpUrl | None = None
    supabase_key: SecretStr | None = None
    lynx_database_url: str | None = None
    lynx_data_dir: Path = Path("data")
    lynx_log_dir: Path = Path("logs")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    environment: Literal["development", "test", "staging", "production"] = "development"
    lynx_session_hours: float = Field(default=8.0, ge=0.01, le=24)
    lynx_approval_expiry_hours: int = Field(default=72, ge=1, le=720)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("lynx_database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql://")
        return value

    @property
    def llm_provider(self) -> Literal["openai", "anthropic", "offline"]:
        """Return the provider in use: the configured one, or the first with a key."""
        if self.lynx_llm_provider != "auto":
            return self.lynx_llm_provider
        if self.openai_api_key is not None:
            return "openai"
        if self.anthropic_api_key is not None:
            return "anthropic"
        return "offline"

    def secret_values(self) -> list[str]:
        """Return the secret values, so the log filter can mask them if they ever appear."""
        secrets = [self.openai_api_key, self.anthropic_api_key, self.kernel_api_key, self.supabase_key]
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]


def _read_secrets_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"the file is not valid TOML ({exc})", "correct the file") from exc
    return {key.upper(): value for key, value in data.items() if not isinstance(value, dict)}


def load_settings(
    environ: dict[str, str] | None = None, secrets_path: Path | None = None
) -> Settings:
    """Build `Settings`, raising `ConfigError` that names the first invalid setting and its fix."""
    environ = dict(os.environ if environ is None else environ)
    secrets_path = secrets_path or Path(".streamlit") / "secrets.toml"
    raw: dict[str, Any] = _read_secrets_file(secrets_path)
    for name in SETTING_FIXES:
        if environ.get(name, "") != "":
            raw[name] = environ[name]

    values = {name.lower(): value for name, value in raw.items() if name in SETTING_FIXES}
    try:
        settings = Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper()
        shown = "(hidden)" if "KEY" in name else repr(raw.get(name))
        raise ConfigError(name, f"{error['msg']} (value {shown})", SETTING_FIXES.get(name, "")) from None

    if settings.kernel_api_url is not None and settings.kernel_api_key is None:
        raise ConfigError("KERNEL_API_KEY", "it is missing while KERNEL_API_URL is set", SETTING_FIXES["KERNEL_API_KEY"])
    if settings.supabase_url is not None and settings.supabase_key is None:
        raise ConfigError("SUPABASE_KEY", "it is missing while SUPABASE_URL is set", SETTING_FIXES["SUPABASE_KEY"])
    if settings.lynx_llm_provider == "openai" and settings.openai_api_key is None:
        raise ConfigError("OPENAI_API_KEY", "it is missing while LYNX_LLM_PROVIDER=openai", SETTING_FIXES["OPENAI_API_KEY"])
    if settings.lynx_llm_provider == "anthropic" and settings.anthropic_api_key is None:
        raise ConfigError("ANTHROPIC_API_KEY", "it is missing while LYNX_LLM_PROVIDER=anthropic", SETTING_FIXES["ANTHROPIC_API_KEY"])
    return settings
