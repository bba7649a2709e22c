"""Calls to fingerprinting-prone JavaScript APIs (canvas, WebRTC, audio, navigator/screen), and the script behind
each, seen by an instrumentation script that runs before any page script in every frame; in workers, through CDP,
as soon as the audit attaches to them: a page's dedicated workers and the service workers whose scope covers it
through the page's CDP session, shared workers as they are created, a cross-site frame's dedicated workers through that frame's own session (it runs in
another process). A worker's calls are linked to the page of the session that attached it.

A service or shared worker serves every tab of its site, so several pages' sessions attach to it when pages are
visited a few at a time (or a popup is open beside its page): each instruments it (the script instruments a worker
once) and each receives every batch of calls the worker reports. A batch is kept once, from the session that
delivers it first, and linked to that session's page: with one tab, the page that started the worker; with
several, one of the pages open when it reported.

Limits: Playwright resumes a new worker itself, without waiting for this collector, so the instrumentation
lands a few milliseconds after the worker starts. The page holds its messages to a new worker until then (at
most a second), so what a worker does on the page's messages is seen; what it does in its first turn on its
own (top-level code, a service worker's install and activate events) can be missed. A service worker is
attached once per page session: in a later document its first messages wait the whole second, and a service
worker the browser stopped and started again may run uninstrumented (not tested). A shared worker is attached
when the browser creates it, by the session of the first page that learns of it, and its calls are linked to that
page; messages on its port wait for it like a dedicated worker's."""

from __future__ import annotations

import json
from pathlib import Path

from ...observations import ApiCallObs
from .base import CaptureState, Collector

BINDING = "__trackauditApiCalls"
WORKER_BINDING = "__trackauditApiCallsJson"
INSTRUMENT_JS = (Path(__file__).with_name("instrument_apis.js")).read_text(encoding="utf-8")
RELEASE_WORKER_JS = "href => window.__trackauditReleaseWorker && window.__trackauditReleaseWorker(href)"
MAX_BATCH = 2000  # calls per report: a page looping on an API cannot flood the store


WORKER_TYPES = ("worker", "service_worker", "shared_worker")
WORKER_FILTER = [{"type": kind} for kind in WORKER_TYPES]  # CDP's TargetFilter: these, nothing else


class ApiCallCollector(Collector):
    name = "api_calls"

    def __init__(self, state: CaptureState) -> None:
        super().__init__(state)
        self._watched_frames: set[int] = set()
        self._shared_workers: set[str] = set()  # target ids: a shared worker is attached once, by the first page
        self._session_targets: dict[str, str] = {}  # CDP session attached to a worker -> the worker's target id
        self._worker_batches: set[tuple[str, int]] = set()  # (target id, hash of a batch) kept so far

    async def attach(self, context) -> None:
        await context.expose_binding(BINDING, self._on_calls)
        await context.add_init_script(INSTRUMENT_JS)

    async def on_page(self, page) -> None:
        # A cross-site frame runs in its own process: the page's CDP session does not see its workers.
        page.on(
            "framenavigated",
            lambda frame: (
                self.state.spawn(self._watch_frame(page, frame), f"{self.name}.frame")
                if frame.parent_frame is not None
                else None
            ),
        )
        cdp = await page.context.new_cdp_session(page)
        await self._watch_workers(page, cdp)
        # Shared workers belong to no page: the page's session learns of them by discovering targets.
        cdp.on("Target.targetCreated", lambda event: self.state.spawn(self._attach_shared(cdp, event), self.name))
        await cdp.send("Target.setDiscoverTargets", {"discover": True, "filter": [{"type": "shared_worker"}]})

    async def _watch_frame(self, page, frame) -> None:
        if id(frame) in self._watched_frames:
            return
        self._watched_frames.add(id(frame))
        try:
            await self._watch_workers(page, await page.context.new_cdp_session(frame))
        except Exception:
            pass  # a same-process frame (the page's session attaches its workers) or one already gone

    async def _watch_workers(self, page, cdp) -> None:
        cdp.on(
            "Target.attachedToTarget",
            lambda event: self.state.spawn(self._instrument_worker(cdp, page, event), f"{self.name}.worker"),
        )
        cdp.on("Target.receivedMessageFromTarget", lambda event: self._on_worker_message(page, event))
        # Not waitForDebuggerOnStart: Playwright resumes a worker itself anyway. Workers only: attached to every
        # cross-site frame as well, with several tabs loading at once a page's cross-site frame more often never
        # finished loading (README, "Why tabs = 1 is the default").
        await cdp.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False, "filter": WORKER_FILTER},
        )

    async def _attach_shared(self, cdp, event: dict) -> None:
        target = event.get("targetInfo", {})
        if target.get("type") != "shared_worker" or target.get("targetId") in self._shared_workers:
            return
        self._shared_workers.add(target["targetId"])
        try:  # the attachedToTarget event that follows instruments it
            await cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})
        except Exception:
            pass  # a worker already gone

    async def _instrument_worker(self, cdp, page, event: dict) -> None:
        target = event.get("targetInfo", {})
        if target.get("type") not in WORKER_TYPES:
            return
        session = event["sessionId"]
        self._session_targets[session] = target.get("targetId", session)
        try:
            await _send_to(cdp, session, 1, "Runtime.addBinding", {"name": WORKER_BINDING})
            await _send_to(cdp, session, 2, "Runtime.evaluate", {"expression": INSTRUMENT_JS})
        except Exception as exc:
            if "No session with given id" in str(exc):
                return  # detached already: the worker ended, or the page left it (another page's session has it)
            raise
        # The page holds its messages to a new worker until it is instrumented (see instrument_apis.js).
        for frame in page.frames:
            try:
                await frame.evaluate(RELEASE_WORKER_JS, target.get("url", ""))
            except Exception:  # a frame gone: its hold times out by itself
                pass

    def _on_worker_message(self, page, event: dict) -> None:
        try:
            message = json.loads(event.get("message") or "{}")
            params = message.get("params") or {}
            if message.get("method") != "Runtime.bindingCalled" or params.get("name") != WORKER_BINDING:
                return
            # Every session attached to the worker receives the same batch (its calls carry their times).
            session = event.get("sessionId", "")
            batch = (self._session_targets.get(session, session), hash(params.get("payload") or ""))
            if batch in self._worker_batches:
                return
            self._worker_batches.add(batch)
            payload = json.loads(params.get("payload") or "{}")
            for call in api_calls_from_batch(payload.get("calls"), str(payload.get("frame") or ""), page.url):
                self.sink.add(call)
        except Exception as exc:  # a broken message is data, never a crash
            self.sink.error(f"{self.name}.worker", f"{type(exc).__name__}: {str(exc)[:300]}", url=page.url)

    def _on_calls(self, source, calls, frame_url: str) -> None:
        page_url = None
        try:
            page_url = source["page"].url
        except Exception:  # a page already closed: the frame's URL still places the call
            pass
        for call in api_calls_from_batch(calls, str(frame_url), page_url):
            self.sink.add(call)


async def _send_to(cdp, session: str, number: int, method: str, params: dict) -> None:
    message = json.dumps({"id": number, "method": method, "params": params})
    await cdp.send("Target.sendMessageToTarget", {"sessionId": session, "message": message})


def api_calls_from_batch(calls, frame_url: str, page_url: str | None) -> list[ApiCallObs]:
    """Normalise one batch the instrumentation script sent: ``[[time, script, api, target, detail], ...]``."""
    found = []
    for call in list(calls or [])[:MAX_BATCH]:
        try:
            when, script, api, target, detail = call
            found.append(
                ApiCallObs(
                    time=float(when),
                    page_url=page_url,
                    frame_url=frame_url,
                    script_url=str(script)[:2048] if script else None,
                    api=str(api)[:100],
                    target=str(target)[:100] or None,
                    detail=str(detail)[:200] or None,
                )
            )
        except (TypeError, ValueError):  # a page that spoofs the binding gets its garbage dropped
            continue
    return found
