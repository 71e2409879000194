"""Heavy resources of the running service, loaded once in the app's lifespan."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from address.errors import AddressError
from address.libpostal import load as load_libpostal
from address.model import DEFAULT_COUNTRY
from api.errors import NotReadyError
from api.verification_ids import VerificationIds, load_secret

if TYPE_CHECKING:
    from finetune.classifier import Classifier
    from index.feedback import FeedbackStore
    from index.live import LiveIndex
    from index.search import AddressIndex

__all__ = ["Loaded", "Resources"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Loaded:
    """The resources of a ready service, handed to request handlers: the index with the
    addresses deliveries confirmed (``index.sync()`` catches up with other workers'),
    the classifier, the delivery-outcome store and the verification-id signer."""

    index: LiveIndex
    classifier: Classifier
    store: FeedbackStore
    ids: VerificationIds


# Texts outside any known-good data, for the warm-up: the classifier decides the first,
# the second is no address at all.
_WARM_UP_TEXTS = (
    "1600 Pennsylvania Ave NW, Washington, DC 20500",
    "leave it with the neighbour",
    # A recipient, a unit after the ZIP and a phone number: the extras' name list and
    # phone metadata load here, not for a customer.
    "John Smith, 350 5th Ave, New York, NY 10118 Apt 4B, call 555-0134",
)
_WARM_UP_ROWS = 8
"""Known-good addresses the warm-up verifies, as they are and with a typo."""


@dataclass
class Resources:
    """What the service has loaded; ``/readyz`` and the routes answer 503 until ``ready``.

    Ready means every model and table a request can touch is loaded, each once per
    process (behind a lock), and each path a request takes has run once: the first
    verify after ready is as fast as the hundredth.
    """

    index_dir: Path
    adapter_dir: Path | None
    feedback_db: Path
    feedback_secret: str | None = None
    """ADDR_FEEDBACK_SECRET; unset, a secret file beside ``feedback_db``."""
    default_country: str | None = DEFAULT_COUNTRY
    loaded: dict[str, bool] = field(
        default_factory=lambda: {
            "libpostal": False,
            "gazetteer": False,
            "index": False,
            "embedding_model": False,
            "classifier": False,
            "feedback": False,
            "warm": False,
        }
    )
    index: LiveIndex | None = None
    classifier: Classifier | None = None
    store: FeedbackStore | None = None
    ids: VerificationIds | None = None
    error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ready(self) -> bool:
        return all(self.loaded.values())

    @property
    def loading(self) -> bool:
        """Not ready yet, and nothing has failed: asking again later will help."""
        return not self.ready and self.error is None

    def loaded_or_raise(self) -> Loaded:
        """The loaded resources, or :class:`NotReadyError` while loading or after a failure."""
        if (
            not self.ready
            or self.index is None
            or self.classifier is None
            or self.store is None
            or self.ids is None
        ):
            raise NotReadyError(self.error or "the service is still loading", loading=self.loading)
        return Loaded(self.index, self.classifier, self.store, self.ids)

    def load_all(self) -> None:
        """Load libpostal, the postcode gazetteer, the index with its embedding model,
        the classifier and the feedback store (wrapping the index in a :class:`LiveIndex`
        over it), then warm every path up; on failure stay not ready. Loads once however
        often it is called."""
        from address.gazetteer import check_gazetteer, preload_country
        from finetune.classifier import Classifier
        from index.feedback import FeedbackStore
        from index.live import LiveIndex
        from index.store import load_index

        with self._lock:
            if self.ready or self.error:
                return
            try:
                load_libpostal()
                self.loaded["libpostal"] = True
                check_gazetteer()
                if self.default_country:
                    preload_country(self.default_country)
                self.loaded["gazetteer"] = True
                index = load_index(self.index_dir)
                self.loaded["index"] = True
                index.load_embedder()
                self.loaded["embedding_model"] = True
                self.classifier = Classifier.load(self.adapter_dir)
                self.loaded["classifier"] = True
                self.store = FeedbackStore(self.feedback_db)
                self.ids = VerificationIds(load_secret(self.feedback_db, self.feedback_secret))
                self.index = LiveIndex(index, self.store)  # takes in every delivery so far
                self.loaded["feedback"] = True
                seconds = _warm_up(index, self.classifier)
                self.loaded["warm"] = True
                logger.info(
                    "ready",
                    extra={"index_addresses": len(index), "warm_up_s": round(seconds, 2)},
                )
            except (AddressError, OSError, sqlite3.Error) as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                logger.error("not ready", extra={"error": self.error})

    def load_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.load_all, name="load-resources", daemon=True)
        thread.start()
        return thread


def _warm_up(index: AddressIndex, classifier: Classifier) -> float:
    """Run each path of a request once, so that nothing is first done for a customer:
    known-good addresses as they are (index, rules) and with a typo (the dense path,
    corrections), texts outside the data (the classifier), one at a time and as a
    batch, and their prefixes through autocomplete. Returns the seconds it took.

    Example: "4570 Frozen Hill Rd, Anamosa, IA 52205", "4570 Frozn Hill Rd, Anamosa,
    IA 52205", "1600 Pennsylvania Ave NW, Washington, DC 20500", "John Smith, 350 5th Ave,
    New York, NY 10118 Apt 4B, call 555-0134", "4570 Froz".
    """
    from address.verify import verify_batch

    started = time.perf_counter()
    live = index.rows.loc[~index.rows["deleted"].astype(bool), "address"]
    spread = live.iloc[:: max(1, len(live) // _WARM_UP_ROWS)].head(_WARM_UP_ROWS)
    picks = [text for text in spread if len(text.strip()) > 3]
    typos = [text[: len(text) // 3] + text[len(text) // 3 + 1 :] for text in picks]
    texts = [*picks, *typos, *_WARM_UP_TEXTS]
    for text in texts:
        verify_batch([text], searcher=index, classifier=classifier)
        index.autocomplete(text[: max(3, len(text) // 2)])
    verify_batch(texts, searcher=index, classifier=classifier)
    return time.perf_counter() - started
