"""A readable per-vendor summary of one run, straight from the database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..analyze.party import registrable_domain
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
    db = store.db
    summaries = []
    vendors = db.query("select distinct a.vendor_id, v.name, v.start_url, v.first_party from audits a "
                       "join vendors v on v.id = a.vendor_id where a.run_id = ? order by a.vendor_id", [run_id])
    for vendor in vendors:
        vid = vendor["vendor_id"]
        site = {registrable_domain(urlsplit(vendor["start_url"]).hostname or "")}
        site |= {registrable_domain(d) for d in json.loads(vendor["first_party"] or "[]")}
        args = [run_id, vid]

        def count(sql: str) -> int:
            return db.execute(sql, args).fetchone()[0]

        hosts = {row[0] for row in db.execute("select distinct host from requests where run_id = ? and vendor_id = ?", args)}
        cookies = {(r[0], r[1], r[2]): bool(r[3]) for r in db.execute(
            "select name, domain, path, session from cookies where run_id = ? and vendor_id = ?", args)}
        audits = list(db.query("select account, login_outcome, coverage, incomplete from audits "
                               "where run_id = ? and vendor_id = ?", args))
        summaries.append(VendorSummary(
            vendor_id=vid, name=vendor["name"],
            accounts=tuple(a["account"] for a in audits),
            login=", ".join(sorted({a["login_outcome"] or "?" for a in audits})),
            pages=count("select count(*) from pages where run_id = ? and vendor_id = ?"),
            requests=count("select count(*) from requests where run_id = ? and vendor_id = ?"),
            third_party_hosts=tuple(sorted(h for h in hosts if h and registrable_domain(h) not in site)),
            session_cookies=sum(1 for session in cookies.values() if session),
            persistent_cookies=sum(1 for session in cookies.values() if not session),
            third_party_cookies=sum(1 for (_, domain, _) in cookies if registrable_domain(domain.lstrip(".")) not in site),
            storage_items=count("select count(distinct kind || origin || coalesce(container, '') || key) "
                                "from storage_items where run_id = ? and vendor_id = ?"),
            errors=count("select count(*) from errors where run_id = ? and vendor_id = ?"),
            coverage=tuple(f"{a['account']}: {_coverage_words(a['coverage'])}" for a in audits if a["coverage"]),
            incomplete=tuple(f"{a['account']}: {a['incomplete']}" for a in audits if a["incomplete"]),
        ))
    return summaries


def format_summary(summaries: list[VendorSummary]) -> str:
    lines = []
    for s in summaries:
        lines.append(f"{s.name} [{s.vendor_id}] — accounts: {', '.join(s.accounts)}; login: {s.login}")
        lines.append(f"  pages visited      {s.pages}")
        lines.append(f"  requests           {s.requests}")
        lines.append(f"  third-party hosts  {len(s.third_party_hosts)}" +
                     (f": {', '.join(s.third_party_hosts)}" if s.third_party_hosts else ""))
        lines.append(f"  cookies            {s.session_cookies} session, {s.persistent_cookies} persistent"
                     f" ({s.third_party_cookies} third-party)")
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
    words += f"; phases {len(phases) - len(not_run)}/{len(phases)} ran" + (f" ({', '.join(not_run)} did not)" if not_run else "")
    return words + f"; login {coverage.get('login_outcome')}"
