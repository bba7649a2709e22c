"""Facts about one audit, each computed once, that the policy rules read: hosts and trackers, cookies and
storage (purpose, lifetime, identifier), PII flows, persistence."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any
from urllib.parse import urlsplit

from .. import setcookie
from ..knowledge.cookies import CookiePurpose
from ..knowledge.filterlists import FilterMatch
from ..knowledge.lists import KnowledgeBundle
from ..knowledge.trackers import CATEGORY_SEVERITY, TrackerInfo
from ..observations import CookieObs, RequestObs, RetentionCookieObs, StorageObs
from .audit_data import AFTER_CONTROL, BEFORE_RESTART, SIGHTING_ORDER, AuditData, Rec
from .decode import scan_part, scan_request
from .fingerprinting import ScriptBehaviour, script_behaviours
from .identifiers import STORAGE_LIFETIME, IdentifierParams, IdentifierVerdict, find_identifier
from .party import Cloaking, PartyResolver, cloaked_hosts
from .persistence import PersistenceFacts, Sending, analyse_persistence, carried_by, sendings
from .pii import PiiMatch, PiiMatcher, pii_fields

NETWORK_SCHEMES = ("http", "https", "ws", "wss")
# What carries data to a host: a request, or a frame a page sent over a WebSocket.
SENT_TABLES = ("requests", "websocket_frames")

LIST_CATEGORIES = {"easyprivacy": "analytics", "easylist": "advertising"}  # what a filter-list match says

# How a cookie's place in IV.B's login-retention exception was established, when not by its name alone.
RETENTION_CONFIGURED = "configured in remember_cookies"
RETENTION_PROVEN = "proven by elimination: without it the student was logged out"
RETENTION_NOT_NEEDED = "proven by elimination: without it the student stayed logged in"
RETENTION_NOT_KEPT = "proven by relaunching: even with it the student was not logged in"


@dataclass(frozen=True)
class HostFacts:
    host: str
    party: str
    entity: str
    tracker: TrackerInfo | None
    filter_match: FilterMatch | None
    filter_url: str | None  # the request the filter matched
    request_ids: tuple[int, ...]
    page_urls: tuple[str, ...]  # the pages that made the host load
    # The most severe category among the host's requests: a request's path entry or filter-list match
    # outranks the host's own category. Which request gave it, and how it was classified.
    category: str | None = None
    category_url: str | None = None
    category_source: str | None = None  # "builtin", "builtin path /tr", a list name, ...
    cloaking: Cloaking | None = None  # a vendor's name whose CNAME chain reaches this tracker


@dataclass(frozen=True)
class CookieFacts:
    rec: Rec[CookieObs]
    party: str
    entity: str
    purpose: CookiePurpose
    lifetime_days: float | None
    identifier: IdentifierVerdict
    control_value: str | None
    restart_value: str | None

    owner: str  # who controls the value: the organisation of the script that wrote it, else of its domain
    cloaking: Cloaking | None = None  # set by (or kept on) a CNAME-cloaked first-party name: the tracker's cookie
    retention_test: RetentionCookieObs | None = None  # the relaunches without it, when the retention phase ran

    @property
    def login_retention(self) -> bool:
        """A cookie that keeps the login: the district's word for any cookie; else what relaunching without it
        showed, whatever its name; else (not tested) a name pattern, only for the vendor's own cookies (a third
        party does not log the student in). A persistent session cookie of the vendor keeps the login too."""
        if self.purpose.source == "district":
            return self.purpose.purpose == "login_retention"
        if self.retention_test is not None and self.retention_test.needed is not None:
            return self.retention_test.needed
        return self.party == "first" and self.purpose.purpose in ("login_retention", "login_session")

    @property
    def retention_basis(self) -> str | None:
        """How it was established that the cookie keeps the login (configured, or proven), or that it does not
        although its name says it would; None when neither was established or there was nothing to overrule."""
        if self.purpose.source == "district":
            return RETENTION_CONFIGURED if self.purpose.purpose == "login_retention" else None
        test = self.retention_test
        if test is None or test.needed is None:
            return None
        if test.needed:
            return RETENTION_PROVEN
        if self.party == "first" and self.purpose.purpose in ("login_retention", "login_session"):
            return RETENTION_NOT_NEEDED if test.left_out else RETENTION_NOT_KEPT
        return None

    @property
    def essential(self) -> bool:
        """Security cookies (CSRF tokens, bot defence) and the record of a consent choice: unique per browser
        at times, but kept for the service or the law, not to follow the student."""
        return self.purpose.purpose in ("csrf", "security", "consent")

    @property
    def tracking_identifier(self) -> bool:
        """An identifier that the policy's tracking clauses judge: not login retention, not essential."""
        return self.identifier.is_identifier and not self.login_retention and not self.essential

    @property
    def subject(self) -> str:
        return f"cookie {self.rec.obs.name}"


@dataclass(frozen=True)
class StorageFacts:
    rec: Rec[StorageObs]
    party: str
    entity: str
    identifier: IdentifierVerdict

    @property
    def subject(self) -> str:
        return storage_subject(self.rec.obs)


def storage_subject(item: StorageObs) -> str:
    container = f" {item.container}" if item.container else ""
    return f"{item.kind}{container} {item.key}"


@dataclass(frozen=True)
class IdentifierSharing:
    """An identifier (cookie or storage value) passed to an organisation other than its owner."""

    subject: str
    owner: str
    part: str
    table: str
    row_id: int
    sent: tuple[tuple[Rec[RequestObs], HostFacts, str], ...]  # (request, receiving host, where in the request)

    @property
    def receivers(self) -> list[str]:
        return sorted({host.entity for _, host, _ in self.sent})


@dataclass(frozen=True)
class PiiFlow:
    """Where the account's PII was found: which row, sent to (or stored by) which host."""

    match: PiiMatch
    table: str  # requests | websocket_frames | cookies | storage_items
    row_id: int
    phase: str
    host: str
    party: str
    entity: str
    url: str | None  # a request's URL, a WebSocket frame's socket URL
    context: str  # the text the match is in, clipped around it
    subject: str  # "host …" for a request or frame, "cookie …" or the storage item for what is kept client-side


class AuditAnalysis:
    def __init__(self, data: AuditData, knowledge: KnowledgeBundle, parameters: dict[str, Any] | None = None):
        self.data = data
        self.knowledge = knowledge
        self.parameters = parameters or {}
        # The same vendor's analyses from its last complete audit, when a job compares with it.
        self.baseline: list[AuditAnalysis] = []
        self.baseline_run: dict[str, Any] | None = None
        cloaked = cloaked_hosts(
            ((r.row_id, r.obs.host, r.obs.chain, r.obs.resolver) for r in data.cname_chains),
            knowledge.cname_trackers.first_tracker,
        )
        self.parties = PartyResolver([data.start_url, *data.first_party], knowledge.trackers, cloaked)
        self.identifier_params = IdentifierParams(
            min_lifetime_days=self.parameters.get("identifier_min_lifetime_days", 30),
            min_length=self.parameters.get("identifier_min_length", 8),
            max_length=self.parameters.get("identifier_max_length", 100),
            similarity_threshold=self.parameters.get("identifier_similarity", 0.45),
        )

    # hosts and trackers -----------------------------------------------------------------------------
    @cached_property
    def hosts(self) -> dict[str, HostFacts]:
        by_host: dict[str, list[Rec[RequestObs]]] = {}
        for rec in self.data.requests:
            if rec.obs.scheme in NETWORK_SCHEMES:  # chrome-extension:, data:, blob:, about: reach no host
                by_host.setdefault(rec.obs.host, []).append(rec)
        facts = {}
        for host, records in by_host.items():
            if not host:
                continue
            tracker = self.parties.tracker(host)
            match, match_url = None, None
            classified: list[tuple[str, str, str]] = []  # (category, request URL, source), one per request
            for rec in records:
                request = rec.obs
                resource = (
                    "iframe"
                    if request.resource_type == "document" and request.frame_url != request.page_url
                    else request.resource_type
                )
                request_match = None
                if self.knowledge.filters and match is None:  # checking every request of a host costs too much
                    request_match = self.knowledge.filters.check(
                        request.url, request.page_url or request.frame_url, resource
                    )
                    if request_match:
                        match, match_url = request_match, request.url
                path_entry = self.knowledge.trackers.lookup_url(host, urlsplit(request.url).path)
                by_url: list[tuple[str, str, str]] = []  # the list's category first, then the path entry's
                list_category = LIST_CATEGORIES.get(request_match.list_name) if request_match else None
                if request_match and list_category:
                    by_url.append((list_category, request.url, request_match.list_name))
                if path_entry and path_entry.category:
                    by_url.append((path_entry.category, request.url, f"{path_entry.source} path {path_entry.path}"))
                if by_url:
                    classified.append(min(by_url, key=lambda c: CATEGORY_SEVERITY.index(c[0])))
                elif tracker:
                    classified.append((tracker.category, request.url, tracker.source))
            worst: tuple[str | None, str | None, str | None] = (
                min(classified, key=lambda c: CATEGORY_SEVERITY.index(c[0])) if classified else (None, None, None)
            )
            facts[host] = HostFacts(
                host=host,
                party=self.parties.party(host),
                entity=self.parties.entity(host),
                tracker=tracker,
                filter_match=match,
                filter_url=match_url,
                request_ids=tuple(r.row_id for r in records),
                page_urls=tuple(dict.fromkeys(r.obs.page_url for r in records if r.obs.page_url)),
                category=worst[0],
                category_url=worst[1],
                category_source=worst[2],
                cloaking=self.parties.cloaking(host),
            )
        return facts

    def third_party_hosts(self) -> list[HostFacts]:
        return [h for h in self.hosts.values() if h.party == "third"]

    # cookies and storage ----------------------------------------------------------------------------
    @cached_property
    def cookies(self) -> list[CookieFacts]:
        classifier = self.knowledge.cookie_classifier(self.data.remember_cookies)
        control = self.data.cookie_jar("control")
        restart = self.data.cookie_jar("reconnect")
        tested = {(r.obs.name, r.obs.domain, r.obs.path): r.obs for r in self.data.retention}
        facts = []
        for key, rec in self.data.audited_cookies().items():
            cookie = rec.obs
            host = cookie.domain.lstrip(".")
            lifetime = cookie.lifetime_days(self.data.phase_end(rec.phase))
            control_value = _value(control.get(key))
            # Stability across the restart can only be judged for what existed before it.
            restart_value = _value(restart.get(key)) if rec.phase in BEFORE_RESTART else None
            script_url = cookie.set_by_url if cookie.set_by_kind == "script" else None
            writer = urlsplit(script_url).hostname if script_url else None
            # A cookie a cloaked name keeps, or sets on the vendor's domain from its response, is the tracker's.
            setter = (
                urlsplit(cookie.set_by_url).hostname if cookie.set_by_kind == "header" and cookie.set_by_url else None
            )
            cloaking = self.parties.cloaking(host) or (self.parties.cloaking(setter) if setter else None)
            if cloaking:
                host = cloaking.host
            facts.append(
                CookieFacts(
                    rec=rec,
                    party=self.parties.party(host),
                    entity=self.parties.entity(host),
                    cloaking=cloaking,
                    owner=self.parties.entity(writer or host),
                    purpose=classifier.classify(cookie.name),
                    lifetime_days=lifetime,
                    identifier=find_identifier(
                        cookie.value,
                        control_value,
                        restart_value,
                        lifetime,
                        self.identifier_params,
                        now=self.data.started,
                    ),
                    control_value=control_value,
                    restart_value=restart_value,
                    retention_test=tested.get(key),
                )
            )
        return facts

    @cached_property
    def storage(self) -> list[StorageFacts]:
        def keyed(phase: str) -> dict[StorageKey, Rec[StorageObs]]:
            return {_storage_key(r.obs): r for r in self.data.storage_in(phase)}

        control, restart = keyed("control"), keyed("reconnect")
        audited: dict[StorageKey, Rec[StorageObs]] = {}
        for phase in SIGHTING_ORDER:
            audited.update(keyed(phase))
        facts = []
        for key, rec in audited.items():
            item = rec.obs
            origin = urlsplit(item.origin)
            host = (origin.hostname or "") if origin.scheme in NETWORK_SCHEMES else ""
            if item.kind in ("localStorage", "indexedDB"):
                lifetime = STORAGE_LIFETIME
            else:  # sessionStorage ends with the tab; caches and workers are not value stores
                lifetime = None
            restart_value = _value(restart.get(key)) if rec.phase in BEFORE_RESTART else None
            verdict = find_identifier(
                item.value,
                _value(control.get(key)),
                restart_value,
                lifetime,
                self.identifier_params,
                now=self.data.started,
            )
            facts.append(StorageFacts(rec, self.parties.party(host), self.parties.entity(host), verdict))
        return facts

    # PII --------------------------------------------------------------------------------------------
    @cached_property
    def pii_matcher(self) -> PiiMatcher | None:
        fields = pii_fields(self.data.account, self.data.pii)
        return PiiMatcher(fields, depth=self.parameters.get("pii_depth", 2)) if fields else None

    @cached_property
    def pii_flows(self) -> list[PiiFlow]:
        matcher = self.pii_matcher
        if matcher is None:
            return []
        flows = []

        def add(
            matches: Iterable[PiiMatch],
            table: str,
            rec: Rec[Any],
            host: str,
            url: str | None,
            text: str | Callable[[PiiMatch], str],
            subject: str,
        ) -> None:
            """``text``: the text searched, or for a request where the match is, the text at its location."""
            for match in matches:
                context = _clip(text if isinstance(text, str) else text(match), match)
                flows.append(self._flow(match, table, rec, host, url, context, subject))

        for rec in self.data.requests:
            request = rec.obs
            matches = scan_request(matcher, request.url, request.request_headers, request.post_data)
            texts = {"request url": request.url, "post body": request.post_data or ""}
            texts |= {f"header {name.lower()}": value for name, value in request.request_headers}
            add(
                matches,
                "requests",
                rec,
                request.host,
                request.url,
                partial(_text_at_location, texts),
                f"host {request.host}",
            )
            for header in setcookie.lines(request.set_cookies):
                name = setcookie.cookie_name(header)
                found = scan_part(matcher, "set-cookie header", header, key=name)
                add(found, "requests", rec, request.host, request.url, header, f"cookie {name}")
        for cookie_rec in self.data.cookies_in(*AFTER_CONTROL):
            cookie = cookie_rec.obs
            found = scan_part(matcher, f"cookie {cookie.name}", cookie.value, key=cookie.name)
            add(found, "cookies", cookie_rec, cookie.domain.lstrip("."), None, cookie.value, f"cookie {cookie.name}")
        for storage_rec in self.data.storage_in(*AFTER_CONTROL):
            item = storage_rec.obs
            found = scan_part(matcher, f"{item.kind} {item.key}", item.value or "", key=item.key)
            add(
                found,
                "storage_items",
                storage_rec,
                urlsplit(item.origin).hostname or "",
                item.origin,
                item.value or "",
                storage_subject(item),
            )
        return flows + self._sent_frame_flows(matcher)

    @cached_property
    def identifier_sharing(self) -> list[IdentifierSharing]:
        """ID syncing: identifiers found in the URL or body of requests to another organisation."""
        carriers = [
            (f.subject, f.owner, f.identifier.part, "cookies", f.rec.row_id)
            for f in self.cookies
            if f.identifier.is_identifier
        ]
        carriers += [
            (f.subject, f.entity, f.identifier.part, "storage_items", f.rec.row_id)
            for f in self.storage
            if f.identifier.is_identifier
        ]
        shared, seen_parts = [], set()
        for subject, owner, part, table, row_id in carriers:
            # One identifier kept in several places (cookie, localStorage, IndexedDB) is one identifier.
            if not part or len(part) < self.identifier_params.min_length or part in seen_parts:
                continue
            seen_parts.add(part)
            sent = []
            for rec in self.data.requests:
                host = self.hosts.get(rec.obs.host)
                if host is None or host.entity == owner:
                    continue
                # A Cookie header only carries the receiving domain's own cookies: not sharing.
                sent += [(rec, host, where) for where in carried_by(part, None, rec.obs) if where != "Cookie header"]
            if sent:
                shared.append(IdentifierSharing(subject, owner, part, table, row_id, tuple(sent)))
        return shared

    @cached_property
    def observed_trackers(self) -> dict[str, list[str]]:
        """Third-party hosts seen acting as trackers, whatever the lists say: they set a cross-site identifier
        cookie, or receive an identifier that belongs to someone else."""
        observed: dict[str, list[str]] = {}
        for fact in self.cookies:
            cookie = fact.rec.obs
            if fact.party == "third" and fact.identifier.is_identifier and not cookie.partition_key:
                setter = cookie.domain.lstrip(".")
                for host in self.third_party_hosts():
                    if host.host == setter or host.host.endswith("." + setter):
                        observed.setdefault(host.host, []).append(f"sets cross-site identifier cookie {cookie.name}")
        for sharing in self.identifier_sharing:
            for _, host, _ in sharing.sent:
                said = f"receives the identifier in {sharing.subject} of {sharing.owner}"
                if host.party == "third" and said not in observed.get(host.host, []):
                    observed.setdefault(host.host, []).append(said)
        return observed

    # behaviour of scripts ---------------------------------------------------------------------------
    @cached_property
    def canary_flows(self) -> list[PiiFlow]:
        """Requests and WebSocket frames that carried a canary the probes typed into a field (email, name, text) or planted in the
        page (dom, dom_input), in any encoding the PII matcher knows. Nothing was ever submitted."""
        fields = pii_fields("canary", self.data.canaries)
        if not fields:
            return []
        matcher = PiiMatcher(fields, depth=self.parameters.get("pii_depth", 2))
        flows = []
        for rec in self.data.requests:
            request = rec.obs
            texts = {"request url": request.url, "post body": request.post_data or ""}
            texts |= {f"header {name.lower()}": value for name, value in request.request_headers}
            for match in scan_request(matcher, request.url, request.request_headers, request.post_data):
                context = _clip(_text_at_location(texts, match), match)
                flows.append(
                    self._flow(match, "requests", rec, request.host, request.url, context, f"host {request.host}")
                )
        return flows + self._sent_frame_flows(matcher)

    def _sent_frame_flows(self, matcher: PiiMatcher) -> list[PiiFlow]:
        """What a matcher finds in the WebSocket frames the pages sent, searched like a request body."""
        flows = []
        for rec in self.data.websocket_frames:
            frame = rec.obs
            if frame.direction != "sent":
                continue
            for match in scan_part(matcher, "websocket frame", frame.payload):
                context = _clip(frame.payload, match)
                flows.append(
                    self._flow(
                        match, "websocket_frames", rec, frame.host, frame.socket_url, context, f"host {frame.host}"
                    )
                )
        return flows

    def _flow(
        self, match: PiiMatch, table: str, rec: Rec[Any], host: str, url: str | None, context: str, subject: str
    ) -> PiiFlow:
        return PiiFlow(
            match,
            table,
            rec.row_id,
            rec.phase,
            host,
            self.parties.party(host),
            self.parties.entity(host),
            url,
            context,
            subject,
        )

    @cached_property
    def pii_shown_on_pages(self) -> dict[str, tuple[str, ...]]:
        """The account's PII fields each crawled page showed when the DOM canary was planted, by page URL (as
        requested and as loaded): what a session recording of that page captured."""
        matcher = self.pii_matcher
        shown: dict[str, tuple[str, ...]] = {}
        if matcher is None:
            return shown
        for rec in self.data.pages:
            page = rec.obs
            if not page.visible_text:
                continue
            fields = tuple(sorted({m.field for m in scan_part(matcher, "page text", page.visible_text)}))
            if fields:
                for url in {page.url, page.final_url or page.url}:
                    shown[url] = tuple(sorted({*shown.get(url, ()), *fields}))
        return shown

    @cached_property
    def fingerprinting_scripts(self) -> list[ScriptBehaviour]:
        """Scripts whose API calls fingerprint the browser (canvas, fonts, WebRTC, audio), first or third party."""
        return [b for b in script_behaviours(self.data.api_calls) if b.fingerprints]

    # persistence ------------------------------------------------------------------------------------
    @cached_property
    def persistence(self) -> PersistenceFacts:
        return analyse_persistence(self.data)

    @cached_property
    def resent_storage(self) -> list[tuple[StorageFacts, tuple[Sending, ...]]]:
        """Identifiers kept in localStorage or IndexedDB before the restart and found in requests after it."""
        requests = self.data.requests_in("reconnect")
        found = []
        for fact in self.storage:
            if fact.rec.phase in BEFORE_RESTART and fact.identifier.is_identifier and fact.identifier.part:
                sent = sendings(fact.identifier.part, None, requests)
                if sent:
                    found.append((fact, sent))
        return found

    def cookie_facts(self, name: str, domain: str) -> CookieFacts | None:
        for fact in self.cookies:
            if fact.rec.obs.name == name and fact.rec.obs.domain == domain:
                return fact
        return None

    def same_site(self, host: str) -> bool:
        return self.parties.is_first_party(host)


def _text_at_location(texts: dict[str, str], match: PiiMatch) -> str:
    """The request text a match was found in: its location names it before any " > " decoding steps."""
    return texts.get(match.location.split(" > ")[0], "")


def _value(rec: Rec[CookieObs] | Rec[StorageObs] | None) -> str | None:
    return rec.obs.value if rec is not None else None


StorageKey = tuple[str, str, str | None, str]


def _storage_key(item: StorageObs) -> StorageKey:
    return (item.kind, item.origin, item.container, item.key)


def _clip(text: str, match: PiiMatch, margin: int = 80) -> str:
    """The text around a match: enough to show it in a report without storing whole bodies twice."""
    if not text:
        return ""
    position = text.find(match.value_variant)
    if position < 0:
        return text[: 2 * margin]
    start = max(0, position - margin)
    return text[start : position + len(match.value_variant) + margin]
