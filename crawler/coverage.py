"""What an audit could see: each page visit with the class of its failure (DNS, TLS, refused, timeout, HTTP
status), each phase's outcome and the login's. From that record, the gaps that make an audit incomplete, each
in plain words with the fix. No browser here: the protocol fills a ``Coverage``, the jobs judge it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from urllib.parse import urldefrag, urlsplit

DNS, TLS, REFUSED, TIMEOUT, CONNECTION = "DNS", "TLS", "refused", "timeout", "connection"
# The classes that mean the site could not be reached at all (as opposed to a site that answered).
NETWORK_CLASSES = (DNS, TLS, REFUSED, TIMEOUT, CONNECTION)

_NET_ERROR = re.compile(r"net::(ERR_[A-Z0-9_]+)")


def failure_class(error: str | None, status: int | None = None) -> str | None:
    """The class of a failed page visit; None when the page loaded (an HTTP status below 400)."""
    if error:
        code = _NET_ERROR.search(error)
        name = code.group(1) if code else ""
        if name in ("ERR_NAME_NOT_RESOLVED", "ERR_NAME_RESOLUTION_FAILED", "ERR_DNS_TIMED_OUT"):
            return DNS
        if name.startswith(("ERR_CERT_", "ERR_SSL_")) or name in (
            "ERR_BAD_SSL_CLIENT_AUTH_CERT",
            "ERR_INSECURE_RESPONSE",
        ):
            return TLS
        if name == "ERR_CONNECTION_REFUSED":
            return REFUSED
        if (
            name in ("ERR_TIMED_OUT", "ERR_CONNECTION_TIMED_OUT")
            or "timeout" in error.lower()
            or "did not finish" in error
        ):
            return TIMEOUT
        return CONNECTION
    if status is not None and status >= 400:
        return f"HTTP {status}"
    return None


def explain(kind: str, url: str, error: str | None = None) -> str:
    """Why a page could not be seen, in plain words, with the fix."""
    host = urlsplit(url).hostname or url
    code = _NET_ERROR.search(error or "")
    if kind == DNS:
        return f"could not resolve {host} (DNS): check start_url or --host-resolver-rules"
    if kind == TLS:
        return (
            f"certificate not trusted for {host} (TLS{', ' + code.group(1) if code else ''}): check the address, "
            "or trust the certificate with [browser].trusted_spki"
        )
    if kind == REFUSED:
        return f"{host} refused the connection: check start_url and that the service is up (or --host-resolver-rules)"
    if kind == TIMEOUT:
        return f"{url} did not answer in time: check that the service is up, or raise [browser].page_timeout_s"
    if kind == CONNECTION:
        return (
            f"the connection to {host} failed ({code.group(1) if code else error}): check the address and the network"
        )
    return f"{url} answered {kind.removeprefix('HTTP ')}: check the address in the config"


@dataclass(frozen=True)
class Visit:
    phase: str
    url: str
    status: int | None
    failure: str | None  # failure_class(...)
    error: str | None = None


@dataclass
class Coverage:
    """What one vendor × account audit saw; stored as JSON in ``audits.coverage``."""

    start_url: str
    login_url: str | None = None
    removal: bool = False  # a post-termination check: a site that answers with an error is evidence, not a gap
    phases: dict[str, str] = field(default_factory=dict)  # phase -> "complete" or "error: ..."
    visits: list[Visit] = field(default_factory=list)
    login_outcome: str = "not configured"
    login_message: str | None = None

    def phase_done(self, name: str, outcome: str, message: str | None) -> None:
        self.phases[name] = outcome if outcome == "complete" else f"{outcome}: {message}"

    def visited(self, phase: str, url: str, status: int | None, error: str | None) -> Visit:
        visit = Visit(phase, url, status, failure_class(error, status), error)
        self.visits.append(visit)
        return visit

    def counts(self) -> dict[str, int]:
        """Pages loaded, and failed by class."""
        counts = Counter(v.failure or "loaded" for v in self.visits)
        return dict(sorted(counts.items()))

    def to_json(self) -> dict:
        return {**asdict(self), "counts": self.counts()}

    def _failed(self, visit: Visit) -> bool:
        return visit.failure in NETWORK_CLASSES if self.removal else visit.failure is not None

    def gaps(self) -> list[str]:
        """Why this audit is incomplete (empty when it is not)."""
        gaps = []
        for name, outcome in self.phases.items():
            if outcome != "complete":
                gaps.append(f"the {name} phase could not run ({outcome})")
        for label, url in (("start page", self.start_url), ("login page", self.login_url)):
            visits = [v for v in self.visits if url and _same_page(v.url, url)]
            if url and visits and all(self._failed(v) for v in visits):
                if label == "login page" and not self.removal and self.login_outcome != "success":
                    continue  # the login message says it, with the fix
                gaps.append(
                    f"the {label} could not be loaded: {explain(visits[0].failure or '', url, visits[0].error)}"
                )
        if self.login_url and not self.removal and self.login_outcome != "success":
            gaps.append(self.login_message or f"login failed ({self.login_outcome})")
        failed = [v for v in self.visits if self._failed(v)]
        if self.visits and len(failed) * 2 > len(self.visits):
            kinds = Counter(v.failure for v in failed)
            gaps.append(
                f"{len(failed)} of {len(self.visits)} page visits failed "
                f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), e.g. "
                f"{explain(failed[0].failure or '', failed[0].url, failed[0].error)}"
            )
        return gaps


def _same_page(a: str, b: str) -> bool:
    return urldefrag(a).url.rstrip("/") == urldefrag(b).url.rstrip("/")
