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


# Every value that came from a site or the config is written as escaped text or as code: a vendor's name,
# a cookie or a page title cannot inject a link, an image or HTML into the email or ticket.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~])")


def _one_line(text: object) -> str:
    return " ".join(str(text if text is not None else "").split())


def _cell(text: object) -> str:
    """Escaped text: Markdown punctuation backslash-escaped, HTML characters as entities."""
    plain = _one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain)


def _code(text: object) -> str:
    """Inline code whose fence is longer than any run of backticks inside (nothing in it is interpreted)."""
    value = _one_line(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _first_sentence(message: str, limit: int = 180) -> str:
    found = re.search(r"(?<=[.!?])\s+(?=[A-Z])", message)
    sentence = message[: found.start()] if found else message
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def _when(stamp: str | None) -> str:
    return (stamp or "?").replace("T", " ").replace("+00:00", " UTC")


def render(report: Report) -> str:
    run, policy = report.run, report.policy
    database = str(Path(report.artefacts_dir) / report.database)
    lines = [
        f"# trackaudit: run {run.id} ({_cell(run.mode or 'audit')}), {_cell(_when(run.started_at))}",
        "",
        f"Policy **{_cell(policy.name)}** ({_code(policy.id)} version {_cell(policy.version)}); run status "
        f"**{_cell(run.status)}**; trackaudit {_cell(run.tool_version)}.",
        *(["", f"**Lists:** {_cell(run.knowledge_warning)}."] if run.knowledge_warning else []),
        "",
        "| Vendor | Verdict | Violations | Warnings | Info |",
        "|---|---|---:|---:|---:|",
    ]
    for vendor in report.vendors:
        counts = vendor.counts
        tone = verdict_tone(vendor.verdict.verdict)
        lines.append(
            f"| {_cell(vendor.name)} ({_code(vendor.id)}) | {MARK[tone]} **{_cell(vendor.verdict.verdict)}** | "
            f"{counts['violation']} | {counts['warning']} | {counts['info']} |"
        )
    clause_counts = {v.id: report.clause_counts(v) for v in report.vendors}
    with_violations = [c for c in report.clause_ids if any(clause_counts[v][c]["violation"] for v in clause_counts)]
    lines += ["", "## Violations by clause", ""]
    if with_violations:
        lines.append("| Clause | " + " | ".join(_code(v.id) for v in report.vendors) + " |")
        lines.append("|---|" + "---:|" * len(report.vendors))
        for clause in with_violations:
            title = policy.clause(clause).title
            lines.append(
                f"| **{_cell(clause)}** {_cell(title)} | "
                + " | ".join(str(clause_counts[v.id][clause]["violation"]) for v in report.vendors)
                + " |"
            )
    else:
        lines.append("No violation of any clause.")
    for vendor in report.vendors:
        if not vendor.findings:
            continue
        ranked = sorted(
            vendor.findings,
            key=lambda f: (
                SEVERITIES.index(f.severity) if f.severity in SEVERITIES else 9,
                report.clause_ids.index(f.clause),
                f.id,
            ),
        )
        lines += ["", f"## {_cell(vendor.name)}: top findings", ""]
        for f in ranked[:TOP_FINDINGS]:
            lines.append(
                f"- **{_cell(f.clause)}** {_cell(f.severity)}: {_code(f.subject)}: {_cell(_first_sentence(f.message))}"
            )
        if len(ranked) > TOP_FINDINGS:
            lines.append(
                f"- … and {len(ranked) - TOP_FINDINGS} more (see the full report: "
                f"{_code(f'trackaudit report {run.id} --format html --db {shlex.quote(database)}')})."
            )
    lines += [
        "",
        f"_Evidence: run {run.id} of {_code(report.database)}"
        + (f", manifest SHA-256 {_code(run.manifest_sha256)}" if run.manifest_sha256 else "")
        + f"; policy pack SHA-256 `{policy.sha256[:16]}…`._",
        "",
    ]
    return "\n".join(lines)
