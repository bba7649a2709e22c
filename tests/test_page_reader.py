"""What a visit reads of a page (title, links, HTML, the scroll to the bottom) is read in an isolated world through
CDP: the same as Playwright's own reads, out of reach of the page's scripts, and without a trace snapshot."""

import gc
import json
import weakref
import zipfile
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import async_playwright

from conftest import run_async
from crawler.browse.browser import find_chromium
from crawler.browse.reader import PageReader

pytestmark = pytest.mark.e2e

PAGE = """<!DOCTYPE html><html><head><base href="https://school.example/"><title>Reading log</title></head>
<body><a href="books/1">One</a><a href="https://other.example/x?y=1">Two</a><a name="no-href">Three</a>
<form action="/save"><input name="email" type="email"></form><div style="height: 5000px"></div></body></html>"""

# What a page's script could do to fool reads made beside it, in its own world.
TAMPERING = """<script>
Object.defineProperty(Document.prototype, "title", {get: () => "nothing to see"});
Object.defineProperty(HTMLAnchorElement.prototype, "href", {get: () => "https://decoy.example/"});
Array.from = () => [];
XMLSerializer.prototype.serializeToString = () => "";
window.scrollTo = () => {};
</script>"""


@asynccontextmanager
async def page_showing(html: str):
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=find_chromium())
        try:
            page = await (await browser.new_context()).new_page()
            await page.set_content(html)
            yield page
        finally:
            await browser.close()


async def reads(html: str, trace_path=None):
    async with page_showing(html) as page:
        if trace_path:
            await page.context.tracing.start(snapshots=True)
        reader = PageReader(page)
        read = await reader.read_page()
        scrolled = await reader.scroll_to_bottom(), await reader.scroll_to_bottom()
        if trace_path:
            await page.context.tracing.stop(path=str(trace_path))
        return read, scrolled, await page.evaluate("window.scrollY")


async def playwright_reads(html: str):
    async with page_showing(html) as page:
        links = await page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        return await page.title(), links, await page.content()


def snapshots(trace_path) -> int:
    with zipfile.ZipFile(trace_path) as trace:
        events = [json.loads(line) for line in trace.read("trace.trace").splitlines()]
    return sum(1 for event in events if event.get("type") == "frame-snapshot")


def test_the_reads_are_playwrights_own_and_the_scroll_reaches_the_bottom():
    (title, links, html), scrolled, scroll_y = run_async(reads(PAGE))
    assert (title, links, html) == run_async(playwright_reads(PAGE))
    assert links == ["https://school.example/books/1", "https://other.example/x?y=1"]
    assert html.startswith("<!DOCTYPE html>") and '<form action="/save">' in html
    assert scrolled == (True, False) and scroll_y > 4000  # moved, then already at the bottom


def test_a_pages_scripts_cannot_change_what_is_read():
    fooled = PAGE.replace("<body>", "<body>" + TAMPERING)
    (title, links, html), scrolled, scroll_y = run_async(reads(fooled))
    assert title == "Reading log"
    assert links == ["https://school.example/books/1", "https://other.example/x?y=1"]
    assert html.startswith("<!DOCTYPE html>")
    assert scrolled[0] and scroll_y > 4000


async def traced_content(html: str, trace_path) -> None:
    async with page_showing(html) as page:
        await page.context.tracing.start(snapshots=True)
        await page.content()
        await page.context.tracing.stop(path=str(trace_path))


def test_reads_take_no_trace_snapshot_where_playwrights_content_takes_two(tmp_path):
    run_async(reads(PAGE, tmp_path / "reads.zip"))
    assert snapshots(tmp_path / "reads.zip") == 0
    run_async(traced_content(PAGE, tmp_path / "content.zip"))
    assert snapshots(tmp_path / "content.zip") == 2  # before and after


def test_a_reader_does_not_keep_its_page_alive():
    # The protocol keeps each page's reader in a WeakKeyDictionary: a reader holding its page would keep both.
    class Page:
        pass

    readers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
    page = Page()
    readers[page] = PageReader(page)  # type: ignore[arg-type]
    del page
    gc.collect()
    assert len(readers) == 0
