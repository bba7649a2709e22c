"""Reads of a page that take no trace snapshot: evaluated through CDP, in an isolated world of its main frame.

Playwright's trace takes a DOM snapshot before and after most calls on a page, reads included: the links, the
HTML and the scroll to the bottom were six of a visit's thirteen snapshots, all of the page as the screenshot's
own snapshots show it. Evaluated through a CDP session they are not calls on the page, and the
isolated world (Playwright reads a title and HTML in one too) keeps the page's scripts from seeing the reads or
changing what they return.
"""

from __future__ import annotations

import weakref
from typing import Any

from playwright.async_api import CDPSession, Page

WORLD = "trackaudit-reader"

# The title, the links' resolved addresses, and the HTML as Playwright's page.content() writes it.
READ_PAGE_JS = """(() => ({
  title: document.title,
  links: Array.from(document.querySelectorAll("a[href]"), (a) => a.href),
  html: (document.doctype ? new XMLSerializer().serializeToString(document.doctype) : "")
    + (document.documentElement ? document.documentElement.outerHTML : ""),
}))()"""

# Scrolls to the bottom (lazy content, scroll-depth beacons); true when the page moved.
SCROLL_TO_BOTTOM_JS = """(() => {
  const before = window.scrollY;
  window.scrollTo(0, document.body ? document.body.scrollHeight : 0);
  return window.scrollY !== before;
})()"""


class PageReadError(Exception):
    pass


class PageReader:
    """Evaluates expressions in the current document of one page's main frame."""

    def __init__(self, page: Page) -> None:
        # Weakly: the protocol keeps a page's reader in a WeakKeyDictionary, whose entry a strong reference to
        # the page would keep for ever.
        self._page = weakref.ref(page)
        self._cdp: CDPSession | None = None

    async def evaluate(self, expression: str) -> Any:
        """The expression's value (JSON-serialisable); tried twice, as a navigation may replace the document
        between making the world and evaluating in it."""
        if self._cdp is None:
            page = self._page()
            if page is None:
                raise PageReadError("the page is gone")
            self._cdp = await page.context.new_cdp_session(page)
        try:
            return await self._evaluate_once(self._cdp, expression)
        except PageReadError:
            raise
        except Exception:
            return await self._evaluate_once(self._cdp, expression)

    async def read_page(self) -> tuple[str | None, list[Any], str | None]:
        """(title, the links' addresses, HTML) of the page as it is now."""
        found = await self.evaluate(READ_PAGE_JS)
        return found.get("title"), list(found.get("links") or ()), found.get("html")

    async def scroll_to_bottom(self) -> bool:
        return bool(await self.evaluate(SCROLL_TO_BOTTOM_JS))

    @staticmethod
    async def _evaluate_once(cdp: CDPSession, expression: str) -> Any:
        tree = await cdp.send("Page.getFrameTree")
        world = await cdp.send(
            "Page.createIsolatedWorld", {"frameId": tree["frameTree"]["frame"]["id"], "worldName": WORLD}
        )
        result = await cdp.send(
            "Runtime.evaluate",
            {"expression": expression, "contextId": world["executionContextId"], "returnByValue": True},
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise PageReadError((details.get("exception") or {}).get("description") or details.get("text", ""))
        return result["result"].get("value")
