"""Judges of an answer: is it clean of the noise, are the extras and the unit right."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from eval.production.addresses import WORD, Address
from eval.production.noise import Noisy

# Words of a noise piece too common to tell anything when found in an answer.
STOPWORDS = frozenset(
    {"the", "and", "for", "with", "bei", "der", "die", "das", "und", "den", "dem", "les"}
    | {"des", "aux", "pour", "avec", "une", "sur", "not"}
)
LOCALITY_KEYS = ("city", "suburb", "city_district", "state_district", "island")
DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-().]+(?=\d)")
COMPACT = re.compile(r"[\s\-.#/]+")
UNIT_TOKEN = re.compile(r"[0-9a-z]+(?:[-/.][0-9a-z]+)*")


def fold(text: str) -> str:
    """Case- and accent-free: "Bürstadt" -> "burstadt"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> set[str]:
    return set(WORD.findall(fold(text)))


def _digits(text: str) -> str:
    """Digit runs with the spaces, dashes and brackets inside them removed."""
    return DIGIT_GAPS.sub("", text)


def noise_words(noisy: Noisy, address: Address) -> set[str]:
    """Words of the noise that the address itself does not hold (three characters or more,
    common function words left out): what must not reach an answer."""
    own = words(address.text) | words(noisy.unit or "")
    found = set()
    for piece in noisy.placed:
        found |= {w for w in words(piece) if len(w) >= 3 and w not in own | STOPWORDS}
    return found


def _present(part: str, have: set[str]) -> bool:
    """The longest word of ``part`` (the first of equally long ones, in the order
    written: "wetter" of "Wetter (Hessen)") is among ``have``, or one is an abbreviation
    of the other ("waldstr" / "waldstrasse")."""
    core = max(WORD.findall(fold(part)), key=len, default="")
    return any(
        w == core or (min(len(w), len(core)) >= 4 and (core.startswith(w) or w.startswith(core)))
        for w in have
    )


def judge_clean(
    answer: dict[str, Any], address: Address, noisy: Noisy | None, components: bool = True
) -> str | None:
    """Why an answer's standardized form is not clean, or None when it is: no word of the
    noise (names, phone digits, e-mail, web address, instruction words) in ``standardized``
    or (unless ``components`` is false) in a component value, and the address's own number,
    street and town still in ``standardized``."""
    standardized = answer["standardized"]
    answer_text = " ".join([standardized, *(answer["components"].values() if components else ())])
    if noisy is not None:
        leaked = sorted(noise_words(noisy, address) & words(answer_text))
        if leaked:
            return "noise in the answer: " + " ".join(leaked[:4])
        phone = re.sub(r"\D", "", noisy.truth.get("phone", ""))[-7:]
        if len(phone) == 7 and phone in re.sub(r"\D", " ", _digits(answer_text)):
            return "phone number in the answer"
    have = words(standardized)
    number = re.match(r"\d+", address.house_number)
    if number and not re.search(rf"(?<!\d){number[0]}(?!\d)", fold(standardized)):
        return "house number missing"
    if not _present(address.road, have):
        return "street missing"
    if not _present(address.city, have):
        return "town missing"
    return None


def _url(text: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", fold(text).strip()).rstrip("/")


def extra_matches(kind: str, truth: str, got: str) -> bool:
    """Whether an extracted value says what was placed: the same last nine digits of a
    phone number, the same e-mail or web address (case, scheme and ``www.`` aside), or for
    names, companies and instructions a word-set F1 of at least 0.8."""
    if kind == "phone":
        a, b = re.sub(r"\D", "", truth), re.sub(r"\D", "", got)
        return len(b) >= 7 and a[-9:] == b[-9:]
    if kind == "email":
        return fold(truth).strip() == fold(got).removeprefix("mailto:").strip()
    if kind == "url":
        return _url(truth) == _url(got)
    mine, theirs = words(truth), words(got)
    common = len(mine & theirs)
    return common > 0 and 2 * common / (len(mine) + len(theirs)) >= 0.8


def unit_found(unit_id: str, components: dict[str, str], labels: Sequence[str]) -> bool:
    """The unit's identifier ("4B", "05-67") is a word of one of the ``labels``' values,
    or ends one right after its letters ("apt4b")."""
    wanted = COMPACT.sub("", fold(unit_id))
    for label in labels:
        for token in UNIT_TOKEN.findall(fold(components.get(label) or "")):
            token = COMPACT.sub("", token)
            if token == wanted or (
                wanted[:1].isdigit()
                and token.endswith(wanted)
                and token[-len(wanted) - 1].isalpha()
            ):
                return True
    return False


def cross_town(address: Address, components: dict[str, str]) -> bool:
    """A suggestion whose town and postcode both differ from the input's (a suggestion
    that names neither counts as differing)."""
    towns = {fold(components[k]) for k in LOCALITY_KEYS if components.get(k)}
    postcode = COMPACT.sub("", fold(components.get("postcode") or ""))
    return fold(address.city) not in towns and postcode != COMPACT.sub("", fold(address.postcode))
