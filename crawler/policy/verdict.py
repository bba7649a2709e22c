"""The verdict each job ends in, with its reasons in plain words."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..analyze.analysis import AuditAnalysis
from .base import Finding

APPROVE, DO_NOT_APPROVE, NEEDS_REVIEW = "approve", "do not approve", "needs review"
REMOVAL_VERIFIED, REMOVAL_NOT_VERIFIED = "removal verified", "removal not verified"
COMPLIANT, VIOLATIONS, WARNINGS = "compliant", "violations found", "warnings only"
# An audit that could not see what it had to never gets an assuring verdict; what it did see is still reported.
INCOMPLETE = "incomplete"
INCOMPLETE_SUFFIX = " — audit incomplete"


def incomplete_reasons(gaps: Iterable[str]) -> list[str]:
    return [f"audit incomplete: {gap}" for gap in gaps]


@dataclass(frozen=True)
class Verdict:
    job: str
    verdict: str
    reasons: tuple[str, ...]


def _reason(finding: Finding) -> str:
    return f"{finding.severity} under {finding.clause}: {finding.subject} ({finding.rule_id})"


def _tls_reasons(analyses: Iterable[AuditAnalysis]) -> list[str]:
    seen: dict[str, set[str]] = {}
    for analysis in analyses:
        for rec in analysis.data.requests:
            request = rec.obs
            if analysis.same_site(request.host) and request.tls_protocol and request.tls_cipher:
                seen.setdefault(request.host, set()).add(f"{request.tls_protocol} {request.tls_cipher}")
            elif analysis.same_site(request.host) and request.scheme == "http":
                seen.setdefault(request.host, set()).add("plain HTTP")
    return [f"TLS on {host}: {', '.join(sorted(kinds))}" for host, kinds in sorted(seen.items())]


def _form_reasons(analyses: Iterable[AuditAnalysis]) -> list[str]:
    """What the service's forms ask a student for (sign-up pages especially: COPPA consent territory)."""
    asked: dict[str, set[str]] = {}
    for analysis in analyses:
        for rec in analysis.data.pages:
            for form in rec.obs.forms:
                personal = set(form.get("asks_for", [])) - {"password", "username"}
                if personal:
                    asked.setdefault(rec.obs.final_url or rec.obs.url, set()).update(form["asks_for"])
    return [f"a form on {url} asks for: {', '.join(sorted(kinds))}" for url, kinds in sorted(asked.items())]


def candidate_verdict(
    findings: list[Finding], analyses: Iterable[AuditAnalysis], problems: list[str], gaps: Sequence[str] = ()
) -> Verdict:
    """Pre-approval: any violation says do not approve; warnings, or an audit that did not fully run, need
    review; otherwise approve. An incomplete audit is never approved. Reasons name clauses, trackers,
    persistent identifiers and TLS."""
    violations = [f for f in findings if f.severity == "violation"]
    warnings = [f for f in findings if f.severity == "warning"]
    reasons = [_reason(f) for f in violations + warnings] + problems + _tls_reasons(analyses) + _form_reasons(analyses)
    if gaps:
        verdict = DO_NOT_APPROVE + INCOMPLETE_SUFFIX if violations else INCOMPLETE
        return Verdict("pre-approval", verdict, tuple(incomplete_reasons(gaps) + reasons))
    if violations:
        verdict = DO_NOT_APPROVE
    elif warnings or problems:
        verdict = NEEDS_REVIEW
    else:
        verdict = APPROVE
        reasons.insert(0, "no violation and no warning under the policy pack")
    return Verdict("pre-approval", verdict, tuple(reasons))


def scheduled_verdict(findings: list[Finding], problems: list[str], gaps: Sequence[str] = ()) -> Verdict:
    """Compliant, warnings only or violations found; an incomplete audit is "incomplete" (or "violations found
    — audit incomplete"), never compliant or warnings only."""
    violations = [f for f in findings if f.severity == "violation"]
    warnings = [f for f in findings if f.severity == "warning"]
    reasons = [_reason(f) for f in violations + warnings] + problems
    if gaps:
        verdict = VIOLATIONS + INCOMPLETE_SUFFIX if violations else INCOMPLETE
        return Verdict("scheduled audit", verdict, tuple(incomplete_reasons(gaps) + reasons))
    verdict = VIOLATIONS if violations else WARNINGS if warnings or problems else COMPLIANT
    return Verdict("scheduled audit", verdict, tuple(reasons))


def removal_verdict(
    findings: list[Finding], problems: list[str], baseline_run: dict[str, Any] | None, gaps: Sequence[str] = ()
) -> Verdict:
    """Post-termination: verified only when no violation is left: the account does not log in, no tracker
    or identifier is served, and the old browser state is not recognised. A check that could not reach the
    site (network failures, a login page that never loaded) is incomplete, never verified."""
    violations = [f for f in findings if f.severity == "violation"]
    reasons = incomplete_reasons(gaps) + [_reason(f) for f in violations]
    reasons += [f.message for f in findings if f.severity == "info"]
    reasons += problems
    if baseline_run:
        reasons.append(
            f"compared with the last audit before termination: run {baseline_run['run_id']} "
            f"({baseline_run['started_at']})"
        )
    else:
        reasons.append("no earlier complete audit of this vendor in the database: nothing to compare with or replay")
    if gaps:
        verdict = REMOVAL_NOT_VERIFIED + INCOMPLETE_SUFFIX if violations else INCOMPLETE
        return Verdict("post-termination", verdict, tuple(reasons))
    if not violations:
        reasons.insert(
            0,
            "the account did not log in, no tracker or identifier was served, and the saved "
            "browser state was not recognised",
        )
    return Verdict("post-termination", REMOVAL_NOT_VERIFIED if violations else REMOVAL_VERIFIED, tuple(reasons))
