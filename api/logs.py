"""Structured JSON logs; addresses appear only as a hash (they are personal data)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import logging.config
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from api.settings import get_service_settings

__all__ = ["JsonFormatter", "address_hash", "configure_logging", "logging_config"]


@lru_cache(maxsize=1)
def _hash_key() -> bytes:
    configured = get_service_settings().log_hash_key
    if configured is not None:
        return configured.get_secret_value().encode("utf-8")
    return secrets.token_bytes(32)


def address_hash(text: str) -> str:
    """A short keyed fingerprint of an address, for logs: ``address_hash("12 Baker St")``.

    HMAC-SHA256 under ``ADDR_LOG_HASH_KEY`` (else a random key per process), so
    nobody holding the logs can hash a list of known addresses to find one.
    """
    digest = hmac.new(_hash_key(), text.encode("utf-8", "replace"), hashlib.sha256)
    return digest.hexdigest()[:16]


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


def logging_config(level: str) -> dict[str, Any]:
    """``logging.config.dictConfig`` settings: the service's and uvicorn's logs as JSON
    lines on stderr; uvicorn's access log off (its lines hold full query strings, i.e.
    addresses typed into autocomplete: the app logs each request by route instead)."""
    handler = {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.logs.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": handler,
            "uvicorn.error": handler,
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
    }


def configure_logging(level: str) -> None:
    """Send the service's and uvicorn's logs to stderr as JSON lines (this process)."""
    logging.config.dictConfig(logging_config(level))
