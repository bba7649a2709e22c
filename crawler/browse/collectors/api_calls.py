"""Calls to fingerprinting-prone JavaScript APIs (canvas, WebRTC, audio, navigator/screen), and the script behind
each, seen by an instrumentation script that runs before any page script in every frame."""

from __future__ import annotations

from pathlib import Path

from ...observations import ApiCallObs
from .base import Collector

BINDING = "__trackauditApiCalls"
INSTRUMENT_JS = (Path(__file__).with_name("instrument_apis.js")).read_text(encoding="utf-8")
MAX_BATCH = 2000  # calls per report: a page looping on an API cannot flood the store


class ApiCallCollector(Collector):
    name = "api_calls"

    async def attach(self, context) -> None:
        await context.expose_binding(BINDING, self._on_calls)
        await context.add_init_script(INSTRUMENT_JS)

    def _on_calls(self, source, calls, frame_url: str) -> None:
        page_url = None
        try:
            page_url = source["page"].url
        except Exception:  # a page already closed: the frame's URL still places the call
            pass
        for call in api_calls_from_batch(calls, str(frame_url), page_url):
            self.sink.add(call)


def api_calls_from_batch(calls, frame_url: str, page_url: str | None) -> list[ApiCallObs]:
    """Normalise one batch the instrumentation script sent: ``[[time, script, api, target, detail], ...]``."""
    found = []
    for call in list(calls or [])[:MAX_BATCH]:
        try:
            when, script, api, target, detail = call
            found.append(ApiCallObs(time=float(when), page_url=page_url, frame_url=frame_url,
                                    script_url=str(script)[:2048] if script else None, api=str(api)[:100],
                                    target=str(target)[:100] or None, detail=str(detail)[:200] or None))
        except (TypeError, ValueError):  # a page that spoofs the binding gets its garbage dropped
            continue
    return found
