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
        audits = list(db.query("select account, login_outcome from audits where run_id = ? and vendor_id = ?", args))
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
    return "\n".join(lines)
