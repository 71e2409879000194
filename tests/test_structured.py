"""Structured input: a form's fields through the library, the CLI-facing types and HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import pytest

from address.errors import AddressTooLongError, EmptyAddressError
from address.fields import AddressFields, FieldInputError, apply_fields
from address.libpostal import parse
from address.verify import Granularity, Verdict, verify, verify_batch

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from finetune.classifier import Classifier
    from index.search import AddressIndex

pytestmark = pytest.mark.slow


def _fields_of(row: pd.Series) -> AddressFields:
    street = f"{row['house_number']} {row['road']}"
    return AddressFields(
        lines=(street,),
        locality=row["city"],
        region=row["state"],
        postcode=row["postcode"],
        country=row["country"],
    )


@pytest.fixture(scope="module")
def us_rows(reference_sample: pd.DataFrame) -> pd.DataFrame:
    rows = reference_sample[
        (reference_sample["country"] == "US")
        & reference_sample["house_number"].notna()
        & reference_sample["unit"].isna()
        & reference_sample["city"].notna()
        & reference_sample["postcode"].notna()
    ]
    return rows.head(20)


def test_fields_read_the_way_the_country_writes_them() -> None:
    us = AddressFields(("350 5th Ave", "Apt 4B"), "New York", "NY", "10118", "US")
    assert us.text() == "350 5th Ave, Apt 4B, New York, NY 10118"
    iceland = AddressFields(("Laugavegur 12b",), "Reykjavík", None, "101", "IS")
    assert iceland.text() == "Laugavegur 12b, 101 Reykjavík"


def test_blank_fields_are_left_out_and_bad_ones_are_named() -> None:
    cleaned = AddressFields(
        ("  4570 Frozen Hill Rd ", "", "  "), "Anamosa", " ", "", "us"
    ).cleaned()
    assert cleaned == AddressFields(("4570 Frozen Hill Rd",), "Anamosa", None, None, "US")
    with pytest.raises(FieldInputError) as empty:
        AddressFields(("", " ")).cleaned()
    assert empty.value.part == "lines"
    assert isinstance(empty.value.cause, EmptyAddressError)
    with pytest.raises(FieldInputError) as long:
        AddressFields(("4570 Frozen Hill Rd", "x" * 600)).cleaned()
    assert long.value.part == "lines[1]"
    assert isinstance(long.value.cause, AddressTooLongError)


def test_a_town_given_as_a_town_is_never_read_as_a_road(libpostal: None) -> None:
    fields = AddressFields(("12 Main Street Springfield",), "Springfield", "IL", "62701", "US")
    parsed = apply_fields(parse(fields.text(), "US"), fields)
    assert parsed.road is not None and "springfield" not in parsed.road
    assert (parsed.city, parsed.state, parsed.postcode) == ("springfield", "il", "62701")


def test_fields_decide_against_libpostals_reading(libpostal: None) -> None:
    # A street named like a town: the field says which is which.
    fields = AddressFields(("5 Dublin Road",), "Galway", None, "H91 X2Y3", "IE")
    parsed = apply_fields(parse(fields.text(), "IE"), fields)
    assert parsed.road == "dublin road"
    assert parsed.city == "galway"
    assert parsed.postcode == "h91 x2y3"


def test_structured_input_agrees_with_one_line_input(
    us_rows: pd.DataFrame, index: AddressIndex, classifier: Classifier
) -> None:
    fields = [_fields_of(row) for _, row in us_rows.iterrows()]
    one_line = verify_batch(list(us_rows["address"]), searcher=index, classifier=classifier)
    structured = verify_batch(fields, searcher=index, classifier=classifier)
    assert [r.verdict for r in structured] == [r.verdict for r in one_line]
    assert all(r.match is not None for r in structured)
    assert [r.match.id for r in structured if r.match] == list(us_rows["id"])
    assert all(r.granularity is Granularity.PREMISE for r in structured)


def test_the_fields_country_wins_over_the_calls(
    us_rows: pd.DataFrame, index: AddressIndex, classifier: Classifier
) -> None:
    row = us_rows.iloc[0]
    result = verify(_fields_of(row), "IS", searcher=index, classifier=classifier)
    assert result.country == "US"
    assert result.verdict is Verdict.VALID


def test_http_verify_takes_fields(us_rows: pd.DataFrame, client: TestClient) -> None:
    row = us_rows.iloc[0]
    body = {
        "address": {
            "lines": [f"{row['house_number']} {row['road']}"],
            "locality": row["city"],
            "region": row["state"],
            "postcode": row["postcode"],
        }
    }
    answer = client.post("/v1/verify", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["verdict"] == "valid"
    assert result["match"]["id"] == row["id"]
    assert result["coverage"] == "covered"
    assert result["extras"] == {}


def test_http_suggest_and_batch_take_fields(us_rows: pd.DataFrame, client: TestClient) -> None:
    row = us_rows.iloc[1]
    fields = {
        "lines": [f"{row['house_number']} {row['road']}"],
        "locality": row["city"],
        "postcode": row["postcode"],
    }
    suggested = client.post("/v1/suggest", json={"address": fields, "limit": 3})
    assert suggested.status_code == 200, suggested.text
    assert suggested.json()["suggestions"][0]["id"] == row["id"]
    batch = client.post(
        "/v1/verify/batch", json={"addresses": [fields, row["address"], {"lines": [" "]}]}
    )
    assert batch.status_code == 200, batch.text
    first, second, third = batch.json()["results"]
    assert first["match"]["id"] == second["match"]["id"] == row["id"]
    assert third["field"] == "addresses[2].lines"
    assert third["type"] == "EmptyAddressError"


@pytest.mark.parametrize(
    ("address", "field", "kind"),
    [
        ({"lines": ["4570 Frozen Hill Rd", "x" * 600]}, "address.lines[1]", "AddressTooLongError"),
        ({"lines": ["4570 Frozen Hill Rd"], "postcode": 52205}, "address.postcode", None),
        ({"lines": []}, "address.lines", None),
        ({"locality": "Anamosa"}, "address.lines", None),
        ({"lines": ["4570 Frozen Hill Rd"], "country": "USA"}, "address.country", None),
        ({"lines": ["4570 Frozen Hill Rd"], "town": "Anamosa"}, "address.town", None),
    ],
)
def test_bad_fields_get_a_typed_422_naming_the_field(
    client: TestClient, address: dict[str, object], field: str, kind: str | None
) -> None:
    answer = client.post("/v1/verify", json={"address": address})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["type"] == (kind or "RequestValidationError")
