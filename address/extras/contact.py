"""Phone numbers, e-mail addresses and URLs in an address text.

"+44 20 7946 0958" and "call 555-0134" are phone numbers; "NY 10118-1234", "PO Box 1234567"
and "12.05.2024" are not.
"""

from __future__ import annotations

import re

import phonenumbers

from address.extras.vocabulary import UNIT_WORDS

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
URL = re.compile(
    r"(?<![\w@.])(?:https?://|www\.)[^\s,;()<>]+"
    r"|(?<![\w@.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*"
    r"\.(?:com|org|net|info|biz|io|co|eu|de|fr|es|it|nl|be|ch|at|uk|us|ca|au|pl|pt|ie)"
    r"(?:/[^\s,;()<>]*)?(?![\w@.-]|\.\w)",
    re.IGNORECASE,
)
# "E-mail:", "Web:" left in front of what was cut.
LABEL_BEFORE = re.compile(
    r"(?:e-?mail|courriel|correo|mail|web(?:site)?|site|url|homepage|internet)\s*[:.]?\s*$",
    re.IGNORECASE,
)

# Nouns that label a phone number; cut together with it.
PHONE_LABEL = re.compile(
    r"(?:\b(?:tel(?:ephone|efon|éfono|efono|efoon)?|tél(?:éphone)?|phone|ph|mob(?:ile?)?|cell"
    r"(?:phone)?|handy|portable|port|móvil|movil|cellulare|cell\.|mobiel|gsm|fax|whatsapp)"
    r"\.?\s*(?:no\.?|nr\.?|number|num\.?|n°|#)?\s*[:.]?\s*)$",
    re.IGNORECASE,
)
# Verbs before a phone number; cut with it when nothing else is said in that part.
PHONE_VERB = re.compile(
    r"(?:\b(?:call|ring|text|anrufen|appeler|llamar|chiamare|bel|bellen)\s*[:.]?\s*)$",
    re.IGNORECASE,
)
# What a phone-number matcher misses: "001-555-123-4567", "0621 123 456".
_PHONE_LIKE = re.compile(
    r"(?<![\w+#/.-])(?:\+|00)?\(?\d[\d\s().\-/]{5,}\d(?:\s*(?:x|ext\.?|#)\s*\d{1,5})?(?![\w/-])"
)
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|#)\s*\d{1,5}$", re.IGNORECASE)
_BOX_BEFORE = re.compile(
    r"\b(?:box|pob|postfach|bp|b\.p\.|apartado|casella|postbus|cp|cs|cedex)\s*\.?\s*(?:no\.?)?\s*$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _is_phone(text: str, start: int, end: int, region: str) -> bool:
    """Whether ``text[start:end]`` is a phone number and not a postcode, ZIP+4, house number,
    date or PO box: "555-0134" after "call", "+44 20 7946 0958", "06206 12345" are."""
    raw = text[start:end]
    core = _EXTENSION.sub("", raw)
    digits = re.sub(r"\D", "", core)
    before = text[max(0, start - 30) : start]
    if len(digits) < 7 or _BOX_BEFORE.search(before) or _DATE.match(core):
        return False
    if re.fullmatch(r"\d{5}-\d{4}", core):
        return False
    if core.startswith(("+", "00", "(+")) or PHONE_LABEL.search(before):
        return True
    groups = re.findall(r"\d+", core)
    if PHONE_VERB.search(before):
        return len(groups) > 1 or len(digits) >= 9
    nanp = re.fullmatch(r"(?:1[\s.-]?)?(?:\(\d{3}\)\s*|\d{3}[\s.-])?\d{3}[\s.-]\d{4}", core)
    if (nanp and groups[0][0] not in "01") or re.fullmatch(r"1?\d{10}", core):
        return region in ("US", "CA") or not nanp or len(digits) >= 10
    if groups[0].startswith("0") and len(digits) >= 8:
        return all(len(group) >= 2 for group in groups[1:])
    return len(digits) >= 9 and len(groups) >= 2 and all(len(g) >= 2 for g in groups)


def phone_spans(text: str, region: str) -> list[tuple[int, int]]:
    """Phone numbers found by libphonenumber's matcher and, for formats it misses, a
    pattern; both pass :func:`_is_phone`."""
    found: list[tuple[int, int]] = []
    candidates = [
        (match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE
        )
    ]
    candidates += [(match.start(), match.end()) for match in _PHONE_LIKE.finditer(text)]
    for start, end in sorted(candidates, key=lambda span: (span[0], -span[1])):
        start, end = _trim_head(text, start, end), _phone_end(text, start, end, region)
        if any(start < done_end and end > done_start for done_start, done_end in found):
            continue
        if _is_phone(text, start, end, region):
            found.append((start, end))
    return found


def _trim_head(text: str, start: int, end: int) -> int:
    """Drop a postcode or unit number the matcher ran into: "NY 10118 555 0134" and
    "Suite 30 (0191) 496 0601" start at "555" and "(0191)"."""
    before = text[:start]
    unit = re.search(r"(?<!\w)([^\W\d]+)\.?\s*$", before)
    if unit and unit[1].lower() in UNIT_WORDS:
        head = re.match(r"\d{1,5}[A-Za-z]?\s+(?=[(+\d])", text[start:end])
    else:
        head = re.match(r"[1-9]\d{3,4} (?=\d)", text[start:end])
        head = head if head and re.search(r"[^\W\d_]\s*$", before) else None
    return start + head.end() if head else start


def _valid(number: str, region: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, region)))
    except phonenumbers.NumberParseException:
        return False


def _phone_end(text: str, start: int, end: int, region: str) -> int:
    """Where a phone number really ends: never across a separator ("(926)919-0301 - 511
    W Elm Street"), nor into the house number of the street that follows it ("02 28 76
    95 74 25 Chemin de Bindre" ends before "25") unless only the longer form is valid."""
    stop = re.search(r"\s*(?:[,;|\n\x1f]|\s[-–—]\s)", text[start:end])
    if stop and len(re.sub(r"\D", "", text[start : start + stop.start()])) >= 7:
        end = start + stop.start()
    last = re.search(r"\s+\d{1,5}[A-Za-z]?$", text[start:end])
    if (
        last
        and re.match(r"\s+[^\W\d_]", text[end:])
        and not _valid(text[start:end], region)
        and _is_phone(text, start, start + last.start(), region)
    ):
        end = start + last.start()
    return end


def label_start(text: str, start: int, pattern: re.Pattern[str]) -> int:
    """Where a label such as "Tel.:" or "E-mail:" right before ``start`` begins."""
    match = pattern.search(text[max(0, start - 30) : start])
    return start - len(match.group(0)) if match else start
