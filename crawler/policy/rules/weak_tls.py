import re
from collections.abc import Iterator
from typing import Any

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import TlsEvidence, rows

WEAK_PROTOCOLS = {"SSL 3.0", "TLS 1.0", "TLS 1.1", "SSLv3", "TLSv1", "TLSv1.1"}


@register
class WeakTls(Rule):
    """The vendor's own hosts, and any host the student's data goes to, must use TLS 1.2 or later and a
    cipher of at least ``min_cipher_bits`` (the policy's "256-bit encryption")."""

    id = "I.F-weak-tls"
    clause = "I.F"
    title = "Encryption weaker than the policy requires"
    defaults = {"min_cipher_bits": 256, "weak_cipher_severity": "warning"}

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        pii_hosts = {f.host for f in analysis.pii_flows if f.table == "requests"}
        problems: dict[str, dict[str, Any]] = {}
        for rec in analysis.data.requests:
            request = rec.obs
            if not (analysis.same_site(request.host) or request.host in pii_hosts) or not request.tls_protocol:
                continue
            entry = problems.setdefault(request.host, {"protocols": set(), "ciphers": set(), "ids": []})
            bits = _cipher_bits(request.tls_cipher)
            weak_protocol = request.tls_protocol in WEAK_PROTOCOLS
            weak_cipher = bits is not None and bits < self.params["min_cipher_bits"]
            if weak_protocol:
                entry["protocols"].add(request.tls_protocol)
            if weak_cipher:
                entry["ciphers"].add(request.tls_cipher)
            if weak_protocol or weak_cipher:
                entry["ids"].append(rec.row_id)
        for host, entry in sorted(problems.items()):
            if not entry["ids"]:
                continue
            said = []
            if entry["protocols"]:
                said.append(f"negotiated {', '.join(sorted(entry['protocols']))} (below TLS 1.2)")
            if entry["ciphers"]:
                said.append(
                    f"used the cipher {', '.join(sorted(entry['ciphers']))} (under "
                    f"{self.params['min_cipher_bits']}-bit)"
                )
            severity = self.severity if entry["protocols"] else self.params["weak_cipher_severity"]
            message = (
                f"Connections to {host} {' and '.join(said)}. I.F requires at least 256-bit encryption "
                f"of student information."
            )
            evidence = TlsEvidence(
                rows(requests=entry["ids"][:50]),
                protocols=tuple(sorted(entry["protocols"])),
                ciphers=tuple(sorted(entry["ciphers"])),
            )
            yield self.finding(f"host {host}", message, evidence, account=analysis.data.account, severity=severity)


def _cipher_bits(cipher: str | None) -> int | None:
    if not cipher:
        return None
    if "CHACHA20" in cipher.upper():
        return 256
    found = re.search(r"(128|192|256)", cipher)
    return int(found.group(1)) if found else None
