"""The README's pictures of the checkout page, taken in Chromium against ``addr serve``.

Types "Laugavegur 12b" on a phone-sized page, picks the suggestion "Laugavegur 12b, 101
Reykjavík" and verifies it (the register has its point: the page draws the known
addresses around it); then verifies a delivery note typed as an
address; then fills the form's fields with an address outside the known-good data, a phone
number and a note in its street line ("350 5th Ave, call 555-0134, leave at the back door",
New York, NY 10118). Run with the default index built (``make setup``)::

    .venv/bin/python -m eval.screenshots

Writes ``docs/checkout_valid.png``, ``docs/checkout_invalid.png`` and
``docs/checkout_outside.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.server_process import ServerProcess

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}


# The form's fields for the third picture: outside the default data, with extras.
OUTSIDE = {
    "Street and number": "350 5th Ave, call 555-0134, leave at the back door",
    "Apt / unit": "Apt 4B",
    "City": "New York",
    "Postcode": "10118",
    "State / region": "NY",
}


def take(out: Path, typed: str, pick: str, not_an_address: str) -> list[Path]:
    """Three full-page screenshots: ``pick`` chosen from the suggestions for ``typed`` and
    verified, ``not_an_address`` verified, and the :data:`OUTSIDE` fields verified."""
    from playwright.sync_api import expect, sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    valid, invalid = out / "checkout_valid.png", out / "checkout_invalid.png"
    outside = out / "checkout_outside.png"
    with (
        ServerProcess({"ADDR_LOG_LEVEL": "WARNING"}, ready_timeout=600) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport=PHONE)
        page.goto(server.url)
        page.get_by_label("Address", exact=True).press_sequentially(typed, delay=60)
        page.get_by_role("option").filter(has_text=pick).first.click(timeout=15_000)
        page.get_by_role("button", name="Verify address").click()
        expect(page.locator("#verdict")).to_have_text("valid", timeout=30_000)
        page.screenshot(path=str(valid), full_page=True)

        page.goto(server.url)
        page.get_by_label("Address", exact=True).fill(not_an_address)
        page.get_by_role("button", name="Verify address").click()
        expect(page.locator("#verdict")).to_have_text("invalid", timeout=30_000)
        page.screenshot(path=str(invalid), full_page=True)

        page.goto(server.url)
        for label, value in OUTSIDE.items():
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Verify address").click()
        expect(page.locator("#verdict")).not_to_have_text("", timeout=30_000)
        page.screenshot(path=str(outside), full_page=True)
        browser.close()
    return [valid, invalid, outside]


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DOCS)
    parser.add_argument("--typed", default="Laugavegur 12b")
    parser.add_argument("--pick", default="Laugavegur 12b, 101 Reykjavík")
    parser.add_argument("--not-an-address", default="leave it with the neighbour please")
    args = parser.parse_args()
    for path in take(args.out, args.typed, args.pick, args.not_an_address):
        print(path)


if __name__ == "__main__":
    main()
