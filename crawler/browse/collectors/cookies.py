"""Every cookie in the jar (HttpOnly and partitioned included, via CDP), with who set it."""

from __future__ import annotations

from typing import Any

from playwright.async_api import BrowserContext, Page

from ...observations import CookieObs
from .base import Collector, CookieOrigin


class CookieCollector(Collector):
    name = "cookies"

    async def end_phase(self, context: BrowserContext, page: Page) -> None:
        cdp = await context.new_cdp_session(page)
        try:
            result = await cdp.send("Network.getAllCookies")
        finally:
            await cdp.detach()
        for raw in result.get("cookies", []):
            self.sink.add(cookie_from_cdp(raw, self.state.cookie_origins.get(raw["name"], [])))


def cookie_from_cdp(raw: dict[str, Any], origins: list[CookieOrigin]) -> CookieObs:
    """Normalise one CDP ``Network.Cookie`` (JSON); pick the latest recorded setter whose host fits its domain."""
    session = bool(raw.get("session")) or raw.get("expires", -1) in (-1, None) or raw.get("expires", -1) <= 0
    partition = raw.get("partitionKey")
    if isinstance(partition, dict):
        partition = partition.get("topLevelSite")
    setter = _setter(raw["domain"], origins)
    return CookieObs(
        name=raw["name"],
        value=raw.get("value", ""),
        domain=raw["domain"],
        host_only=not raw["domain"].startswith("."),
        path=raw.get("path", "/"),
        expires=None if session else float(raw["expires"]),
        session=session,
        http_only=bool(raw.get("httpOnly")),
        secure=bool(raw.get("secure")),
        same_site=raw.get("sameSite"),
        partition_key=partition,
        size=int(raw.get("size", len(raw["name"]) + len(raw.get("value", "")))),
        source_scheme=raw.get("sourceScheme"),
        set_by_kind=setter.kind if setter else None,
        set_by_url=setter.url if setter else None,
    )


def _setter(cookie_domain: str, origins: list[CookieOrigin]) -> CookieOrigin | None:
    domain = cookie_domain.lstrip(".").lower()
    fitting = [o for o in origins if o.host == domain or o.host.endswith("." + domain)]
    return max(fitting, key=lambda o: o.time) if fitting else None
