"""Collectors: one source of observations each. Adding one is adding a file and listing it here."""

from .api_calls import ApiCallCollector
from .base import CaptureState, Collector
from .cookies import CookieCollector
from .network import NetworkCollector
from .script_cookies import ScriptCookieCollector
from .storage import StorageCollector


def default_collectors(state: CaptureState) -> list[Collector]:
    return [
        NetworkCollector(state),
        ScriptCookieCollector(state),
        ApiCallCollector(state),
        CookieCollector(state),
        StorageCollector(state),
    ]


__all__ = ["Collector", "CaptureState", "default_collectors"]
