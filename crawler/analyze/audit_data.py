"""One vendor × account audit read back from the store: the recorded observations analysis works on.

The analyzers take ``AuditData`` (observation dataclasses), never the database; ``load_audits`` builds it from
what the read model (``store.queries``) returns."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..observations import (
    ApiCallObs,
    CnameChainObs,
    CookieObs,
    PageObs,
    PhaseResult,
    RequestObs,
    RetentionCookieObs,
    ScriptCookieWrite,
    StorageObs,
    WebSocketFrameObs,
)
from ..store import queries
from ..store.writer import Store

T = TypeVar("T")
BEFORE_RESTART = ("login", "crawl")  # the logged-in audit, before the browser is closed
AFTER_CONTROL = ("login", "crawl", "reconnect", "logout", "respawn")
# Later phases first, then the pre-restart ones with the crawl last: the sighting that describes an item is
# its latest one before the restart, else its first one after.
SIGHTING_ORDER = ("respawn", "logout", "reconnect", "login", "crawl")
# A post-termination check: fresh profiles whose cookies were set by the service now, not replayed.
REMOVAL_FRESH = ("removal-login", "removal-public")


@dataclass(frozen=True)
class Rec(Generic[T]):
    """An observation with the row it came from, so findings can point at their evidence."""

    row_id: int
    phase: str
    obs: T


@dataclass
class AuditData:
    run_id: int
    vendor_id: str
    vendor_name: str
    account: str
    start_url: str
    first_party: tuple[str, ...] = ()
    remember_cookies: tuple[str, ...] = ()
    pii: dict[str, str] = field(default_factory=dict)
    canaries: dict[str, str] = field(default_factory=dict)  # what the behaviour probes typed and planted
    login_outcome: str | None = None
    requests: list[Rec[RequestObs]] = field(default_factory=list)
    cookies: list[Rec[CookieObs]] = field(default_factory=list)
    storage: list[Rec[StorageObs]] = field(default_factory=list)
    pages: list[Rec[PageObs]] = field(default_factory=list)
    script_writes: list[Rec[ScriptCookieWrite]] = field(default_factory=list)
    api_calls: list[Rec[ApiCallObs]] = field(default_factory=list)
    cname_chains: list[Rec[CnameChainObs]] = field(default_factory=list)
    retention: list[Rec[RetentionCookieObs]] = field(default_factory=list)  # cookies tested for keeping the login
    websocket_frames: list[Rec[WebSocketFrameObs]] = field(default_factory=list)
    phase_times: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    phase_results: dict[str, PhaseResult] = field(default_factory=dict)

    @property
    def is_removal_check(self) -> bool:
        return any(phase.startswith("removal-") for phase in self.phase_times)

    def phases(self) -> set[str]:
        return {r.phase for r in self.cookies} | {r.phase for r in self.requests} | set(self.phase_times)

    def requests_in(self, *phases: str) -> list[Rec[RequestObs]]:
        return [r for r in self.requests if r.phase in phases]

    def cookies_in(self, *phases: str) -> list[Rec[CookieObs]]:
        return [r for r in self.cookies if r.phase in phases]

    def storage_in(self, *phases: str) -> list[Rec[StorageObs]]:
        return [r for r in self.storage if r.phase in phases]

    def cookie_jar(self, phase: str) -> dict[tuple[str, str, str], Rec[CookieObs]]:
        """The jar at the end of a phase, keyed by (name, domain, path)."""
        return {(r.obs.name, r.obs.domain, r.obs.path): r for r in self.cookies_in(phase)}

    def audited_cookies(self) -> dict[tuple[str, str, str], Rec[CookieObs]]:
        """Every cookie of the audited profile, as first seen before the restart when it was."""
        jar: dict[tuple[str, str, str], Rec[CookieObs]] = {}
        for phase in SIGHTING_ORDER:
            jar.update(self.cookie_jar(phase))
        if not jar:  # a post-termination check, or a site that never loaded again after the control
            for phase in ("control", *REMOVAL_FRESH):
                jar.update(self.cookie_jar(phase))
        return jar

    @property
    def started(self) -> float | None:
        """When the audit began: the clock its own timestamps are judged against."""
        starts = [start for start, _ in self.phase_times.values() if start]
        return min(starts) if starts else None

    def phase_end(self, phase: str) -> float | None:
        times = self.phase_times.get(phase)
        return (times[1] or times[0]) if times else None


def load_audits(store: Store, run_id: int, vendor_id: str | None = None) -> list[AuditData]:
    """Every vendor × account audit of a run (optionally of one vendor), as the store recorded it."""
    return [_audit_data(run_id, recorded) for recorded in queries.stored_audits(store, run_id, vendor_id)]


def _audit_data(run_id: int, recorded: queries.StoredAudit) -> AuditData:
    audit, vendor = recorded.audit, recorded.vendor
    data = AuditData(
        run_id=run_id,
        vendor_id=audit["vendor_id"],
        vendor_name=vendor["name"],
        account=audit["account"],
        start_url=vendor["start_url"],
        first_party=tuple(json.loads(vendor["first_party"] or "[]")),
        remember_cookies=tuple(json.loads(vendor["remember_cookies"] or "[]")),
        pii=json.loads(audit["pii"] or "{}"),
        login_outcome=audit["login_outcome"],
        canaries=json.loads(audit.get("canaries") or "{}"),
    )
    for obs_type, target in (
        (RequestObs, data.requests),
        (CookieObs, data.cookies),
        (StorageObs, data.storage),
        (PageObs, data.pages),
        (ScriptCookieWrite, data.script_writes),
        (ApiCallObs, data.api_calls),
        (CnameChainObs, data.cname_chains),
        (RetentionCookieObs, data.retention),
        (WebSocketFrameObs, data.websocket_frames),
    ):
        target.extend(Rec(row_id, phase, obs) for row_id, phase, obs in recorded.observations[obs_type])
    for phase in recorded.phases:
        data.phase_times[phase["phase"]] = (phase["started_at"], phase["finished_at"])
        if phase.get("result"):
            data.phase_results[phase["phase"]] = PhaseResult(phase["result"], phase["result_url"], phase["message"])
    return data
