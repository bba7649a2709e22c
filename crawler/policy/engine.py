"""Judge a run: analyse each vendor × account audit, apply the pack's rules, compare with the vendor's
previous complete audit, store the findings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from ..analyze.analysis import AuditAnalysis
from ..analyze.audit_data import load_audits
from ..analyze.inventory import Change, changes_between, inventory_of
from ..knowledge.lists import KnowledgeBundle
from ..store import queries
from ..store.writer import Store
from .base import Finding
from .evidence import ChangeEvidence
from .pack import PolicyPack

SEVERITY_RANK = {"violation": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Judgement:
    vendor_id: str
    findings: tuple[Finding, ...]
    baseline_run_id: int | None = None
    analyses: tuple[AuditAnalysis, ...] = ()

    @property
    def violations(self) -> int:
        return sum(1 for f in self.findings if f.severity == "violation")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def analyse_run(
    store: Store, run_id: int, pack: PolicyPack, knowledge: KnowledgeBundle, vendor_id: str | None = None
) -> dict[str, list[AuditAnalysis]]:
    """The analyses of a run's audits, by vendor."""
    by_vendor: dict[str, list[AuditAnalysis]] = {}
    for data in load_audits(store, run_id, vendor_id):
        by_vendor.setdefault(data.vendor_id, []).append(AuditAnalysis(data, knowledge, pack.parameters))
    return by_vendor


def judge_vendors(
    store: Store,
    run_id: int,
    pack: PolicyPack,
    knowledge: KnowledgeBundle,
    vendor_id: str | None = None,
    compare_with_previous: bool = False,
) -> Iterator[Judgement]:
    """Findings for every vendor of a run, written to ``findings`` (replacing earlier ones for that run), one
    vendor at a time: a vendor's audits are loaded, analysed and judged, and its findings written, before the
    next vendor's are loaded, so a run of hundreds of vendors is judged holding the evidence of one vendor, and
    of the one before while its judgement is in the caller's hands (a caller that keeps the judgements drops
    their analyses).

    A post-termination check is judged against the vendor's last complete audit (its baseline); so is a
    scheduled audit when ``compare_with_previous``, whose changes since then become findings too."""
    for vendor in queries.audited_vendors(store, run_id, vendor_id):
        vid = vendor["id"]
        analyses = analyse_run(store, run_id, pack, knowledge, vid).get(vid)
        if analyses:
            yield _judge_vendor(store, run_id, vid, analyses, pack, knowledge, compare_with_previous)


def _judge_vendor(
    store: Store,
    run_id: int,
    vid: str,
    analyses: list[AuditAnalysis],
    pack: PolicyPack,
    knowledge: KnowledgeBundle,
    compare_with_previous: bool,
) -> Judgement:
    removal_check = any(a.data.is_removal_check for a in analyses)
    baseline = (
        queries.last_complete_audit(store, vid, before_run=run_id) if compare_with_previous or removal_check else None
    )
    if baseline:
        previous = analyse_run(store, baseline["run_id"], pack, knowledge, vid).get(vid, [])
        for analysis in analyses:
            analysis.baseline, analysis.baseline_run = previous, baseline
    findings: list[Finding] = []
    for analysis in analyses:
        for rule in pack.rules:
            if rule.judges_removal_check != analysis.data.is_removal_check:
                continue
            try:
                findings.extend(rule.cited(analysis))
            except Exception as exc:  # one broken rule must not hide the others' findings
                store.insert(
                    "errors",
                    {
                        "run_id": run_id,
                        "vendor_id": vid,
                        "account": analysis.data.account,
                        "phase": "judge",
                        "time": time.time(),
                        "source": f"rule {rule.id}",
                        "message": f"{type(exc).__name__}: {exc}"[:2000],
                    },
                )
    if baseline and compare_with_previous:
        changes = changes_between(inventory_of(previous), inventory_of(analyses))
        findings += [change_finding(c, findings, baseline["run_id"], baseline["started_at"]) for c in changes]
    store.replace_findings(run_id, vid, [f.as_row() for f in findings])
    return Judgement(vid, tuple(findings), baseline["run_id"] if baseline else None, tuple(analyses))


# How a change's key names what it is about, as evidence names it (Evidence.subject_keys).
CHANGE_SUBJECT_KEYS = {"third-party host": "host", "tracker": "host", "cookie": "cookie"}


def change_subject_keys(change: Change) -> set[tuple[str, str]]:
    if change.kind == "PII flow":  # "email to Google": the receiving organisation
        return {("entity", change.key.split(" to ")[-1])}
    if change.kind in CHANGE_SUBJECT_KEYS:
        return {(CHANGE_SUBJECT_KEYS[change.kind], change.key)}
    return set()


def related_findings(change: Change, findings: list[Finding]) -> list[Finding]:
    """This run's findings about what changed: same subject, or evidence about the same host, cookie or
    organisation."""
    keys = change_subject_keys(change)
    return [f for f in findings if f.subject == change.subject or keys & f.evidence.subject_keys()]


def change_finding(change: Change, findings: list[Finding], baseline_run: int, baseline_date: str) -> Finding:
    """A change since the previous audit: ``info`` when something vanished; when something is new, the
    severity of the most severe finding about it in this run, at least ``warning``."""
    related = related_findings(change, findings)
    if change.status == "vanished":
        severity = "info"
    else:
        severity = min(["warning", *(f.severity for f in related)], key=SEVERITY_RANK.__getitem__)
    what = f"{change.kind} {change.key} ({change.description})"
    if change.status == "new":
        message = f"New since the previous audit (run {baseline_run}, {baseline_date}): {what}." + (
            f" It is also judged under {', '.join(sorted({f.clause for f in related}))}." if related else ""
        )
    else:
        message = f"Gone since the previous audit (run {baseline_run}, {baseline_date}): {what}."
    evidence = ChangeEvidence(
        {},
        previous_run_id=baseline_run,
        change=change.status,
        what=change.kind,
        key=change.key,
        related_rules=tuple(sorted({f.rule_id for f in related})),
        related=tuple(sorted({(f.rule_id, f.subject) for f in related})),
    )
    return Finding(
        f"baseline.{change.status}-{change.kind.lower().replace(' ', '-')}",
        change.clause,
        severity,
        change.subject,
        message,
        evidence,
    )
