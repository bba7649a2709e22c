"""First or third party: registrable domains and the organisation behind a host."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

from crawler.knowledge.hosts import normalise_host
from crawler.knowledge.trackers import TrackerInfo, TrackerKnowledge


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    # No suffix_list_urls and no cache: the snapshot bundled with tldextract, never the network.
    # Private suffixes (github.io, cloudfront.net, ...) count, as they do in browsers' notion of a site.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """The registrable domain (eTLD+1) of a host.

    Hosts without a public suffix (``*.test``, ``localhost``) fall back to their last two labels;
    IP literals are returned whole.
    """
    host = normalise_host(host)
    if not host or _is_ip_literal(host):
        return host
    parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    if parts.suffix:  # the host is itself a public suffix, e.g. "co.uk"
        return host
    return ".".join(host.split(".")[-2:])


def _host_of(url_or_domain: str) -> str:
    if "://" in url_or_domain:
        return urlsplit(url_or_domain).hostname or ""
    return url_or_domain


def vendor_domains(urls_or_domains: Iterable[str]) -> frozenset[str]:
    """The vendor's own sites: the registrable domains of its start URL and of the first-party domains (or
    URLs) its configuration names. Every stage that tells the vendor from third parties asks this."""
    return frozenset({registrable_domain(_host_of(item)) for item in urls_or_domains} - {""})


@dataclass(frozen=True)
class Cloaking:
    """A first-party name that DNS shows to be an alias of a tracker's domain (CNAME cloaking)."""

    host: str
    chain: tuple[str, ...]  # the host, then each CNAME target
    tracker: TrackerInfo  # the listed tracker domain the chain reached
    row_id: int  # the cname_chains row
    resolver: str


class PartyResolver:
    """Tells a vendor's own hosts from third parties and names who runs each host. A vendor's host whose CNAME
    chain reaches a known tracker is that tracker's: a third party under a first-party name."""

    def __init__(
        self,
        first_party_urls_or_domains: Iterable[str],
        knowledge: TrackerKnowledge,
        cloaked: Mapping[str, Cloaking] | None = None,
    ):
        self.first_party_domains = vendor_domains(first_party_urls_or_domains)
        self.knowledge = knowledge
        self.cloaked = dict(cloaked or {})

    def is_first_party(self, host: str) -> bool:
        return registrable_domain(host) in self.first_party_domains and self.cloaking(host) is None

    def cloaking(self, host: str) -> Cloaking | None:
        return self.cloaked.get(normalise_host(host)) if self.cloaked and host else None

    def party(self, host: str) -> str:
        # No host (a chrome-extension:, data:, blob: or about: URL reaches no server): never a third party.
        return "first" if not host or self.is_first_party(host) else "third"

    def entity(self, host: str) -> str:
        """The organisation owning the host per the knowledge base (for a cloaked host, the tracker its CNAME
        chain reaches), else its registrable domain."""
        cloaking = self.cloaking(host)
        if cloaking:
            return cloaking.tracker.organisation
        info = self.knowledge.lookup(host)
        return info.organisation if info else registrable_domain(host)

    def tracker(self, host: str) -> TrackerInfo | None:
        """What the knowledge base says about the host, or about the tracker a cloaked host aliases."""
        cloaking = self.cloaking(host)
        return cloaking.tracker if cloaking else self.knowledge.lookup(host)


def cloaked_hosts(
    chains: Iterable[tuple[int, str, tuple[str, ...], str]], lookup: Callable[[tuple[str, ...]], TrackerInfo | None]
) -> dict[str, Cloaking]:
    """Hosts whose CNAME chain reaches a tracker domain ``lookup`` (a chain → TrackerInfo | None) knows:
    ``chains`` are (row id, host, chain, resolver)."""
    found = {}
    for row_id, host, chain, resolver in chains:
        tracker = lookup(tuple(chain))
        if tracker is not None and normalise_host(host) not in found:
            found[normalise_host(host)] = Cloaking(normalise_host(host), tuple(chain), tracker, row_id, resolver)
    return found
