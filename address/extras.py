"""Take out of an address text what is not the address.

Callers mix recipients, companies, phone numbers, e-mails, URLs and delivery notes into
the address: ``"John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134"``.
:func:`split_extras` cuts them out and returns them apart. It never takes a street, town
or building word: a part is only taken on a cue (a title, "c/o", a company suffix, an
instruction verb, a phone label), as a person's name when its first word is a known first
name and it names no place the gazetteer knows, or as a company when a lone surname stands
where no address part does ("Schmitt, 24 Rue des Closiers, 45000 Orléans").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from typing import Protocol

import phonenumbers
from gender_guesser.detector import Detector

from address.errors import UnknownCountryError
from address.gazetteer import is_place
from address.model import ParsedAddress
from address.rules import detect_country, is_region, postcode_before_town

__all__ = ["Extracted", "Extras", "cut_spans", "from_house", "from_road", "split_extras"]


@dataclass(frozen=True, slots=True)
class Extras:
    """What came with the address: ``Extras(recipient="John Smith", phone="555-0134")``."""

    recipient: str | None = None
    company: str | None = None
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    instructions: str | None = None

    def as_dict(self) -> dict[str, str]:
        """The present ones: ``{"recipient": "John Smith", "phone": "555-0134"}``."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def merged(self, other: Extras) -> Extras:
        """These, with the kinds they lack taken from ``other``:
        ``Extras(recipient="John Smith").merged(Extras(recipient="x", company="Acme Corp"))``
        is ``Extras(recipient="John Smith", company="Acme Corp")``."""
        return Extras(**{**other.as_dict(), **self.as_dict()})


@dataclass(frozen=True, slots=True)
class Extracted:
    """``Extracted(address="350 5th Ave Apt 4B, New York NY 10118", extras=Extras(...))``."""

    address: str
    extras: Extras


# Stands for a cut character while the text is read, so offsets keep pointing at the input.
_CUT = "\x1f"
# Where one part of an address ends and the next begins.
_BOUNDARY = re.compile(r"[,;|()\n\x1f]+|\s+[-–—]\s+")

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_URL = re.compile(
    r"(?<![\w@.])(?:https?://|www\.)[^\s,;()<>]+"
    r"|(?<![\w@.-])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*"
    r"\.(?:com|org|net|info|biz|io|co|eu|de|fr|es|it|nl|be|ch|at|uk|us|ca|au|pl|pt|ie)"
    r"(?:/[^\s,;()<>]*)?(?![\w@.-]|\.\w)",
    re.IGNORECASE,
)
# "E-mail:", "Web:" left in front of what was cut.
_LABEL_BEFORE = re.compile(
    r"(?:e-?mail|courriel|correo|mail|web(?:site)?|site|url|homepage|internet)\s*[:.]?\s*$",
    re.IGNORECASE,
)

# Nouns that label a phone number; cut together with it.
_PHONE_LABEL = re.compile(
    r"(?:\b(?:tel(?:ephone|efon|éfono|efono|efoon)?|tél(?:éphone)?|phone|ph|mob(?:ile?)?|cell"
    r"(?:phone)?|handy|portable|port|móvil|movil|cellulare|cell\.|mobiel|gsm|fax|whatsapp)"
    r"\.?\s*(?:no\.?|nr\.?|number|num\.?|n°|#)?\s*[:.]?\s*)$",
    re.IGNORECASE,
)
# Verbs before a phone number; cut with it when nothing else is said in that part.
_PHONE_VERB = re.compile(
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
_POSTCODE_TOKEN = re.compile(
    r"^(?:\d{4,5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3}\s?\d{2}|\d{4}\s?[A-Z]{2})$",
    re.IGNORECASE,
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_UNIT_WORDS = _word_set(
    "flat apt apartment unit suite ste floor fl room rm wohnung whg appartement appt apto "
    "piso bus po p.o. postfach bp bât bâtiment bat batiment escalier esc étage etage porte "
    "puerta"
)


# Cues that open a recipient line; the cue itself is not part of the name.
_RECIPIENT_CUE = re.compile(
    r"^\s*(?:c\s*/\s*o|c\.o\.|care\s+of|attn|attention|att|z\.\s*hd\.?|z\.\s*h\.|zhd\.?|zu\s+händen"
    r"(?:\s+von)?|à\s+l['’]\s*att(?:ention|\.)?(?:\s+de)?|a\s+l['’]\s*att(?:ention|\.)?(?:\s+de)?"
    r"|a/a|atención(?:\s+de)?|all['’]\s*attenzione(?:\s+di)?|alla\s+c\.a\.|c\.a\.|t\.a\.v\.|tav"
    r"|t\.n\.v\.|bei|chez|p/a|per\s+adres|aos\s+cuidados\s+de|a/c)(?!\w)\.?\s*[:.]?\s*",
    re.IGNORECASE,
)
_TITLES = _word_set(
    "mr mrs ms miss mx dr prof sir dame lady lord rev herr herrn frau fräulein m mme mlle "
    "mm monsieur madame mademoiselle me sr sra srta don doña dña dott dott.ssa dottssa "
    "sig sig.ra signor signora sigra ing avv dhr mevr mw mej ir drs dipl.-ing univ.prof"
)
_NAME_SUFFIXES = _word_set(
    "jr jr. sr sr. ii iii iv md phd ph.d. dds dvm esq mba b.sc. m.sc. b.a. m.a. bsc msc "
    "b.eng. m.eng. dipl.-ing. mag. dr."
)
_PARTICLES = _word_set(
    "van de der den von zu di da del della dello dei degli le la du des dos das ten ter y "
    "e i af al bin ben st. mac mc"
)
# Titles only a person bears ("Lord" and "Lady" also name colleges and streets).
_COURTESY = _word_set("mr mrs ms miss mx herr frau mme mlle dhr mevr")
_NOBLE = _word_set("sir dame lady lord")
# Particles that are also first names, written so: "Ben Burton", "Al Green".
_GIVEN_PARTICLES = frozenset({"Ben", "Al", "BEN", "AL"})
# Compass points as streets abbreviate them: "Linden Dr SE" (never a first name).
_COMPASS = _word_set("n s e w ne nw se sw no so")
# Street, building and place words: a part holding one is never a person's name.
_PLACE_WORDS = _word_set(
    "street st str road rd avenue ave av avda av. lane ln drive dr way wy court ct place "
    "pl close crescent cres terrace terr tce grove gardens gdns garden square sq row mews "
    "walk hill park green parade circle cir boulevard blvd highway hwy parkway pkwy pike "
    "trail trl loop path alley broadway circus causeway gate gates view rise vale wharf "
    "quay yard house cottage cottages lodge hall farm manor barn mill mills villa villas "
    "centre center building bldg tower towers flats apartments estate industrial business "
    "chambers works arcade market station church chapel school college university "
    "hospital surgery clinic pharmacy hotel inn pub arms castle abbey priory barracks "
    "field fields heath moor common wood woods forest grange croft orchard meadow meadows "
    "bridge ford cross end bank banks side top bottom north south east west upper lower "
    "great little old new saint st. san santa sainte mount mt fort port lake river creek "
    "beach bay island isle point springs falls valley heights village town city county "
    "ville burg borough shire junction plaza mall harbour harbor marina dock docks "
    "airport strasse straße weg gasse platz allee ring damm ufer chaussee markt hof steig "
    "pfad rue chemin impasse allée quai cours passage route résidence lieu-dit calle "
    "carrera camino paseo avenida ronda travesía urbanización via viale piazza corso "
    "vicolo largo strada contrada località frazione straat laan plein gracht kade singel "
    "dijk dreef steeg po box postfach apartado academy embassy lounge practice restaurant "
    "cafe café bar club library museum theatre theater cinema studio studios gallery "
    "institute foundation trust society association mosque temple synagogue cathedral "
    "parish nursery spa lotissement domaine hameau"
)
# Place words that are also common surnames, read as one after a first name: "Joseph Hill".
_PLACE_SURNAMES = _word_set("hill wood ford field moor mill brook")
# More such surnames, read as one where a parse has put a name ("Brendan West" in ``house``).
_PARSE_SURNAMES = _PLACE_SURNAMES | _word_set(
    "west east north south green cross banks mills hall woods fields chambers bank"
)
# Place words read as a surname only after a first name that names no house ("Jason Villa",
# "Rebecca Church", "Debra Lane"; never "Rose Villa" or "Holly Lodge").
_GLUED_SURNAMES = _PARSE_SURNAMES | _word_set("villa church chapel lane little meadows gates")
# ... and that may stand in a double name ("Park-Moran", "Johnson-Heath").
_DOUBLE_SURNAMES = _GLUED_SURNAMES | _word_set("park heath grove")
# First names that also open house names ("Rose Villa", "Holly Lodge").
_HOUSE_FIRST = _word_set(
    "rose ivy olive lily holly may hazel violet heather daisy iris fern laurel myrtle "
    "primrose jasmine willow rowan poppy summer autumn dawn sunny grace hope faith joy "
    "ruby pearl amber crystal crown star"
)
# Words that join the parts of a town's name: "Burton upon Trent", "Boulogne-sur-Mer".
_TOWN_LINKS = _word_set("on upon under cum sur lès lez-")
# Articles and prepositions that open street names: "Am Deich", "The Maltings", "Im Hof".
_NOT_FIRST = _word_set(
    "am an im in auf zum zur zu vom von der die das the of le la les el los las il lo gli "
    "op het aan bij den ter ten at on by"
)
_STREET_SUFFIX = re.compile(
    r"(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|straat|laan|plein|gracht"
    r"|kade|singel|dijk|dreef|steeg|vej|gade|gatan|vägen|veien|gata|street|road)$",
    re.IGNORECASE,
)


def _street_word(word: str) -> bool:
    """ "mühlenstraße", "nordring" end as streets do; the surnames "häring", "pickering",
    "herring" do not."""
    return bool(_STREET_SUFFIX.search(word)) and not re.search(r"(?:e|ä|r)ring$", word)


# Company suffixes ("Acme Corp", "Müller GmbH") and words that end or open a company name.
_COMPANY_SUFFIX = re.compile(
    r"(?:\b(?:inc|incorporated|llc|l\.l\.c|llp|ltd|limited|corp|corporation|plc|pty|pte"
    r"|gmbh|mbh|gbr|kgaa|kg|ohg|ag|e\.v|e\.g|ug|sarl|s\.a\.r\.l|sas|s\.a\.s|sasu|snc|eurl|sa"
    r"|s\.a|s\.l|s\.l\.l|s\.l\.u|s\.a\.u|s\.coop|slu|s\.p\.a|spa|s\.r\.l|srl|s\.n\.c|s\.a\.s"
    r"|bv|b\.v|nv|n\.v|v\.o\.f|vof|bvba|sprl|group|groupe|gruppe|gruppo|groep|holding|holdings"
    r"|associates|partners|partner|company|gesellschaft|stiftung|sons|söhne|fils|figli|hijos"
    r"|hermanos|associati|asociados|co)\b\.?|&\s*co\.?)(?:\s*(?:&\s*co\.?\s*)?(?:kg|kgaa|ohg)\.?)?$",
    re.IGNORECASE,
)
_COMPANY_PREFIX = re.compile(
    r"^(?:grupo|groupe|gruppo|corporación|industrias|comercial|distribuciones|servicios|talleres"
    r"|inversiones|construcciones|transportes|laboratorios|hermanos|société|ste|sté|ets"
    r"|établissements|studio\s+associato)\b",
    re.IGNORECASE,
)
# Suffixes that are also states or cantons: "Las Vegas NV", "Adelaide SA", "Baden AG".
_AMBIGUOUS_SUFFIX = frozenset({"nv", "sa", "ag", "co", "spa", "port"})
# "Duncan, Thompson and Hall" written as parts of their own, ahead of a part or a number.
_JOINED_ACROSS = re.compile(
    r"(?:^|(?<=[,;|\n\x1f])|(?<=\s[-–—]\s))\s*([A-ZÀ-Þ][\w'’\-]+\s*,\s*[A-ZÀ-Þ][\w'’\-]+,?\s+"
    r"(?:and|&|und|et|y|en)\s+[A-ZÀ-Þ][\w'’\-]+)(?=\s*(?:$|[,;|\n\x1f])|\s[-–—]\s|\s+\d)"
)
# Where houses bear names, a lone word before the street is one ("Gleneagles, 12 High St").
_NAMED_HOUSES = frozenset({"GB", "IE", "IM", "JE", "GG"})
_JOINED_NAMES = re.compile(
    r"^[A-ZÀ-Þ][\w'’\-]+(?:\s*,\s*[A-ZÀ-Þ][\w'’\-]+)*\s+(?i:and|&|und|et|e|y|en)\s+[A-ZÀ-Þ][\w'’\-]+$"
)

# Words and phrases that open a delivery note, per language. Verbs are only read as a note
# at the start of a part; the strong phrases also after the postcode in the same part.
_NOTE_VERBS = (
    r"leave|left|call|ring|deliver|delivery|please|pls|plz|knock|buzz|text|drop|put|"
    r"don['’]?t|do\s+not|if\s+not|if\s+no|if\s+out|no\s+one|nobody|use|enter|beware|"
    r"careful|fragile|handle|signature|sign|back\s+door|side\s+door|front\s+door|porch|"
    r"next\s+to|neighbou?r|reception|concierge|doorman|back\s+entrance|side\s+entrance|"
    r"rear\s+entrance|garage|garden|shed|mailbox|letterbox|parcel\s+box|doorbell|bell|"
    r"bitte|klingeln|klingel|abstellen|abgeben|ablegen|hinterlegen|beim\s+nachbarn|nachbar|"
    r"anrufen|nicht|paket|lieferung|zustellung|briefkasten|paketkasten|hintereingang|"
    r"seiteneingang|abstellort|garten|terrasse|"
    r"sonnez|sonner|livrer|livraison|laisser|déposer|deposer|appeler|merci|svp|"
    r"s['’]il\s+vous\s+pla[iî]t|interphone|gardien|boîte|boite|chez\s+le\s+voisin|portail|"
    r"accueil|voisin|jardin|"
    r"por\s+favor|dejar|llamar|timbre|entregar|entrega|portero|conserjer[ií]a|no\s+funciona|"
    r"vecino|porter[ií]a|buzón|buzon|garaje|jard[ií]n|"
    r"per\s+favore|lasciare|citofonare|citofono|suonare|consegnare|consegna|chiamare|"
    r"portineria|portiere|cortile|vicino|giardino|cassetta\s+postale|"
    r"aanbellen|graag|alstublieft|achterlaten|afleveren|bij\s+de\s+buren|niet|buren|"
    r"achterdeur|brievenbus|tuin|schuur|"
    r"gate|door|buzzer|digicode|code|türcode|torcode|código|codice|deurcode|poortcode|"
    r"entry|access|intercom"
)
_NOTE_START = re.compile(rf"^\s*(?:{_NOTE_VERBS})\b", re.IGNORECASE)
_NOTE_STRONG = re.compile(
    r"(?<!\w)(?:please|pls|bitte|por\s+favor|per\s+favore|svp|s['’]il\s+vous\s+pla[iî]t|"
    r"leave\s+(?:at|with|in|on|by|behind|it|the|parcel|package)|ring\s+(?:the|twice|bell|door)|"
    r"knock\s+(?:loudly|twice|hard|on\s+the)|"
    r"call\s+(?:before|on|when|me|upon|ahead|if)|deliver\s+(?:to|before|after|between|only)|"
    r"(?:gate|door|entry|access|building)\s+code|buzzer|digicode|code\s+porte|code\s+d['’]entrée|"
    r"klingeln|abstellen|abgeben|beim\s+nachbarn|sonnez|sonner|livrer|laisser|déposer|"
    r"dejar\s+en|llamar\s+al|citofonare|lasciare|consegnare|aanbellen|achterlaten|afleveren|"
    r"do\s+not|don['’]t|if\s+not\s+home|no\s+signature|timbre|türcode|codice|código|deurcode|"
    r"citofonare|suonare|aanbellen|graag|hintereingang|abstellort|benutzen|gardien|"
    r"doorbell|vecino|porter[ií]a|bij\s+de\s+buren)\b",
    re.IGNORECASE,
)
# A code cue may be followed by digits ("gate code 1234"); a verb followed by a number or a
# street word is a street ("Ring 5", "Call Lane").
_CODE_CUE = re.compile(
    r"^\s*(?:(?:gate|door|entry|access|building|tür|tor|deur|poort)\s*code|code|digicode|"
    r"buzzer|türcode|torcode|código|codice|deurcode|poortcode|interphone|intercom|"
    r"citofono|timbre|klingel)\b",
    re.IGNORECASE,
)


class _Take(Protocol):
    """Cuts ``work[start:end]`` and files it under ``kind`` (``value`` if given)."""

    def __call__(self, kind: str, start: int, end: int, value: str | None = None) -> None: ...


_detector_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector() -> Detector:
    """gender_guesser's first-name table, loaded once (~0.2 s) on first use."""
    with _detector_lock:
        return Detector(case_sensitive=False)


@lru_cache(maxsize=4096)
def _is_first_name(word: str) -> bool:
    """ "John" -> True, "Kingsway" -> False; a hyphenated name counts by its first part."""
    first = word.split("-")[0].strip(".'’").lower()
    if len(first) < 2 or first in _PLACE_WORDS or first in _COMPASS:
        return False
    # Both tables are read at the first name asked about (the service's warm-up), not
    # at the first name only the folded one knows.
    folded = _folded_names()
    if _detector().get_gender(first) != "unknown":
        return True
    return _fold(first) in folded


def _fold(word: str) -> str:
    """ "Françoise" -> "francoise", "Géza" -> "geza"."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _folded_names() -> frozenset[str]:
    """The table's first names as typed without accents: "francoise", "geza", and with
    umlauts spelt out, "guenter" for "Günter"."""
    names = set()
    for name in _detector().names:
        names.add(_fold(name))
        if re.search("[äöü]", name):
            names.add(_fold(re.sub("[äöü]", lambda m: _fold(m[0]) + "e", name)))
    return frozenset(names)


def cut_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Cut ``spans`` out of ``text`` and tidy the separators left behind.

    ``cut_spans("John Smith, 12 Baker St, London", [(0, 10)])`` -> ``"12 Baker St, London"``.
    """
    chars = list(text)
    for start, end in spans:
        chars[start:end] = _CUT * (end - start)
    return _tidy("".join(chars))


def _tidy(text: str) -> str:
    """ "\\x1f\\x1f, 12 Baker St ,\\x1f, London" -> "12 Baker St, London"."""
    text = re.sub(r"\s*\x1f[\x1f\s]*", " ", text)
    text = re.sub(r"\(\s*\)|\[\s*\]", " ", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,;:.)])", r"\1", text)
    text = re.sub(r"([,;])(?:\s*[,;:\-|/])+", r"\1", text)
    return re.sub(r"^[\s,;:\-|/.]+|[\s,;:\-|/]+$", "", text)


def _clean(value: str) -> str | None:
    """A cut piece as the caller typed it, without separators around it."""
    value = _tidy(value)
    value = value.strip(" -:,;")
    return value or None


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
    if core.startswith(("+", "00", "(+")) or _PHONE_LABEL.search(before):
        return True
    groups = re.findall(r"\d+", core)
    if _PHONE_VERB.search(before):
        return len(groups) > 1 or len(digits) >= 9
    nanp = re.fullmatch(r"(?:1[\s.-]?)?(?:\(\d{3}\)\s*|\d{3}[\s.-])?\d{3}[\s.-]\d{4}", core)
    if (nanp and groups[0][0] not in "01") or re.fullmatch(r"1?\d{10}", core):
        return region in ("US", "CA") or not nanp or len(digits) >= 10
    if groups[0].startswith("0") and len(digits) >= 8:
        return all(len(group) >= 2 for group in groups[1:])
    return len(digits) >= 9 and len(groups) >= 2 and all(len(g) >= 2 for g in groups)


def _phone_spans(text: str, region: str) -> list[tuple[int, int]]:
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
    if unit and unit[1].lower() in _UNIT_WORDS:
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


def _label_start(text: str, start: int, pattern: re.Pattern[str]) -> int:
    """Where a label such as "Tel.:" or "E-mail:" right before ``start`` begins."""
    match = pattern.search(text[max(0, start - 30) : start])
    return start - len(match.group(0)) if match else start


def _segments(work: str) -> list[tuple[int, int]]:
    """Spans of the parts between separators, trimmed, empty ones left out."""
    out = []
    position = 0
    for match in [*_BOUNDARY.finditer(work), None]:
        stop = match.start() if match else len(work)
        piece = work[position:stop]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((position + lead, position + len(piece.rstrip())))
        position = match.end() if match else stop
    return out


def _words(piece: str) -> list[str]:
    return piece.split()


def _is_person(
    piece: str, *, cued: bool = False, surnames: frozenset[str] = _PLACE_SURNAMES
) -> bool:
    """ "John Smith", "Dr. Maria García López", "Jan de Vries" are; "Rose Cottage",
    "Kingsway House", "Park Avenue" are not; ``surnames`` are place words that may end
    a name ("Joseph Hill")."""
    words = _words(piece)
    titles = 0
    while titles < len(words) and words[titles].lower().rstrip(".") in _TITLES:
        titles += 1
    core = words[titles:]
    if _COMPANY_SUFFIX.search(piece) or (core and core[0].lower() in _NOT_FIRST):
        return False
    while core and core[-1].lower().strip(",") in _NAME_SUFFIXES:
        core = core[:-1]
    if not core or len(core) > 5 or any(ch.isdigit() for ch in piece):
        return False
    # After "Mrs" and a first name any place word is a surname: "Mrs Lesley Little"; after
    # "Lady" none is ("Lady Margaret Hall" is a college).
    held = {w.lower().rstrip(".") for w in words[:titles]}
    courtesy = len(core) == 2 and bool(held & _COURTESY) and _is_first_name(core[0])
    noble = bool(held) and held <= _NOBLE
    for i, word in enumerate(core):
        bare = word.lower().strip(".,'’")
        surname = 0 < i == len(core) - 1 and (bare in surnames or courtesy) and not noble
        place = bare in _PLACE_WORDS and not surname
        if place or bare in _TOWN_LINKS or bare in _UNIT_WORDS or _street_word(bare):
            return False
        if i and bare in _CONJUNCTIONS:  # "Rose and Crown" is a pub
            return False
        if not re.fullmatch(r"[^\W\d_][^\W\d_'’.\-]*(?:['’.\-][^\W\d_]+)*\.?", word):
            return False
    # "Ben" and "Al" open a name as first names ("Ben Burton"), and "Le" ends one as a
    # surname ("Michelle Le"), not as particles.
    names = [
        w
        for i, w in enumerate(core)
        if w.lower() not in _PARTICLES
        or (i == 0 and w in _GIVEN_PARTICLES)
        or (0 < i == len(core) - 1 and w[0].isupper())
    ]
    if not all(w[0].isupper() for w in names):
        return False
    if cued:
        return bool(names)
    if titles:
        # "Dr Smith" is a person; "Orchard Dr NW" and "Lake Dr North" are streets.
        return any(_is_first_name(w) or _is_surname_like(w) for w in names)
    return 2 <= len(names) <= 4 and _is_first_name(names[0]) and len(names[-1].strip(".")) > 1


def _is_surname_like(word: str) -> bool:
    """ "Smith", "García" could be a surname after a title; "NW" or "E" could not (place
    words such as "North" never reach here)."""
    bare = word.strip(".,")
    return len(bare) > 2 and not bare.isupper()


def _is_company(piece: str, region: str, *, first: bool) -> bool:
    """ "Acme Corp", "Müller GmbH & Co. KG", "Hamon Hoareau SA" are; "Las Vegas NV" and
    "Baden AG" name a town and its state or canton."""
    if any(ch.isdigit() for ch in piece) or len(_words(piece)) < 2:
        return bool(first and _JOINED_NAMES.match(piece) and len(_words(piece)) >= 3)
    suffix = _COMPANY_SUFFIX.search(piece)
    capitalized = all(
        w[0].isupper() or not w[0].isalpha() or w.lower() in _PARTICLES for w in _words(piece)
    )
    if not (capitalized or suffix):
        return False
    if suffix:
        tail = suffix.group(0).strip(" .&").lower()
        head = piece[: suffix.start()].strip()
        word = suffix.group(0).strip(" .").istitle() and len(tail) > 2
        town = word or _is_place_name(head, region) or _is_place_name(piece, region)
        if tail == "port" or (tail in _AMBIGUOUS_SUFFIX and town):
            return False
        return len(_words(head)) >= 1
    if _COMPANY_PREFIX.match(piece):
        return len(_words(piece)) >= 2
    return bool(first and _JOINED_NAMES.match(piece))


def _is_note(piece: str) -> bool:
    """ "leave at back door", "gate code 1234", "bitte beim Nachbarn abgeben" are;
    "Ring Road", "Call Lane", "Am Ring 5" are not."""
    if _CODE_CUE.match(piece):
        return True
    start = _NOTE_START.match(piece)
    if not start:
        return False
    rest = piece[start.end() :].split()
    if not rest:
        return len(piece.split()) == 1 and piece.strip().lower() in ("please", "fragile")
    nxt = rest[0].lower().strip(".,")
    compound = len(nxt) > 6 and _STREET_SUFFIX.search(nxt)
    street = nxt in _PLACE_WORDS and nxt not in ("ring", "gate", "side", "end")
    return not (nxt[0].isdigit() or street or compound)


def _postcode_ends(piece: str, text_start: bool) -> bool:
    """Whether a part holds a postcode (not the house number opening the text)."""
    tokens = piece.split()
    return any(
        _POSTCODE_TOKEN.match(token) and not (text_start and i == 0)
        for i, token in enumerate(tokens)
    ) or bool(re.search(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", piece, re.IGNORECASE))


def split_extras(text: str, country: str | None = None) -> Extracted:
    """Split an address text into the address and what came with it.

    Args:
        text: e.g. ``"John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134"``.
        country: ISO alpha-2 hint for phone formats (``"US"``); US when absent.

    Returns:
        ``Extracted(address="350 5th Ave Apt 4B, New York NY 10118",
        extras=Extras(recipient="John Smith", phone="555-0134"))``. Text with nothing to
        take comes back unchanged; text that is only extras gives ``address=""``.
    """
    region = (country or "US").upper()
    work = text.replace(_CUT, " ")
    found: dict[str, list[str]] = {}
    cuts: list[tuple[int, int]] = []

    def take(kind: str, start: int, end: int, value: str | None = None) -> None:
        nonlocal work
        piece = _clean(value if value is not None else work[start:end])
        if piece:
            found.setdefault(kind, []).append(piece)
        cuts.append((start, end))
        work = work[:start] + _CUT * (end - start) + work[end:]

    for kind, pattern in (("email", _EMAIL), ("url", _URL)):
        for match in list(pattern.finditer(work)):
            value = match.group(0).rstrip(".")
            start = _label_start(work, match.start(), _LABEL_BEFORE)
            take(kind, start, match.start() + len(value), value)
    for start, end in _phone_spans(work, region):
        value = work[start:end]
        begin = _label_start(work, start, _PHONE_LABEL)
        verb = _label_start(work, begin, _PHONE_VERB)
        if verb < begin and _lone_in_part(work, verb, end):
            begin = verb
        take("phone", begin, end, value)

    _take_parts(work, take, region)
    extras = Extras(**{kind: " ".join(values) for kind, values in found.items()})
    if not cuts:
        return Extracted(text, extras)
    return Extracted(cut_spans(text, cuts), extras)


def _lone_in_part(work: str, start: int, end: int) -> bool:
    """Whether ``work[start:end]`` fills its part: "…, call 555-0134, …"."""
    left = re.search(r"[,;|()\n\x1f]\s*$|^\s*$", work[:start])
    right = re.match(r"\s*(?:[,;|()\n\x1f]|$)", work[end:])
    return bool(left and right)


def _take_parts(work: str, take: _Take, region: str) -> None:
    """Recipients, companies and notes, read part by part: first what a cue marks, then
    bare names where a recipient stands (before the street, after the postcode)."""
    for match in list(_JOINED_ACROSS.finditer(work)):
        names = re.findall(r"[^\W\d_][\w'’-]*", match[1])[::2]
        if not any(n.lower() in _PLACE_WORDS - _GLUED_SURNAMES for n in names) and not all(
            _is_place_name(n, region) for n in names
        ):
            take("company", match.start(1), match.end(1))
            work = work[: match.start(1)] + _CUT * len(match[1]) + work[match.end(1) :]
    segments = _segments(work)
    pieces = [work[s:e] for s, e in segments]
    kept = [True] * len(segments)
    first_digit = next((i for i, p in enumerate(pieces) if _has_digit(p)), None)
    skip = -1
    for i, (start, end) in enumerate(segments):
        if i == skip:
            continue
        piece = pieces[i]
        leading = i < first_digit if first_digit is not None else i == 0
        cue = _RECIPIENT_CUE.match(piece)
        kept[i] = False
        if cue and _is_cued_name(piece[cue.end() :]):
            take("recipient", start, end, piece[cue.end() :])
        elif cue and _take_leading_name(
            piece[cue.end() :], start + cue.end(), take, region, cued=True
        ):
            take("recipient", start, start + cue.end(), "")
        elif _is_note(piece):
            stop = _note_end(piece)
            nxt = i + 1 < len(pieces) and stop == len(piece) and pieces[i + 1]
            if nxt and _continues_note(nxt, region):
                skip, stop = i + 1, segments[i + 1][1] - start
                kept[skip] = False
            take("instructions", start, start + stop)
            kept[i] = stop < len(piece)
        elif _is_company(piece, region, first=leading and not any(kept[:i])):
            take("company", start, end)
        elif _has_title(piece):
            take("recipient", start, end)
        else:
            kept[i] = True
    taken_name = note_open = False
    for i, (start, end) in enumerate(segments):
        if not kept[i]:
            taken_name = taken_name and i == skip
            note_open = False
            continue
        piece = pieces[i]
        if note_open and _continues_note(piece, region):
            # "63454 Hanau Nicht klingeln, Baby schläft": the note goes on in this part.
            take("instructions", start, end)
            note_open = False
            continue
        note_open = False
        before = [j for j in range(i) if kept[j]]
        after = [j for j in range(i + 1, len(segments)) if kept[j]]
        leading = not before if first_digit is None else i < first_digit
        trailing = (
            bool(before) and not after and _postcode_ends(pieces[before[-1]], before[-1] == 0)
        )
        after_name, taken_name = taken_name, False
        bracketed = work[:start].rstrip().endswith("(")
        # A lone word before the address is a company only when a street follows it:
        # "Schmitt, 24 Rue des Closiers", but not the farm in "Dalsel, 109 Reykjavík".
        street_after = any(_names_a_street(pieces[j]) for j in after)
        if _is_person(piece) and not _is_place_name(piece, region):
            if not _take_name_and_company(piece, start, take, region):
                take("recipient", start, end)
            taken_name = True
        elif not bracketed and _is_bare_company(
            piece, region, alone=(leading and street_after) or trailing or after_name
        ):
            take("company", start, end)
        elif (first_digit is None or i <= first_digit) and _take_leading_name(
            piece, start, take, region
        ):
            # "Sandra Roberts 1680 Brunnerwood Dr … OH 45238 Call on arrival"
            note_open = _take_inline_note(piece, start, end, take)
        elif not _take_trailing_name(piece, start, take, region):
            note_open = _take_inline_note(piece, start, end, take)


def _is_place_name(name: str, region: str) -> bool:
    """Whether a town, region or country is called so: "Glen Ellyn" and "Ohio" in the US,
    "France" anywhere."""
    return (
        is_place(region, name)
        or _is_region(name, region)
        or (len(name) > 2 and detect_country(ParsedAddress(country=name)) is not None)
    )


def _is_region(name: str, region: str) -> bool:
    """ "Ohio" and "OH" in the US; false for a country without address rules."""
    try:
        return is_region(name, region)
    except UnknownCountryError:
        return False


def _is_bare_company(piece: str, region: str, *, alone: bool, given: bool = False) -> bool:
    """A company named by a double surname ("Myers-Mason") or by one surname where no
    address part stands: before the street, right after a recipient or after the
    postcode ("Schmitt, 24 Rue des Closiers", "Oda Wagenknecht, Paffrath, …"); never the
    farm in "Stóri-Klofi, 851 Hella". ``given``: a first name may be the surname ("Werner"
    before "An der Wasserrenne 4a")."""
    words = piece.split()
    if len(words) != 1 or not re.fullmatch(r"[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ][a-zß-ÿ'’]+)?", piece):
        return False
    parts = piece.lower().split("-")
    # A double name may hold one place-like surname: "Davies-Hall", "Park-Moran", "Lane-King",
    # ... or a title ("Preston-Lord").
    surnames = [p for p in parts if p in _DOUBLE_SURNAMES] if len(parts) == 2 else []
    if len(surnames) > 1 or any(
        (p in _PLACE_WORDS and p not in surnames)
        or (p in _TITLES and len(parts) == 1)
        or _street_word(p)
        for p in parts
    ):
        return False
    if not alone or (
        len(parts) == 1 and ((_is_first_name(piece) and not given) or region in _NAMED_HOUSES)
    ):
        return False
    return not _is_place_name(piece, region)


def _continues_note(piece: str, region: str) -> bool:
    """The part after a note that goes on with it: "doorbell broken" after "Knock loudly",
    "Baby schläft" after "Nicht klingeln"; not a town ("Chicago") or a county ("Essex")."""
    words = piece.split()
    return (
        0 < len(words) <= 4
        and not _has_digit(piece)
        and any(w[0].islower() for w in words)
        and not _looks_like_street(piece)
        and not _is_place_name(piece, region)
    )


def _take_trailing_name(piece: str, start: int, take: _Take, region: str) -> bool:
    """A name written after the postcode in its part: "CINCINNATI OH 45231 Kathy Deleon",
    "Chicago, IL 60624 Brady-Hendricks"."""
    tail = re.search(
        r"(?:^|\s)(?:\d{4,5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})"
        r"\s+((?:[^\W\d_][\w.'’-]*\s*){1,5})$",
        piece,
    )
    # A number opening a part is a house number ("2115 Linden Dr SE"), unless the country
    # writes the postcode before the town ("79379 Müllheim Olaf Liebelt").
    if not tail or (not piece[: tail.start(1)].strip(" ,").count(" ") and not _town_first(region)):
        return False
    tokens = list(re.finditer(r"\S+", tail[1]))
    for k in range(1 if _town_first(region) else 0, len(tokens)):
        if k and not _is_place_name(tail[1][: tokens[k - 1].end()], region):
            continue
        at = start + tail.start(1) + tokens[k].start()
        name = tail[1][tokens[k].start() :].rstrip()
        if _is_person(name) and not _is_place_name(name, region):
            take("recipient", at, at + len(name))
        elif _is_company(name, region, first=False) or _is_bare_company(name, region, alone=False):
            take("company", at, at + len(name))
        else:
            continue
        return True
    return False


def _town_first(region: str) -> bool:
    """Whether the town follows the postcode ("75002 Paris"), as in most of Europe."""
    try:
        return postcode_before_town(region)
    except UnknownCountryError:
        return False


def _looks_like_street(piece: str) -> bool:
    """What follows a recipient: "350 5th Ave", "Waldstraße 1", "Flat 3", "Rose Cottage";
    not "IL 60137" (so "Glen Ellyn, IL 60137" keeps its town)."""
    words = [w.lower().strip(".,#") for w in piece.split()]
    return bool(words) and (
        words[0][:1].isdigit()
        or words[0] in _UNIT_WORDS
        or any(w in _PLACE_WORDS or _STREET_SUFFIX.search(w) for w in words)
    )


def _names_a_street(piece: str) -> bool:
    """ "24 Rue des Closiers", "Mühlenstraße 2", "12 High St" do; "109 Reykjavík" and
    "IL 60137" do not."""
    words = [w.lower().strip(".,#") for w in piece.split()]
    return any(w in _PLACE_WORDS or _STREET_SUFFIX.search(w) for w in words)


def _has_digit(piece: str) -> bool:
    return any(ch.isdigit() for ch in piece)


def _note_end(piece: str) -> int:
    """Where a note stops when the address follows it in the same part:
    "gate code 1234 12 Main St" and "bitte klingeln Zur Kirchenburg 5" stop before the
    address; "bitte 2x klingeln" and "timbre 3B" run to the end."""
    code = _CODE_CUE.match(piece)
    if code:
        rest = re.match(r"\s*\S*\d\S*(?=\s+\S)", piece[code.end() :])
        return code.end() + rest.end() if rest else len(piece)
    tokens = list(re.finditer(r"\S+", piece))
    for i in range(1, len(tokens)):
        if not _has_digit(tokens[i].group(0)):
            continue
        following = tokens[i + 1].group(0) if i + 1 < len(tokens) else ""
        previous = tokens[i - 1].group(0)
        if following[:1].isupper() or (not following and previous[:1].isupper() and i > 1):
            j = i
            while j > 1 and tokens[j - 1].group(0)[:1].isupper():
                j -= 1
            return tokens[j].start()
    return len(piece)


def _take_inline_note(piece: str, start: int, end: int, take: _Take) -> bool:
    """A note in the same part as the address: "…, NY 10118 leave at back door"; true
    when it runs to the end of the part, so the next part may go on with it."""
    strong = _NOTE_STRONG.search(piece)
    if not strong or strong.start() == 0:
        return False
    at = strong.start()
    negation = re.search(
        r"(?:(?<!\w)(?:nicht|not|ne|pas|no|niet|non|bitte)\s+)+$", piece[:at], re.I
    )
    at = negation.start() if negation and negation.start() else at
    head = piece[:at]
    words = head.split()
    whole = not _has_digit(head) and len(words) <= 3 and words[0].islower()
    stop = at + _note_end(piece[at:])
    take("instructions", start if whole else start + at, start + stop)
    return stop == len(piece)


def _is_cued_name(rest: str) -> bool:
    """What follows "c/o" or "Attn:": a name or a department, never a street or number."""
    words = rest.split()
    return (
        bool(words)
        and not any(ch.isdigit() for ch in rest)
        and words[0][0].isupper()
        and not any(w.lower().strip(".,") in _PLACE_WORDS - {"house", "hall"} for w in words)
    )


def _has_title(piece: str) -> bool:
    words = piece.split()
    return bool(words) and words[0].lower().rstrip(".") in _TITLES and _is_person(piece)


def _take_name_and_company(
    piece: str, start: int, take: _Take, region: str, *, cued: bool = False
) -> bool:
    """ "Ms Judith King Nash-Howard" -> recipient "Ms Judith King", company "Nash-Howard";
    "Carrie Jones Jensen Group" -> "Carrie Jones" and "Jensen Group"."""
    tokens = list(re.finditer(r"\S+", piece))
    for k in range(2, len(tokens)):
        rest = piece[tokens[k].start() :]
        if _is_person(piece[: tokens[k - 1].end()], cued=cued) and (
            _is_company(rest, region, first=False)
            or _is_bare_company(rest, region, alone="-" in rest)
        ):
            take("recipient", start, start + tokens[k - 1].end())
            take("company", start + tokens[k].start(), start + len(piece))
            return True
    return False


def _take_leading_name(
    piece: str, start: int, take: _Take, region: str, *, cued: bool = False
) -> bool:
    """ "Maria Garcia 12 Main St" -> recipient "Maria Garcia"; "Acme Corp 350 5th Ave" ->
    company "Acme Corp"; "Frau Petra Klein Josephstraße 2" -> recipient "Frau Petra Klein";
    "Carrie Jones Jensen Group 3939 Robinhill Dr" -> both. "Alter Graben 1" is a street."""
    tokens = list(re.finditer(r"\S+", piece))
    stop = next(
        (
            i
            for i, t in enumerate(tokens)
            if _has_digit(t[0]) or (i and t[0].lower().rstrip(".") in _UNIT_WORDS)
        ),
        len(tokens),
    )
    if not 0 < stop < len(tokens):
        return False
    words = [t[0] for t in tokens[:stop]]
    size = len(words)
    if size > 3 and words[-1].lower().strip(".") in _PLACE_WORDS:
        size -= 2
    elif size > 2 and _STREET_SUFFIX.search(words[-1]) and words[-1].lower() not in _PLACE_WORDS:
        size -= 1
    elif stop == len(tokens) - 1 and _has_digit(tokens[stop][0]):
        return False
    if _take_name_and_company(piece[: tokens[stop - 1].end()], start, take, region, cued=cued):
        return True
    for end in range(len(words), 1, -1):
        company = piece[: tokens[end - 1].end()]
        if _COMPANY_SUFFIX.search(company) and _is_company(company, region, first=False):
            take("company", start, start + len(company))
            return True
    name = piece[: tokens[size - 1].end()]
    if _is_person(name, cued=cued):
        take("recipient", start, start + len(name))
        return True
    return False


# What names a building in libpostal's ``house``: "rose cottage", "haus am see", "bât. e".
_BUILDING_WORDS = _word_set(
    "mansions residence block blk haus gebäude gebaeude bâtiment batiment immeuble edificio "
    "palazzo gebouw residenz wohnanlage tour torre"
)


def from_house(parsed: ParsedAddress, country: str | None) -> tuple[ParsedAddress, Extras]:
    """Move out of libpostal's ``house`` what is no building name, and out of its
    ``suburb``, ``state_district`` and ``country`` a company name read as a place
    ("Burns-Rice" after "CINCINNATI OH 45231 Apt. 27", see :func:`_from_places`), and out
    of ``city`` a name run into the town ("leek alice", see :func:`_from_town`).

    ``house="rose cottage"`` (or "kingsway house", "bâtiment a", "unit 4") stays; a note
    ("abstellort garage") goes to ``instructions``, a company ("jensen group", "parker,
    moody and martin") to ``company``, and a name ("laurence hubert") to ``recipient``:
    ``from_house(ParsedAddress(house="laurence hubert", house_number="16",
    road="rue de hiribehere"), "FR")`` gives the address without ``house`` and
    ``Extras(recipient="laurence hubert")``; so do "lauren green" and "davies-hall".
    """
    parsed, town = _from_town(parsed, (country or "US").upper())
    parsed, names = _from_places(parsed, (country or "US").upper())
    parsed, extras = _from_house(parsed, country)
    if names:
        extras = replace(extras, company=" ".join(filter(None, [extras.company, *names])))
    joined = {
        kind: " ".join(filter(None, [getattr(extras, kind), value]))
        for kind, value in town.as_dict().items()
    }
    return parsed, replace(extras, **joined)


def _from_town(parsed: ParsedAddress, region: str) -> tuple[ParsedAddress, Extras]:
    """A name libpostal ran into the town from after it: "leeds day-wilson" gives the
    company "day-wilson"; "leek alice" with ``state_district="jackson"`` (or
    "cincinnati nicole" and "wells") the recipient "alice jackson"."""
    city = parsed.city
    if not city or not parsed.road or _is_place_name(city, region):
        return parsed, Extras()
    words = city.split()
    for k in range(len(words) - 1, 0, -1):
        town, rest = " ".join(words[:k]), words[k:]
        if not _is_place_name(town, region):
            continue
        tail = " ".join(rest)
        if len(rest) == 1 and "-" in tail and _is_bare_company(tail.title(), region, alone=True):
            return replace(parsed, city=town), Extras(company=tail)
        if len(rest) > 2 or not _is_first_name(rest[0]):
            return parsed, Extras()
        changes: dict[str, str | None] = {"city": town}
        if len(rest) == 1:
            field = "state_district" if parsed.state_district else "state"
            value = getattr(parsed, field) or ""
            head, _, last = value.rpartition(" ")
            if not last or _is_region(last, region) or (head and not _is_place_name(head, region)):
                return parsed, Extras()
            changes[field] = head or None
            tail = f"{tail} {last}"
        if not _is_person(tail.title(), surnames=_GLUED_SURNAMES):
            return parsed, Extras()
        return replace(parsed, **changes), Extras(recipient=tail)
    return parsed, Extras()


# Fields libpostal fills with a company name it took for a place.
_PLACE_FIELDS = ("suburb", "city_district", "state_district", "state", "country")


def _from_places(parsed: ParsedAddress, region: str) -> tuple[ParsedAddress, list[str]]:
    """Double names ("burns-rice", "ward-mccarthy") in the place fields, and a lone surname
    where ``country`` names no country ("lachmann") or, where houses bear no names, in a
    field above the town ("peron" after "60290 Cambronne-lès-Clermont"); only when the
    address has a street."""
    if not parsed.road:
        return parsed, []
    names: list[str] = []
    changes: dict[str, None] = {}
    for field in _PLACE_FIELDS:
        value = getattr(parsed, field)
        named = value.title() if value else ""
        lone = (field == "country" and detect_country(ParsedAddress(country=value)) is None) or (
            field != "suburb" and region in _UNNAMED_HOUSES - {"US"}
        )
        if named and ("-" in named or lone) and _is_bare_company(named, region, alone=True):
            names.append(value)
            changes[field] = None
    return (replace(parsed, **changes), names) if changes else (parsed, [])


def _from_house(parsed: ParsedAddress, country: str | None) -> tuple[ParsedAddress, Extras]:
    """What :func:`from_house` takes out of ``house``."""
    house = parsed.house
    # Without a street the name is what the address stands on: the farm "Neðribær,
    # 607 Akureyri", the church "Miðgarðakirkja, 611 Grímsey".
    if not house or not house.strip() or not parsed.road:
        return parsed, Extras()
    region = (country or "US").upper()
    number = re.fullmatch(r"(.*\D)\s+(\d{1,5}[a-z]?)", house.strip())
    if number and not parsed.house_number and region in _NAMED_HOUSES | _UNNAMED_HOUSES:
        # "teresa baxter 3114" before "timberview dr": the name and the house number (not
        # the farm and its number in "Ytri-Sólheimar 3a, 871 Vík").
        moved, extras = _from_house(replace(parsed, house=number[1]), country)
        if moved.house is None:
            return replace(moved, house_number=number[2]), extras
    words = [w.strip(".,'’") for w in house.lower().split()]
    named = house.title()
    if _NOTE_STRONG.search(house) or _is_note(house):
        kind = "instructions"
    elif _is_person(named, surnames=_house_surnames(named, region)) and not _is_place_name(
        named, region
    ):
        kind = "recipient"
    elif _is_bare_company(
        named, region, alone=_lone_house(house, country), given=region in _UNNAMED_HOUSES - {"US"}
    ) or _is_firm(named):
        kind = "company"
    elif (
        any(w in _PLACE_WORDS or w in _BUILDING_WORDS or w in _UNIT_WORDS for w in words)
        or _has_digit(house)
        or _is_place_name(named, region)
    ):
        return parsed, Extras()
    elif _is_company(named, region, first=True):
        kind = "company"
    else:
        return parsed, Extras()
    return replace(parsed, house=None), Extras(**{kind: house})


# Where houses and farms bear no names, so a lone word in ``house`` is a surname.
_UNNAMED_HOUSES = frozenset({"DE", "AT", "CH", "FR", "BE", "NL", "LU", "ES", "IT", "PT", "US"})


def _lone_house(house: str, country: str | None) -> bool:
    """Whether a single name in ``house`` stands alone as a company: a double name
    ("davies-hall") anywhere, one surname ("speer" before "Zum Wiesental 4") where the
    country is known and its houses bear no names (not the farm in "Vaðnes Borgartún 1,
    805 Selfoss")."""
    return "-" in house or (country or "").upper() in _UNNAMED_HOUSES


_CONJUNCTIONS = _word_set("and & und et e y en")


def _glued_surnames(name: str) -> frozenset[str]:
    """The place words that may end a name a parse glued on: "Villa" in "Jason Villa",
    but not in "Rose Villa"."""
    words = name.lower().split()
    return _PARSE_SURNAMES if words and words[0] in _HOUSE_FIRST else _GLUED_SURNAMES


def _house_surnames(name: str, region: str) -> frozenset[str]:
    """:func:`_glued_surnames`, and "House" in "Sheila House" where houses bear no names
    (never "Kingsley House" in Britain)."""
    words = name.lower().split()
    if region in _NAMED_HOUSES or (words and words[0] in _HOUSE_FIRST):
        return _glued_surnames(name)
    return _GLUED_SURNAMES | {"house"}


def _is_firm(name: str) -> bool:
    """Surnames joined as a firm ("Banks, Hussain And Newman", "Wells And Hodges"), where
    a place word may be a surname but a building word may not ("Sand And Gravel Works")."""
    words = [w.strip(",").lower() for w in name.split()]
    names = words[:-2] + words[-1:]
    return (
        3 <= len(words) <= 5
        and words[-2] in _CONJUNCTIONS
        and not any(w in _CONJUNCTIONS for w in names)
        and not any(
            w in _BUILDING_WORDS or (w in _PLACE_WORDS and w not in _GLUED_SURNAMES) for w in names
        )
    )


# Languages whose streets open with their type word: "Rue", "Avenue", "Calle", "Via".
_TYPE_FIRST = frozenset({"FR", "ES", "IT", "BE", "PT"})
# Where a street ends at its house number and takes no word from another part, so that a
# lone surname libpostal glued on from its own part is a company: "Koppelweg 3, Hentschel",
# "Mälzer, Wohnung 3, Scheifendahl 65".
_SUFFIX_STREETS = frozenset({"DE", "AT", "CH"})
_DASHES = frozenset({"-", "–", "—"})
_ROAD_TOKEN = re.compile(r"[^\s,;|()]+|[,;|()]")


def _fold_token(token: str) -> str:
    return token.lower().strip(".,'’")


def _is_lone_surname(piece: str, town: str | None) -> bool:
    """A part of its own next to a "Rue"/"Avenue" street that is a surname, even one the
    gazetteer knows as a place or a first name ("Besson, 9 Avenue Gayot", "Le Roux, 14 Rue
    Boussingault"), unless it is the town the address names."""
    words = piece.split()
    if len(words) == 2 and words[0].lower() not in _PARTICLES:
        return False
    bare = words[-1].lower()
    return (
        len(words) <= 2
        and piece.lower() != (town or "").lower()
        and bool(re.fullmatch(r"[A-ZÀ-Þ][a-zß-ÿ'’]+(?:-[A-ZÀ-Þ][a-zß-ÿ'’]+)?", words[-1]))
        and not any(
            p in _PLACE_WORDS or p in _TITLES or p in _UNIT_WORDS or _street_word(p)
            for p in bare.split("-")
        )
    )


def _road_name(piece: str, region: str, *, type_first: bool) -> dict[str, str] | None:
    """What a stray run of road words names, if anything: a person ("Sandra West", "Dr.
    Stephen Cross"), a company ("Johnson-Bailey", "Cox LLC"), both ("Ms Lynda Green
    Wilkinson-Warner"), or a lone surname before "Rue"/"Avenue" ("Laurent")."""
    if _is_place_name(piece, region) or _has_digit(piece):
        return None
    if _is_person(piece, surnames=_glued_surnames(piece)):
        return {"recipient": piece}
    if (
        _is_company(piece, region, first=False)
        or _is_bare_company(piece, region, alone="-" in piece or type_first)
        or _is_firm(piece)
    ):
        return {"company": piece}
    tokens = piece.split()
    for k in range(2, len(tokens)):
        head, rest = " ".join(tokens[:k]), " ".join(tokens[k:])
        if _is_person(head, surnames=_PARSE_SURNAMES) and (
            _is_company(rest, region, first=False) or _is_bare_company(rest, region, alone=True)
        ):
            return {"recipient": head, "company": rest}
    return None


def from_road(
    parsed: ParsedAddress, text: str, country: str | None
) -> tuple[ParsedAddress, Extras]:
    """Move out of libpostal's ``road`` a name it glued on from another part of the text.

    ``from_road(ParsedAddress(road="sandra west 1934 powers st"), "Sandra West, 1934
    POWERS ST, Cincinnati, OH 45231", "US")`` gives road "powers st", house number "1934"
    and ``Extras(recipient="Sandra West")``; so go "Johnson-Bailey" after "9 Howard Park
    Corner" and "Laurent" before "2 Rue du Prof Jacques Monod". Streets that run over a
    comma ("Queen Elizabeth Square", "Grange Road West Kirby") stay whole.
    """
    road = parsed.road
    if not road:
        return parsed, Extras()
    region = (country or "US").upper()
    found: list[tuple[str, str, int]] = []
    part = 0
    for token in _ROAD_TOKEN.findall(text):
        if token in ",;|()" or token in _DASHES:
            part += 1
        elif _fold_token(token):
            found.append((token, _fold_token(token), part))
    keys = [_fold_token(t) for t in road.split()]
    spots: list[int] = []
    at = 0
    for key in keys:
        at = next((i for i in range(at, len(found)) if found[i][1] == key), -1)
        if not key or at < 0:
            return parsed, Extras()
        spots.append(at)
        at += 1
    number_key = _fold_token(parsed.house_number.split()[0]) if parsed.house_number else None
    number = next((i for i, f in enumerate(found) if f[1] == number_key), None)
    # Runs of road words: a new one at each comma and at the house number.
    runs: list[list[int]] = []
    for n, spot in enumerate(spots):
        prev = spots[n - 1] if n else None
        cut = prev is None or found[prev][2] != found[spot][2]
        if not cut and number is not None and prev is not None and prev < number < spot:
            cut = True
        if cut:
            runs.append([])
        runs[-1].append(n)
    words = road.split()
    digit = next((n for n in range(len(words)) if words[n][:1].isdigit()), None)
    if digit is not None:
        # "sandra west 1934 powers st": the number opens the street.
        runs = [
            piece
            for run in runs
            for piece in (
                [run[: run.index(digit)], run[run.index(digit) :]]
                if digit in run and run.index(digit)
                else [run]
            )
        ]
    if len(runs) < 2:
        return parsed, Extras()
    street = next(
        (
            k
            for k, run in enumerate(runs)
            if (digit is not None and digit in run)
            or (
                number is not None
                and found[spots[run[0]]][2] == found[number][2]
                and spots[run[0]] > number
            )
        ),
        None,
    )
    if street is None and number is not None:
        # "Ms Hayley Hewitt 58, Swallow Road": the street is the first run after the number,
        # if it names one (not the town in "Ytri-Sólheimar 3a, 871 Vík").
        street = next((k for k, run in enumerate(runs) if spots[run[0]] > number), None)
        if street is not None and not _names_a_street(" ".join(keys[n] for n in runs[street])):
            street = None
    if street is None and number is not None and region in _SUFFIX_STREETS:
        # "Koppelweg 3, Hentschel": the street is the run right before the number.
        street = next((k for k, run in enumerate(runs) if spots[run[-1]] == number - 1), None)
    if street is None:
        return parsed, Extras()
    # The type word, past a house number the road may open with: "2 Avenue de l'Echapt".
    kind = next((keys[n] for n in runs[street] if not _has_digit(keys[n])), "")
    type_first = region in _TYPE_FIRST and kind in _PLACE_WORDS
    taken: dict[str, list[str]] = {}
    drop: set[int] = set()
    for k, run in enumerate(runs):
        if k == street or (k not in (street - 1, street + 1)):
            continue
        piece = " ".join(found[spots[n]][0] for n in run)
        own_part = found[spots[run[0]]][2] != found[spots[runs[street][0]]][2]
        if (
            own_part
            and (type_first or (region in _SUFFIX_STREETS and len(run) == 1))
            and _is_lone_surname(piece, parsed.city)
            and not (region in _SUFFIX_STREETS and _is_place_name(piece, region))
        ):
            taken.setdefault("company", []).append(piece)
            drop.update(run)
            continue
        named = _road_name(piece, region, type_first=type_first and k == street - 1)
        if named is None:
            continue
        for kind, value in named.items():
            taken.setdefault(kind, []).append(value)
        drop.update(run)
    if not drop:
        return parsed, Extras()
    changes: dict[str, str] = {}
    if digit is not None and runs[street][0] == digit and not parsed.house_number:
        changes["house_number"] = words[digit]
        drop.add(digit)
    rest = " ".join(w for n, w in enumerate(words) if n not in drop)
    # What is left must still name a street, not just its type ("Square", "Jr Blvd").
    plain = _PLACE_WORDS | _NAME_SUFFIXES | _COMPASS | _PARTICLES
    if all(_fold_token(w) in plain or _has_digit(w) for w in rest.split()):
        return parsed, Extras()
    extras = Extras(**{kind: " ".join(values) for kind, values in taken.items()})
    return replace(parsed, road=rest, **changes), extras
