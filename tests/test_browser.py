"""The checkout page in a real Chromium against a real running service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from address.standardize import format_address_line
from api.server_process import ServerProcess
from index.reference import COMPONENT_COLUMNS, POINT_COLUMNS, REFERENCE_COLUMNS

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _env(index: Path, feedback: Path) -> dict[str, str]:
    """`addr serve`'s environment: the index, and a feedback database of the test's own."""
    return {
        "ADDR_INDEX_PATH": str(index),
        "ADDR_FEEDBACK_PATH": str(feedback / "outcomes.sqlite3"),
        "ADDR_LOG_LEVEL": "WARNING",
    }


def _index(rows: list[tuple[str, dict[str, str], tuple[float, float] | None]], out: Path) -> Path:
    """A real index over ``(country, components, point)`` rows."""
    from index.config import IndexConfig
    from index.store import build_index

    frame = pd.DataFrame(
        [
            {
                "id": f"test-{i}",
                "address": format_address_line(components, country),
                "country": country,
                **{name: components.get(name) for name in COMPONENT_COLUMNS},
                "source": "test",
                "lat": point[0] if point else None,
                "lon": point[1] if point else None,
                "completeness": "authoritative",
            }
            for i, (country, components, point) in enumerate(rows)
        ],
        columns=list(REFERENCE_COLUMNS),
    )
    strings = [name for name in REFERENCE_COLUMNS if name not in POINT_COLUMNS]
    frame = frame.astype(dict.fromkeys(strings, "string") | dict.fromkeys(POINT_COLUMNS, "float64"))
    return build_index(frame, out, IndexConfig(show_progress=False))


@pytest.fixture(scope="module")
def service(built_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`addr serve` on a free loopback port with the small test index."""
    env = _env(built_index, tmp_path_factory.mktemp("feedback"))
    with ServerProcess(env, ready_timeout=180) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian's chromium is missing; `make setup` installs it"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'


@pytest.fixture(scope="module")
def markup_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index over four rows, two of them carrying markup in the unit."""
    street = {"road": "Xss Lane", "city": "Anamosa", "state": "IA", "postcode": "52205"}
    components = [
        {**street, "house_number": "10", "unit": SCRIPT},
        {**street, "house_number": "12", "unit": IMG},
        {**street, "house_number": "14"},
        {**street, "house_number": "4570", "road": "Frozen Hill Rd"},
    ]
    out = tmp_path_factory.mktemp("markup-index") / "index"
    return _index([("US", c, None) for c in components], out)


@pytest.fixture(scope="module")
def reykjavik_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index over five numbers of Laugavegur, 101 Reykjavík, with their points."""
    street = {"road": "Laugavegur", "postcode": "101", "city": "Reykjavík"}
    points = {"10": -21.9306, "12": -21.9303, "12b": -21.9301, "14": -21.9298, "16": -21.9295}
    rows: list[tuple[str, dict[str, str], tuple[float, float] | None]] = [
        ("IS", {**street, "house_number": number}, (64.1455, lon)) for number, lon in points.items()
    ]
    return _index(rows, tmp_path_factory.mktemp("reykjavik-index") / "index")


def _nothing_ran(page: Any) -> None:
    page.wait_for_load_state("networkidle")  # an injected <img src=x> would load and fail
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("main img, main script").count() == 0


def test_markup_in_addresses_is_shown_as_text(
    markup_index: Path, browser: object, tmp_path: Path
) -> None:
    """Suggestions, the standardized line and the alternatives show markup literally;
    nothing in it runs."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    with ServerProcess(_env(markup_index, tmp_path), ready_timeout=180) as server:
        page = browser.new_page()
        page.goto(server.url)
        address = page.get_by_label("Address", exact=True)
        address.press_sequentially("Xss Lane", delay=40)
        options = page.get_by_role("option")
        expect(options.filter(has_text=SCRIPT)).to_have_count(1, timeout=10_000)
        expect(options.filter(has_text=IMG)).to_have_count(1)

        for _ in range(options.count()):  # pick the <script> one with the keyboard
            address.press("ArrowDown")
            if options.filter(has_text=SCRIPT).get_attribute("aria-selected") == "true":
                break
        address.press("Enter")
        expect(page.get_by_label("Apt / unit")).to_have_value(SCRIPT)
        page.get_by_role("button", name="Verify address").click()
        expect(page.locator("#standardized")).to_contain_text(SCRIPT, timeout=15_000)
        _nothing_ran(page)

        page.goto(server.url)
        page.get_by_label("Address", exact=True).fill("Xss Lne, Anamosa")
        page.get_by_role("button", name="Verify address").click()
        alternatives = page.locator("#alternatives button")
        expect(alternatives.filter(has_text=IMG)).to_have_count(1, timeout=15_000)
        _nothing_ran(page)
        page.close()


def test_pick_a_suggestion_and_verify(
    service: str, browser: object, reference_sample: pd.DataFrame
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    row = reference_sample[
        (reference_sample["country"] == "US") & reference_sample["house_number"].notna()
    ].iloc[0]
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(service)
    address = page.get_by_label("Address", exact=True)
    address.press_sequentially(row["address"][:14], delay=40)
    options = page.get_by_role("option")
    expect(options.first).to_be_visible(timeout=10_000)
    wanted = options.filter(has_text=row["address"])
    for _ in range(options.count()):
        address.press("ArrowDown")
        if wanted.count() and wanted.get_attribute("aria-selected") == "true":
            break
    address.press("Enter")
    expect(page.get_by_label("Postcode")).to_have_value(row["postcode"].upper())
    expect(page.get_by_label("City")).not_to_have_value("")
    assert row["house_number"] in page.get_by_label("Street and number").input_value()
    page.get_by_role("button", name="Verify address").click()
    expect(page.locator("#verdict")).to_have_text("valid", timeout=15_000)

    page.goto(service)
    page.get_by_label("Address", exact=True).fill("leave it with the neighbour please")
    page.get_by_role("button", name="Verify address").click()
    expect(page.locator("#verdict")).to_have_text("invalid", timeout=15_000)
    expect(page.locator("#reasons li").first).not_to_be_empty()
    page.close()


def _fill_fields(page: Any, fields: dict[str, str]) -> None:
    for label, value in fields.items():
        if label == "Country":
            page.get_by_label(label).select_option(value)
        else:
            page.get_by_label(label, exact=True).fill(value)


def test_fields_are_sent_as_a_structured_address(service: str, browser: object) -> None:
    """The form's fields reach verify as {lines, locality, ...}; an address the test
    index holds neither the town nor the postcode of gets the no-reference-data notice,
    and a note typed into the unit field is shown as taken out of the address."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page()
    page.goto(service)
    _fill_fields(
        page,
        {
            "Street and number": "350 5th Ave",
            "Apt / unit": "Apt 4B",
            "City": "New York",
            "State / region": "NY",
            "Postcode": "10118",
            "Country": "US",
        },
    )
    with page.expect_request("**/v1/verify") as sent:
        page.get_by_role("button", name="Verify address").click()
    assert sent.value.post_data_json == {
        "address": {
            "lines": ["350 5th Ave", "Apt 4B"],
            "locality": "New York",
            "region": "NY",
            "postcode": "10118",
            "country": "US",
        },
        "country": "US",
    }
    expect(page.locator("#coverage")).to_contain_text("no address list for this area")
    expect(page.locator("#extras")).to_be_hidden()

    page.get_by_label("Apt / unit").fill("Apt 4B, call 555-0134, leave at back door")
    page.get_by_role("button", name="Verify address").click()
    extras = page.locator("#extras")
    expect(extras).to_contain_text("Taken out of the address", timeout=15_000)
    expect(extras).to_contain_text("555-0134")
    expect(extras).to_contain_text("leave at back door")
    page.close()


def test_suggestions_narrowed_to_the_town_typed(service: str, browser: object) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    page = browser.new_page()
    page.goto(service)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/v1/autocomplete" in r.url else None)
    _fill_fields(page, {"City": "Cedar Rapids", "Postcode": "52402"})
    page.get_by_label("Address", exact=True).press_sequentially("3701", delay=40)
    options = page.locator("#suggestions").get_by_role("option")
    expect(options.first).to_contain_text("Cedar Rapids, IA 52402", timeout=10_000)
    expect(options.filter(has_not_text="Cedar Rapids, IA 52402")).to_have_count(0)
    assert "locality=Cedar+Rapids&postcode=52402" in asked[-1]
    page.close()


def test_the_page_shows_where_a_known_address_is(
    reykjavik_index: Path, browser: object, tmp_path: Path
) -> None:
    """After verify, the coordinates with their precision in words, and an SVG drawing of
    the known addresses around it (this one highlighted), with a scale bar and the
    caption saying it is no map; nothing is loaded from elsewhere."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    with ServerProcess(_env(reykjavik_index, tmp_path), ready_timeout=180) as server:
        page = browser.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(server.url)
        page.get_by_label("Address", exact=True).fill("Laugavegur 12b, 101 Reykjavík")
        page.get_by_label("Country").select_option("IS")
        page.get_by_role("button", name="Verify address").click()
        expect(page.locator("#verdict")).to_have_text("valid", timeout=15_000)
        expect(page.locator("#location")).to_have_text("64.14550, -21.93010 (exact point)")
        drawing = page.locator("#drawing")
        expect(drawing.locator("circle.known")).to_have_count(5, timeout=10_000)
        expect(drawing.locator("circle.here")).to_have_count(1)
        expect(drawing.locator("text.scale-label")).to_have_text(re.compile(r"^\d+ m$"))
        expect(page.locator("#drawing-caption")).to_contain_text("not a map")
        assert all(url.startswith(server.url) for url in asked)

        page.get_by_label("Address", exact=True).fill("leave it with the neighbour please")
        page.get_by_label("Country").select_option("")
        page.get_by_role("button", name="Verify address").click()
        expect(page.locator("#verdict")).to_have_text("invalid", timeout=15_000)
        expect(page.locator("#where")).to_be_hidden()
        page.close()
