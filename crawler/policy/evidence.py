"""What a finding rests on, as a small fixed set of typed evidence kinds, and the shared wording rules use.

Every kind points at the observation rows it rests on (``rows``) and serialises to the JSON stored in
``findings.evidence`` and shown in the JSON report: the field names of the free-form dicts earlier versions
stored, plus ``evidence_kind`` (``kind`` itself is taken by the change evidence). ``evidence_from_json`` reads
both, so findings stored by earlier versions still render.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from ..analyze.analysis import SENT_TABLES, CookieFacts, PiiFlow
from ..analyze.party import Cloaking

Rows = Mapping[str, list[int]]


def rows(**tables: Iterable[int]) -> dict[str, list[int]]:
    """``{"requests": [12, 15], "cookies": [3]}``: the observation rows a finding rests on."""
    return {table: sorted(set(ids)) for table, ids in tables.items() if ids}


# -- parts of evidence ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CookieDescription:
    name: str
    domain: str
    path: str | None
    value: str
    expires: float | None
    lifetime_days: float | None
    session: bool | None
    http_only: bool | None
    secure: bool | None
    same_site: str | None
    partition_key: str | None
    party: str | None
    entity: str | None
    purpose: str | None
    purpose_source: str | None
    purpose_pattern: str | None
    set_by: str | None
    set_by_kind: str | None
    phase: str | None


@dataclass(frozen=True)
class FlowItem:
    """One place the test account's personal data was found: a request, a cookie or a storage item."""

    table: str
    row_id: int | None
    phase: str | None
    host: str | None
    party: str | None
    entity: str | None
    url: str | None
    field: str | None
    encoding: str | None
    chain: tuple[str, ...]
    location: str | None
    matched: str | None
    context: str | None


@dataclass(frozen=True)
class TrackerHost:
    host: str
    category: str | None
    organisation: str | None
    source: str | None
    filter_list: str | None
    filter: str | None
    matched_url: str | None
    category_source: str | None = None  # what gave the category: the knowledge base, a URL path entry, a filter list
    category_request: str | None = None  # the request whose URL decided the category


@dataclass(frozen=True)
class CnameCloak:
    """A vendor's name that DNS shows to be an alias of a tracker's domain (CNAME cloaking)."""

    host: str
    chain: tuple[str, ...]  # the host, then each CNAME target
    tracker_domain: str
    organisation: str
    source: str  # the list that names the tracker domain
    resolver: str
    row_id: int  # the cname_chains row


@dataclass(frozen=True)
class Sending:
    """A request that carried an identifier to a receiver."""

    request_id: int | None
    host: str | None
    entity: str | None
    where: str | None
    url: str | None


# -- the kinds --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    kind: ClassVar[str]
    rows: Rows

    def fields_json(self) -> dict[str, Any]:
        """The kind's own fields, those that are set (a kind's optional fields serve different rules)."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "rows" or value is None:
                continue
            out[item.name] = _plain(value)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "evidence_kind": self.kind,
            "rows": {t: list(ids) for t, ids in self.rows.items()},
            **self.fields_json(),
        }

    def subject_keys(self) -> set[tuple[str, str]]:
        """What this evidence is about, beyond the finding's subject: ``("host", name)``, ``("cookie", name)``,
        ``("entity", organisation)``; changes since the baseline are linked to findings by these."""
        return set()


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in asdict(value).items()}
    return value


@dataclass(frozen=True)
class CookieEvidence(Evidence):
    """A cookie: its description, why its value is an identifier, and what the rule saw happen to it."""

    kind = "cookie"
    cookie: CookieDescription | None = None
    identifier_reasons: tuple[str, ...] | None = None
    maximum_days: float | None = None
    on_reconnect: bool = False  # judged when the browser reopened: ``renewed`` is reported, null when not renewed
    renewed: str | None = None
    value: str | None = None
    sources: tuple[str, ...] | None = None  # where a deleted cookie came back from
    in_last_audit: bool | None = None
    cloaked: CnameCloak | None = None  # the cookie belongs to a CNAME-cloaked tracker under the vendor's name
    retention: str | None = None  # how its place in IV.B's login-retention exception was established

    def fields_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cookie is not None:
            out["cookie"] = _plain(self.cookie)
        if self.identifier_reasons is not None:
            out["identifier"] = list(self.identifier_reasons)
        if self.maximum_days is not None:
            out["maximum_days"] = self.maximum_days
        if self.on_reconnect:
            out["renewed"] = self.renewed
        for key in ("value", "sources", "in_last_audit", "cloaked", "retention"):
            if getattr(self, key) is not None:
                out[key] = _plain(getattr(self, key))
        return out

    def subject_keys(self) -> set[tuple[str, str]]:
        return {("cookie", self.cookie.name)} if self.cookie else set()


@dataclass(frozen=True)
class StorageEvidence(Evidence):
    """An item of browser storage (localStorage, sessionStorage, IndexedDB…) holding an identifier."""

    kind = "storage"
    identifier_value: str | None = None
    identifier_reasons: tuple[str, ...] | None = None
    maximum_days: float | None = None

    def fields_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.identifier_value is not None:
            out["identifier"] = self.identifier_value
        elif self.identifier_reasons is not None:
            out["identifier"] = list(self.identifier_reasons)
        if self.maximum_days is not None:
            out["maximum_days"] = self.maximum_days
        return out


@dataclass(frozen=True)
class FlowEvidence(Evidence):
    """The test account's personal data where it was found: sent in requests to a recipient, or kept in a
    cookie or storage item of ``host``."""

    kind = "pii-flow"
    flows: tuple[FlowItem, ...] = ()
    recipient: str | None = None  # the organisation receiving requests
    hosts: tuple[str, ...] | None = None
    host: str | None = None  # the host keeping it client-side
    party: str | None = None

    def subject_keys(self) -> set[tuple[str, str]]:
        keys = {("host", h) for h in self.hosts or ()} | ({("host", self.host)} if self.host else set())
        return keys | ({("entity", self.recipient)} if self.recipient else set())


@dataclass(frozen=True)
class SharingEvidence(Evidence):
    """An identifier passed in requests to other organisations (ID syncing)."""

    kind = "identifier-sharing"
    identifier: str = ""
    owner: str | None = None
    receivers: tuple[str, ...] = ()
    sent: tuple[Sending, ...] = ()

    def subject_keys(self) -> set[tuple[str, str]]:
        return {("host", s.host) for s in self.sent if s.host} | {("entity", r) for r in self.receivers}


@dataclass(frozen=True)
class TrackerEvidence(Evidence):
    """Third-party hosts judged as trackers: how each is known, the behaviour seen, the pages it ran on."""

    kind = "tracker"
    hosts: tuple[TrackerHost, ...] | None = None
    observed: tuple[str, ...] | None = None
    pages: tuple[str, ...] | None = None
    in_last_audit: bool | None = None
    cloaked: tuple[CnameCloak, ...] | None = None  # hosts under the vendor's name that alias the tracker (CNAME)

    def subject_keys(self) -> set[tuple[str, str]]:
        return {("host", h.host) for h in self.hosts or ()}


@dataclass(frozen=True)
class TlsEvidence(Evidence):
    """Encryption below the policy: plain HTTP and what it carried, or weak TLS versions and ciphers."""

    kind = "tls"
    carries: tuple[str, ...] | None = None
    protocols: tuple[str, ...] | None = None
    ciphers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ChangeEvidence(Evidence):
    """A change since the vendor's previous audit (``what`` is stored as ``kind``: "cookie", "PII flow"…)."""

    kind = "change"
    previous_run_id: int | None = None
    change: str | None = None  # "new" | "vanished"
    what: str | None = None
    key: str | None = None
    related_rules: tuple[str, ...] | None = None
    related: tuple[tuple[str, str], ...] | None = None  # (rule id, subject) of the findings it bears on
    gone: tuple[str, ...] | None = None

    def fields_json(self) -> dict[str, Any]:
        out = super().fields_json()
        if "what" in out:
            out["kind"] = out.pop("what")
        if self.related is not None:
            out["related"] = [{"rule_id": r, "subject": s} for r, s in self.related]
        return out


@dataclass(frozen=True)
class LoginEvidence(Evidence):
    """A login attempt and where it ended."""

    kind = "login"
    final_url: str | None = None

    def fields_json(self) -> dict[str, Any]:
        return {"final_url": self.final_url}


@dataclass(frozen=True)
class PageEvidence(Evidence):
    """A page of the service, and what it showed."""

    kind = "page"
    url: str | None = None


@dataclass(frozen=True)
class Technique:
    """A fingerprinting technique a script was seen using, and the API calls that show it."""

    technique: str
    apis: tuple[str, ...]
    detail: str | None


@dataclass(frozen=True)
class ApiCallEvidence(Evidence):
    """A script seen calling JavaScript APIs that fingerprint the browser: which techniques, which calls, where."""

    kind = "api-call"
    script: str | None = None
    party: str | None = None
    entity: str | None = None
    techniques: tuple[Technique, ...] = ()
    apis: tuple[str, ...] = ()
    properties_read: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    frames: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()

    def subject_keys(self) -> set[tuple[str, str]]:
        return {("script", self.script)} if self.script else set()


@dataclass(frozen=True)
class CanaryItem:
    """A request or WebSocket frame that carried a canary the audit typed into a field or planted in a page."""

    row_id: int | None
    phase: str | None
    url: str | None  # the request's URL, or the socket's
    canary: str | None
    encoding: str | None
    location: str | None
    matched: str | None
    context: str | None
    script: str | None
    table: str | None = None  # requests | websocket_frames (None: stored before frames were scanned, a request)


@dataclass(frozen=True)
class PageShowingPii:
    url: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class CanaryEvidence(Evidence):
    """Canary values seen leaving the page: typed text before any submit (key logging) or planted page text
    (session recording), with the requests or WebSocket frames, hosts and scripts that carried them."""

    kind = "canary-flow"
    hosts: tuple[str, ...] = ()
    party: str | None = None
    entity: str | None = None
    flows: tuple[CanaryItem, ...] = ()
    scripts: tuple[str, ...] = ()
    known_session_replay: tuple[str, ...] = ()  # hosts the knowledge base knows as session replay, corroborating
    # A recording of pages that showed the student's PII: each such page and the PII fields it showed.
    pages_showing_pii: tuple[PageShowingPii, ...] = ()

    def subject_keys(self) -> set[tuple[str, str]]:
        return {("host", host) for host in self.hosts}


@dataclass(frozen=True)
class OtherEvidence(Evidence):
    """Stored evidence of a shape this version does not know (kept and shown as it is)."""

    kind = "other"
    data: Mapping[str, Any] | None = None

    def fields_json(self) -> dict[str, Any]:
        return dict(self.data or {})


KINDS: dict[str, type[Evidence]] = {
    k.kind: k
    for k in (
        CookieEvidence,
        StorageEvidence,
        FlowEvidence,
        SharingEvidence,
        TrackerEvidence,
        TlsEvidence,
        ChangeEvidence,
        LoginEvidence,
        PageEvidence,
        ApiCallEvidence,
        CanaryEvidence,
        OtherEvidence,
    )
}


# -- reading stored evidence -------------------------------------------------------------------------------------
def evidence_from_json(data: Any) -> Evidence:
    """The typed evidence of a stored finding; findings stored before evidence had kinds are recognised by the
    keys each rule used to write."""
    if not isinstance(data, Mapping):
        return OtherEvidence({}, {"value": data} if data not in (None, {}) else None)
    raw_rows = data.get("rows")
    found_rows = (
        {str(t): [int(i) for i in ids if isinstance(i, int)] for t, ids in raw_rows.items() if isinstance(ids, list)}
        if isinstance(raw_rows, Mapping)
        else {}
    )
    kind = data.get("evidence_kind") or _legacy_kind(data, found_rows)
    try:
        return _READERS[kind](data, found_rows)
    except (KeyError, TypeError, ValueError, AttributeError):
        return OtherEvidence(found_rows, {k: v for k, v in data.items() if k not in ("rows", "evidence_kind")})


def _legacy_kind(data: Mapping[str, Any], found_rows: Rows) -> str:
    if "change" in data or "gone" in data or "previous_run_id" in data:
        return "change"
    if "flows" in data:
        return "pii-flow"
    if "sent" in data:
        return "identifier-sharing"
    if "cookie" in data or "sources" in data or "renewed" in data:
        return "cookie"
    if "hosts" in data or "observed" in data:
        return "tracker"
    if any(k in data for k in ("carries", "protocols", "ciphers")):
        return "tls"
    if "final_url" in data:
        return "login"
    if "url" in data:
        return "page"
    if set(data) - {"rows", "identifier", "maximum_days", "value", "in_last_audit"}:  # keys no rule wrote
        return "other"
    if "storage_items" in found_rows and "cookies" not in found_rows:
        return "storage"
    if "cookies" in found_rows or "value" in data or "script_cookie_writes" in found_rows:
        return "cookie"
    if "requests" in found_rows:
        return "tracker"
    return "other"


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _read_cookie(d: Mapping[str, Any], r: Rows) -> Evidence:
    c = d.get("cookie")
    cookie = CookieDescription(**{f.name: c.get(f.name) for f in fields(CookieDescription)}) if c else None
    return CookieEvidence(
        r,
        cookie,
        _strings(d.get("identifier")),
        d.get("maximum_days"),
        "renewed" in d,
        d.get("renewed"),
        d.get("value"),
        _strings(d.get("sources")),
        d.get("in_last_audit"),
    )


def _read_storage(d: Mapping[str, Any], r: Rows) -> Evidence:
    identifier = d.get("identifier")
    return StorageEvidence(
        r,
        identifier if isinstance(identifier, str) else None,
        _strings(identifier) if isinstance(identifier, list) else None,
        d.get("maximum_days"),
    )


def _read_flow(d: Mapping[str, Any], r: Rows) -> Evidence:
    flows = tuple(
        FlowItem(**{**{f.name: item.get(f.name) for f in fields(FlowItem)}, "chain": tuple(item.get("chain") or ())})
        for item in d.get("flows") or ()
    )
    return FlowEvidence(r, flows, d.get("recipient"), _strings(d.get("hosts")), d.get("host"), d.get("party"))


def _read_sharing(d: Mapping[str, Any], r: Rows) -> Evidence:
    sent = tuple(Sending(**{f.name: s.get(f.name) for f in fields(Sending)}) for s in d.get("sent") or ())
    return SharingEvidence(r, str(d.get("identifier") or ""), d.get("owner"), _strings(d.get("receivers")) or (), sent)


def _read_tracker(d: Mapping[str, Any], r: Rows) -> Evidence:
    hosts = d.get("hosts")
    described = (
        None
        if hosts is None
        else tuple(TrackerHost(**{f.name: h.get(f.name) for f in fields(TrackerHost)}) for h in hosts)
    )
    return TrackerEvidence(r, described, _strings(d.get("observed")), _strings(d.get("pages")), d.get("in_last_audit"))


def _read_tls(d: Mapping[str, Any], r: Rows) -> Evidence:
    return TlsEvidence(r, _strings(d.get("carries")), _strings(d.get("protocols")), _strings(d.get("ciphers")))


def _read_change(d: Mapping[str, Any], r: Rows) -> Evidence:
    related = d.get("related")
    return ChangeEvidence(
        r,
        d.get("previous_run_id"),
        d.get("change"),
        d.get("kind"),
        d.get("key"),
        _strings(d.get("related_rules")),
        None if related is None else tuple((x["rule_id"], x["subject"]) for x in related),
        _strings(d.get("gone")),
    )


def _read_login(d: Mapping[str, Any], r: Rows) -> Evidence:
    return LoginEvidence(r, d.get("final_url"))


def _read_page(d: Mapping[str, Any], r: Rows) -> Evidence:
    return PageEvidence(r, d.get("url"))


def _read_api_call(d: Mapping[str, Any], r: Rows) -> Evidence:
    techniques = tuple(
        Technique(t["technique"], tuple(t.get("apis") or ()), t.get("detail")) for t in d.get("techniques") or ()
    )
    return ApiCallEvidence(
        r,
        d.get("script"),
        d.get("party"),
        d.get("entity"),
        techniques,
        *(tuple(d.get(k) or ()) for k in ("apis", "properties_read", "pages", "frames", "phases")),
    )


def _read_canary(d: Mapping[str, Any], r: Rows) -> Evidence:
    flows = tuple(CanaryItem(**{f.name: item.get(f.name) for f in fields(CanaryItem)}) for item in d.get("flows") or ())
    return CanaryEvidence(
        r,
        tuple(d.get("hosts") or ()),
        d.get("party"),
        d.get("entity"),
        flows,
        tuple(d.get("scripts") or ()),
        tuple(d.get("known_session_replay") or ()),
        tuple(
            PageShowingPii(str(p.get("url") or ""), tuple(p.get("fields") or ()))
            for p in d.get("pages_showing_pii") or ()
        ),
    )


def _read_other(d: Mapping[str, Any], r: Rows) -> Evidence:
    return OtherEvidence(r, {k: v for k, v in d.items() if k not in ("rows", "evidence_kind")} or None)


_READERS: dict[str, Callable[[Mapping[str, Any], Rows], Evidence]] = {
    "cookie": _read_cookie,
    "storage": _read_storage,
    "pii-flow": _read_flow,
    "identifier-sharing": _read_sharing,
    "tracker": _read_tracker,
    "tls": _read_tls,
    "change": _read_change,
    "login": _read_login,
    "page": _read_page,
    "api-call": _read_api_call,
    "canary-flow": _read_canary,
    "other": _read_other,
}


# -- building evidence from the analysis ---------------------------------------------------------------------------
def cookie_description(fact: CookieFacts) -> CookieDescription:
    cookie = fact.rec.obs
    return CookieDescription(
        name=cookie.name,
        domain=cookie.domain,
        path=cookie.path,
        value=cookie.value,
        expires=cookie.expires,
        lifetime_days=None if fact.lifetime_days is None else round(fact.lifetime_days, 1),
        session=cookie.session,
        http_only=cookie.http_only,
        secure=cookie.secure,
        same_site=cookie.same_site,
        partition_key=cookie.partition_key,
        party=fact.party,
        entity=fact.entity,
        purpose=fact.purpose.purpose,
        purpose_source=fact.purpose.source,
        purpose_pattern=fact.purpose.pattern,
        set_by=cookie.set_by_url,
        set_by_kind=cookie.set_by_kind,
        phase=fact.rec.phase,
    )


def cname_cloak(cloaking: Cloaking) -> CnameCloak:
    tracker = cloaking.tracker
    return CnameCloak(
        cloaking.host,
        cloaking.chain,
        tracker.domain,
        tracker.organisation,
        tracker.source,
        cloaking.resolver,
        cloaking.row_id,
    )


def cloaking_words(cloaking: Cloaking) -> str:
    return (
        f"{cloaking.host} is the vendor's name but a CNAME alias of {cloaking.tracker.organisation}'s tracker "
        f"domain {cloaking.tracker.domain} ({' → '.join(cloaking.chain)}): CNAME cloaking"
    )


def flow_item(flow: PiiFlow) -> FlowItem:
    match = flow.match
    return FlowItem(
        table=flow.table,
        row_id=flow.row_id,
        phase=flow.phase,
        host=flow.host,
        party=flow.party,
        entity=flow.entity,
        url=flow.url,
        field=match.field,
        encoding=match.description,
        chain=tuple(match.chain),
        location=match.location,
        matched=match.value_variant,
        context=flow.context,
    )


# -- shared wording ------------------------------------------------------------------------------------------------
def lifetime_words(days: float | None) -> str:
    """A lifetime in days, with years where longer: "400 days (1.1 years)", "30 days", "12 hours"."""
    if days is None:
        return "a session cookie"
    if days >= 365:
        return f"{days:.0f} days ({days / 365.25:.1f} years)"
    if days >= 1:
        return f"{days:.0f} days"
    return f"{days * 24:.0f} hours"


def fields_words(flows: Iterable[PiiFlow]) -> str:
    """'email (sha256 of the lower-cased email) and name (as written)'"""
    described: dict[str, list[str]] = {}
    for flow in flows:
        described.setdefault(flow.match.field, [])
        if flow.match.description not in described[flow.match.field]:
            described[flow.match.field].append(flow.match.description)
    parts = [f"{field} ({'; '.join(ways[:3])})" for field, ways in described.items()]
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else ""


def carriers_words(flows: list[PiiFlow]) -> str:
    """'3 request(s)', '2 WebSocket frame(s)' or both: what carried the flows."""
    counts = {table: len({f.row_id for f in flows if f.table == table}) for table in SENT_TABLES}
    words = {"requests": "request(s)", "websocket_frames": "WebSocket frame(s)"}
    return " and ".join(f"{n} {words[table]}" for table, n in counts.items() if n)


def recipients(flows: Iterable[PiiFlow]) -> dict[str, list[PiiFlow]]:
    """Flows grouped by the organisation receiving them: a leak to three Google hosts is one recipient."""
    grouped: dict[str, list[PiiFlow]] = {}
    for flow in flows:
        grouped.setdefault(flow.entity, []).append(flow)
    return grouped


def recipient_subject(entity: str, flows: list[PiiFlow]) -> str:
    hosts = sorted({f.host for f in flows})
    return f"host {hosts[0]}" if len(hosts) == 1 else f"entity {entity} ({', '.join(hosts)})"
