"""After the browsing: the CNAME chain of every first-party host an audit contacted, looked up in DNS and stored
(``cname_chains``), so the analysis can tell a first-party name that aliases a tracker (CNAME cloaking)."""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from dataclasses import dataclass, field

from ..analyze.party import registrable_domain, vendor_domains
from ..dns import DnsResolver, cname_chain, system_resolver_configured
from ..knowledge.hosts import normalise_host
from ..observations import CnameChainObs
from ..store import queries
from ..store.writer import Store

MAX_TIMEOUTS = 3  # resolver timeouts in a row after which the remaining hosts are not asked
RESERVED_SUFFIXES = (".test", ".localhost", ".invalid", ".example")  # RFC 6761: no public DNS answers for them


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _reserved(host: str) -> bool:
    return any(host.endswith(suffix) or host == suffix[1:] for suffix in RESERVED_SUFFIXES)


@dataclass
class CnameLookups:
    """What the lookups of one run gave: how many rows, and per audit the first-party hosts whose chain could
    not be learnt (a tracker behind them cannot be ruled out)."""

    recorded: int = 0
    unchecked: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (vendor, account) -> ["host: why"]

    def gap(self, vendor_id: str, account: str) -> str | None:
        hosts = self.unchecked.get((vendor_id, account))
        if not hosts:
            return None
        return (
            f"the CNAME chain of {len(hosts)} first-party host{'s' if len(hosts) > 1 else ''} could not be looked "
            f"up ({'; '.join(hosts[:3])}{'; ...' if len(hosts) > 3 else ''}), so a tracker hidden behind a "
            "first-party name (CNAME cloaking) could not be ruled out: check the DNS resolver, or give "
            "--dns-resolver HOST:PORT ([browser] dns_resolver)"
        )


def record_cname_chains(store: Store, run_id: int, dns_resolver: str | None) -> CnameLookups:
    """Look up and store the CNAME chain of every first-party host of the run's audits. Failures are rows with
    an error, and unchecked hosts of their audit (a reserved name, which no public DNS answers, is not);
    nothing here raises for a DNS problem."""
    log = logging.getLogger("trackaudit")
    where = DnsResolver.parse(dns_resolver)
    resolver = where.dnspython() if where.server or system_resolver_configured() else None
    vendors = {
        v["id"]: vendor_domains([v["start_url"], *json.loads(v["first_party"] or "[]")])
        for v in queries.audited_vendors(store, run_id)
    }
    timeouts, skipped = 0, 0
    lookups = CnameLookups()
    looked_up: dict[str, tuple[tuple[str, ...], str | None]] = {}  # one lookup per host, whichever audits met it
    for contacted in queries.contacted_hosts(store, run_id):
        host = normalise_host(contacted["host"])
        if _is_ip(host) or registrable_domain(host) not in vendors.get(contacted["vendor_id"], ()):
            continue
        chain: tuple[str, ...] = (host,)
        error: str | None
        if where.server is None and _reserved(host):
            skipped += 1
            error = (
                f"not looked up: {host} is a reserved name (RFC 6761) and no --dns-resolver is set; "
                f"the system resolver would ask the internet for it"
            )
        elif resolver is None:
            error = "not looked up: this machine has no DNS resolver configured (give --dns-resolver HOST:PORT)"
        elif timeouts >= MAX_TIMEOUTS:
            error = f"not looked up: the resolver {where} stopped answering"
        elif host in looked_up:
            chain, error = looked_up[host]
        else:
            chain, error = looked_up[host] = cname_chain(host, resolver)
            timeouts = timeouts + 1 if error and "did not answer" in error else 0
        store.insert(
            CnameChainObs.table,
            {
                "audit_id": contacted["audit_id"],
                "run_id": run_id,
                "vendor_id": contacted["vendor_id"],
                "account": contacted["account"],
                "phase": contacted["phase"],
                **CnameChainObs(time=time.time(), host=host, chain=chain, resolver=str(where), error=error).to_row(),
            },
        )
        lookups.recorded += 1
        if error and not (where.server is None and _reserved(host)):
            log.info("%s (%s): cname: %s: %s", contacted["vendor_id"], contacted["account"], host, error)
            if not error.startswith(("CNAME loop", "more than")):  # an answer, if a broken one
                lookups.unchecked.setdefault((contacted["vendor_id"], contacted["account"]), []).append(
                    f"{host}: {error}"
                )
    if skipped:
        log.info("CNAME chains of %d reserved first-party names (.test, ...) not looked up: no --dns-resolver", skipped)
    return lookups
