"""The one settings object of the service.

Every value can be set in the environment with the ``ADDR_`` prefix (or in a
``.env`` file in the working directory), e.g. ``ADDR_DATA_DIR=/srv/addr``.
Nothing else in the project reads the environment.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


def _default_data_dir() -> Path:
    # Inside the virtual environment, so `rm -rf .venv` removes the data too.
    return Path(sys.prefix) / "share" / "addr"


class Settings(BaseSettings):
    """Service settings, read from ``ADDR_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ADDR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Root folder for downloaded data, the reference table and the index.",
    )
    libpostal_data_dir: Path | None = Field(
        default=None,
        description="libpostal's data (the folder holding address_parser/); "
        "default <data_dir>/libpostal.",
    )
    reference_path: Path | None = Field(
        default=None,
        description="Default known-good address table (Parquet); "
        "default <data_dir>/reference/default.parquet.",
    )
    gazetteer_path: Path | None = Field(
        default=None,
        description="Postcode gazetteer (Parquet, built by `addr data fetch`); "
        "default <data_dir>/gazetteer/postcodes.parquet.",
    )
    max_address_length: int = Field(
        default=512, ge=16, description="Longest address text accepted, in characters."
    )
    default_country: str | None = Field(
        default="US",
        description="ISO 3166-1 alpha-2 country assumed when none is given or detected.",
    )
    index_path: Path | None = Field(
        default=None,
        description="Address index folder the service loads; default <data_dir>/index/default.",
    )
    adapter_path: Path | None = Field(
        default=None,
        description="Classifier adapter folder; default the adapter shipped in finetune/adapters.",
    )
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
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For the service believes, "
        "as JSON ('[\"10.0.0.2\"]'). Empty: the client is the TCP peer, whatever the headers say.",
    )

    @property
    def libpostal_dir(self) -> Path:
        """Folder that directly holds ``address_parser/``, ``numex/`` and the rest."""
        return self.libpostal_data_dir or self.data_dir / "libpostal"

    @property
    def index_dir(self) -> Path:
        """Address index folder the service and CLI use by default."""
        return self.index_path or self.data_dir / "index" / "default"

    @property
    def reference_table(self) -> Path:
        """Parquet table of the default known-good addresses."""
        return self.reference_path or self.data_dir / "reference" / "default.parquet"

    @property
    def gazetteer_table(self) -> Path:
        """Parquet table of postcodes, their places and coordinates."""
        return self.gazetteer_path or self.data_dir / "gazetteer" / "postcodes.parquet"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once; tests call ``get_settings.cache_clear()``."""
    return Settings()
