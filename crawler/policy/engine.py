"""Judge a run: analyse each vendor × account audit, apply the pack's rules, store the findings."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..analyze.analysis import AuditAnalysis
from ..analyze.audit_data import load_audits
from ..knowledge.lists import KnowledgeBundle
from ..store import Store
from .base import Finding
from .pack import PolicyPack


@dataclass(frozen=True)
class Judgement:
    vendor_id: str
    findings: tuple[Finding, ...]

    @property
    def violations(self) -> int:
        return sum(1 for f in self.findings if f.severity == "violation")


def judge_run(store: Store, run_id: int, pack: PolicyPack, knowledge: KnowledgeBundle,
              vendor_id: str | None = None) -> list[Judgement]:
    """Findings for every vendor of a run, written to ``findings`` (replacing earlier ones for that run)."""
    by_vendor: dict[str, list[Finding]] = {}
    for data in load_audits(store, run_id, vendor_id):
        analysis = AuditAnalysis(data, knowledge, pack.parameters)
        findings = by_vendor.setdefault(data.vendor_id, [])
        for rule in pack.rules:
            try:
                findings.extend(rule.check(analysis))
            except Exception as exc:  # one broken rule must not hide the others' findings
                store.insert("errors", {"run_id": run_id, "vendor_id": data.vendor_id, "account": data.account,
                                        "phase": "judge", "time": time.time(), "source": f"rule {rule.id}",
                                        "message": f"{type(exc).__name__}: {exc}"[:2000]})
    judgements = []
    for vid, findings in by_vendor.items():
        store.replace_findings(run_id, vid, [f.as_row() for f in findings])
        judgements.append(Judgement(vid, tuple(findings)))
    return judgements
