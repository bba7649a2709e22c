"""First or third party: registrable domains and the organisation behind a host."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

from crawler.knowledge.hosts import normalise_host
from crawler.knowledge.trackers import TrackerKnowledge


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


class PartyResolver:
    """Tells a vendor's own hosts from third parties and names who runs each host."""

    def __init__(self, first_party_urls_or_domains: Iterable[str], knowledge: TrackerKnowledge):
        self.first_party_domains = vendor_domains(first_party_urls_or_domains)
        self.knowledge = knowledge

    def is_first_party(self, host: str) -> bool:
        return registrable_domain(host) in self.first_party_domains

    def party(self, host: str) -> str:
        # No host (a chrome-extension:, data:, blob: or about: URL reaches no server): never a third party.
        return "first" if not host or self.is_first_party(host) else "third"

    def entity(self, host: str) -> str:
        """The organisation owning the host per the knowledge base, else its registrable domain."""
        info = self.knowledge.lookup(host)
        return info.organisation if info else registrable_domain(host)
