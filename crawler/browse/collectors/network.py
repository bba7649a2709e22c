"""Every request and its response: headers as sent (Cookie included), post body, Set-Cookie, TLS, initiator."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Page, Request

from ... import setcookie
from ...observations import RequestObs
from .base import CaptureState, Collector, CookieOrigin

MAX_BODY_CHARS = 1_000_000


class NetworkCollector(Collector):
    name = "network"

    def __init__(self, state: CaptureState) -> None:
        super().__init__(state)
        # Only CDP knows who initiated a request and which cipher served it; Playwright's request does not.
        self._initiators: dict[str, tuple[str | None, str | None]] = {}
        self._security: dict[str, dict[str, Any]] = {}  # CDP's securityDetails, by URL

    async def attach(self, context: BrowserContext) -> None:
        context.on("requestfinished", lambda request: self.state.spawn(self._record(request, None), self.name))
        context.on("requestfailed", lambda request: self.state.spawn(
            self._record(request, request.failure or "failed"), self.name))

    async def on_page(self, page: Page) -> None:
        page.on("websocket", lambda ws: self.state.spawn(self._record_websocket(page, ws.url), self.name))
        cdp = await page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._on_cdp_request)
        cdp.on("Network.responseReceived", self._on_cdp_response)
        await cdp.send("Network.enable")

    def _on_cdp_request(self, event: dict[str, Any]) -> None:  # a CDP event: JSON
        initiator = event.get("initiator") or {}
        url = initiator.get("url")
        if not url:
            frames = (initiator.get("stack") or {}).get("callFrames") or []
            url = next((f.get("url") for f in frames if f.get("url")), None)
        self._initiators[event["request"]["url"]] = (initiator.get("type"), url)

    def _on_cdp_response(self, event: dict[str, Any]) -> None:
        details = event.get("response", {}).get("securityDetails")
        if details:
            self._security[event["response"]["url"]] = details

    async def _record(self, request: Request, failure: str | None) -> None:
        captured_at = time.time()
        headers = tuple((h["name"], h["value"]) for h in await request.headers_array())
        lowered = {name.lower(): value for name, value in headers}
        response = await request.response() if failure is None else None
        status: int | None = None
        response_headers: tuple[tuple[str, str], ...] = ()
        set_cookies: tuple[str, ...] = ()
        remote: str | None = None
        tls_protocol: str | None = None
        if response is not None:
            status = response.status
            response_headers = tuple((h["name"], h["value"]) for h in await response.headers_array())
            set_cookies = setcookie.lines(value for name, value in response_headers if name.lower() == "set-cookie")
            server = await response.server_addr()
            remote = f"{server['ipAddress']}:{server['port']}" if server else None
            security = await response.security_details()
            tls_protocol = security.get("protocol") if security else None
        cdp_security = self._security.get(request.url, {})
        initiator_type, initiator_url = self._initiators.get(request.url, (None, None))
        frame_url = page_url = None
        if request.service_worker is None:
            try:
                frame_url = request.frame.url
                page_url = request.frame.page.url
            except Exception:  # a frame already detached when the request finished
                pass
        parts = urlsplit(request.url)
        obs = RequestObs(
            time=captured_at, method=request.method, url=request.url, host=(parts.hostname or ""),
            scheme=parts.scheme, resource_type=request.resource_type, frame_url=frame_url, page_url=page_url,
            is_navigation=request.is_navigation_request(), from_service_worker=request.service_worker is not None,
            initiator_type=initiator_type, initiator_url=initiator_url, request_headers=headers,
            cookie_header=lowered.get("cookie"), referer=lowered.get("referer"), post_data=_post_body(request),
            status=status, response_headers=response_headers, set_cookies=set_cookies, remote_address=remote,
            tls_protocol=tls_protocol or cdp_security.get("protocol"), tls_cipher=cdp_security.get("cipher"),
            failure=failure,
        )
        self.sink.add(obs)
        for header in set_cookies:
            origin = CookieOrigin("header", request.url, obs.host, captured_at)
            self.state.note_cookie_origin(setcookie.cookie_name(header), origin)

    async def _record_websocket(self, page: Page, url: str) -> None:
        # Playwright gives a WebSocket no request event and CDP's handshake lacks the Cookie header:
        # the cookies the jar would send for the http(s) twin of the URL are what the server received.
        http_url = "https" + url[3:] if url.startswith("wss") else "http" + url[2:]
        cookies = await page.context.cookies(http_url)
        cookie_header = "; ".join(f"{c['name']}={c['value']}" for c in cookies) or None
        parts = urlsplit(url)
        self.sink.add(RequestObs(
            time=time.time(), method="GET", url=url, host=parts.hostname or "", scheme=parts.scheme,
            resource_type="websocket", frame_url=page.url, page_url=page.url, is_navigation=False,
            from_service_worker=False, initiator_type=None, initiator_url=None,
            request_headers=(("Cookie", cookie_header),) if cookie_header else (), cookie_header=cookie_header,
            referer=None, post_data=None, status=None, response_headers=(), set_cookies=(), remote_address=None,
            tls_protocol=None, tls_cipher=None, failure=None,
        ))


def _post_body(request: Request) -> str | None:
    try:
        body = request.post_data_buffer
    except Exception:
        return None
    if body is None:
        return None
    return body[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
