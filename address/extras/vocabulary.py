"""Word lists and patterns that tell names, companies and notes from address words.

Titles ("Mr", "Frau"), name particles ("van", "de"), street, building and place words
("Street", "Cottage", "Straße"), company suffixes ("GmbH", "Ltd") and the countries whose
houses bear names ("Rose Cottage, Main St, Kelso").
"""

from __future__ import annotations

import re

from address.words import COMPASS_ABBREVIATIONS

POSTCODE_TOKEN = re.compile(
    r"^(?:\d{4,5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{3}\s?\d{2}|\d{4}\s?[A-Z]{2})$",
    re.IGNORECASE,
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


UNIT_WORDS = _word_set(
    "flat apt apartment unit suite ste floor fl room rm wohnung whg appartement appt apto "
    "piso bus po p.o. postfach bp bât bâtiment bat batiment escalier esc étage etage porte "
    "puerta"
)


# Cues that open a recipient line; the cue itself is not part of the name.
RECIPIENT_CUE = re.compile(
    r"^\s*(?:c\s*/\s*o|c\.o\.|care\s+of|attn|attention|att|z\.\s*hd\.?|z\.\s*h\.|zhd\.?|zu\s+händen"
    r"(?:\s+von)?|à\s+l['’]\s*att(?:ention|\.)?(?:\s+de)?|a\s+l['’]\s*att(?:ention|\.)?(?:\s+de)?"
    r"|a/a|atención(?:\s+de)?|all['’]\s*attenzione(?:\s+di)?|alla\s+c\.a\.|c\.a\.|t\.a\.v\.|tav"
    r"|t\.n\.v\.|bei|chez|p/a|per\s+adres|aos\s+cuidados\s+de|a/c)(?!\w)\.?\s*[:.]?\s*",
    re.IGNORECASE,
)
TITLES = _word_set(
    "mr mrs ms miss mx dr prof sir dame lady lord rev herr herrn frau fräulein m mme mlle "
    "mm monsieur madame mademoiselle me sr sra srta don doña dña dott dott.ssa dottssa "
    "sig sig.ra signor signora sigra ing avv dhr mevr mw mej ir drs dipl.-ing univ.prof"
)
NAME_SUFFIXES = _word_set(
    "jr jr. sr sr. ii iii iv md phd ph.d. dds dvm esq mba b.sc. m.sc. b.a. m.a. bsc msc "
    "b.eng. m.eng. dipl.-ing. mag. dr."
)
PARTICLES = _word_set(
    "van de der den von zu di da del della dello dei degli le la du des dos das ten ter y "
    "e i af al bin ben st. mac mc"
)
# Titles only a person bears ("Lord" and "Lady" also name colleges and streets).
COURTESY = _word_set("mr mrs ms miss mx herr frau mme mlle dhr mevr")
NOBLE = _word_set("sir dame lady lord")
# Particles that are also first names, written so: "Ben Burton", "Al Green".
GIVEN_PARTICLES = frozenset({"Ben", "Al", "BEN", "AL"})
# Compass points as streets abbreviate them: "Linden Dr SE" (never a first name), with the
# German north-east and south-east: "NO", "SO".
COMPASS = COMPASS_ABBREVIATIONS | _word_set("no so")
# Street, building and place words: a part holding one is never a person's name.
PLACE_WORDS = _word_set(
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
PLACE_SURNAMES = _word_set("hill wood ford field moor mill brook")
# More such surnames, read as one where a parse has put a name ("Brendan West" in ``house``).
PARSE_SURNAMES = PLACE_SURNAMES | _word_set(
    "west east north south green cross banks mills hall woods fields chambers bank"
)
# Place words read as a surname only after a first name that names no house ("Jason Villa",
# "Rebecca Church", "Debra Lane"; never "Rose Villa" or "Holly Lodge").
GLUED_SURNAMES = PARSE_SURNAMES | _word_set("villa church chapel lane little meadows gates")
# ... and that may stand in a double name ("Park-Moran", "Johnson-Heath").
DOUBLE_SURNAMES = GLUED_SURNAMES | _word_set("park heath grove")
# First names that also open house names ("Rose Villa", "Holly Lodge").
HOUSE_FIRST = _word_set(
    "rose ivy olive lily holly may hazel violet heather daisy iris fern laurel myrtle "
    "primrose jasmine willow rowan poppy summer autumn dawn sunny grace hope faith joy "
    "ruby pearl amber crystal crown star"
)
# Words that join the parts of a town's name: "Burton upon Trent", "Boulogne-sur-Mer".
TOWN_LINKS = _word_set("on upon under cum sur lès lez-")
# Articles and prepositions that open street names: "Am Deich", "The Maltings", "Im Hof".
NOT_FIRST = _word_set(
    "am an im in auf zum zur zu vom von der die das the of le la les el los las il lo gli "
    "op het aan bij den ter ten at on by"
)
STREET_SUFFIX = re.compile(
    r"(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|straat|laan|plein|gracht"
    r"|kade|singel|dijk|dreef|steeg|vej|gade|gatan|vägen|veien|gata|street|road)$",
    re.IGNORECASE,
)


def street_word(word: str) -> bool:
    """ "mühlenstraße", "nordring" end as streets do; the surnames "häring", "pickering",
    "herring" do not."""
    return bool(STREET_SUFFIX.search(word)) and not re.search(r"(?:e|ä|r)ring$", word)


# Company suffixes ("Acme Corp", "Müller GmbH") and words that end or open a company name.
COMPANY_SUFFIX = re.compile(
    r"(?:\b(?:inc|incorporated|llc|l\.l\.c|llp|ltd|limited|corp|corporation|plc|pty|pte"
    r"|gmbh|mbh|gbr|kgaa|kg|ohg|ag|e\.v|e\.g|ug|sarl|s\.a\.r\.l|sas|s\.a\.s|sasu|snc|eurl|sa"
    r"|s\.a|s\.l|s\.l\.l|s\.l\.u|s\.a\.u|s\.coop|slu|s\.p\.a|spa|s\.r\.l|srl|s\.n\.c|s\.a\.s"
    r"|bv|b\.v|nv|n\.v|v\.o\.f|vof|bvba|sprl|group|groupe|gruppe|gruppo|groep|holding|holdings"
    r"|associates|partners|partner|company|gesellschaft|stiftung|sons|söhne|fils|figli|hijos"
    r"|hermanos|associati|asociados|co)\b\.?|&\s*co\.?)(?:\s*(?:&\s*co\.?\s*)?(?:kg|kgaa|ohg)\.?)?$",
    re.IGNORECASE,
)
COMPANY_PREFIX = re.compile(
    r"^(?:grupo|groupe|gruppo|corporación|industrias|comercial|distribuciones|servicios|talleres"
    r"|inversiones|construcciones|transportes|laboratorios|hermanos|société|ste|sté|ets"
    r"|établissements|studio\s+associato)\b",
    re.IGNORECASE,
)
# Suffixes that are also states or cantons: "Las Vegas NV", "Adelaide SA", "Baden AG".
AMBIGUOUS_SUFFIX = frozenset({"nv", "sa", "ag", "co", "spa", "port"})
# "Duncan, Thompson and Hall" written as parts of their own, ahead of a part or a number.
JOINED_ACROSS = re.compile(
    r"(?:^|(?<=[,;|\n\x1f])|(?<=\s[-–—]\s))\s*([A-ZÀ-Þ][\w'’\-]+\s*,\s*[A-ZÀ-Þ][\w'’\-]+,?\s+"
    r"(?:and|&|und|et|y|en)\s+[A-ZÀ-Þ][\w'’\-]+)(?=\s*(?:$|[,;|\n\x1f])|\s[-–—]\s|\s+\d)"
)
# Where houses bear names, a lone word before the street is one ("Gleneagles, 12 High St").
NAMED_HOUSES = frozenset({"GB", "IE", "IM", "JE", "GG"})
JOINED_NAMES = re.compile(
    r"^[A-ZÀ-Þ][\w'’\-]+(?:\s*,\s*[A-ZÀ-Þ][\w'’\-]+)*\s+(?i:and|&|und|et|e|y|en)\s+[A-ZÀ-Þ][\w'’\-]+$"
)


def looks_like_street(piece: str) -> bool:
    """What follows a recipient: "350 5th Ave", "Waldstraße 1", "Flat 3", "Rose Cottage";
    not "IL 60137" (so "Glen Ellyn, IL 60137" keeps its town)."""
    words = [w.lower().strip(".,#") for w in piece.split()]
    return bool(words) and (
        words[0][:1].isdigit()
        or words[0] in UNIT_WORDS
        or any(w in PLACE_WORDS or STREET_SUFFIX.search(w) for w in words)
    )


def names_a_street(piece: str) -> bool:
    """ "24 Rue des Closiers", "Mühlenstraße 2", "12 High St" do; "109 Reykjavík" and
    "IL 60137" do not."""
    words = [w.lower().strip(".,#") for w in piece.split()]
    return any(w in PLACE_WORDS or STREET_SUFFIX.search(w) for w in words)


# What names a building in libpostal's ``house``: "rose cottage", "haus am see", "bât. e".
BUILDING_WORDS = _word_set(
    "mansions residence block blk haus gebäude gebaeude bâtiment batiment immeuble edificio "
    "palazzo gebouw residenz wohnanlage tour torre"
)


# Where houses and farms bear no names, so a lone word in ``house`` is a surname.
UNNAMED_HOUSES = frozenset({"DE", "AT", "CH", "FR", "BE", "NL", "LU", "ES", "IT", "PT", "US"})


CONJUNCTIONS = _word_set("and & und et e y en")
