"""Settings come from the environment and secrets.toml; invalid values name the setting and fix."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from lynx_core.config import load_settings
from lynx_core.config.settings import SETTING_FIXES
from lynx_core.errors import ConfigError
from lynx_core.logs import configure_logging


def test_defaults_use_embedded_stack(tmp_path: Path) -> None:
    settings = load_settings({}, secrets_path=tmp_path / "missing.toml")
    assert settings.llm_provider == "offline"
    assert settings.kernel_api_url is None
    assert settings.lynx_database_url is None
    assert settings.lynx_data_dir == Path("data")


def test_environment_overrides_secrets_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('OPENAI_API_KEY = "sk-file"\nLOG_LEVEL = "debug"\n[section]\nx = 1\n')
    settings = load_settings({"OPENAI_API_KEY": "sk-env"}, secrets_path=secrets)
    assert settings.openai_api_key.get_secret_value() == "sk-env"
    assert settings.log_level == "DEBUG"
    assert settings.llm_provider == "openai"


@pytest.mark.parametrize(
    ("environ", "setting", "fix_fragment"),
    [
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "DEBUG, INFO"),
        ({"KERNEL_API_URL": "not a url"}, "KERNEL_API_URL", "http(s) URL"),
        ({"KERNEL_API_URL": "http://127.0.0.1:9000/api"}, "KERNEL_API_KEY", "API key"),
        ({"LYNX_SESSION_HOURS": "-1"}, "LYNX_SESSION_HOURS", "hours"),
        ({"LYNX_MAX_TOOL_ROUNDS": "many"}, "LYNX_MAX_TOOL_ROUNDS", "whole number"),
        ({"LYNX_LLM_PROVIDER": "anthropic"}, "ANTHROPIC_API_KEY", "Anthropic API key"),
        ({"LYNX_DATABASE_URL": "mysql://x"}, "LYNX_DATABASE_URL", "postgresql://"),
        ({"ENVIRONMENT": "prod"}, "ENVIRONMENT", "production"),
    ],
)
def test_invalid_value_names_setting_and_fix(tmp_path: Path, environ: dict, setting: str, fix_fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ, secrets_path=tmp_path / "none.toml")
    assert caught.value.setting == setting
    assert setting in str(caught.value)
    assert fix_fragment in str(caught.value)


def test_invalid_key_value_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"LYNX_LLM_PROVIDER": "openai", "OPENAI_API_KEY": ""}, secrets_path=tmp_path / "none.toml")
    assert caught.value.setting == "OPENAI_API_KEY"


@pytest.fixture
def restore_logging():
    """Remove the handlers a test installed, so later tests do not write to a closed capture."""
    yield
    for name in ("lynx_core", "jobs", "app", "pages"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.propagate = True


def test_secrets_never_reach_log_lines(tmp_path: Path, capsys: pytest.CaptureFixture, restore_logging) -> None:
    settings = load_settings({"OPENAI_API_KEY": "sk-very-secret-123"}, secrets_path=tmp_path / "none.toml")
    assert "sk-very-secret-123" not in repr(settings)
    log_file = configure_logging(tmp_path / "logs", "INFO", settings.secret_values())
    logging.getLogger("lynx_core.test").info("calling with %s", "sk-very-secret-123")
    for handler in logging.getLogger("lynx_core").handlers:
        handler.flush()
    assert "sk-very-secret-123" not in log_file.read_text()
    assert "***" in log_file.read_text()
    assert "sk-very-secret-123" not in capsys.readouterr().out


def test_secrets_masked_in_extras_and_tracebacks(tmp_path: Path, capsys: pytest.CaptureFixture, restore_logging) -> None:
    secret = 'sk-with"quote\\and-backslash'
    log_file = configure_logging(tmp_path / "logs", "INFO", ["sk-extra-secret-456", secret])
    logger = logging.getLogger("lynx_core.test")
    logger.info("request sent", extra={"headers": {"Authorization": "Bearer sk-extra-secret-456"}})
    try:
        raise RuntimeError(f"provider rejected key {secret}")
    except RuntimeError:
        logger.exception("call failed")
    for handler in logging.getLogger("lynx_core").handlers:
        handler.flush()

    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    text = json.dumps(lines)
    assert "sk-extra-secret-456" not in text
    assert "quote" not in text
    assert lines[0]["headers"] == {"Authorization": "Bearer ***"}
    assert "provider rejected key ***" in lines[1]["exception"]
    assert "sk-extra-secret-456" not in capsys.readouterr().out
