"""split_extras: recipients, companies, phones, e-mails, URLs and notes cut out of an address."""

from __future__ import annotations

import time

import pytest

from address.extras import Extracted, Extras, cut_spans, split_extras

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
