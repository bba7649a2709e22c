"""A short Markdown summary for an email or a ticket: the run, each vendor's verdict, violations by clause,
and the top findings one line each. The HTML report has the evidence."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from .model import Report
from .wording import SEVERITIES, verdict_tone

TOP_FINDINGS = 10
MARK = {"good": "✅", "bad": "❌", "warn": "⚠️", "neutral": "•"}


def _cell(text: object) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _first_sentence(message: str, limit: int = 180) -> str:
    found = re.search(r"(?<=[.!?])\s+(?=[A-Z])", message)
    sentence = message[:found.start()] if found else message
    return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"


def _when(stamp: str | None) -> str:
    return (stamp or "?").replace("T", " ").replace("+00:00", " UTC")


def render(report: Report) -> str:
    run, policy = report.run, report.policy
    database = str(Path(report.artefacts_dir) / report.database)
    lines = [
        f"# trackaudit: run {run.id} ({run.mode or 'audit'}), {_when(run.started_at)}",
        "",
        f"Policy **{policy.name}** (`{policy.id}` version {policy.version}); run status **{run.status}**; "
        f"trackaudit {run.tool_version}.",
        "",
        "| Vendor | Verdict | Violations | Warnings | Info |",
        "|---|---|---:|---:|---:|",
    ]
    for vendor in report.vendors:
        counts = vendor.counts
        tone = verdict_tone(vendor.verdict.verdict)
        lines.append(f"| {_cell(vendor.name)} (`{vendor.id}`) | {MARK[tone]} **{_cell(vendor.verdict.verdict)}** | "
                     f"{counts['violation']} | {counts['warning']} | {counts['info']} |")
    clause_counts = {v.id: report.clause_counts(v) for v in report.vendors}
    with_violations = [c for c in report.clause_ids if any(clause_counts[v][c]["violation"] for v in clause_counts)]
    lines += ["", "## Violations by clause", ""]
    if with_violations:
        lines.append("| Clause | " + " | ".join(f"`{v.id}`" for v in report.vendors) + " |")
        lines.append("|---|" + "---:|" * len(report.vendors))
        for clause in with_violations:
            title = policy.clause(clause).title
            lines.append(f"| **{clause}** {_cell(title)} | "
                         + " | ".join(str(clause_counts[v.id][clause]["violation"]) for v in report.vendors) + " |")
    else:
        lines.append("No violation of any clause.")
    for vendor in report.vendors:
        if not vendor.findings:
            continue
        ranked = sorted(vendor.findings, key=lambda f: (SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 9,
                                                        report.clause_ids.index(f.clause), f.id))
        lines += ["", f"## {vendor.name}: top findings", ""]
        for f in ranked[:TOP_FINDINGS]:
            lines.append(f"- **{f.clause}** {f.severity}: `{f.subject}`: {_first_sentence(f.message)}")
        if len(ranked) > TOP_FINDINGS:
            lines.append(f"- … and {len(ranked) - TOP_FINDINGS} more (see the full report: "
                         f"`trackaudit report {run.id} --format html --db {shlex.quote(database)}`).")
    lines += ["", f"_Evidence: run {run.id} of `{report.database}`"
              + (f", manifest SHA-256 `{run.manifest_sha256}`" if run.manifest_sha256 else "")
              + f"; policy pack SHA-256 `{policy.sha256[:16]}…`._", ""]
    return "\n".join(lines)
