"""split_extras: recipients, companies, phones, e-mails, URLs and notes cut out of an address."""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import pytest

from address.extras import Extracted, Extras, cut_spans, from_house, from_road, split_extras
from address.model import ParsedAddress

# Real addresses, and building, street and town names that read like people or notes.
UNCHANGED = [
    "Rose Cottage, Main St, Kelso",
    "Flat 3, 12 Baker St",
    "John Street 5",
    "Smith Road",
    "Kingsway House",
    "Park Avenue",
    "Market Square",
    "10 Downing Street",
    "Laugavegur 12b, 101 Reykjavík",
    "Waldstraße 1, 68642 Bürstadt",
    "12 rue de la Paix, 75002 Paris",
    "Ring Road, Leeds",
    "Am Ring 5, 50667 Köln",
    "Call Lane, Leeds LS1 7BT",
    "Place Vendôme, 75001 Paris",
    "Glen Ellyn, IL 60137",
    "350 5th Ave, New York, NY 10118-1234",
    "Blk 123 Ang Mo Kio Ave 3 #05-67, Singapore 560123",
    "PO Box 1234567, Anchorage AK 99510",
    "7364 HUNLEY RD CINCINNATI OH 45244",
    "Victoria Park, Queen Street, Glasgow G1 3DN",
    "THE HUNTING LODGE, ADLINGTON HALL, MILL LANE, ADLINGTON, MACCLESFIELD SK10 4LF",
    "Grace Court, 4 Church Lane, Oxford OX1 4AA",
    "1200-1234 Main St, Springfield IL 62701",
    "Postfach 1234567, 10117 Berlin",
    "Kerkstraat 12 bus 2, 1000 Brussel",
    "Via Giuseppe Verdi 5, 20121 Milano",
    "Calle Mayor 5, 28013 Madrid",
    "Karl-Marx-Allee 90, 10243 Berlin",
    "Las Vegas NV 89101",
    "Adelaide SA 5000",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_addresses_come_back_unchanged(text: str) -> None:
    assert split_extras(text) == Extracted(text, Extras())


CASES = [
    (
        "John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134",
        "350 5th Ave Apt 4B, New York NY 10118",
        {"recipient": "John Smith", "phone": "555-0134"},
    ),
    (
        "c/o Mary Jones, 12 Baker St, London NW1 6XE",
        "12 Baker St, London NW1 6XE",
        {"recipient": "Mary Jones"},
    ),
    (
        "Attn: Billing Dept, Acme Corp, 350 5th Ave, New York, NY 10118",
        "350 5th Ave, New York, NY 10118",
        {"recipient": "Billing Dept", "company": "Acme Corp"},
    ),
    (
        "Müller GmbH, Waldstraße 1, 68642 Bürstadt, Tel. 06206 12345, bitte beim Nachbarn abgeben",
        "Waldstraße 1, 68642 Bürstadt",
        {
            "company": "Müller GmbH",
            "phone": "06206 12345",
            "instructions": "bitte beim Nachbarn abgeben",
        },
    ),
    (
        "Maria Garcia 12 Main St, Springfield IL 62701",
        "12 Main St, Springfield IL 62701",
        {"recipient": "Maria Garcia"},
    ),
    (
        "Herr Hans Müller, Heiligenweg 40, 49084 Osnabrück",
        "Heiligenweg 40, 49084 Osnabrück",
        {"recipient": "Herr Hans Müller"},
    ),
    (
        "Mme Marie Dupont, 12 rue de la Paix, 75002 Paris, digicode 4521B, marie.dupont@example.fr",
        "12 rue de la Paix, 75002 Paris",
        {
            "recipient": "Mme Marie Dupont",
            "instructions": "digicode 4521B",
            "email": "marie.dupont@example.fr",
        },
    ),
    (
        "350 5th Ave, New York NY 10118 leave at back door",
        "350 5th Ave, New York NY 10118",
        {"instructions": "leave at back door"},
    ),
    (
        "Acme Corp, 1 Infinite Loop, Cupertino CA 95014, www.acme.com",
        "1 Infinite Loop, Cupertino CA 95014",
        {"company": "Acme Corp", "url": "www.acme.com"},
    ),
    (
        "Boulangerie Dupont SARL, 3 place du Marché, 69001 Lyon, sonnez deux fois",
        "3 place du Marché, 69001 Lyon",
        {"company": "Boulangerie Dupont SARL", "instructions": "sonnez deux fois"},
    ),
    (
        "+44 20 7946 0958, 10 Downing Street, London SW1A 2AA",
        "10 Downing Street, London SW1A 2AA",
        {"phone": "+44 20 7946 0958"},
    ),
    (
        "z. Hd. Frau Petra Klein, Hauptstraße 7, 10827 Berlin, bitte klingeln",
        "Hauptstraße 7, 10827 Berlin",
        {"recipient": "Frau Petra Klein", "instructions": "bitte klingeln"},
    ),
    (
        "Sra. Ana López, Calle Mayor 5, 28013 Madrid, por favor dejar en conserjería",
        "Calle Mayor 5, 28013 Madrid",
        {"recipient": "Sra. Ana López", "instructions": "por favor dejar en conserjería"},
    ),
    (
        "Rossi S.p.A., Via Giuseppe Verdi 5, 20121 Milano, citofonare Rossi, +39 02 1234 5678",
        "Via Giuseppe Verdi 5, 20121 Milano",
        {
            "company": "Rossi S.p.A.",
            "instructions": "citofonare Rossi",
            "phone": "+39 02 1234 5678",
        },
    ),
    (
        "t.a.v. Jan de Vries, Bakker BV, Keizersgracht 123, 1015 CJ Amsterdam",
        "Keizersgracht 123, 1015 CJ Amsterdam",
        {"recipient": "Jan de Vries", "company": "Bakker BV"},
    ),
    (
        "350 5th Ave, New York, NY 10118, John Smith",
        "350 5th Ave, New York, NY 10118",
        {"recipient": "John Smith"},
    ),
    (
        "1600 Amphitheatre Pkwy, Mountain View CA 94043, (650) 253-0000 x123, gate code 1234",
        "1600 Amphitheatre Pkwy, Mountain View CA 94043",
        {"phone": "(650) 253-0000 x123", "instructions": "gate code 1234"},
    ),
    (
        "12 Baker St, London NW1 6XE, E-mail: jane@example.co.uk, https://example.co.uk/shop",
        "12 Baker St, London NW1 6XE",
        {"email": "jane@example.co.uk", "url": "https://example.co.uk/shop"},
    ),
    ("call me before noon", "", {"instructions": "call me before noon"}),
    ("John Smith", "", {"recipient": "John Smith"}),
]


@pytest.mark.parametrize(("text", "address", "extras"), CASES)
def test_extras_are_cut_out(text: str, address: str, extras: dict[str, str]) -> None:
    got = split_extras(text)
    assert got.address == address
    assert got.extras.as_dict() == extras


@pytest.mark.parametrize(
    "text",
    [
        "350 5th Ave, New York, NY 10118-1234",
        "Blk 123 #05-67, Singapore 560123",
        "12 Baker St, London NW1 6XE",
        "PO Box 1234567, Anchorage AK 99510",
        "Unit 12/345 George St, Sydney NSW 2000",
        "Kurfürstenstraße 31-32, 10785 Berlin",
        "12345 67th Ave NE, Redmond WA 98052",
    ],
)
def test_postcodes_and_numbers_are_not_phones(text: str) -> None:
    assert split_extras(text).extras.phone is None


def test_country_picks_the_phone_format() -> None:
    got = split_extras("12 rue de la Paix, 75002 Paris, 01 23 45 67 89", "FR")
    assert (got.address, got.extras.phone) == ("12 rue de la Paix, 75002 Paris", "01 23 45 67 89")


def test_as_dict_has_only_the_present_ones() -> None:
    assert Extras(recipient="John Smith").as_dict() == {"recipient": "John Smith"}


def test_cut_spans_tidies_separators() -> None:
    assert cut_spans("John Smith, 12 Baker St, London", [(0, 10)]) == "12 Baker St, London"


def test_typical_address_takes_well_under_a_millisecond() -> None:
    text = "John Smith, 350 5th Ave Apt 4B, New York NY 10118, call 555-0134"
    split_extras(text)
    batches = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(100):
            split_extras(text)
        batches.append((time.perf_counter() - start) / 100)
    assert min(batches) < 1e-3


# Real addresses whose streets, towns and town additions read like names or companies.
UNCHANGED_IN_COUNTRY = [
    ("Alter Graben 1, 97999 Igersheim", "DE"),
    ("Bei der Kelter 11, 71723 Großbottwar", "DE"),
    ("Alter Husumer Weg 222, 24941 Flensburg", "DE"),
    ("Davidsweg 19, 34576 Homberg (Efze)", "DE"),
    ("Bischof-Brand-Straße 13, 61440 Oberursel (Taunus)", "DE"),
    ("31 Parade, Leamington Spa, CV32 4BL", "GB"),
    ("3 Horninglow Street, Burton on Trent, Staffordshire, DE14 1NG", "GB"),
    ("156 Route de Lacaussade, 47340 La Croix-Blanche", "FR"),
    ("12 rue de la Paix, 75002 Paris, France", "FR"),
]


@pytest.mark.parametrize(("text", "country"), UNCHANGED_IN_COUNTRY)
def test_streets_and_towns_are_no_extras(text: str, country: str) -> None:
    assert split_extras(text, country) == Extracted(text, Extras())


CASES_IN_COUNTRY = [
    (
        "(926)919-0301 - 511 W Elm Street, Chicago, IL 60610",
        "US",
        "511 W Elm Street, Chicago, IL 60610",
        {"phone": "(926)919-0301"},
    ),
    (
        "02 28 76 95 74 25 Chemin de Bindre, 44300 Nantes",
        "FR",
        "25 Chemin de Bindre, 44300 Nantes",
        {"phone": "02 28 76 95 74"},
    ),
    (
        "Oda Wagenknecht, Paffrath Jungfer AG, Mühlenstraße 2, 38547 Calberlah",
        "DE",
        "Mühlenstraße 2, 38547 Calberlah",
        {"recipient": "Oda Wagenknecht", "company": "Paffrath Jungfer AG"},
    ),
    (
        "Denis Millet, Hamon Hoareau SA, 48 Rue de la République, 69002 Lyon",
        "FR",
        "48 Rue de la République, 69002 Lyon",
        {"recipient": "Denis Millet", "company": "Hamon Hoareau SA"},
    ),
    (
        "Prof. Alf Lindner - Niemeier - Oberer Landweg 2, 21033 Hamburg",
        "DE",
        "Oberer Landweg 2, 21033 Hamburg",
        {"recipient": "Prof. Alf Lindner", "company": "Niemeier"},
    ),
    (
        "Duncan, Thompson and Hall 5650 S. Wolcott Ave, Chicago, IL 60636",
        "US",
        "5650 S. Wolcott Ave, Chicago, IL 60636",
        {"company": "Duncan, Thompson and Hall"},
    ),
    (
        "Ms Judith King Nash-Howard 47 Redcliffe Gardens, London, SW10 9JH",
        "GB",
        "47 Redcliffe Gardens, London, SW10 9JH",
        {"recipient": "Ms Judith King", "company": "Nash-Howard"},
    ),
    (
        "597 FLEMING RD, Call on arrival, CINCINNATI OH 45231 Kathy Deleon",
        "US",
        "597 FLEMING RD, CINCINNATI OH 45231",
        {"recipient": "Kathy Deleon", "instructions": "Call on arrival"},
    ),
    (
        "820 S. Carpenter, Whitney Taylor, Chicago, IL 60607",
        "US",
        "820 S. Carpenter, Chicago, IL 60607",
        {"recipient": "Whitney Taylor"},
    ),
    (
        "7638 N. Paulina, Knock loudly, doorbell broken, Chicago, IL 60626",
        "US",
        "7638 N. Paulina, Chicago, IL 60626",
        {"instructions": "Knock loudly, doorbell broken"},
    ),
    (
        "Golbergstraße 31, 74613 Öhringen, Nicht klingeln, Baby schläft",
        "DE",
        "Golbergstraße 31, 74613 Öhringen",
        {"instructions": "Nicht klingeln, Baby schläft"},
    ),
    (
        "Schwarzwaldhochstraße 1, Hintereingang benutzen, 76316 Malsch",
        "DE",
        "Schwarzwaldhochstraße 1, 76316 Malsch",
        {"instructions": "Hintereingang benutzen"},
    ),
    (
        "Joseph Hill 280 Barlow Moor Road, Manchester, M21 7GL",
        "GB",
        "280 Barlow Moor Road, Manchester, M21 7GL",
        {"recipient": "Joseph Hill"},
    ),
    (
        "Clive Bradley Unit 23, 116 Queens Drive, Bedford, MK41 9BS",
        "GB",
        "Unit 23, 116 Queens Drive, Bedford, MK41 9BS",
        {"recipient": "Clive Bradley"},
    ),
    (
        "Herr Franz-Josef Scholtz, Börner, Heileweg 3, 30519 Hannover",
        "DE",
        "Heileweg 3, 30519 Hannover",
        {"recipient": "Herr Franz-Josef Scholtz", "company": "Börner"},
    ),
    (
        "(942)943-7224, #26, 7216 S Union Ave, Chicago, IL 60621",
        "US",
        "#26, 7216 S Union Ave, Chicago, IL 60621",
        {"phone": "(942)943-7224"},
    ),
    (
        "Leave at back door, Chicago, IL 60626",
        "US",
        "Chicago, IL 60626",
        {"instructions": "Leave at back door"},
    ),
]


@pytest.mark.parametrize(("text", "country", "address", "extras"), CASES_IN_COUNTRY)
def test_extras_anywhere_are_cut_out(
    text: str, country: str, address: str, extras: dict[str, str]
) -> None:
    got = split_extras(text, country)
    assert (got.address, got.extras.as_dict()) == (address, extras)


def test_merged_keeps_what_it_has() -> None:
    mine = Extras(recipient="John Smith")
    theirs = Extras(recipient="laurence hubert", company="Jensen Group")
    assert mine.merged(theirs) == Extras(recipient="John Smith", company="Jensen Group")


@pytest.mark.parametrize(
    ("house", "extras"),
    [
        ("laurence hubert", {"recipient": "laurence hubert"}),
        ("jensen group", {"company": "jensen group"}),
        ("abstellort garage", {"instructions": "abstellort garage"}),
        ("brendan west", {"recipient": "brendan west"}),
        ("stephen green", {"recipient": "stephen green"}),
        ("davies-hall", {"company": "davies-hall"}),
        ("ben burton", {"recipient": "ben burton"}),
        ("michelle le", {"recipient": "michelle le"}),
        ("jason villa", {"recipient": "jason villa"}),
        ("rebecca church", {"recipient": "rebecca church"}),
        ("mrs lesley little", {"recipient": "mrs lesley little"}),
        ("lane-king", {"company": "lane-king"}),
        ("preston-lord", {"company": "preston-lord"}),
        ("park-moran", {"company": "park-moran"}),
        ("francoise kallert", {"recipient": "francoise kallert"}),
        ("geza ullrich b.eng.", {"recipient": "geza ullrich b.eng."}),
        ("oliver delaunay", {"recipient": "oliver delaunay"}),
        ("sheila house", {"recipient": "sheila house"}),
        ("philippe", {"company": "philippe"}),
    ],
)
def test_from_house_moves_what_is_no_building(house: str, extras: dict[str, str]) -> None:
    parsed = ParsedAddress(house=house, house_number="16", road="rue de hiribehere")
    moved, got = from_house(parsed, "FR")
    assert (moved, got.as_dict()) == (replace(parsed, house=None), extras)


@pytest.mark.parametrize(
    ("house", "country"),
    [
        ("rose cottage", "GB"),
        ("kingsway house", "GB"),
        ("meridian grand", "GB"),
        ("bâtiment a", "FR"),
        ("haus am see", "DE"),
        ("unit 4", "US"),
        ("rose villa", "GB"),
        ("holly lodge", "GB"),
        ("lady margaret hall", "GB"),
        ("kingsley house", "GB"),
        ("rose house", "US"),
    ],
)
def test_from_house_keeps_building_names(house: str, country: str) -> None:
    parsed = ParsedAddress(house=house, house_number="12", road="main st")
    assert from_house(parsed, country) == (parsed, Extras())


@pytest.mark.slow
def test_known_good_addresses_give_no_extras(reference_sample: pd.DataFrame) -> None:
    """Streets such as "2115 Linden Dr SE", "2917 Van Buren Dr SW" and farms such as
    "Stóri-Klofi, 851 Hella" are addresses, not names, companies or notes."""
    taken = {
        address: extras
        for address, country in zip(
            reference_sample["address"], reference_sample["country"], strict=True
        )
        if (extras := split_extras(address, country).extras.as_dict())
    }
    assert len(taken) <= len(reference_sample) // 500, taken


@pytest.mark.parametrize(
    "text",
    [
        "2115 Linden Dr SE, Cedar Rapids, IA 52403",
        "4761 Westchester Dr NE Apt D, Cedar Rapids, IA 52402",
        "2917 Van Buren Dr SW, Cedar Rapids, IA 52404",
        "Dalsel, 109 Reykjavík",
        "Stóri-Klofi, 851 Hella",
    ],
)
def test_streets_and_farms_of_the_default_data_stay_whole(text: str) -> None:
    assert split_extras(text).extras.as_dict() == {}
    assert split_extras(text).address == text


@pytest.mark.parametrize(
    ("road", "number", "text", "country", "kept", "extras"),
    [
        (
            "sandra west 1934 powers st",
            None,
            "Sandra West, 1934 POWERS ST, Cincinnati, OH 45231",
            "US",
            ("powers st", "1934"),
            {"recipient": "Sandra West"},
        ),
        (
            "dr. stephen cross 3177 palmyra dr",
            None,
            "Dr. Stephen Cross, 3177 PALMYRA DR, Apt 13D, Cincinnati, OH 45231",
            "US",
            ("palmyra dr", "3177"),
            {"recipient": "Dr. Stephen Cross"},
        ),
        (
            "howard park corner johnson-bailey",
            "9",
            "9 Howard Park Corner, Johnson-Bailey, LETCHWORTH GARDEN CITY, SG6 1PQ",
            "GB",
            ("howard park corner", "9"),
            {"company": "Johnson-Bailey"},
        ),
        (
            "besson avenue gayot",
            "9",
            "Marc Vallée, Besson, 9 Avenue Gayot, 49290 Chalonnes-sur-Loire",
            "FR",
            ("avenue gayot", "9"),
            {"company": "Besson"},
        ),
        (
            "le roux rue boussingault",
            "14",
            "Le Roux, 14 Rue Boussingault Appartement 16, 62210 Avion",
            "FR",
            ("rue boussingault", "14"),
            {"company": "Le Roux"},
        ),
        (
            "rue colette lebrun",
            "90",
            "Sabine Leduc 90 Rue Colette, Lebrun, 29200 Brest",
            "FR",
            ("rue colette", "90"),
            {"company": "Lebrun"},
        ),
        (
            "ms hayley hewitt swallow road",
            "58",
            "Ms Hayley Hewitt 58, SWALLOW ROAD, IPSWICH, IP2 0TP Flat 15",
            "GB",
            ("swallow road", "58"),
            {"recipient": "Ms Hayley Hewitt"},
        ),
        (
            "debra lane 23 oakhill road",
            None,
            "Debra Lane, 23 Oakhill Road, Horsham, West Sussex, RH13 5SD",
            "GB",
            ("oakhill road", "23"),
            {"recipient": "Debra Lane"},
        ),
        (
            "scott herring brampton dr",
            "2760",
            "Scott Herring, 2760 BRAMPTON DR CINCINNATI OH 45251",
            "US",
            ("brampton dr", "2760"),
            {"recipient": "Scott Herring"},
        ),
        (
            "koppelweg hentschel",
            "3",
            "Koppelweg 3, Hentschel, 32351 Stemwede",
            "DE",
            ("koppelweg", "3"),
            {"company": "Hentschel"},
        ),
        (
            "martin-luther-straße gute",
            "4",
            "Martin-Luther-Straße 4, Gute, 77933 Lahr",
            "DE",
            ("martin-luther-straße", "4"),
            {"company": "Gute"},
        ),
        (
            "mälzer scheifendahl",
            "65",
            "Mälzer, Wohnung 3, Scheifendahl 65, 42699 Solingen",
            "DE",
            ("scheifendahl", "65"),
            {"company": "Mälzer"},
        ),
        (
            "rue de l'union margot bernier",
            "19",
            "19 Rue de l'Union, Margot Bernier, 78600 Maisons-Laffitte",
            "FR",
            ("rue de l'union", "19"),
            {"recipient": "Margot Bernier"},
        ),
        (
            "mary 2 avenue de l'echapt",
            None,
            "Mary, 2 Avenue de l'Echapt, 22100 Léhon",
            "FR",
            ("avenue de l'echapt", "2"),
            {"company": "Mary"},
        ),
        (
            "besson rue carpeaux",
            "119",
            "Besson - 119 Rue Carpeaux, 59650 Villeneuve-d'Ascq",
            "FR",
            ("rue carpeaux", "119"),
            {"company": "Besson"},
        ),
    ],
)
def test_from_road_moves_names_glued_on(
    road: str,
    number: str | None,
    text: str,
    country: str,
    kept: tuple[str, str],
    extras: dict[str, str],
) -> None:
    moved, got = from_road(ParsedAddress(house_number=number, road=road), text, country)
    assert ((moved.road, moved.house_number), got.as_dict()) == (kept, extras)


@pytest.mark.parametrize(
    ("road", "number", "text", "country"),
    [
        ("grange road west kirby", "12", "12 Grange Road, West Kirby, Wirral, CH48 4DY", "GB"),
        ("van buren dr sw", "2917", "2917 Van Buren Dr SW, Cedar Rapids, IA 52404", "US"),
        ("rue du docteur roux", "3", "3 Rue du Docteur Roux, 75015 Paris", "FR"),
        ("dr martin luther king jr blvd", "12", "Dr Martin Luther King, 12 Jr Blvd, Miami", "US"),
        ("queen elizabeth square", "4", "Queen Elizabeth, 4 Square, Glasgow", "GB"),
        ("am markt", "5", "Am Markt 5, Buchholz, 21244 Buchholz", "DE"),
        ("hauptstraße", "5", "Hauptstraße 5, 79117 Freiburg", "DE"),
    ],
)
def test_from_road_keeps_streets_whole(road: str, number: str, text: str, country: str) -> None:
    """ "Grange Road, West Kirby" runs over a comma; "Square" alone names no street."""
    parsed = ParsedAddress(house_number=number, road=road)
    assert from_road(parsed, text, country) == (parsed, Extras())


@pytest.mark.parametrize(
    ("house", "company"),
    [
        ("banks hussain and newman", "banks hussain and newman"),
        ("wells and hodges", "wells and hodges"),
        ("sand and gravel works", None),
    ],
)
def test_a_firm_of_surnames_left_as_a_building_is_a_company(
    house: str, company: str | None
) -> None:
    parsed = ParsedAddress(house=house, house_number="400", road="westdale lane")
    _, extras = from_house(parsed, "GB")
    assert extras.company == company


@pytest.mark.parametrize(
    ("parsed", "country", "kept", "company"),
    [
        (
            ParsedAddress(house_number="8720", road="brent dr", country="burns-rice"),
            "US",
            ParsedAddress(house_number="8720", road="brent dr"),
            "burns-rice",
        ),
        (
            ParsedAddress(house_number="45", road="whitegate drive", suburb="ward-mccarthy"),
            "GB",
            ParsedAddress(house_number="45", road="whitegate drive"),
            "ward-mccarthy",
        ),
        (
            ParsedAddress(house_number="14", road="müllerstraße", country="lachmann"),
            "DE",
            ParsedAddress(house_number="14", road="müllerstraße"),
            "lachmann",
        ),
        (
            ParsedAddress(house="speer", house_number="4", road="zum wiesental"),
            "DE",
            ParsedAddress(house_number="4", road="zum wiesental"),
            "speer",
        ),
        (
            ParsedAddress(house="häring", house_number="13", road="wiesenweg"),
            "DE",
            ParsedAddress(house_number="13", road="wiesenweg"),
            "häring",
        ),
    ],
)
def test_a_name_read_as_a_place_is_a_company(
    parsed: ParsedAddress, country: str, kept: ParsedAddress, company: str
) -> None:
    """ "Burns-Rice" after "CINCINNATI OH 45231", "Speer" before "Zum Wiesental 4"."""
    assert from_house(parsed, country) == (kept, Extras(company=company))


@pytest.mark.parametrize(
    ("parsed", "country"),
    [
        (ParsedAddress(house_number="1", road="main st", suburb="winston-salem"), "US"),
        (ParsedAddress(house_number="3", road="hauptstraße", country="deutschland"), "DE"),
        (ParsedAddress(house="gleneagles", house_number="12", road="high st"), "GB"),
        (ParsedAddress(house="vaðnes", house_number="1", road="borgartún"), "IS"),
    ],
)
def test_places_and_house_names_stay(parsed: ParsedAddress, country: str) -> None:
    assert from_house(parsed, country) == (parsed, Extras())


def test_the_town_before_the_street_stays() -> None:
    parsed = ParsedAddress(house_number="90", road="brest rue colette", city="brest")
    assert from_road(parsed, "Brest, 90 Rue Colette, 29200 Brest", "FR") == (parsed, Extras())


def test_a_note_goes_on_in_the_next_part() -> None:
    got = split_extras("Helmholtzstraße 53c, 63454 Hanau Nicht klingeln, Baby schläft", "DE")
    assert (got.address, got.extras.as_dict()) == (
        "Helmholtzstraße 53c, 63454 Hanau",
        {"instructions": "Nicht klingeln Baby schläft"},
    )


@pytest.mark.parametrize(
    ("house", "country"),
    [
        ("haus sonnenschein", "DE"),
        ("alte schule", "DE"),
        ("gut schönberg", "DE"),
        ("clos fleuri", "FR"),
        ("de molen", "NL"),
    ],
)
def test_two_words_of_a_house_name_stay(house: str, country: str) -> None:
    """A house name of two words is no person unless its first word is a first name."""
    parsed = ParsedAddress(house=house, house_number="33", road="rue florimont")
    assert from_house(parsed, country)[1].as_dict() == {}


def test_a_note_after_a_leading_name_is_cut_too() -> None:
    got = split_extras("Sandra Roberts 1680 BRUNNERWOOD DR CINCINNATI OH 45238 Call on arrival")
    assert got.extras.as_dict() == {
        "recipient": "Sandra Roberts",
        "instructions": "Call on arrival",
    }


@pytest.mark.parametrize(
    ("parsed", "country", "kept", "extras"),
    [
        (
            ParsedAddress(road="haywood street", city="leek alice", state_district="jackson"),
            "GB",
            ParsedAddress(road="haywood street", city="leek"),
            {"recipient": "alice jackson"},
        ),
        (
            ParsedAddress(road="crestview ave", city="cincinnati nicole", state_district="wells"),
            "US",
            ParsedAddress(road="crestview ave", city="cincinnati"),
            {"recipient": "nicole wells"},
        ),
        (
            ParsedAddress(road="the headrow", city="leeds day-wilson"),
            "GB",
            ParsedAddress(road="the headrow", city="leeds"),
            {"company": "day-wilson"},
        ),
    ],
)
def test_a_name_run_into_the_town_is_taken_out(
    parsed: ParsedAddress, country: str, kept: ParsedAddress, extras: dict[str, str]
) -> None:
    """ "LEEK, ST13 5JW, Unit 19 Alice Jackson" parsed as the town "leek alice"."""
    moved, got = from_house(parsed, country)
    assert (moved, got.as_dict()) == (kept, extras)


@pytest.mark.parametrize(
    ("parsed", "country"),
    [
        (ParsedAddress(road="high street", city="newcastle upon tyne"), "GB"),
        (ParsedAddress(road="main st", city="lake charles", state="la"), "US"),
    ],
)
def test_towns_named_after_people_stay(parsed: ParsedAddress, country: str) -> None:
    assert from_house(parsed, country) == (parsed, Extras())


def test_a_house_number_left_in_the_house_goes_back() -> None:
    """ "Teresa Baxter … 3114 TIMBERVIEW DR" parsed with house "teresa baxter 3114"."""
    parsed = ParsedAddress(house="teresa baxter 3114", road="timberview dr", city="cincinnati")
    assert from_house(parsed, "US") == (
        ParsedAddress(house_number="3114", road="timberview dr", city="cincinnati"),
        Extras(recipient="teresa baxter"),
    )


def test_a_firm_may_open_with_a_place_word() -> None:
    got = split_extras("Mills, Lane and Hunter, Unit 28, 78 High Street, HODDESDON, EN11 8ET", "GB")
    assert (got.address, got.extras.as_dict()) == (
        "Unit 28, 78 High Street, HODDESDON, EN11 8ET",
        {"company": "Mills, Lane and Hunter"},
    )


@pytest.mark.parametrize(
    "text",
    [
        "53 Bewick Road, Gateshead, Tyne and Wear, NE8 4DR",
        "Green Ltd, 53 Bewick Road, Gateshead, Tyne and Wear, NE8 4DR",
    ],
)
def test_a_town_and_its_county_before_the_postcode_are_no_firm(text: str) -> None:
    """ "Gateshead, Tyne and Wear" has the shape of "Banks, Hussain And Newman", but a
    known town opens it and the postcode follows: it is where the address is."""
    extracted = split_extras(text, "GB")
    assert extracted.address.endswith("53 Bewick Road, Gateshead, Tyne and Wear, NE8 4DR")
    assert extracted.extras.company in (None, "Green Ltd")


def test_the_postcode_names_the_country_the_town_is_looked_up_in() -> None:
    """Without a country hint, "NE8 4DR" says Britain, where Gateshead is a town."""
    extracted = split_extras("Green Ltd, 53 Bewick Road, Gateshead, Tyne and Wear, NE8 4DR")
    assert extracted.address == "53 Bewick Road, Gateshead, Tyne and Wear, NE8 4DR"
    assert extracted.extras.company == "Green Ltd"


def test_a_firm_before_the_postcode_is_still_a_firm() -> None:
    extracted = split_extras("53 Bewick Road, Gateshead, Hussain, Newman and Walsh, NE8 4DR", "GB")
    assert extracted.extras.company == "Hussain, Newman and Walsh"
    assert extracted.address == "53 Bewick Road, Gateshead, NE8 4DR"


def test_a_second_town_is_no_recipient_even_when_it_is_a_first_name() -> None:
    """ "Wrea Green, Preston": Preston is a first name, but here the post town."""
    from address.libpostal import parse

    text = "19 RIBBY ROAD, WREA GREEN, PRESTON, LANCASHIRE, PR4 2NB"
    parsed, extras = from_house(parse(text, "GB"), "GB")
    assert extras.recipient is None
    assert "preston" in (parsed.city or "")
