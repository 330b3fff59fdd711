"""Structured logging: one JSON object a line, to stdout and to ``LYNX_LOG_DIR/lynx.log``.

Modules log through ``logging.getLogger(__name__)`` with lazy ``%s`` arguments and pass ids
with ``extra={...}``; this module only formats and routes the records. The formatter masks the
configured secret values wherever one reaches a line: message, extras or traceback.
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
    """Formatter that writes a record as one JSON object and masks known secret values."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        # Each secret as it appears raw and as json.dumps escapes it inside a string.
        masked = {s for s in (secrets or []) if len(s) >= 4}
        self._secrets = sorted(masked | {json.dumps(s)[1:-1] for s in masked}, key=len, reverse=True)

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
        line = json.dumps(entry, default=str)
        for secret in self._secrets:
            line = line.replace(secret, "***")
        return line


def configure_logging(log_dir: Path, level: str = "INFO", secrets: list[str] | None = None) -> Path:
    """Send the ``lynx_core``, ``jobs`` and ``app`` loggers to stdout and the log file.

    Safe to call more than once: earlier Lynx handlers are replaced, not duplicated.
    Returns the log file's path.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "lynx.log"
    formatter = JsonFormatter(secrets)

    stream = logging.StreamHandler(sys.stdout)
    rotating = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=20 * 1024 * 1024, backupCount=10, encoding="utf-8"
    )
    for handler in (stream, rotating):
        handler.setFormatter(formatter)
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
