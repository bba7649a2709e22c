"""One run: audits the chosen vendors × accounts concurrently, streams everything into the store,
and leaves the run marked complete, incomplete (cut off) or failed (nothing could be audited)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field, replace

from playwright.async_api import async_playwright

from ..browse.browser import LaunchSettings
from ..browse.protocol import Credentials, VendorAudit
from ..config import Account, Config, ConfigError, Vendor, resolve_secret
from ..interrupts import run_until_interrupted
from ..observations import CookieObs, StorageObs
from ..policy.engine import Judgement
from ..policy.judge import Judge
from ..policy.verdict import Verdict, candidate_verdict, removal_verdict, scheduled_verdict
from ..progress import Progress
from ..report.datasette import write_datasette_metadata
from ..store.seal import write_manifest
from ..store.writer import Store
from .cname import record_cname_chains
from .removal import RemovalCheck, logout_caveat


@dataclass(frozen=True)
class AuditResult:
    vendor_id: str
    account: str
    status: str  # complete | failed | timeout
    login_outcome: str
    message: str | None = None
    gaps: tuple[str, ...] = ()  # why the audit is incomplete (crawler.coverage); empty when it saw what it had to


@dataclass
class RunResult:
    run_id: int
    status: str
    audits: list[AuditResult] = field(default_factory=list)
    judgements: list[Judgement] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)

    @property
    def violations(self) -> int:
        return sum(j.violations for j in self.judgements)

    @property
    def incomplete(self) -> bool:
        """Whether any audit of the run could not see what it had to: the run must not reassure."""
        return any(a.gaps for a in self.audits)


@dataclass(frozen=True)
class Target:
    vendor: Vendor
    account: Account | None
    credentials: Credentials | None
    saved_cookies: tuple[CookieObs, ...] = ()  # a post-termination check replays what the last audit left
    saved_storage: tuple[StorageObs, ...] = ()


def targets_for(config: Config, vendors: list[Vendor], secrets: dict[str, str] | None = None) -> list[Target]:
    """Every vendor × account to audit; a vendor without accounts is audited anonymously (public pages)."""
    targets = []
    for vendor in vendors:
        if not vendor.accounts:
            targets.append(Target(vendor, None, None))
        for i, account in enumerate(vendor.accounts):
            password = resolve_secret(account.password_env, secrets)
            if password is None:
                raise ConfigError(
                    config.path,
                    f"vendors[{config.vendors.index(vendor)}].accounts[{i}].password_env",
                    f"the environment variable {account.password_env} is not set",
                    f"export {account.password_env}=... (or pass --secrets FILE) before running",
                )
            totp_secret = resolve_secret(account.totp_secret_env, secrets)
            targets.append(Target(vendor, account, Credentials(account.username, password, totp_secret)))
    return targets


def run_audit(
    store: Store,
    settings: LaunchSettings,
    targets: list[Target],
    mode: str,
    command: str,
    config: Config | None = None,
    judge: Judge | None = None,
    concurrency: int = 2,
    progress: Progress | None = None,
) -> RunResult:
    """Audit every target, judge the run when a judge is given, and record how the run ended."""
    for target in targets:
        if target.credentials:
            store.redactor.add(target.credentials.password)
    run_id = store.start_run(
        mode,
        command,
        config_path=config.path if config else None,
        config_hash=config.sha256 if config else None,
        policy_name=judge.pack.id if judge else None,
        policy_hash=judge.pack.sha256 if judge else None,
        lists=judge.provenance() if judge else None,
    )
    result = RunResult(run_id, "running")
    try:
        with progress or Progress() as shown:
            result.audits = run_until_interrupted(
                _audit_all(store, settings, targets, run_id, mode, concurrency, shown)
            )
        result.audits = _record_cname_chains(store, run_id, settings.dns_resolver, result.audits)
        failed = bool(result.audits) and all(a.status == "failed" for a in result.audits)
        if judge and not failed:
            _judge_and_record_verdicts(store, judge, mode, targets, result)
    except BaseException as exc:
        store.interrupt_run(run_id, "the run was interrupted before every vendor was audited and judged")
        result.status = "incomplete"
        _seal(store, run_id)
        # The command line names the run it leaves incomplete (any exception may get here: an attribute, read
        # back with getattr).
        exc.run_id = run_id  # type: ignore[attr-defined]
        raise
    result.status = "failed" if failed else "complete"
    store.finish_run(
        run_id,
        result.status,
        "no vendor could be audited" if failed else None,
        verdict=_verdict(result) if judge and not failed else None,
    )
    _seal(store, run_id)
    return result


def _record_cname_chains(
    store: Store, run_id: int, dns_resolver: str | None, audits: list[AuditResult]
) -> list[AuditResult]:
    """The first-party hosts' CNAME chains, asked after the browsing so DNS never slows an audit down. An audit
    whose first-party hosts could not all be looked up is incomplete: cloaking was not ruled out."""
    try:
        lookups = record_cname_chains(store, run_id, dns_resolver)
        gaps = {(a.vendor_id, a.account): lookups.gap(a.vendor_id, a.account) for a in audits}
    except Exception as exc:  # noqa: BLE001 - a lookup step that fails is an error row and a gap, never a crash
        message = f"the CNAME chains could not be looked up: {type(exc).__name__}: {exc}"
        store.insert(
            "errors", {"run_id": run_id, "phase": "cname", "time": time.time(), "source": "cname", "message": message}
        )
        gaps = {(a.vendor_id, a.account): message + " (CNAME cloaking could not be ruled out)" for a in audits}
    updated = []
    for audit in audits:
        gap = gaps.get((audit.vendor_id, audit.account))
        if gap and audit.status != "failed":
            audit = replace(audit, gaps=(*audit.gaps, gap))
            store.mark_audit_incomplete(run_id, audit.vendor_id, audit.account, "; ".join(audit.gaps))
        updated.append(audit)
    return updated


def _seal(store: Store, run_id: int) -> None:
    """The evidence manifest, written last: it seals the artefacts and the run's rows as they now are. The
    Datasette metadata beside the database is refreshed too."""
    try:
        write_manifest(store, run_id)
        write_datasette_metadata(store)
    except OSError as exc:
        store.insert(
            "errors",
            {
                "run_id": run_id,
                "phase": "seal",
                "time": time.time(),
                "source": "evidence",
                "message": f"the evidence manifest could not be written: {exc}",
            },
        )


def _judge_and_record_verdicts(store: Store, judge: Judge, mode: str, targets: list[Target], result: RunResult) -> None:
    """Judge the run vendor by vendor and record each verdict as its vendor is judged; the result keeps the
    findings, not the analyses, so judging a run of hundreds of vendors holds the evidence of two at most."""
    vendors = {t.vendor.id: t.vendor for t in targets}
    for judgement in judge.judge_each(store, result.run_id, compare_with_previous=mode in ("audit", "demo")):
        verdict = _vendor_verdict(store, mode, vendors[judgement.vendor_id], judgement, result.audits)
        result.verdicts[judgement.vendor_id] = verdict
        store.save_verdict(
            result.run_id,
            judgement.vendor_id,
            verdict.job,
            verdict.verdict,
            list(verdict.reasons),
            judgement.baseline_run_id,
        )
        result.judgements.append(replace(judgement, analyses=()))


def _vendor_verdict(
    store: Store, mode: str, vendor: Vendor, judgement: Judgement, audits: list[AuditResult]
) -> Verdict:
    problems, gaps = [], []
    mine = [a for a in audits if a.vendor_id == vendor.id]
    for audit in mine:
        prefix = f"account {audit.account}: " if len(mine) > 1 else ""
        gaps += [prefix + gap for gap in audit.gaps]
    for analysis in judgement.analyses:
        # A page that failed and then loaded in the same phase (visited again alone after it was lost beside
        # other tabs) was seen: only what never loaded is a problem.
        loaded = {(p.phase, p.obs.url) for p in analysis.data.pages if not p.obs.error}
        failed = [p.obs.url for p in analysis.data.pages if p.obs.error and (p.phase, p.obs.url) not in loaded]
        if failed:
            problems.append(
                f"{len(failed)} of {len(analysis.data.pages)} page visits of account {analysis.data.account} "
                f"failed (see the errors table), e.g. {failed[0]}"
            )
    if mode == "verify-removal":
        baseline = judgement.analyses[0].baseline_run if judgement.analyses else None
        caveat = logout_caveat(store, vendor.id, baseline["run_id"] if baseline else None)
        if caveat:
            problems.append(caveat)
        return removal_verdict(list(judgement.findings), problems, baseline, gaps)
    if mode == "scan" or vendor.status == "candidate":
        return candidate_verdict(list(judgement.findings), judgement.analyses, problems, gaps)
    return scheduled_verdict(list(judgement.findings), problems, gaps)


def _verdict(result: RunResult) -> str:
    return "; ".join(f"{vendor_id}: {verdict.verdict}" for vendor_id, verdict in sorted(result.verdicts.items()))


async def _audit_all(
    store: Store,
    settings: LaunchSettings,
    targets: list[Target],
    run_id: int,
    mode: str,
    concurrency: int,
    progress: Progress,
) -> list[AuditResult]:
    semaphore = asyncio.Semaphore(max(1, concurrency))
    async with async_playwright() as playwright:

        async def one(target: Target) -> AuditResult:
            async with semaphore:
                return await _audit_one(playwright, store, settings, target, run_id, mode, progress)

        # The costliest audits (most pages) start first, so that a run does not end with a long audit running
        # alone; equal ones keep the config's order. Results come back in the config's order.
        audits = {id(t): asyncio.ensure_future(one(t)) for t in sorted(targets, key=lambda t: -t.vendor.max_pages)}
        return list(await asyncio.gather(*(audits[id(t)] for t in targets)))


async def _audit_one(
    playwright, store: Store, settings: LaunchSettings, target: Target, run_id: int, mode: str, progress: Progress
) -> AuditResult:
    vendor, account = target.vendor, target.account
    account_id = account.id if account else "anonymous"
    store.upsert_vendor(vendor)
    sink = store.start_audit(
        run_id, vendor.id, account_id, account.username if account else None, account.pii if account else None
    )
    key = f"{vendor.id} ({account_id})"
    progress.audit_started(key, vendor.start_url, expected_pages=vendor.max_pages + 8)
    audit: VendorAudit
    if mode == "verify-removal":
        audit = RemovalCheck(
            playwright,
            settings,
            vendor,
            account,
            target.credentials,
            sink,
            store.artefacts_dir,
            progress=progress,
            saved_cookies=target.saved_cookies,
            saved_storage=target.saved_storage,
        )
    else:
        audit = VendorAudit(
            playwright, settings, vendor, account, target.credentials, sink, store.artefacts_dir, progress=progress
        )
    status, message, login_outcome = "complete", None, "not configured"
    try:
        login_outcome = await asyncio.wait_for(audit.run(), settings.vendor_timeout_s)
    except TimeoutError:
        status, message = "timeout", f"the audit did not finish within {settings.vendor_timeout_s:.0f} s"
        sink.error("protocol", message)
    except Exception as exc:
        status, message = (
            "failed",
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
        )
        sink.error("protocol", message)
    if audit.login_result:
        login_outcome = audit.login_result.outcome
    coverage = audit.coverage
    gaps = coverage.gaps()
    if unkept := audit.state.unkept_gap():
        gaps.append(unkept)
    if status != "complete":
        gaps.insert(0, f"the audit did not finish ({status}: {message})")
    sink.finish(
        status,
        login_outcome=login_outcome,
        pages_visited=audit.pages_visited,
        login_message=audit.login_result.message if audit.login_result else None,
        coverage=json.dumps(coverage.to_json(), ensure_ascii=False),
        incomplete="; ".join(gaps) or None,
    )
    progress.audit_finished(
        key, f"{status}, login {login_outcome}, {audit.pages_visited} pages" + (", INCOMPLETE" if gaps else "")
    )
    return AuditResult(vendor.id, account_id, status, login_outcome, message, tuple(gaps))
