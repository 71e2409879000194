"""The service's settings: the library's (:class:`address.settings.Settings`) plus what
only an HTTP server needs (API keys, CORS, rate and size limits, timeouts, logging).

Set in the environment like the rest, e.g. ``ADDR_API_KEYS='["k1"]'``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr

from address.paths import use_data
from address.settings import Settings

__all__ = ["ServiceSettings", "get_service_settings"]


class ServiceSettings(Settings):
    """Settings of ``addr serve`` and ``create_app``, read from ``ADDR_*`` variables."""

    api_keys: list[str] = Field(
        default_factory=list,
        description='Accepted X-API-Key values, as JSON (\'["k1", "k2"]\'). Empty: no '
        "authentication, and the service binds to 127.0.0.1 only.",
    )
    rate_limit_per_second: float = Field(
        default=50.0,
        gt=0,
        description="Sustained addresses per second per API key (or client): a request costs "
        "one token per address it carries.",
    )
    rate_limit_burst: int = Field(
        default=100,
        ge=1,
        description="Addresses a key may send at once before the rate applies; a bigger batch "
        "needs a full bucket and leaves it in debt.",
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (HTTP 413 beyond)."
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser, as JSON ('[\"https://shop.example\"]').",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest a client may take to send a request's line and headers, from "
        "its connection or the first byte of its next request on a kept-alive one; then 408 "
        "and the socket is closed.",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest a client may take to send a request's body after its headers; "
        "then 408 and the socket is closed.",
    )
    keep_alive_timeout_seconds: int = Field(
        default=5, ge=1, description="An idle keep-alive connection is closed after this."
    )
    request_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest one request may take, headers to last byte of the answer; then "
        "408 and the socket is closed (batch work stops at its next slice).",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="Largest request line plus headers accepted (HTTP 431 beyond).",
    )
    max_connections_per_client: int = Field(
        default=64,
        ge=1,
        description="Open connections one client address may hold to one worker; more are "
        "answered 429 and closed. Trusted proxies are exempt.",
    )
    max_concurrent_per_key: int = Field(
        default=4,
        ge=1,
        description="Requests of one API key (or client) a worker works on at once; more wait "
        "in a queue.",
    )
    queue_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest a request waits in its key's queue; then 429 with Retry-After.",
    )
    log_level: str = Field(default="INFO", description="Log level of the service.")
    log_hash_key: SecretStr | None = Field(
        default=None,
        description="Secret that keys the address hash in logs (HMAC-SHA256), so the hash of "
        "a known address cannot be looked up. Unset: a random key per process, i.e. hashes "
        "only match within one worker's lifetime; set it to correlate across workers.",
    )
    feedback_secret: SecretStr | None = Field(
        default=None,
        description="Secret that signs verification ids (HMAC-SHA256), the same for every "
        "worker and host that reads their feedback. Unset: a random one made once in "
        "verification_id.key beside the feedback database (mode 0600).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For the service believes, "
        "as JSON ('[\"10.0.0.2\"]'). Empty: the client is the TCP peer, whatever the headers say.",
    )


@lru_cache(maxsize=1)
def get_service_settings() -> ServiceSettings:
    """Service settings of this process, read once, their data folders handed to the
    library; tests call ``get_service_settings.cache_clear()``."""
    settings = ServiceSettings()
    use_data(settings.data_paths())
    return settings
