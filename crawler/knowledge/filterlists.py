"""Adblock Plus filter lists (EasyPrivacy, EasyList) matched against requests, with the filter as evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # adblock-rust is loaded when a list is compiled: commands that only read need not load it
    import adblock

# Playwright's resource types (CDP's, lower-cased) → the request types adblock-rust understands.
# Iframe navigations arrive from Playwright as "document"; callers that know a request loads a
# subframe pass "subdocument" or "iframe".
ADBLOCK_REQUEST_TYPES: Mapping[str, str] = {
    "document": "document",
    "main_frame": "document",
    "subdocument": "sub_frame",
    "sub_frame": "sub_frame",
    "iframe": "sub_frame",
    "script": "script",
    "image": "image",
    "stylesheet": "stylesheet",
    "font": "font",
    "media": "media",
    "texttrack": "media",
    "xhr": "xmlhttprequest",
    "xmlhttprequest": "xmlhttprequest",
    "fetch": "xmlhttprequest",
    "eventsource": "xmlhttprequest",
    "ping": "ping",
    "beacon": "ping",
    "websocket": "websocket",
    "cspviolationreport": "csp_report",
    "object": "object",
}


def adblock_request_type(resource_type: str | None) -> str:
    return ADBLOCK_REQUEST_TYPES.get((resource_type or "").lower(), "other")


@dataclass(frozen=True)
class FilterMatch:
    """A request a filter list would block: which list, and the filter that matched."""

    list_name: str
    filter: str


class FilterListEngine:
    """One adblock engine per named list, so a match names its list; built once, checked per request.

    An exception rule (``@@``) cancels a match only within its own list.
    """

    def __init__(self, lists: Mapping[str, str]):
        self._engines = {name: _build_engine(text) for name, text in lists.items()}

    @property
    def list_names(self) -> tuple[str, ...]:
        return tuple(self._engines)

    def check(self, url: str, source_url: str | None, resource_type: str | None) -> FilterMatch | None:
        """The first list (in construction order) that blocks the request, or None."""
        request_type = adblock_request_type(resource_type)
        for name, engine in self._engines.items():
            match = _match(name, engine, url, source_url, request_type)
            if match is not None:
                return match
        return None

    def check_all(self, url: str, source_url: str | None, resource_type: str | None) -> tuple[FilterMatch, ...]:
        """Every list that blocks the request (EasyList says advertising, EasyPrivacy says tracking)."""
        request_type = adblock_request_type(resource_type)
        matches = (_match(name, engine, url, source_url, request_type) for name, engine in self._engines.items())
        return tuple(match for match in matches if match is not None)


def _build_engine(list_text: str) -> adblock.Engine:
    import adblock

    # debug keeps each filter's text for the evidence; optimize would fuse filters into one "a <+> b" rule.
    filter_set = adblock.FilterSet(debug=True)
    filter_set.add_filter_list(list_text)
    return adblock.Engine(filter_set, optimize=False)


def _match(
    name: str, engine: adblock.Engine, url: str, source_url: str | None, request_type: str
) -> FilterMatch | None:
    result = engine.check_network_urls(url, source_url or "", request_type)
    if not result.matched:
        return None
    return FilterMatch(name, result.filter or "")
