"""Every request and its response: headers as sent (Cookie included), post body, Set-Cookie, TLS, initiator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, CDPSession, Frame, Page, Request, WebSocket

from ... import setcookie
from ...observations import RequestObs
from .base import CaptureState, Collector, CookieOrigin
from .websocket_frames import SocketFrames, SocketOrigin

MAX_BODY_CHARS = 1_000_000
RESPONSE_WAIT_S = 5.0  # the raw headers of an aborted request may never come
# Schemes that never reach a server: such a URL names no host, so never a third party.
NETWORK_SCHEMES = ("http", "https", "ws", "wss")


def network_host(url: str) -> str:
    """The host a request went to; empty for chrome-extension:, data:, blob:, about: and other local URLs."""
    parts = urlsplit(url)
    return (parts.hostname or "") if parts.scheme in NETWORK_SCHEMES else ""


class NetworkCollector(Collector):
    name = "network"

    def __init__(self, state: CaptureState) -> None:
        super().__init__(state)
        # Only CDP knows who initiated a request and which cipher served it; Playwright's request does not.
        self._initiators: dict[str, tuple[str | None, str | None]] = {}
        self._security: dict[str, dict[str, Any]] = {}  # CDP's securityDetails, by URL
        # Set-Cookie as the network received it (CDP responseReceivedExtraInfo): also for a response whose
        # request was aborted after its headers arrived, which Playwright reports without a response.
        self._urls_by_request_id: dict[str, str] = {}
        self._raw_set_cookies: dict[str, tuple[str, ...]] = {}
        self._listened_frames: set[int] = set()
        self._socket_origins: dict[str, SocketOrigin] = {}  # by socket URL
        # (frame URL, page URL) when each request was sent: a beacon sent as its page is left ends after the
        # next page has replaced it, and is still the left page's.
        self._sent_from: dict[Request, tuple[str, str]] = {}

    async def attach(self, context: BrowserContext) -> None:
        context.on("request", self._note_sender)
        context.on("requestfinished", lambda request: self._ended(request, None))
        context.on("requestfailed", lambda request: self._ended(request, request.failure or "failed"))

    async def on_page(self, page: Page) -> None:
        # Playwright reports the sockets of cross-site frames on their page too.
        page.on("websocket", lambda ws: self._on_websocket(page, ws))
        # A cross-site frame runs in its own process: the page's CDP session does not see its network.
        page.on(
            "framenavigated",
            lambda frame: (
                self.state.spawn(self._listen_to_frame(page, frame), self.name)
                if frame.parent_frame is not None
                else None
            ),
        )
        await self._listen(await page.context.new_cdp_session(page), lambda: page.url)

    async def _listen(self, cdp: CDPSession, frame_url: Callable[[], str]) -> None:
        """``frame_url``: the frame whose process the session sees (the page's, for the page's session)."""
        cdp.on("Network.requestWillBeSent", self._on_cdp_request)
        cdp.on("Network.webSocketCreated", lambda event: self._on_cdp_websocket(event, frame_url()))
        cdp.on("Network.responseReceived", self._on_cdp_response)
        cdp.on("Network.responseReceivedExtraInfo", self._on_cdp_extra_info)
        await cdp.send("Network.enable")

    async def _listen_to_frame(self, page: Page, frame: Frame) -> None:
        if id(frame) in self._listened_frames:
            return
        self._listened_frames.add(id(frame))
        try:
            await self._listen(await page.context.new_cdp_session(frame), lambda: frame.url)
        except Exception:
            pass  # a same-process frame (the page's session sees it) or one already gone: nothing to add

    def _note_sender(self, request: Request) -> None:
        if request.service_worker is not None:
            return
        try:
            self._sent_from[request] = (request.frame.url, request.frame.page.url)
        except Exception:  # a frame already detached
            pass

    def _sender(self, request: Request) -> tuple[str | None, str | None]:
        """The frame and page that made the request, as they were when it was sent. A navigation belongs to the
        document it loads: that is known when it ends (called then)."""
        sent_from = self._sent_from.pop(request, None)
        if request.service_worker is not None:
            return None, None
        try:
            if sent_from is None or request.is_navigation_request():
                return request.frame.url, request.frame.page.url
        except Exception:  # a frame already detached when the request finished
            pass
        return sent_from or (None, None)

    def _post_body(self, request: Request) -> str | None:
        try:
            body = request.post_data_buffer
        except Exception:
            return None
        if body is None:
            return None
        if len(body) > MAX_BODY_CHARS:
            self.state.note_unkept(f"request bodies to {network_host(request.url)} past {MAX_BODY_CHARS:,} bytes")
        return body[:MAX_BODY_CHARS].decode("utf-8", errors="replace")

    def _on_cdp_extra_info(self, event: dict[str, Any]) -> None:  # a CDP event: JSON
        headers = event.get("headers") or {}
        values = [v for name, v in headers.items() if name.lower() == "set-cookie"]
        set_cookies = tuple(line for value in values for line in str(value).split("\n") if line.strip())
        url = self._urls_by_request_id.get(event.get("requestId", ""))
        if not set_cookies or not url:
            return
        self._raw_set_cookies[url] = set_cookies
        host = network_host(url)
        for header in set_cookies:
            self.state.note_cookie_origin(
                header.split("=", 1)[0].strip(), CookieOrigin("header", url, host, time.time())
            )

    def _on_cdp_request(self, event: dict[str, Any]) -> None:
        self._urls_by_request_id[event.get("requestId", "")] = event["request"]["url"]
        initiator = event.get("initiator") or {}
        self._initiators[event["request"]["url"]] = (initiator.get("type"), _initiator_url(initiator))

    def _on_cdp_websocket(self, event: dict[str, Any], frame_url: str) -> None:
        origin = SocketOrigin(frame_url, _initiator_url(event.get("initiator") or {}))
        self._socket_origins[event.get("url", "")] = origin

    def _on_cdp_response(self, event: dict[str, Any]) -> None:
        details = event.get("response", {}).get("securityDetails")
        if details:
            self._security[event["response"]["url"]] = details

    def _ended(self, request: Request, failure: str | None) -> None:
        # Who sent it is read now: the recording waits on Playwright, and the page may have moved on meanwhile.
        self.state.spawn(self._record(request, failure, self._sender(request)), self.name)

    async def _record(self, request: Request, failure: str | None, sender: tuple[str | None, str | None]) -> None:
        captured_at = time.time()
        try:
            headers = tuple((h["name"], h["value"]) for h in await request.headers_array())
        except Exception:  # its page (a popup) closed meanwhile: the headers Playwright already holds
            headers = tuple(request.headers.items())
        lowered = {name.lower(): value for name, value in headers}
        try:
            # A request aborted after its headers arrived still has the response Playwright received: its own
            # session is attached to a cross-site frame's process before the frame runs, unlike this collector's.
            response = await asyncio.wait_for(request.response(), RESPONSE_WAIT_S)
        except Exception:
            response = None
        status: int | None = None
        response_headers: tuple[tuple[str, str], ...] = ()
        set_cookies: tuple[str, ...] = ()
        remote: str | None = None
        tls_protocol: str | None = None
        if response is not None:
            status = response.status
            try:
                raw_headers = await asyncio.wait_for(response.headers_array(), RESPONSE_WAIT_S)
                response_headers = tuple((h["name"], h["value"]) for h in raw_headers)
                server = await response.server_addr()
                security = await response.security_details()
            except Exception:  # its page closed meanwhile, or an aborted request's raw headers never came
                response_headers, server, security = tuple(response.headers.items()), None, None
            set_cookies = setcookie.lines(value for name, value in response_headers if name.lower() == "set-cookie")
            remote = f"{server['ipAddress']}:{server['port']}" if server else None
            tls_protocol = security.get("protocol") if security else None
        if failure is not None and not set_cookies:
            set_cookies = self._raw_set_cookies.pop(request.url, ())
        cdp_security = self._security.get(request.url, {})
        initiator_type, initiator_url = self._initiators.get(request.url, (None, None))
        frame_url, page_url = sender
        parts = urlsplit(request.url)
        obs = RequestObs(
            time=captured_at,
            method=request.method,
            url=request.url,
            host=network_host(request.url),
            scheme=parts.scheme,
            resource_type=request.resource_type,
            frame_url=frame_url,
            page_url=page_url,
            is_navigation=request.is_navigation_request(),
            from_service_worker=request.service_worker is not None,
            initiator_type=initiator_type,
            initiator_url=initiator_url,
            request_headers=headers,
            cookie_header=lowered.get("cookie"),
            referer=lowered.get("referer"),
            post_data=self._post_body(request),
            status=status,
            response_headers=response_headers,
            set_cookies=set_cookies,
            remote_address=remote,
            tls_protocol=tls_protocol or cdp_security.get("protocol"),
            tls_cipher=cdp_security.get("cipher"),
            failure=failure,
        )
        self.sink.add(obs)
        if page_url and obs.host:
            self.state.hosts_by_page.setdefault(page_url, set()).add(obs.host)
        for header in set_cookies:
            origin = CookieOrigin("header", request.url, obs.host, captured_at)
            self.state.note_cookie_origin(setcookie.cookie_name(header), origin)

    def _on_websocket(self, page: Page, ws: WebSocket) -> None:
        self.state.spawn(self._record_websocket(page, ws.url), self.name)
        SocketFrames(self.state, ws.url, page.url, lambda: self._socket_origins.get(ws.url)).watch(ws, self.name)

    async def _record_websocket(self, page: Page, url: str) -> None:
        # Playwright gives a WebSocket no request event and CDP's handshake lacks the Cookie header:
        # the cookies the jar would send for the http(s) twin of the URL are what the server received.
        http_url = "https" + url[3:] if url.startswith("wss") else "http" + url[2:]
        cookies = await page.context.cookies(http_url)
        cookie_header = "; ".join(f"{c['name']}={c['value']}" for c in cookies) or None
        parts = urlsplit(url)
        self.sink.add(
            RequestObs(
                time=time.time(),
                method="GET",
                url=url,
                host=parts.hostname or "",
                scheme=parts.scheme,
                resource_type="websocket",
                frame_url=page.url,
                page_url=page.url,
                is_navigation=False,
                from_service_worker=False,
                initiator_type=None,
                initiator_url=None,
                request_headers=(("Cookie", cookie_header),) if cookie_header else (),
                cookie_header=cookie_header,
                referer=None,
                post_data=None,
                status=None,
                response_headers=(),
                set_cookies=(),
                remote_address=None,
                tls_protocol=None,
                tls_cipher=None,
                failure=None,
            )
        )


def _initiator_url(initiator: dict[str, Any]) -> str | None:
    """The script behind a CDP initiator: its URL, else the first script on its stack."""
    url = initiator.get("url")
    if not url:
        frames = (initiator.get("stack") or {}).get("callFrames") or []
        url = next((f.get("url") for f in frames if f.get("url")), None)
    return url
