"""Verify on UK, German and French addresses, against the rules alone."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval._common import log
from eval.classifier_sets import de_addresses, fr_addresses, other_country_set, uk_addresses
from eval.datasets_eval_suggest import VERIFY_SETS, Sizes

if TYPE_CHECKING:
    from finetune.classifier import Classifier
    from finetune.data import Example
    from index.search import AddressIndex

VERIFY_MODES = ("country_given", "no_country")
VERIFY_CHUNK = 100  # addresses per verify_batch call, as a /v1/verify/batch request


def _verdict_stats(gold_valid: Sequence[bool], verdicts: Sequence[str]) -> dict[str, Any]:
    def shares(values: list[str]) -> dict[str, Any]:
        n = max(len(values), 1)
        return {
            "n": len(values),
            **{v: round(values.count(v) / n, 4) for v in ("valid", "uncertain", "invalid")},
        }

    pairs = list(zip(gold_valid, verdicts, strict=True))
    decided = [(g, v) for g, v in pairs if v in ("valid", "invalid")]
    positives = [v for g, v in pairs if g]
    negatives = [v for g, v in pairs if not g]
    n = max(len(pairs), 1)
    return {
        "positives": shares(positives),
        "negatives": shares(negatives),
        "coverage": round(len(decided) / n, 4),
        "decided_accuracy": round(
            sum((v == "valid") == g for g, v in decided) / max(len(decided), 1), 4
        ),
        "strict_accuracy": round(
            sum((v == "valid" and g) or (v == "invalid" and not g) for g, v in pairs) / n, 4
        ),
        "accept_accuracy": round(sum((v == "valid") == g for g, v in pairs) / n, 4),
        "false_accept_rate": round(negatives.count("valid") / max(len(negatives), 1), 4),
        "false_reject_rate": round(positives.count("invalid") / max(len(positives), 1), 4),
    }


def _verdicts(
    texts: Sequence[str], country: str | None, index: AddressIndex, classifier: Classifier
) -> tuple[list[str], int]:
    """Verdicts of ``verify_batch`` (chunks of 100); an input it refuses is ``error``."""
    from address.errors import AddressError
    from address.verify import Verification, verify, verify_batch

    verdicts: list[str] = []
    classifier_used = 0
    for start in range(0, len(texts), VERIFY_CHUNK):
        chunk = texts[start : start + VERIFY_CHUNK]
        results: list[Verification | None]
        try:
            results = list(verify_batch(chunk, country, searcher=index, classifier=classifier))
        except AddressError:  # one bad input fails the batch: verify one by one
            results = []
            for text in chunk:
                try:
                    results.append(verify(text, country, searcher=index, classifier=classifier))
                except AddressError:
                    results.append(None)
        for result in results:
            verdicts.append(result.verdict.value if result is not None else "error")
            classifier_used += bool(result is not None and result.classifier_used)
    return verdicts, classifier_used


def _rules_verdicts(texts: Sequence[str], country: str | None) -> list[str]:
    """Rules-only verdicts: libpostal (with the country hint when one is given), then
    ``address.rules.check`` for that country, else for the one ``detect_country`` finds
    (falling back to the service's default, as verify does); no reason = valid."""
    from address.errors import AddressError
    from address.libpostal import parse
    from address.rules import check, detect_country
    from address.settings import get_settings

    default = get_settings().default_country
    verdicts = []
    for text in texts:
        try:
            parsed = parse(text, country.lower() if country else None)
            code = country or detect_country(parsed, default) or "US"
            valid = not check(parsed, code)
        except AddressError:
            valid = False
        verdicts.append("valid" if valid else "invalid")
    return verdicts


def _verify_set(
    examples: Sequence[Example], index: AddressIndex, classifier: Classifier
) -> tuple[dict[str, Any], dict[str, Any]]:
    from finetune._labels import VALID

    gold = [e.label == VALID for e in examples]
    texts = [e.text for e in examples]
    country = Counter(e.country for e in examples).most_common(1)[0][0]
    ours: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    for mode in VERIFY_MODES:
        given = country if mode == "country_given" else None
        start = time.perf_counter()
        verdicts, used = _verdicts(texts, given, index, classifier)
        seconds = time.perf_counter() - start
        by_label: dict[str, Counter[str]] = defaultdict(Counter)
        for example, verdict in zip(examples, verdicts, strict=True):
            by_label[example.label][verdict] += 1
        ours[mode] = {
            "country": given,
            **_verdict_stats(gold, verdicts),
            "by_label": {k: dict(v) for k, v in sorted(by_label.items())},
            "errors": verdicts.count("error"),
            "classifier_used": round(used / max(len(texts), 1), 4),
            "addresses_per_s": round(len(texts) / seconds, 1),
        }
        start = time.perf_counter()
        rule_verdicts = _rules_verdicts(texts, given)
        rules[mode] = {
            "method": "libpostal parse + address.rules.check "
            + (f"for {given}" if given else "for the detected country")
            + "; no reason = valid",
            **_verdict_stats(gold, rule_verdicts),
            "addresses_per_s": round(len(texts) / (time.perf_counter() - start), 1),
        }
    return ours, rules


def eval_verify(folder: Path, sizes: Sizes, seed: int) -> dict[str, dict[str, Any]]:
    from finetune.classifier import Classifier
    from index.store import default_index_dir, load_index

    started = time.perf_counter()
    index = load_index(default_index_dir())
    classifier = Classifier.load()
    log(f"verify: default index and classifier loaded in {time.perf_counter() - started:.0f} s")
    rng = random.Random(seed)
    results: dict[str, dict[str, Any]] = {}
    for name, loader in (("uk", uk_addresses), ("de", de_addresses), ("fr", fr_addresses)):
        real = loader(folder, sizes.verify_per_country, rng)
        examples = other_country_set(name, real, 2 * len(real), seed, 0.5)
        ours, rules = _verify_set(examples, index, classifier)
        results[VERIFY_SETS[name]] = {"verify": ours, "baseline": {"verify": rules}}
        log(f"verify {name}: {len(examples)} addresses, two ways")
    return results
