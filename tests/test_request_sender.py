"""A request belongs to the page that sent it: a beacon still under way when its page is left, which ends after
the next page has started to replace it, is still the left page's (a session recorder's last beacon of a
student's profile page was once stamped with the next page, and its finding lost the profile page)."""

import asyncio

import pytest
from playwright.async_api import async_playwright

from conftest import run_async
from crawler.browse.browser import find_chromium
from crawler.browse.collectors.network import NetworkCollector
from test_unkept import capture_state

pytestmark = pytest.mark.e2e

PROFILE, HELP, BEACON = "https://school.test/profile", "https://school.test/help", "https://rec.test/record"
BEACON_AT_LOAD = f"""<title>Profile</title><script>navigator.sendBeacon("{BEACON}", "the profile");</script>"""


async def visit_profile_then_help(state) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium())
        try:
            context = await browser.new_context()
            help_loaded = asyncio.Event()

            async def serve(route) -> None:
                url = route.request.url
                if url == BEACON:
                    await help_loaded.wait()  # never answered while the profile is shown: the next visit ends it
                    await route.fulfill(status=204)
                else:
                    body = BEACON_AT_LOAD if url == PROFILE else "<title>Help</title>"
                    await route.fulfill(body=body, content_type="text/html")

            await context.route("**/*", serve)
            collector = NetworkCollector(state)
            await collector.attach(context)
            page = await context.new_page()
            await collector.on_page(page)
            await page.goto(PROFILE)
            await page.goto(HELP)
            help_loaded.set()
            for _ in range(50):
                await state.flush()
                if any(row["url"] == BEACON for row in state.sink.store.db["requests"].rows):
                    break
                await asyncio.sleep(0.1)
        finally:
            await browser.close()


def test_a_beacon_under_way_when_its_page_is_left_belongs_to_that_page(tmp_path):
    state = capture_state(tmp_path)
    run_async(visit_profile_then_help(state))
    rows = {row["url"]: row for row in state.sink.store.db["requests"].rows}
    assert rows[BEACON]["page_url"] == PROFILE and rows[BEACON]["frame_url"] == PROFILE
    # A navigation belongs to the page it loads.
    assert rows[PROFILE]["page_url"] == PROFILE and rows[HELP]["page_url"] == HELP
