"""Findings as plain text for the terminal: by vendor, then clause, one line each."""

from __future__ import annotations

from ..store import queries
from ..store.writer import Store

SEVERITY_MARK = {"violation": "VIOLATION", "warning": "warning  ", "info": "info     "}
CLAUSE_ORDER = ("I.F", "II.A", "III.C", "IV.A", "IV.B", "IV.C", "IV.D")


def _clause_key(clause: str) -> tuple:
    return (CLAUSE_ORDER.index(clause) if clause in CLAUSE_ORDER else len(CLAUSE_ORDER), clause)


def format_findings(store: Store, run_id: int, vendor_id: str | None = None) -> str:
    findings = queries.findings(store, run_id, vendor_id)
    names = {r["id"]: r["name"] for r in queries.audited_vendors(store, run_id, vendor_id)}
    verdicts = queries.verdicts(store, run_id)
    lines = []
    for vid, name in names.items():
        mine = [f for f in findings if f["vendor_id"] == vid]
        counts = {s: sum(1 for f in mine if f["severity"] == s) for s in ("violation", "warning", "info")}
        verdict = f" — {verdicts[vid]['job']}: {verdicts[vid]['verdict'].upper()}" if vid in verdicts else ""
        lines.append(
            f"{name} [{vid}]: {counts['violation']} violation(s), {counts['warning']} warning(s), "
            f"{counts['info']} info{verdict}"
        )
        if not mine:
            lines.append("  no findings")
        for clause in sorted({f["clause"] for f in mine}, key=_clause_key):
            lines.append(f"  {clause}")
            for f in (f for f in mine if f["clause"] == clause):
                lines.append(f"    {SEVERITY_MARK.get(f['severity'], f['severity'])}  {f['subject']}: {f['message']}")
    return "\n".join(lines) if lines else "No vendor was audited in this run."
