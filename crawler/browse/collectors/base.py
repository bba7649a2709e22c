"""The collector base: a failing collector writes an error row and the audit goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import BrowserContext, Page

from ...store.writer import AuditSink


@dataclass(frozen=True)
class CookieOrigin:
    kind: str  # "header" or "script"
    url: str | None  # response URL, or the script behind document.cookie
    host: str  # host the cookie was set from (response host or the writing frame's host)
    time: float


@dataclass
class CaptureState:
    """What the collectors of one vendor × account audit share."""

    sink: AuditSink
    cookie_origins: dict[str, list[CookieOrigin]] = field(default_factory=dict)
    pending: set[asyncio.Task[None]] = field(default_factory=set)
    # Per top-level page URL: the hosts its requests went to, and whether a script wrote a cookie on it
    # (which pages the reconnect must revisit).
    hosts_by_page: dict[str, set[str]] = field(default_factory=dict)
    cookie_writing_pages: set[str] = field(default_factory=set)
    # What a page sent or showed that was cut to its bound and so never checked (a WebSocket's frames, a request
    # body, a page's visible text).
    unkept: list[str] = field(default_factory=list)

    def note_cookie_origin(self, name: str, origin: CookieOrigin) -> None:
        self.cookie_origins.setdefault(name, []).append(origin)

    def note_unkept(self, what: str) -> None:
        if what not in self.unkept:
            self.unkept.append(what)

    def unkept_gap(self) -> str | None:
        """The gap that makes the audit incomplete when something sent was not kept: it could hold a student's
        data or an identifier that no finding then names."""
        if not self.unkept:
            return None
        shown = "; ".join(self.unkept[:UNKEPT_SHOWN]) + (
            f"; and {len(self.unkept) - UNKEPT_SHOWN} more" if len(self.unkept) > UNKEPT_SHOWN else ""
        )
        return (
            f"not all that the pages sent or showed was kept, so it was not checked for students' data or "
            f"identifiers: {shown}. Check it by hand (a request body, and a page's HTML, are whole in the session's "
            f"HAR) or ask the vendor what it carries"
        )

    def spawn(self, coro: Coroutine[Any, Any, object], source: str) -> None:
        """Run a capture coroutine started by a browser event, so its row lands even if it fails."""
        phase = self.sink.phase

        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:  # a collector failure is data, never a crash
                self.sink.error(source, _describe(exc), phase=phase)

        task = asyncio.ensure_future(guarded())
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def flush(self, timeout_s: float = 10.0) -> None:
        """Wait for the capture tasks started so far (not the one calling, if it is one)."""
        others = set(self.pending) - {asyncio.current_task()}
        if others:
            await asyncio.wait(others, timeout=timeout_s)


HOOK_TIMEOUT_S = 30
UNKEPT_SHOWN = 3  # what the gap names; the rest are counted


class Collector:
    """Override the hooks a source needs; the protocol calls every hook through ``run``."""

    name = "collector"

    def __init__(self, state: CaptureState) -> None:
        self.state = state
        self.sink = state.sink

    async def attach(self, context: BrowserContext) -> None:
        """A (re)launched browser context: subscribe to its events."""

    async def on_page(self, page: Page) -> None:
        """A new page (tab) in the context."""

    async def after_visit(self, page: Page) -> None:
        """A page finished loading."""

    async def end_phase(self, context: BrowserContext, page: Page) -> None:
        """The phase is over: take inventory."""

    async def run(self, hook: str, *args: BrowserContext | Page) -> None:
        try:
            # A page whose script never yields would hold an evaluate forever.
            await asyncio.wait_for(getattr(self, hook)(*args), HOOK_TIMEOUT_S)
        except TimeoutError:
            url = getattr(args[-1], "url", None) if args else None
            self.sink.error(
                f"{self.name}.{hook}",
                f"gave up after {HOOK_TIMEOUT_S} s (the page did not answer)",
                url=url if isinstance(url, str) else None,
            )
        except Exception as exc:
            if any(_closed(arg) for arg in args):
                return  # a popup that closed itself: its requests are recorded by the context's events
            url = getattr(args[-1], "url", None) if args else None
            self.sink.error(f"{self.name}.{hook}", _describe(exc), url=url if isinstance(url, str) else None)


def _closed(page) -> bool:
    is_closed = getattr(page, "is_closed", None)
    try:
        return bool(callable(is_closed) and is_closed())
    except Exception:
        return False


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:2000]
