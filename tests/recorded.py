"""Recorded observations for rule tests: build an ``AuditData`` by hand, as the store would load it.

A test writes what the browser would have seen, phase by phase, and judges it with one rule:

    vid = cookie("cn_vid", "Xk3pQ9vLm2Rt7WzA1bYc", "app.classnook.com", "crawl", expires_in_days=400)
    data = audit(vid, cookie("cn_vid", "Qw8eRt6yUi4oPa2sDf0g", "app.classnook.com", "control", expires_in_days=400))
    [finding] = judge(data, "IV.C-lifetime-over-maximum")
    assert finding.evidence.rows == {"cookies": [vid.row_id]}

Every builder returns a ``Recorded`` draft; ``audit`` gives each draft its row id (``draft.row_id``),
numbering each table from its own base (requests 1001…, cookies 2001…, storage 3001…) so evidence that
names a row of the wrong table cannot pass by accident.

Time: each phase has a fixed start and end (``PHASE_TIMES``); a cookie's ``expires_in_days`` counts from
the end of the phase it is recorded in, which is what the analysis measures a lifetime from
(lifetime = expires − phase end).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.analyze.analysis import AuditAnalysis
from crawler.analyze.audit_data import AuditData, Rec
from crawler.knowledge.lists import KnowledgeBundle, load_lists
from crawler.observations import (
    PHASES,
    ApiCallObs,
    CookieObs,
    PageObs,
    RequestObs,
    ScriptCookieWrite,
    StorageObs,
    WebSocketFrameObs,
)
from crawler.policy.base import RULES, Finding
from crawler.policy.pack import PolicyPack, load_pack
from crawler.store.writer import Store

# The audited vendor, its test student, and the clock ------------------------------------------------
VENDOR_URL = "https://app.classnook.com/"
VENDOR_HOST = "app.classnook.com"
PAGE_URL = VENDOR_URL + "home"
STUDENT = {
    "name": "Liam Novak",
    "email": "liam.novak@students.mps.test",
    "student_id": "4417209",
    "birth_date": "2012-11-23",
}

DAY = 86400.0
T0 = 1_700_000_000.0  # 2023-11-14: an audit recorded long before it is judged; phases last ten minutes, in order
PHASE_TIMES: dict[str, tuple[float, float]] = {
    phase: (T0 + i * 600.0, T0 + i * 600.0 + 540.0) for i, phase in enumerate(PHASES)
}

ROW_BASE = {
    "requests": 1001,
    "cookies": 2001,
    "storage": 3001,
    "script_writes": 4001,
    "pages": 5001,
    "api_calls": 6001,
    "websocket_frames": 7001,
}


@dataclass
class Recorded:
    """An observation waiting for its row id (``audit`` assigns it)."""

    table: str  # requests | cookies | storage | script_writes | pages | api_calls | websocket_frames
    phase: str
    obs: Any
    row_id: int | None = field(default=None)

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"unknown phase {self.phase!r}; use one of {PHASES}")

    def rec(self) -> Rec:
        assert self.row_id is not None, "pass the observation to audit() first"
        return Rec(self.row_id, self.phase, self.obs)


def end_of(phase: str) -> float:
    return PHASE_TIMES[phase][1]


# Builders ---------------------------------------------------------------------------------------------
def cookie(
    name: str,
    value: str,
    domain: str,
    phase: str = "crawl",
    *,
    expires_in_days: float | None = None,
    path: str = "/",
    http_only: bool = False,
    secure: bool = True,
    same_site: str | None = "Lax",
    partition_key: str | None = None,
    set_by_kind: str | None = "header",
    set_by_url: str | None = None,
    host_only: bool | None = None,
) -> Recorded:
    """A cookie in the jar at the end of ``phase``; no ``expires_in_days`` makes a session cookie.

    ``domain`` with a leading dot is a domain cookie; ``set_by_url`` defaults to a response of the
    cookie's host (a Set-Cookie header)."""
    host = domain.lstrip(".")
    expires = None if expires_in_days is None else end_of(phase) + expires_in_days * DAY
    return Recorded(
        "cookies",
        phase,
        CookieObs(
            name=name,
            value=value,
            domain=domain,
            host_only=(not domain.startswith(".")) if host_only is None else host_only,
            path=path,
            expires=expires,
            session=expires is None,
            http_only=http_only,
            secure=secure,
            same_site=same_site,
            partition_key=partition_key,
            size=len(name) + len(value),
            source_scheme="Secure",
            set_by_kind=set_by_kind,
            set_by_url=set_by_url if set_by_url is not None else f"https://{host}/",
        ),
    )


def request(
    url: str,
    phase: str = "crawl",
    method: str = "GET",
    *,
    cookie_header: str | None = None,
    post_data: str | None = None,
    content_type: str | None = None,
    set_cookies: tuple[str, ...] | list[str] = (),
    referer: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    resource_type: str = "xhr",
    page_url: str | None = PAGE_URL,
    is_navigation: bool = False,
    status: int | None = 200,
    tls_protocol: str | None = "TLS 1.3",
    tls_cipher: str | None = "AES_256_GCM",
    initiator_url: str | None = None,
) -> Recorded:
    """One request as the network collector records it. ``scheme`` and ``host`` come from the URL; a plain
    HTTP request has no TLS details whatever is passed. The Cookie and Referer headers are also put in
    ``request_headers``, as Chromium reports them."""
    parts = urlsplit(url)
    request_headers = [("Accept", "*/*"), ("Host", parts.hostname or "")]
    if cookie_header is not None:
        request_headers.append(("Cookie", cookie_header))
    if referer is not None:
        request_headers.append(("Referer", referer))
    if post_data is not None:
        request_headers.append(("Content-Type", content_type or _guess_content_type(post_data)))
    request_headers += list(headers)
    encrypted = parts.scheme in ("https", "wss")
    return Recorded(
        "requests",
        phase,
        RequestObs(
            time=PHASE_TIMES[phase][0] + 1,
            method=method,
            url=url,
            host=parts.hostname or "",
            scheme=parts.scheme,
            resource_type="document" if is_navigation else resource_type,
            frame_url=page_url,
            page_url=page_url,
            is_navigation=is_navigation,
            from_service_worker=False,
            initiator_type="script" if initiator_url else None,
            initiator_url=initiator_url,
            request_headers=tuple(request_headers),
            cookie_header=cookie_header,
            referer=referer,
            post_data=post_data,
            status=status,
            response_headers=(),
            set_cookies=tuple(set_cookies),
            remote_address="127.0.0.1:443" if encrypted else "127.0.0.1:80",
            tls_protocol=tls_protocol if encrypted else None,
            tls_cipher=tls_cipher if encrypted else None,
            failure=None,
        ),
    )


def _guess_content_type(body: str) -> str:
    return "application/json" if body.lstrip().startswith(("{", "[")) else "application/x-www-form-urlencoded"


def storage(
    kind: str,
    origin: str,
    key: str,
    value: str | None,
    phase: str = "crawl",
    *,
    container: str | None = None,
    frame_url: str | None = None,
) -> Recorded:
    """A client-side storage item (localStorage, sessionStorage, indexedDB, cacheStorage, serviceWorker)."""
    return Recorded(
        "storage",
        phase,
        StorageObs(
            kind=kind,
            origin=origin,
            frame_url=frame_url or origin.rstrip("/") + "/",
            container=container,
            key=key,
            value=value,
            size=len(key) + len(value or ""),
        ),
    )


def script_write(cookie_string: str, phase: str = "crawl", *, script_url: str, frame_url: str = PAGE_URL) -> Recorded:
    """A ``document.cookie`` assignment seen by the instrumentation script."""
    return Recorded(
        "script_writes",
        phase,
        ScriptCookieWrite(
            time=PHASE_TIMES[phase][0] + 2,
            frame_url=frame_url,
            script_url=script_url,
            cookie_string=cookie_string,
        ),
    )


def api_call(
    api: str,
    detail: str | None = None,
    phase: str = "crawl",
    *,
    script_url: str,
    target: str | None = None,
    frame_url: str = PAGE_URL,
    page_url: str = PAGE_URL,
) -> Recorded:
    """A call to a fingerprinting-prone JavaScript API seen by the instrumentation script."""
    return Recorded(
        "api_calls",
        phase,
        ApiCallObs(
            time=PHASE_TIMES[phase][0] + 3,
            page_url=page_url,
            frame_url=frame_url,
            script_url=script_url,
            api=api,
            target=target,
            detail=detail,
        ),
    )


def websocket_frame(
    socket_url: str,
    payload: str,
    phase: str = "crawl",
    *,
    direction: str = "sent",
    initiator_url: str | None = None,
    page_url: str = PAGE_URL,
) -> Recorded:
    """A text frame a page sent (or received) over a WebSocket."""
    return Recorded(
        "websocket_frames",
        phase,
        WebSocketFrameObs(
            time=PHASE_TIMES[phase][0] + 4,
            socket_url=socket_url,
            host=urlsplit(socket_url).hostname or "",
            page_url=page_url,
            frame_url=page_url,
            initiator_url=initiator_url,
            direction=direction,
            opcode="text",
            payload=payload,
            size=len(payload),
            truncated=False,
        ),
    )


def page(
    url: str = PAGE_URL, phase: str = "crawl", *, depth: int = 0, status: int = 200, visible_text: str | None = None
) -> Recorded:
    start = PHASE_TIMES[phase][0]
    return Recorded(
        "pages",
        phase,
        PageObs(
            url=url,
            final_url=url,
            status=status,
            title=None,
            depth=depth,
            started=start,
            finished=start + 1,
            screenshot=None,
            screenshot_sha256=None,
            error=None,
            visible_text=visible_text,
        ),
    )


def audit(
    *observations: Recorded,
    start_url: str = VENDOR_URL,
    first_party: tuple[str, ...] = (),
    remember_cookies: tuple[str, ...] = (),
    pii: dict[str, str] | None = None,
    account: str = "student",
    vendor_id: str = "classnook",
    phases: tuple[str, ...] = (),
) -> AuditData:
    """One vendor × account audit of the given observations, in the order given within each table.

    Phase times are recorded for every phase an observation is in, plus ``phases`` (a phase that ran but
    left nothing, e.g. a respawn phase whose jar is empty)."""
    counters = {table: itertools.count(base) for table, base in ROW_BASE.items()}
    data = AuditData(
        run_id=1,
        vendor_id=vendor_id,
        vendor_name="ClassNook",
        account=account,
        start_url=start_url,
        first_party=tuple(first_party),
        remember_cookies=tuple(remember_cookies),
        pii=dict(STUDENT if pii is None else pii),
        login_outcome="success",
    )
    for item in observations:
        if item.row_id is not None:
            raise ValueError(f"{item.obs!r} is already in an audit (row {item.row_id})")
        item.row_id = next(counters[item.table])
        getattr(data, item.table).append(item.rec())
    for phase in PHASES:
        if phase in phases or any(item.phase == phase for item in observations):
            data.phase_times[phase] = PHASE_TIMES[phase]
    return data


# Judging ----------------------------------------------------------------------------------------------
@functools.cache
def knowledge() -> KnowledgeBundle:
    """The built-in knowledge only (no cached public lists, no network)."""
    return load_lists(None)[0]


@functools.cache
def district_pack() -> PolicyPack:
    """policies/mps-7400.1.toml, loaded once."""
    return load_pack()


def analyse(data: AuditData, pack: PolicyPack | str | Path | None = None) -> AuditAnalysis:
    return AuditAnalysis(data, knowledge(), _pack(pack).parameters)


def judge(
    data: AuditData, rule_id: str, *, pack: PolicyPack | str | Path | None = None, **params: Any
) -> list[Finding]:
    """Run one rule of a pack (the district's by default) on an audit and list its findings.

    Keyword ``params`` override that rule's parameters (as a pack's ``params`` table would)."""
    policy = _pack(pack)
    configured = next((r for r in policy.rules if r.id == rule_id), None)
    if configured is None:
        raise KeyError(f"{rule_id} is not enabled in the pack {policy.path}; rules: {sorted(RULES)}")
    rule = RULES[rule_id](configured.severity, {**configured.params, **params}) if params else configured
    return list(rule.check(AuditAnalysis(data, knowledge(), policy.parameters)))


def judge_cited(data: AuditData, rule_id: str, *, pack: PolicyPack | str | Path | None = None) -> list[Finding]:
    """One rule's findings as the engine stores them: each under every clause the pack cites the rule under."""
    policy = _pack(pack)
    rule = next(r for r in policy.rules if r.id == rule_id)
    return list(rule.cited(AuditAnalysis(data, knowledge(), policy.parameters)))


def _pack(pack: PolicyPack | str | Path | None) -> PolicyPack:
    if pack is None:
        return district_pack()
    return pack if isinstance(pack, PolicyPack) else load_pack(pack)


def only(findings: list[Finding], subject: str | None = None) -> Finding:
    """The one finding (about ``subject``, if given); fails listing what there was otherwise."""
    chosen = [f for f in findings if subject is None or f.subject == subject]
    assert len(chosen) == 1, f"expected one finding{' about ' + subject if subject else ''}, got " + repr(
        [(f.subject, f.message) for f in findings]
    )
    return chosen[0]


def record_run(store: Store, audits: dict[str, list[Recorded]], started_at: str) -> int:
    """A complete scheduled run in ``store``, with one complete audit per vendor of ``audits`` (vendor id → its
    recorded observations), as the audit would have written it."""
    run_id = store.start_run("audit", "trackaudit audit", policy_name="MPS 7400.1")
    store.update("runs", run_id, {"started_at": started_at})
    for vendor_id, observations in audits.items():
        sink = store.start_audit(run_id, vendor_id, "student", "liam", pii=STUDENT)
        for phase in dict.fromkeys(item.phase for item in observations):
            store.insert(
                "phases",
                {
                    "audit_id": sink.audit_id,
                    "run_id": run_id,
                    "vendor_id": vendor_id,
                    "account": "student",
                    "phase": phase,
                    "started_at": PHASE_TIMES[phase][0],
                    "finished_at": PHASE_TIMES[phase][1],
                    "outcome": "complete",
                },
            )
        for item in observations:
            sink.add(item.obs, item.phase)
        sink.finish("complete", login_outcome="success")
    store.finish_run(run_id, "complete")
    return run_id
