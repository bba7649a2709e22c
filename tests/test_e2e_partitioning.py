"""The audited browser partitions third-party storage as a student's Chrome does."""

import pytest
from playwright.async_api import async_playwright

from conftest import run_async
from crawler.browse.browser import LaunchSettings, launch_profile
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e


async def widget_ids(internet, profile_dir) -> list[str]:
    settings = LaunchSettings(
        executable_path="/usr/bin/chromium",
        host_resolver_rules=internet.host_resolver_rules,
        trusted_spki=(internet.spki,),
    )
    async with async_playwright() as playwright:
        context = await launch_profile(playwright, settings, profile_dir)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            ids = []
            for top in ("https://www.studynook.test/partition-probe", "https://www.nookpartner.test/"):
                await page.goto(top)
                frame = next(f for f in page.frames if f.url.startswith("https://widgets.nookads.test/"))
                await frame.wait_for_function("document.body && document.body.dataset.local")
                ids.append(await frame.evaluate("localStorage.getItem('nookads_local')"))
            return ids
        finally:
            await context.close()


def test_a_third_party_frame_gets_other_storage_under_another_top_level_site(tmp_path):
    with FixtureInternet({}) as internet:
        under_studynook, under_partner = run_async(widget_ids(internet, tmp_path / "profile"))
    assert under_studynook and under_partner
    assert under_studynook != under_partner
