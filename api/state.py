"""Heavy resources of the running service, loaded once in the app's lifespan."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from address.errors import AddressError
from address.libpostal import load as load_libpostal

__all__ = ["Resources"]


@dataclass
class Resources:
    """What the service has loaded; handlers answer 503 until ``ready``."""

    loaded: dict[str, bool] = field(default_factory=lambda: {"libpostal": False})
    error: str | None = None

    @property
    def ready(self) -> bool:
        return all(self.loaded.values())

    def load_all(self) -> None:
        """Load every resource; on failure record the error and stay not ready."""
        try:
            load_libpostal()
            self.loaded["libpostal"] = True
        except AddressError as exc:
            self.error = str(exc)

    def load_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.load_all, name="load-resources", daemon=True)
        thread.start()
        return thread
