"""Structured logging: one JSON object a line, to stdout and to ``LYNX_LOG_DIR/lynx.log``.

Modules log through ``logging.getLogger(__name__)`` with lazy ``%s`` arguments and pass ids
with ``extra={...}``; this module only formats and routes the records. A filter masks the
configured secret values in case one ever reaches a message.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.handlers
import sys
from pathlib import Path

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged.
_STANDARD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

_HANDLER_MARK = "_lynx_handler"


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object with time, level, logger, message and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class SecretMaskFilter(logging.Filter):
    """Replace known secret values in a record's message with ``***``."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            for secret in self._secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def configure_logging(log_dir: Path, level: str = "INFO", secrets: list[str] | None = None) -> Path:
    """Send the ``lynx_core``, ``jobs`` and ``app`` loggers to stdout and the log file.

    Safe to call more than once: earlier Lynx handlers are replaced, not duplicated.
    Returns the log file's path.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "lynx.log"
    formatter = JsonFormatter()
    mask = SecretMaskFilter(secrets or [])

    stream = logging.StreamHandler(sys.stdout)
    rotating = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=20 * 1024 * 1024, backupCount=10, encoding="utf-8"
    )
    for handler in (stream, rotating):
        handler.setFormatter(formatter)
        handler.addFilter(mask)
        setattr(handler, _HANDLER_MARK, True)

    for name in ("lynx_core", "jobs", "app", "pages"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
            logger.removeHandler(old)
            old.close()
        logger.addHandler(stream)
        logger.addHandler(rotating)
        logger.setLevel(level)
        logger.propagate = False
    return log_file
