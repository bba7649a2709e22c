"""Tracker domains behind CNAME-cloaked first-party subdomains: the built-in list and AdGuard's
CNAME-tracker list (``lists update``), matched by suffix against the end of a host's CNAME chain."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from crawler.knowledge.hosts import normalise_host
from crawler.knowledge.trackers import BUILTIN_SOURCE, TRACKER_CATEGORIES, TrackerInfo, TrackerKnowledge

ADGUARD_SOURCE = "adguard-cname"
# AdGuard's list says who runs a domain, not what for: the trackers knowledge says when it knows the domain.
ADGUARD_DEFAULT_CATEGORY = "analytics"


class CnameTrackers:
    """Tracker domain → TrackerInfo; a host matches the longest listed domain it ends with."""

    def __init__(self, entries: Mapping[str, TrackerInfo], version: str | None = None):
        for domain, info in entries.items():
            if info.category not in TRACKER_CATEGORIES:
                raise ValueError(f"CNAME tracker domain {domain!r}: unknown category {info.category!r}")
        self._entries = MappingProxyType(dict(entries))
        self.version = version

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, host: str) -> TrackerInfo | None:
        labels = normalise_host(host).split(".")
        for start in range(len(labels)):
            info = self._entries.get(".".join(labels[start:]))
            if info is not None:
                return info
        return None

    def first_tracker(self, chain: tuple[str, ...]) -> TrackerInfo | None:
        """The first name of a CNAME chain (after the queried host) that a listed tracker domain covers."""
        for name in chain[1:]:
            info = self.lookup(name)
            if info is not None:
                return info
        return None

    def merge(self, other: CnameTrackers) -> CnameTrackers:
        """These entries, plus the other's for domains not already listed."""
        return CnameTrackers({**other._entries, **self._entries}, self.version)


def builtin_cname_text() -> str:
    return resources.files("crawler.knowledge").joinpath("cname_trackers.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_builtin_cname() -> CnameTrackers:
    data = json.loads(builtin_cname_text())
    entries = {
        normalise_host(domain): TrackerInfo(
            normalise_host(domain), entry["organisation"], entry["category"], BUILTIN_SOURCE
        )
        for domain, entry in data["domains"].items()
    }
    return CnameTrackers(entries, data.get("version"))


def parse_adguard_cname(text: str, trackers: TrackerKnowledge | None = None) -> CnameTrackers:
    """AdGuard's ``combined_original_trackers.txt``: ``! Company: NAME`` headers over ``||domain^`` rules."""
    entries: dict[str, TrackerInfo] = {}
    company = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("! Company:"):
            company = line.removeprefix("! Company:").strip() or None
        elif line.startswith("||") and line.endswith("^"):
            domain = normalise_host(line[2:-1])
            known = trackers.lookup(domain) if trackers else None
            entries[domain] = TrackerInfo(
                domain,
                known.organisation if known else (company or domain),
                known.category if known else ADGUARD_DEFAULT_CATEGORY,
                ADGUARD_SOURCE,
            )
    if not entries:
        raise ValueError("no ||domain^ rule found: not AdGuard's CNAME-tracker list")
    return CnameTrackers(entries)
