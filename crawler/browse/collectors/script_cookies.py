"""``document.cookie`` writes and the script behind each, seen by an instrumentation script in every frame."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext

from ... import setcookie
from ...observations import ScriptCookieWrite
from .base import Collector, CookieOrigin

BINDING = "__trackauditCookieWrite"
INSTRUMENT_JS = (Path(__file__).with_name("instrument_cookies.js")).read_text(encoding="utf-8")


class ScriptCookieCollector(Collector):
    name = "script_cookies"

    async def attach(self, context: BrowserContext) -> None:
        await context.expose_binding(BINDING, self._on_write)
        await context.add_init_script(INSTRUMENT_JS)

    def _on_write(self, source: dict[str, Any], cookie_string: str, script_url: str | None, frame_url: str) -> None:
        written_at = time.time()
        self.sink.add(
            ScriptCookieWrite(
                time=written_at, frame_url=frame_url, script_url=script_url, cookie_string=str(cookie_string)[:8192]
            )
        )
        try:
            self.state.cookie_writing_pages.add(source["page"].url)
        except Exception:
            pass
        name = setcookie.cookie_name(str(cookie_string))
        host = urlsplit(frame_url).hostname or ""
        self.state.note_cookie_origin(name, CookieOrigin("script", script_url or frame_url, host, written_at))
