"""One run, read once from the database into frozen dataclasses that every report format renders.

No format reads the database: ``build_report`` reads it once, through the read model (``store.queries``). It
takes the run's rows (run, vendors, audits, phases, verdicts, findings, pages, errors), the request rows that
findings point at, per-host request counts, the persistent cookies with their lifetimes, the evidence manifest,
and the policy pack's clauses and rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..analyze.party import registrable_domain, vendor_domains
from ..store import queries
from ..store.writer import Store
from .wording import NO_VERDICT, SEVERITIES, clause_title

if TYPE_CHECKING:
    from ..policy.pack import PolicyPack

REPORT_SCHEMA = "trackaudit-report/1"
MAX_PAGES_PER_FINDING = 4


# -- small records --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ListVersion:
    name: str
    version: str | None
    sha256: str | None
    source: str | None
    url: str | None = None


@dataclass(frozen=True)
class RunInfo:
    id: int
    mode: str | None
    command: str | None
    started_at: str | None
    finished_at: str | None
    status: str | None
    tool_version: str | None
    config_path: str | None
    config_hash: str | None
    policy_name: str | None
    policy_hash: str | None
    verdict: str | None
    message: str | None
    manifest_sha256: str | None
    lists: tuple[ListVersion, ...]
    knowledge_warning: str | None = None  # no filter list judged the run, or only old ones


@dataclass(frozen=True)
class ClauseInfo:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class RuleInfo:
    id: str
    clause: str
    title: str
    severity: str
    judges_removal_check: bool


@dataclass(frozen=True)
class PolicyInfo:
    id: str
    name: str
    version: str
    sha256: str
    clauses: tuple[ClauseInfo, ...]
    rules: tuple[RuleInfo, ...]
    parameters: Mapping[str, Any]

    def clause(self, clause_id: str) -> ClauseInfo:
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause
        return ClauseInfo(clause_id, clause_title(clause_id), "")

    def rule_title(self, rule_id: str, clause: str | None = None) -> str:
        """The rule's title (as cited under ``clause``, when the pack cites it under several)."""
        from ..policy.base import RETIRED_RULES

        rule_id, clause = RETIRED_RULES.get(rule_id, (rule_id, clause))
        titles = [r.title for r in self.rules if r.id == rule_id and clause in (None, r.clause)]
        titles += [r.title for r in self.rules if r.id == rule_id]
        return titles[0] if titles else _fallback_rule_title(rule_id)

    @property
    def max_lifetime_days(self) -> float | None:
        value = self.parameters.get("max_lifetime_days")
        return float(value) if isinstance(value, (int, float)) else None


@dataclass(frozen=True)
class RequestInfo:
    id: int
    vendor_id: str
    account: str
    phase: str
    method: str
    url: str
    host: str
    scheme: str | None
    resource_type: str | None
    page_url: str | None
    frame_url: str | None
    initiator_url: str | None
    cookie_header: str | None
    post_data: str | None
    status: int | None
    tls_protocol: str | None
    tls_cipher: str | None


@dataclass(frozen=True)
class CookieRow:
    """A cookie row a finding points at, as recorded (value as stored)."""

    id: int
    phase: str
    name: str
    value: str
    domain: str
    path: str | None
    expires: float | None
    session: bool
    http_only: bool
    secure: bool
    same_site: str | None
    set_by_kind: str | None
    set_by_url: str | None


@dataclass(frozen=True)
class StorageRow:
    """A storage item a finding points at (value cut to 500 characters)."""

    id: int
    phase: str
    kind: str
    origin: str
    container: str | None
    key: str
    value: str | None


@dataclass(frozen=True)
class PageInfo:
    id: int
    vendor_id: str
    account: str
    phase: str
    url: str
    final_url: str | None
    status: int | None
    title: str | None
    screenshot: str | None
    screenshot_sha256: str | None
    error: str | None
    asks_for: tuple[str, ...] = ()  # the personal data the page's forms ask for


@dataclass(frozen=True)
class FindingInfo:
    id: int
    run_id: int
    vendor_id: str
    account: str | None
    rule_id: str
    rule_title: str
    clause: str
    severity: str
    subject: str
    message: str
    evidence: Mapping[str, Any]
    created_at: str | None
    page_ids: tuple[int, ...] = ()  # the vendor's pages this finding involves (screenshots)

    @property
    def rows(self) -> dict[str, list[int]]:
        rows = self.evidence.get("rows") if isinstance(self.evidence, Mapping) else None
        return dict(rows) if isinstance(rows, Mapping) else {}

    @property
    def is_change(self) -> bool:
        return self.rule_id.startswith("baseline.")


@dataclass(frozen=True)
class HostStat:
    host: str
    domain: str
    requests: int
    category: str | None  # from the tracker evidence, when a finding names the host
    flagged: bool  # a finding names it


@dataclass(frozen=True)
class CookieLifetime:
    name: str
    domain: str
    party: str  # first | third
    lifetime_days: float
    flagged: bool  # a finding names the cookie


@dataclass(frozen=True)
class AuditInfo:
    account: str
    username: str | None
    status: str | None
    login_outcome: str | None
    login_message: str | None
    pages_visited: int | None
    started_at: str | None
    finished_at: str | None


@dataclass(frozen=True)
class PhaseInfo:
    account: str
    phase: str
    outcome: str | None
    message: str | None
    seconds: float | None


@dataclass(frozen=True)
class VerdictInfo:
    job: str | None
    verdict: str
    reasons: tuple[str, ...]
    baseline_run_id: int | None


@dataclass(frozen=True)
class ErrorInfo:
    account: str | None
    phase: str | None
    source: str | None
    url: str | None
    message: str | None


@dataclass(frozen=True)
class ClauseGroup:
    clause: ClauseInfo
    findings: tuple[FindingInfo, ...]

    @property
    def counts(self) -> dict[str, int]:
        return _count(self.findings)


@dataclass(frozen=True)
class VendorReport:
    id: str
    name: str
    status: str | None
    start_url: str | None
    first_party: tuple[str, ...]
    remember_cookies: tuple[str, ...]
    verdict: VerdictInfo
    audits: tuple[AuditInfo, ...]
    phases: tuple[PhaseInfo, ...]
    findings: tuple[FindingInfo, ...]
    pages: tuple[PageInfo, ...]
    third_party_hosts: tuple[HostStat, ...]
    cookies: tuple[CookieLifetime, ...]
    errors: tuple[ErrorInfo, ...]
    requests: int
    removal_check: bool

    @property
    def counts(self) -> dict[str, int]:
        return _count(self.findings)

    def page(self, page_id: int) -> PageInfo | None:
        return next((p for p in self.pages if p.id == page_id), None)

    @property
    def forms_asking(self) -> dict[str, tuple[str, ...]]:
        """Page URL -> the personal data its forms ask for (sign-up pages especially)."""
        return {p.final_url or p.url: p.asks_for for p in self.pages if p.asks_for}


@dataclass(frozen=True)
class Artefact:
    path: str
    kind: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class RowDigest:
    table: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    schema: str | None
    created_at: str | None
    tool_version: str | None
    database: str | None
    artefacts: tuple[Artefact, ...]
    rows: tuple[RowDigest, ...]


@dataclass(frozen=True)
class Report:
    generated_at: str
    database: str
    artefacts_dir: str
    run: RunInfo
    policy: PolicyInfo
    vendors: tuple[VendorReport, ...]
    requests: Mapping[int, RequestInfo]  # only the rows findings point at
    manifest: Manifest | None
    cookies: Mapping[int, CookieRow] = field(default_factory=dict)  # only the rows findings point at
    storage: Mapping[int, StorageRow] = field(default_factory=dict)
    schema: str = REPORT_SCHEMA

    @property
    def findings(self) -> tuple[FindingInfo, ...]:
        return tuple(f for v in self.vendors for f in v.findings)

    @property
    def counts(self) -> dict[str, int]:
        return _count(self.findings)

    @cached_property
    def clause_ids(self) -> tuple[str, ...]:
        """The pack's clauses in its order, then any other clause a finding names."""
        ids = [c.id for c in self.policy.clauses]
        ids += sorted({f.clause for f in self.findings} - set(ids))
        return tuple(ids)

    def clause_counts(self, vendor: VendorReport | None = None) -> dict[str, dict[str, int]]:
        """clause → severity → count (every clause, zeros included)."""
        findings = vendor.findings if vendor else self.findings
        return {c: _count(f for f in findings if f.clause == c) for c in self.clause_ids}

    def clause_groups(self, vendor: VendorReport) -> tuple[ClauseGroup, ...]:
        """A vendor's findings by clause, in the pack's order; findings most severe first within a clause."""
        groups = []
        for clause_id in self.clause_ids:
            mine = sorted(
                (f for f in vendor.findings if f.clause == clause_id),
                key=lambda f: (SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 9, f.is_change, f.id),
            )
            if mine:
                groups.append(ClauseGroup(self.policy.clause(clause_id), tuple(mine)))
        return tuple(groups)

    def judged_clauses(self, vendor: VendorReport) -> set[str]:
        """The clauses some enabled rule of the pack judged for this vendor's kind of run."""
        judged = {r.clause for r in self.policy.rules if r.judges_removal_check == vendor.removal_check}
        return judged | {f.clause for f in vendor.findings}


def _asks_for(forms_json: str | None) -> tuple[str, ...]:
    """The personal data a page's forms ask for, beyond the credentials."""
    kinds = {kind for form in _json(forms_json, []) for kind in form.get("asks_for", [])}
    return tuple(sorted(kinds - {"password", "username"}))


def _count(findings: Iterable[FindingInfo]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts


def _fallback_rule_title(rule_id: str) -> str:
    if rule_id.startswith("baseline."):
        status, _, kind = rule_id[len("baseline.") :].partition("-")
        return f"{'New' if status == 'new' else 'Gone'} since the previous audit: {kind.replace('-', ' ')}"
    try:
        from ..policy.base import RULES

        return RULES[rule_id].title
    except Exception:
        return rule_id


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _walk_strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk_strings(item)


def _norm_url(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return ""
    path = parts.path.rstrip("/") or ""
    return f"{parts.scheme}://{parts.netloc.lower()}{path}{'?' + parts.query if parts.query else ''}"


# -- reading ----------------------------------------------------------------------------------------------
def policy_info(pack: PolicyPack) -> PolicyInfo:
    clauses = tuple(ClauseInfo(cid, clause_title(cid, text), text) for cid, text in pack.clauses.items())
    rules = tuple(
        RuleInfo(r.id, clause, r.title_under(clause), r.severity, r.judges_removal_check)
        for r in pack.rules
        for clause in r.clauses
    )  # one entry per clause the rule is cited under
    return PolicyInfo(pack.id, pack.name, pack.version, pack.sha256, clauses, rules, dict(pack.parameters))


def _knowledge_warning(run_row: Mapping[str, Any]) -> str | None:
    """What the run's lists leave out, as of the run (not of the day the report is written)."""
    from ..knowledge.lists import ListInfo, knowledge_warning

    infos = [
        ListInfo(
            str(item.get("name")),
            str(item.get("version")),
            str(item.get("sha256")),
            str(item.get("source")),
            item.get("url"),
            item.get("fetched_at"),
        )
        for item in _json(run_row.get("lists"), [])
        if isinstance(item, Mapping)
    ]
    try:
        when = datetime.fromisoformat(str(run_row.get("started_at")))
    except ValueError:
        when = None
    return knowledge_warning(infos, when)


def build_report(store: Store, run_id: int, pack: PolicyPack) -> Report:
    run_row = queries.run(store, run_id)
    if run_row is None:
        raise ValueError(f"{store.path}: no run {run_id}")
    lists = tuple(
        ListVersion(str(item.get("name")), item.get("version"), item.get("sha256"), item.get("source"), item.get("url"))
        for item in _json(run_row.get("lists"), [])
        if isinstance(item, Mapping)
    )
    run = RunInfo(
        run_id,
        run_row.get("mode"),
        run_row.get("command"),
        run_row.get("started_at"),
        run_row.get("finished_at"),
        run_row.get("status"),
        run_row.get("tool_version"),
        run_row.get("config_path"),
        run_row.get("config_hash"),
        run_row.get("policy_name"),
        run_row.get("policy_hash"),
        run_row.get("verdict"),
        run_row.get("message"),
        run_row.get("manifest_sha256"),
        lists,
        _knowledge_warning(run_row),
    )
    policy = policy_info(pack)

    def rows(table: str, leave_out: tuple[str, ...] = ()) -> list[queries.Row]:
        return list(queries.run_rows(store, table, run_id, leave_out))

    audits, phases, findings_rows = rows("audits"), rows("phases"), rows("findings")
    # A page's text may be a megabyte, and the report does not show it.
    verdict_rows, page_rows, error_rows = rows("verdicts"), rows("pages", ("visible_text",)), rows("errors")
    vendor_ids = list(
        dict.fromkeys(
            [a["vendor_id"] for a in audits]
            + [f["vendor_id"] for f in findings_rows]
            + [v["vendor_id"] for v in verdict_rows]
        )
    )
    vendor_rows = queries.vendors(store)

    # requests: per-host counts for every vendor, full rows only for those a finding points at
    host_counts = queries.request_counts(store, run_id)
    request_totals = {vid: sum(c.values()) for vid, c in host_counts.items()}
    evidence_by_id = {f["id"]: _json(f["evidence"], {}) for f in findings_rows}

    def referenced(table: str) -> list[queries.Row]:
        wanted = {
            i
            for ev in evidence_by_id.values()
            if isinstance(ev, Mapping) and isinstance(ev.get("rows"), Mapping)
            for i in ev["rows"].get(table) or []
            if isinstance(i, int)
        }
        return queries.rows_by_id(store, table, run_id, sorted(wanted))

    cookies = {
        c["id"]: CookieRow(
            c["id"],
            c["phase"],
            c["name"],
            c["value"] or "",
            c["domain"] or "",
            c["path"],
            c["expires"],
            bool(c["session"]),
            bool(c["http_only"]),
            bool(c["secure"]),
            c["same_site"],
            c["set_by_kind"],
            c["set_by_url"],
        )
        for c in referenced("cookies")
    }
    storage = {
        s["id"]: StorageRow(
            s["id"],
            s["phase"],
            s["kind"],
            s["origin"],
            s["container"],
            s["key"],
            None if s["value"] is None else str(s["value"])[:500],
        )
        for s in referenced("storage_items")
    }
    requests: dict[int, RequestInfo] = {}
    for r in referenced("requests"):
        requests[r["id"]] = RequestInfo(
            r["id"],
            r["vendor_id"],
            r["account"],
            r["phase"],
            r["method"],
            r["url"],
            r["host"],
            r["scheme"],
            r["resource_type"],
            r["page_url"],
            r["frame_url"],
            r["initiator_url"],
            r["cookie_header"],
            r["post_data"],
            r["status"],
            r["tls_protocol"],
            r["tls_cipher"],
        )

    phase_end = {(p["vendor_id"], p["account"], p["phase"]): p["finished_at"] or p["started_at"] for p in phases}
    persistent = list(queries.persistent_cookies(store, run_id))

    vendors = []
    for vid in vendor_ids:
        vrow = vendor_rows.get(vid, {})
        site = vendor_domains([vrow.get("start_url") or "", *_json(vrow.get("first_party"), [])])
        my_pages = tuple(
            PageInfo(
                p["id"],
                p["vendor_id"],
                p["account"],
                p["phase"],
                p["url"],
                p["final_url"],
                p["status"],
                p["title"],
                p["screenshot"],
                p["screenshot_sha256"],
                p["error"],
                _asks_for(p.get("forms")),
            )
            for p in page_rows
            if p["vendor_id"] == vid
        )
        my_findings = []
        for f in findings_rows:
            if f["vendor_id"] != vid:
                continue
            evidence = evidence_by_id[f["id"]] if isinstance(evidence_by_id[f["id"]], Mapping) else {}
            my_findings.append(
                FindingInfo(
                    f["id"],
                    f["run_id"],
                    vid,
                    f["account"],
                    f["rule_id"],
                    policy.rule_title(f["rule_id"], f["clause"]),
                    f["clause"],
                    f["severity"],
                    f["subject"] or "",
                    f["message"] or "",
                    evidence,
                    f["created_at"],
                    _pages_involved(evidence, my_pages, requests),
                )
            )
        mentioned = " ".join(f"{f.subject} {' '.join(_walk_strings(f.evidence))}" for f in my_findings)
        categories = {
            h["host"]: h.get("category")
            for f in my_findings
            for h in (f.evidence.get("hosts") or [])
            if isinstance(h, Mapping) and h.get("host")
        }
        hosts = tuple(
            sorted(
                (
                    HostStat(host, registrable_domain(host), n, categories.get(host), host in mentioned)
                    for host, n in host_counts.get(vid, {}).items()
                    if host and registrable_domain(host) not in site
                ),
                key=lambda h: (-h.requests, h.host),
            )
        )
        lifetimes: dict[tuple[str, str], CookieLifetime] = {}
        for prov, cookie in persistent:
            if prov["vendor_id"] != vid:
                continue
            days = cookie.lifetime_days(phase_end.get((vid, prov["account"], prov["phase"])))
            if days is None:
                continue
            key = (cookie.name, cookie.domain)
            if key not in lifetimes or days > lifetimes[key].lifetime_days:
                party = "first" if registrable_domain(cookie.domain.lstrip(".")) in site else "third"
                flagged = any(f.subject == f"cookie {cookie.name}" for f in my_findings)
                lifetimes[key] = CookieLifetime(cookie.name, cookie.domain, party, round(days, 1), flagged)
        verdict = next(
            (
                VerdictInfo(v["job"], v["verdict"], tuple(_json(v["reasons"], [])), v["baseline_run_id"])
                for v in verdict_rows
                if v["vendor_id"] == vid
            ),
            None,
        )
        my_phases = [p for p in phases if p["vendor_id"] == vid]
        vendors.append(
            VendorReport(
                id=vid,
                name=vrow.get("name") or vid,
                status=vrow.get("status"),
                start_url=vrow.get("start_url"),
                first_party=tuple(_json(vrow.get("first_party"), [])),
                remember_cookies=tuple(_json(vrow.get("remember_cookies"), [])),
                verdict=verdict or VerdictInfo(None, NO_VERDICT, (), None),
                audits=tuple(
                    AuditInfo(
                        a["account"],
                        a["username"],
                        a["status"],
                        a["login_outcome"],
                        a["login_message"],
                        a["pages_visited"],
                        a["started_at"],
                        a["finished_at"],
                    )
                    for a in audits
                    if a["vendor_id"] == vid
                ),
                phases=tuple(
                    PhaseInfo(
                        p["account"],
                        p["phase"],
                        p["outcome"],
                        p["message"],
                        (p["finished_at"] - p["started_at"]) if p["finished_at"] and p["started_at"] else None,
                    )
                    for p in my_phases
                ),
                findings=tuple(my_findings),
                pages=my_pages,
                third_party_hosts=hosts,
                cookies=tuple(sorted(lifetimes.values(), key=lambda c: (-c.lifetime_days, c.name))),
                errors=tuple(
                    ErrorInfo(e["account"], e["phase"], e["source"], e["url"], e["message"])
                    for e in error_rows
                    if e["vendor_id"] == vid
                ),
                requests=request_totals.get(vid, 0),
                removal_check=any((p["phase"] or "").startswith("removal-") for p in my_phases),
            )
        )

    return Report(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=store.path.name,
        artefacts_dir=str(store.artefacts_dir),
        run=run,
        policy=policy,
        vendors=tuple(vendors),
        requests=requests,
        manifest=_manifest(store, run_id),
        cookies=cookies,
        storage=storage,
    )


def _manifest(store: Store, run_id: int) -> Manifest | None:
    from ..store.seal import read_manifest

    data = read_manifest(store, run_id)
    if not isinstance(data, Mapping):
        return None
    artefacts = tuple(
        Artefact(str(a.get("path")), str(a.get("kind")), int(a.get("bytes") or 0), str(a.get("sha256")))
        for a in data.get("artefacts") or []
        if isinstance(a, Mapping)
    )
    digests = tuple(
        RowDigest(table, int(d.get("rows") or 0), str(d.get("sha256")))
        for table, d in (data.get("rows") or {}).items()
        if isinstance(d, Mapping)
    )
    return Manifest(
        data.get("schema"), data.get("created_at"), data.get("tool_version"), data.get("database"), artefacts, digests
    )


def _pages_involved(
    evidence: Mapping[str, Any], pages: tuple[PageInfo, ...], requests: Mapping[int, RequestInfo]
) -> tuple[int, ...]:
    """The vendor's pages a finding rests on: pages it names by row, pages of the requests it names (same
    phase first), then pages whose URL appears anywhere in its evidence."""
    if not pages:
        return ()
    chosen: list[int] = []

    def add(page: PageInfo | None) -> None:
        if page is not None and page.id not in chosen:
            chosen.append(page.id)

    by_url: dict[str, list[PageInfo]] = {}
    for page in pages:
        for url in {_norm_url(page.url), _norm_url(page.final_url)} - {""}:
            by_url.setdefault(url, []).append(page)

    def best(url: str, phase: str | None = None) -> PageInfo | None:
        candidates = by_url.get(_norm_url(url), [])
        if phase:
            same = [p for p in candidates if p.phase == phase]
            if same:
                return same[0]
        preferred = [p for p in candidates if p.phase == "crawl"] or candidates
        return preferred[0] if preferred else None

    rows = evidence.get("rows") or {}
    for page_id in rows.get("pages", []) if isinstance(rows, Mapping) else []:
        add(next((p for p in pages if p.id == page_id), None))
    for request_id in rows.get("requests", []) if isinstance(rows, Mapping) else []:
        request = requests.get(request_id)
        if request is not None:
            add(best(request.page_url or request.frame_url or "", request.phase))
        if len(chosen) >= MAX_PAGES_PER_FINDING:
            break
    for text in _walk_strings({k: v for k, v in evidence.items() if k != "rows"}):
        if len(chosen) >= MAX_PAGES_PER_FINDING:
            break
        # a bare origin (storage evidence names one) is not a page: it would pick the start page arbitrarily
        if text.startswith(("http://", "https://")) and urlsplit(text).path:
            add(best(text))
    return tuple(chosen[:MAX_PAGES_PER_FINDING])
