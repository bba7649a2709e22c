"""DNS CNAME chains, asked of a given resolver (``--dns-resolver``) or the system's, with short timeouts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .knowledge.hosts import normalise_host

if TYPE_CHECKING:  # dnspython is imported where a lookup is made: commands that only read need not load it
    import dns.resolver

MAX_CHAIN = 10  # CNAME hops followed before giving up (a loop, or a misconfigured zone)
QUERY_TIMEOUT_S = 2.0
SYSTEM = "system"


@dataclass(frozen=True)
class DnsResolver:
    """Where CNAME chains are asked: a HOST:PORT server, or the system's resolver (``server`` None)."""

    server: str | None = None
    port: int = 53

    @classmethod
    def parse(cls, text: str | None) -> DnsResolver:
        """``HOST:PORT`` or ``HOST`` (port 53), an IP address; raises ValueError naming what is wrong."""
        if not text:
            return cls()
        text = text.strip()
        if text.startswith("["):  # [IPv6]:PORT
            host, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":")
        elif text.count(":") == 1:
            host, port = text.split(":")
        else:
            host, port = text, ""
        if port and (not port.isdigit() or not 0 < int(port) < 65536):
            raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{text!r}: give the resolver's IP address and port, e.g. 127.0.0.1:5353") from None
        return cls(host, int(port) if port else 53)

    def __str__(self) -> str:
        return f"{self.server}:{self.port}" if self.server else SYSTEM

    def dnspython(self) -> dns.resolver.Resolver:
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=self.server is None)
        if self.server:
            resolver.nameservers = [self.server]
            resolver.port = self.port
        resolver.timeout = QUERY_TIMEOUT_S
        resolver.lifetime = QUERY_TIMEOUT_S
        return resolver


def cname_chain(host: str, resolver: dns.resolver.Resolver) -> tuple[tuple[str, ...], str | None]:
    """The host and the names it is an alias of, in order, and why the lookup stopped early (None when the
    chain ended normally: a name with no CNAME record, or one that does not exist)."""
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    chain = [normalise_host(host)]
    for _ in range(MAX_CHAIN):
        try:
            answer = resolver.resolve(chain[-1], dns.rdatatype.CNAME, raise_on_no_answer=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return tuple(chain), None
        except dns.exception.Timeout:
            return tuple(chain), f"the resolver did not answer within {QUERY_TIMEOUT_S:.0f} s"
        except dns.exception.DNSException as exc:
            return tuple(chain), f"DNS lookup of {chain[-1]} failed: {exc}"
        targets = [r.target for r in answer.rrset or () if r.rdtype == dns.rdatatype.CNAME]
        if not targets:
            return tuple(chain), None
        target = normalise_host(targets[0].to_text(omit_final_dot=True))
        if target in chain:
            return tuple(chain), f"CNAME loop at {target}"
        chain.append(target)
    return tuple(chain), f"more than {MAX_CHAIN} CNAME hops"


def system_resolver_configured() -> bool:
    import dns.exception
    import dns.resolver

    try:
        dns.resolver.Resolver(configure=True)
    except dns.exception.DNSException:
        return False
    return True
