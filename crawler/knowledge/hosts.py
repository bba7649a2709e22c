"""Host name normalisation shared by the party logic and the knowledge lookups."""

from __future__ import annotations


def normalise_host(host: str) -> str:
    """Lower-case a host and strip any port, IPv6 brackets and outer dots (cookie domains start with one)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host[1:]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.strip(".")
