"""Heavy resources of the running service, loaded once in the app's lifespan."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from address.errors import AddressError
from address.libpostal import load as load_libpostal
from api.errors import NotReadyError

if TYPE_CHECKING:
    from finetune.classifier import Classifier
    from index.search import AddressIndex

__all__ = ["Loaded", "Resources"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Loaded:
    """The resources of a ready service, handed to request handlers."""

    index: AddressIndex
    classifier: Classifier


@dataclass
class Resources:
    """What the service has loaded; ``/readyz`` and the routes answer 503 until ``ready``."""

    index_dir: Path
    adapter_dir: Path | None
    loaded: dict[str, bool] = field(
        default_factory=lambda: {
            "libpostal": False,
            "gazetteer": False,
            "index": False,
            "classifier": False,
        }
    )
    index: AddressIndex | None = None
    classifier: Classifier | None = None
    error: str | None = None

    @property
    def ready(self) -> bool:
        return all(self.loaded.values())

    def loaded_or_raise(self) -> Loaded:
        """The loaded resources, or :class:`NotReadyError` while loading or after a failure."""
        if not self.ready or self.index is None or self.classifier is None:
            raise NotReadyError(self.error or "the service is still loading")
        return Loaded(self.index, self.classifier)

    def load_all(self) -> None:
        """Load libpostal, the postcode gazetteer, the index and the classifier; on failure
        stay not ready."""
        from address.gazetteer import check_gazetteer, preload_country
        from address.settings import get_settings
        from finetune.classifier import Classifier
        from index.store import load_index

        try:
            load_libpostal()
            self.loaded["libpostal"] = True
            check_gazetteer()
            if default_country := get_settings().default_country:
                preload_country(default_country)
            self.loaded["gazetteer"] = True
            self.index = load_index(self.index_dir)
            self.loaded["index"] = True
            self.classifier = Classifier.load(self.adapter_dir)
            self.loaded["classifier"] = True
            logger.info("ready", extra={"index_addresses": len(self.index)})
        except AddressError as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            logger.error("not ready", extra={"error": self.error})

    def load_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.load_all, name="load-resources", daemon=True)
        thread.start()
        return thread
