"""Who runs a third-party domain and what it is for: the built-in knowledge base and its lookups."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from crawler.knowledge.hosts import normalise_host

TRACKER_CATEGORIES: Mapping[str, str] = MappingProxyType(
    {
        "advertising": "ad networks, exchanges, retargeting and conversion pixels, data brokers, "
        "and marketing automation that profiles visitors",
        "analytics": "measurement of how the site is used: web and product analytics, audience "
        "measurement, A/B testing, performance and error monitoring",
        "session_replay": "scripts that record page content, mouse movements and keystrokes to replay visits",
        "social": "social networks' widgets, share buttons and comment systems",
        "fingerprinting": "device fingerprinting services, including fraud-scoring ones",
        "tag_manager": "tag managers that load further third-party scripts",
        "essential": "infrastructure a service needs: CDNs, fonts, editors, captcha and bot defence, "
        "sign-in/SSO, payment, consent managers",
        "content": "embedded third-party content and widgets (video, maps, chat/support, surveys, "
        "accessibility overlays): not needed to run the service and not trackers by purpose",
    }
)

BUILTIN_SOURCE = "builtin"
# Most severe first: when a host's requests fall in several categories, the host takes the most severe.
CATEGORY_SEVERITY = (
    "advertising",
    "session_replay",
    "fingerprinting",
    "analytics",
    "tag_manager",
    "social",
    "content",
    "essential",
)


def most_severe(categories) -> str | None:
    known = [c for c in categories if c in CATEGORY_SEVERITY]
    return min(known, key=CATEGORY_SEVERITY.index) if known else None


@dataclass(frozen=True)
class TrackerInfo:
    """What the knowledge base says about a host: the listed domain it matched and who runs it."""

    domain: str
    organisation: str
    category: str
    source: str
    path: str | None = None  # a path pattern ("/tr") when the entry classifies requests, not a whole host


class TrackerKnowledge:
    """Domain → TrackerInfo, matched by suffix: a host matches the longest listed domain it ends with."""

    def __init__(
        self,
        entries: Mapping[str, TrackerInfo],
        version: str | None = None,
        paths: Mapping[str, tuple[TrackerInfo, ...]] | None = None,
    ):
        for domain, info in [*entries.items(), *((d, i) for d, infos in (paths or {}).items() for i in infos)]:
            if info.category not in TRACKER_CATEGORIES:
                raise ValueError(f"tracker domain {domain!r}: unknown category {info.category!r}")
        self._entries = MappingProxyType(dict(entries))
        self._paths = MappingProxyType(dict(paths or {}))  # domain -> entries with a path, longest path first
        self.version = version

    def lookup_url(self, host: str, path: str) -> TrackerInfo | None:
        """The path entry a request's URL matches (the longest listed domain, then the longest path), if any."""
        labels = normalise_host(host).split(".")
        for start in range(len(labels)):
            for info in self._paths.get(".".join(labels[start:]), ()):
                if info.path is not None and (path == info.path or path.startswith(info.path.rstrip("/") + "/")):
                    return info
        return None

    def lookup(self, host: str) -> TrackerInfo | None:
        labels = normalise_host(host).split(".")
        for start in range(len(labels)):
            info = self._entries.get(".".join(labels[start:]))
            if info is not None:
                return info
        return None

    def merge(self, other: TrackerKnowledge) -> TrackerKnowledge:
        """A new knowledge base with other's domains added; on a conflict this one's entry wins."""
        return TrackerKnowledge(
            {**other._entries, **self._entries}, version=self.version, paths={**other._paths, **self._paths}
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[TrackerInfo]:
        return iter(self._entries.values())


def parse_builtin(document: Mapping) -> TrackerKnowledge:
    """Build knowledge from trackers.json's shape: organisations, each with a name and domain → category."""
    entries: dict[str, TrackerInfo] = {}
    for organisation in document["organisations"].values():
        for domain, category in organisation["domains"].items():
            if domain in entries:
                raise ValueError(
                    f"tracker domain {domain!r} listed for both "
                    f"{entries[domain].organisation!r} and {organisation['name']!r}"
                )
            entries[domain] = TrackerInfo(domain, organisation["name"], category, BUILTIN_SOURCE)
    paths: dict[str, list[TrackerInfo]] = {}
    for organisation in document["organisations"].values():
        for pattern, category in organisation.get("paths", {}).items():
            domain, slash, path = pattern.partition("/")
            if not slash or not path:
                raise ValueError(f"tracker path {pattern!r}: write it as domain/path")
            paths.setdefault(domain, []).append(
                TrackerInfo(domain, organisation["name"], category, BUILTIN_SOURCE, "/" + path.strip("/"))
            )
    by_length = {d: tuple(sorted(infos, key=lambda i: -len(i.path or ""))) for d, infos in paths.items()}
    return TrackerKnowledge(entries, version=document["version"], paths=by_length)


def builtin_text() -> str:
    return resources.files("crawler.knowledge").joinpath("trackers.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_builtin() -> TrackerKnowledge:
    return parse_builtin(json.loads(builtin_text()))
