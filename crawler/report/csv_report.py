"""Findings as CSV, one row each, for a spreadsheet or a ticket system's import."""

from __future__ import annotations

import csv
import io
import json

from .model import Report

COLUMNS = (
    "finding_id",
    "run_id",
    "vendor_id",
    "account",
    "clause",
    "rule_id",
    "severity",
    "subject",
    "message",
    "evidence_rows",
)


def render(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for f in report.findings:
        writer.writerow(
            [
                f.id,
                f.run_id,
                f.vendor_id,
                f.account or "",
                f.clause,
                f.rule_id,
                f.severity,
                f.subject,
                f.message,
                json.dumps(f.rows, separators=(",", ":"), sort_keys=True),
            ]
        )
    return out.getvalue()
