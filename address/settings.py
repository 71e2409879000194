"""The settings of the library's entry points: data folders, the default country and
the longest address.

Every value can be set in the environment with the ``ADDR_`` prefix (or in a ``.env``
file in the working directory), e.g. ``ADDR_DATA_DIR=/srv/addr``. Only entry points
(``addr`` and its subcommands, the service, the benchmarks) read them; the library takes
these values as parameters, and its data folders from :func:`address.paths.use_data`,
which :func:`get_settings` calls. The service's own settings (keys, limits, timeouts)
are in ``api.settings``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from address.model import DEFAULT_COUNTRY
from address.normalize import MAX_ADDRESS_LENGTH
from address.paths import DataPaths, default_data_dir, use_data

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Entry-point settings, read from ``ADDR_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="ADDR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
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
        default=MAX_ADDRESS_LENGTH,
        ge=16,
        description="Longest address text accepted, in characters.",
    )
    default_country: str | None = Field(
        default=DEFAULT_COUNTRY,
        description="ISO 3166-1 alpha-2 country assumed when none is given or detected.",
    )
    index_path: Path | None = Field(
        default=None,
        description="Address index folder the service loads; default <data_dir>/index/default.",
    )
    feedback_path: Path | None = Field(
        default=None,
        description="SQLite database of delivery outcomes (WAL mode); "
        "default <data_dir>/feedback/outcomes.sqlite3.",
    )
    adapter_path: Path | None = Field(
        default=None,
        description="Classifier adapter folder; default the adapter shipped in finetune/adapters.",
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

    @property
    def feedback_db(self) -> Path:
        """SQLite database of delivery outcomes."""
        return self.feedback_path or self.data_dir / "feedback" / "outcomes.sqlite3"

    def data_paths(self) -> DataPaths:
        """The data folders, for :func:`address.paths.use_data`."""
        return DataPaths(
            libpostal=self.libpostal_dir,
            gazetteer=self.gazetteer_table,
            reference=self.reference_table,
            index=self.index_dir,
            feedback=self.feedback_db,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once, their data folders handed to the library
    (:func:`address.paths.use_data`); tests call ``get_settings.cache_clear()``."""
    settings = Settings()
    use_data(settings.data_paths())
    return settings
