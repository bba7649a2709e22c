"""The run as one JSON document, schema ``trackaudit-report/1`` (crawler/report/schema/report-v1.json,
documented in docs/report-json.md). Additive changes keep the version; a removed or renamed field bumps it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .. import __version__
from .model import Report
from .wording import why

SCHEMA_PATH = Path(__file__).with_name("schema") / "report-v1.json"


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def report_document(report: Report) -> dict[str, Any]:
    run = report.run
    vendors = []
    for vendor in report.vendors:
        judged = report.judged_clauses(vendor)
        vendors.append(
            {
                "id": vendor.id,
                "name": vendor.name,
                "status": vendor.status,
                "start_url": vendor.start_url,
                "first_party": list(vendor.first_party),
                "remember_cookies": list(vendor.remember_cookies),
                "verdict": {
                    "job": vendor.verdict.job,
                    "verdict": vendor.verdict.verdict,
                    "reasons": list(vendor.verdict.reasons),
                    "baseline_run_id": vendor.verdict.baseline_run_id,
                },
                "counts": vendor.counts,
                "clauses": [
                    {
                        "clause": clause,
                        "judged": clause in judged,
                        "counts": counts,
                        "passed": clause in judged and counts.get("violation", 0) == 0,
                    }
                    for clause, counts in report.clause_counts(vendor).items()
                ],
                "audits": [asdict(a) for a in vendor.audits],
                "phases": [asdict(p) for p in vendor.phases],
                "requests": vendor.requests,
                "third_party_hosts": [asdict(h) for h in vendor.third_party_hosts],
                "persistent_cookies": [asdict(c) for c in vendor.cookies],
                "errors": [asdict(e) for e in vendor.errors],
                "pages": [asdict(p) for p in vendor.pages],
                "findings": [
                    {
                        "id": f.id,
                        "account": f.account,
                        "rule_id": f.rule_id,
                        "rule_title": f.rule_title,
                        "clause": f.clause,
                        "severity": f.severity,
                        "subject": f.subject,
                        "message": f.message,
                        "why": why(f.rule_id, f.clause) or None,
                        "evidence": f.evidence,
                        "rows": f.rows,
                        "page_ids": list(f.page_ids),
                        "created_at": f.created_at,
                    }
                    for f in vendor.findings
                ],
            }
        )
    manifest = None
    if report.manifest is not None:
        manifest = {
            "schema": report.manifest.schema,
            "created_at": report.manifest.created_at,
            "tool_version": report.manifest.tool_version,
            "database": report.manifest.database,
            "sha256": run.manifest_sha256,
            "artefacts": [asdict(a) for a in report.manifest.artefacts],
            "rows": {d.table: {"rows": d.rows, "sha256": d.sha256} for d in report.manifest.rows},
        }
    return {
        "schema": report.schema,
        "generated_at": report.generated_at,
        "generator": {"name": "trackaudit", "version": __version__},
        "database": report.database,
        "run": {
            "id": run.id,
            "mode": run.mode,
            "command": run.command,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "status": run.status,
            "tool_version": run.tool_version,
            "config_path": run.config_path,
            "config_hash": run.config_hash,
            "policy_name": run.policy_name,
            "policy_hash": run.policy_hash,
            "verdict": run.verdict,
            "message": run.message,
            "manifest_sha256": run.manifest_sha256,
            "lists": [asdict(item) for item in run.lists],
            "knowledge_warning": run.knowledge_warning,
        },
        "policy": {
            "id": report.policy.id,
            "name": report.policy.name,
            "version": report.policy.version,
            "sha256": report.policy.sha256,
            "parameters": dict(report.policy.parameters),
            "clauses": [asdict(c) for c in report.policy.clauses],
            "rules": [asdict(r) for r in report.policy.rules],
        },
        "summary": {
            "vendors": len(report.vendors),
            "findings": len(report.findings),
            "by_severity": report.counts,
            "by_clause": report.clause_counts(),
        },
        "vendors": vendors,
        "evidence_manifest": manifest,
    }


def render(report: Report) -> str:
    return json.dumps(report_document(report), indent=2, ensure_ascii=False, default=str) + "\n"
