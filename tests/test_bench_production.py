"""eval.bench_production's pure parts: the split, the noise makers and the judges."""

from __future__ import annotations

import hashlib

from eval.production.addresses import Address, glued, held_out
from eval.production.judge import extra_matches, judge_clean, unit_found
from eval.production.noise import Noisy, make_noisy

LEEDS = Address(
    id="uk-00001",
    dataset="uk",
    country="GB",
    text="12 High Street, Leeds, LS1 4AB",
    house_number="12",
    road="High Street",
    postcode="LS1 4AB",
    city="Leeds",
)


def test_split_is_the_sha1_rule_and_about_half() -> None:
    texts = [f"{n} Main St, Springfield" for n in range(2000)]
    for text in texts[:50]:
        assert held_out(text) == (int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10 >= 5)
    share = sum(map(held_out, texts)) / len(texts)
    assert 0.45 < share < 0.55


def test_noise_maker_is_deterministic_and_records_what_it_placed() -> None:
    for seed in ("a", "b", "c", "d"):
        first, again = make_noisy(LEEDS, seed, True), make_noisy(LEEDS, seed, True)
        assert first == again
        assert first.truth
        for value in first.truth.values():
            assert value in first.text
        assert first.unit is not None and first.unit in first.text
        assert first.unit_id is not None and first.unit_id in first.unit
        for word in ("12", "High", "Street", "Leeds", "LS1 4AB"):
            assert word in first.text
    assert make_noisy(LEEDS, "a", True).text != make_noisy(LEEDS, "b", True).text


def test_clean_judge_flags_a_phone_number_and_a_lost_street() -> None:
    noisy = make_noisy(LEEDS, "phone", False)
    clean = {"standardized": "12 High Street, Leeds, LS1 4AB", "components": {"road": "high st"}}
    assert judge_clean(clean, LEEDS, noisy) is None
    phone = {
        "standardized": "12 High Street Tel 0113 496 0123, Leeds, LS1 4AB",
        "components": {},
    }
    with_phone = Noisy("x", {"phone": "0113 496 0123"}, ("0113 496 0123",))
    assert judge_clean(phone, LEEDS, with_phone) == "noise in the answer: 0113 0123 496"
    no_street = {"standardized": "12, Leeds, LS1 4AB", "components": {}}
    assert judge_clean(no_street, LEEDS, None) == "street missing"


def test_extras_units_and_glue() -> None:
    assert extra_matches("phone", "(513) 555-1234", "+1 513 555 1234")
    assert not extra_matches("phone", "(513) 555-1234", "513")
    assert extra_matches("url", "https://www.smith.com/", "smith.com")
    assert extra_matches("recipient", "Dr. John Smith", "John Smith")
    assert unit_found("4B", {"unit": "apt 4b"}, ("unit",))
    assert unit_found("05-67", {"unit": "#05-67"}, ("unit",))
    assert not unit_found("3", {"unit": "apt 13"}, ("unit",))
    assert not unit_found("3", {"level": "fl 3"}, ("unit",))
    assert glued(LEEDS.fields("Flat 3")) == "Flat 3, 12 High Street, Leeds, LS1 4AB"
