"""Structured JSON logs; addresses appear only as a hash (they are personal data)."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime

__all__ = ["JsonFormatter", "address_hash", "configure_logging"]


def address_hash(text: str) -> str:
    """A short stable fingerprint of an address, for logs: ``address_hash("12 Baker St")``."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the message and any ``extra={...}`` fields."""

    _STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    """Send the service's and uvicorn's logs to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level.upper())
