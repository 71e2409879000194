"""The checkout page in a real Chromium against a real running service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from api.server_process import ServerProcess

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "eval" / "results"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def service(built_index: Path) -> Iterator[str]:
    """`addr serve` on a free loopback port with the small test index."""
    env = {"ADDR_INDEX_PATH": str(built_index), "ADDR_LOG_LEVEL": "WARNING"}
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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "checkout_valid.png"), full_page=True)

    page.goto(service)
    page.get_by_label("Address", exact=True).fill("leave it with the neighbour please")
    page.get_by_role("button", name="Verify address").click()
    expect(page.locator("#verdict")).to_have_text("invalid", timeout=15_000)
    expect(page.locator("#reasons li").first).not_to_be_empty()
    page.screenshot(path=str(SCREENSHOTS / "checkout_invalid.png"), full_page=True)
    page.close()
