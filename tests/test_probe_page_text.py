"""A page's visible text is kept up to its bound; a page with more is a gap (what a session recording of it
captured was not all checked for the student's PII), named with the page."""

import pytest
from playwright.async_api import async_playwright

from conftest import run_async
from crawler.browse import probes
from crawler.browse.browser import find_chromium
from crawler.browse.probes import Canaries, plant_dom_canary
from test_unkept import capture_state

pytestmark = pytest.mark.e2e


async def planted(html: str, state) -> tuple[str | None, str]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium())
        try:
            page = await browser.new_page()
            await page.set_content(html)
            text = await plant_dom_canary(page, Canaries.new(), state)
            return text, await page.inner_text("[data-trackaudit-canary]")
        finally:
            await browser.close()


def test_page_text_past_its_bound_is_cut_and_named_as_unchecked(tmp_path, monkeypatch):
    monkeypatch.setattr(probes, "MAX_PAGE_TEXT", 40)
    state = capture_state(tmp_path)
    text, canary = run_async(planted("<p>" + "Maya Okafor " * 10 + "</p>", state))
    assert text == ("Maya Okafor " * 10)[:40]
    assert canary.startswith("page canary ")  # planted all the same
    assert state.unkept == ["the visible text of about:blank past 40 characters"]
    gap = state.unkept_gap()
    assert gap and "about:blank" in gap and "showed" in gap


def test_page_text_within_its_bound_is_kept_whole_and_no_gap(tmp_path):
    state = capture_state(tmp_path)
    text, _ = run_async(planted("<p>Maya Okafor</p><p>Grade 7</p>", state))
    assert text == "Maya Okafor\n\nGrade 7"
    assert state.unkept == [] and state.unkept_gap() is None
