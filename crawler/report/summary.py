"""A readable per-vendor summary of one run, straight from the database."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..analyze.party import registrable_domain, vendor_domains
from ..store import queries
from ..store.writer import Store


@dataclass(frozen=True)
class VendorSummary:
    vendor_id: str
    name: str
    accounts: tuple[str, ...]
    login: str
    pages: int
    requests: int
    third_party_hosts: tuple[str, ...]
    session_cookies: int
    persistent_cookies: int
    third_party_cookies: int
    storage_items: int
    errors: int
    coverage: tuple[str, ...] = ()  # per account: pages loaded and failed by class
    incomplete: tuple[str, ...] = ()  # per incomplete account: why


def run_summary(store: Store, run_id: int) -> list[VendorSummary]:
    summaries = []
    for vendor in queries.audited_vendors(store, run_id):
        site = vendor_domains([vendor["start_url"] or "", *json.loads(vendor["first_party"] or "[]")])
        totals = queries.vendor_totals(store, run_id, vendor["id"])
        cookies = totals.cookies
        audits = queries.audit_coverage(store, run_id, vendor["id"])
        summaries.append(
            VendorSummary(
                vendor_id=vendor["id"],
                name=vendor["name"],
                accounts=tuple(account for account, _ in totals.logins),
                login=", ".join(sorted({outcome or "?" for _, outcome in totals.logins})),
                pages=totals.pages,
                requests=totals.requests,
                third_party_hosts=tuple(sorted(h for h in totals.hosts if h and registrable_domain(h) not in site)),
                session_cookies=sum(1 for session in cookies.values() if session),
                persistent_cookies=sum(1 for session in cookies.values() if not session),
                third_party_cookies=sum(
                    1 for (_, domain, _) in cookies if registrable_domain(domain.lstrip(".")) not in site
                ),
                storage_items=totals.storage_items,
                errors=totals.errors,
                coverage=tuple(f"{a['account']}: {_coverage_words(a['coverage'])}" for a in audits if a["coverage"]),
                incomplete=tuple(f"{a['account']}: {a['incomplete']}" for a in audits if a["incomplete"]),
            )
        )
    return summaries


def format_summary(summaries: list[VendorSummary]) -> str:
    lines = []
    for s in summaries:
        lines.append(f"{s.name} [{s.vendor_id}] — accounts: {', '.join(s.accounts)}; login: {s.login}")
        lines.append(f"  pages visited      {s.pages}")
        lines.append(f"  requests           {s.requests}")
        lines.append(
            f"  third-party hosts  {len(s.third_party_hosts)}"
            + (f": {', '.join(s.third_party_hosts)}" if s.third_party_hosts else "")
        )
        lines.append(
            f"  cookies            {s.session_cookies} session, {s.persistent_cookies} persistent"
            f" ({s.third_party_cookies} third-party)"
        )
        lines.append(f"  storage items      {s.storage_items}")
        lines.append(f"  errors recorded    {s.errors}")
        for line in s.coverage:
            lines.append(f"  coverage           {line}")
        for line in s.incomplete:
            lines.append(f"  AUDIT INCOMPLETE   {line}")
    return "\n".join(lines)


def _coverage_words(coverage_json: str) -> str:
    coverage = json.loads(coverage_json)
    counts = dict(coverage.get("counts") or {})
    loaded = counts.pop("loaded", 0)
    failed = sum(counts.values())
    words = f"{loaded} page visits loaded, {failed} failed"
    if counts:
        words += " (" + ", ".join(f"{kind} {n}" for kind, n in counts.items()) + ")"
    phases = coverage.get("phases") or {}
    not_run = [name for name, outcome in phases.items() if outcome != "complete"]
    words += f"; phases {len(phases) - len(not_run)}/{len(phases)} ran" + (
        f" ({', '.join(not_run)} did not)" if not_run else ""
    )
    return words + f"; login {coverage.get('login_outcome')}"
