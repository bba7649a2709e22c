"""JUnit XML, so a CI pipeline shows a run natively: one ``<testsuite>`` per vendor, one ``<testcase>`` per
clause of the pack (classname = vendor id, name = clause and its title). A clause with violations fails
(message = how many, body = the findings); warnings and info go to ``<system-out>``; a clause that no
enabled rule judges for this kind of run (e.g. III.C outside a post-termination check) is skipped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .model import Report

# Characters XML 1.0 cannot carry at all (a captured value may hold them): replaced, so the file always parses.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    return _NOT_XML.sub("\ufffd", "" if text is None else str(text))


def _line(f) -> str:
    return _x(f"[{f.severity}] {f.subject}: {f.message} ({f.rule_id}, finding {f.id})")


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name=f"trackaudit run {report.run.id}")
    total = {"tests": 0, "failures": 0, "skipped": 0}
    errors = 0
    for vendor in report.vendors:
        judged = report.judged_clauses(vendor)
        suite = ET.SubElement(
            suites, "testsuite", name=_x(f"{vendor.id} ({vendor.name})"), timestamp=(report.run.started_at or "")[:19]
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("vendor", vendor.id),
            ("verdict", vendor.verdict.verdict),
            ("run_id", str(report.run.id)),
            ("policy", f"{report.policy.id} {report.policy.version}"),
            ("policy_sha256", report.policy.sha256),
        ):
            ET.SubElement(props, "property", name=name, value=_x(value))
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for clause_id in report.clause_ids:
            clause = report.policy.clause(clause_id)
            mine = [f for f in vendor.findings if f.clause == clause_id]
            case = ET.SubElement(suite, "testcase", classname=_x(vendor.id), name=_x(f"{clause_id} {clause.title}"))
            counts["tests"] += 1
            violations = [f for f in mine if f.severity == "violation"]
            others = [f for f in mine if f.severity != "violation"]
            if violations:
                counts["failures"] += 1
                failure = ET.SubElement(
                    case, "failure", type="violation", message=f"{len(violations)} violation(s) of {clause_id}"
                )
                failure.text = "\n".join(_line(f) for f in violations) + _x(f"\n\n{clause_id}: {clause.text}\n")
            elif clause_id not in judged:
                counts["skipped"] += 1
                ET.SubElement(
                    case,
                    "skipped",
                    message=f"no rule of pack {report.policy.id} judges {clause_id} in "
                    f"{'a post-termination check' if vendor.removal_check else 'an audit'}",
                )
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in others) + "\n"
        gaps = [r for r in vendor.verdict.reasons if r.startswith("audit incomplete: ")]
        if gaps:  # a clause with no violation was maybe not seen at all: never a silent pass
            case = ET.SubElement(suite, "testcase", classname=_x(vendor.id), name="audit coverage")
            counts["tests"] += 1
            errors += 1
            error = ET.SubElement(
                case, "error", type="incomplete", message=f"the audit is incomplete: {vendor.verdict.verdict}"
            )
            error.text = _x("\n".join(gaps) + "\n")
        suite.set("tests", str(counts["tests"]))
        suite.set("failures", str(counts["failures"]))
        suite.set("errors", "1" if gaps else "0")
        suite.set("skipped", str(counts["skipped"]))
        for key in total:
            total[key] += counts[key]
    for key, tally in total.items():
        suites.set(key, str(tally))
    suites.set("errors", str(errors))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
