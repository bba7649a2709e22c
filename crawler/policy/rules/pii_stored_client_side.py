from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis, PiiFlow
from ..base import Finding, Rule, register
from ..evidence import FlowEvidence, fields_words, flow_item, rows


@register
class PiiStoredClientSide(Rule):
    id = "IV.A-pii-stored-client-side"
    clause = "IV.A"
    title = "Student PII kept in cookies or browser storage"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        retention = {f.subject for f in analysis.cookies if f.login_retention}
        groups: dict[str, list[PiiFlow]] = {}
        for flow in analysis.pii_flows:
            if flow.table not in ("cookies", "storage_items"):
                continue
            if flow.subject in retention:
                continue  # IV.B allows a persistent cookie that keeps the user name for logging in
            groups.setdefault(flow.subject, []).append(flow)
        for subject, group in sorted(groups.items()):
            first = group[0]
            where = "a cookie" if first.table == "cookies" else "browser storage"
            message = (
                f"The test student's {fields_words(group)} is kept in {where} ({subject}, {first.party}-party "
                f"{first.host}) on the student's computer. IV.A does not allow tracking mechanisms that store "
                f"information on the user's computer to collect personal data."
            )
            # sessionStorage ends with the tab: a warning, not a stored record.
            severity = "warning" if subject.startswith("sessionStorage") else None
            evidence = FlowEvidence(
                rows(**{first.table: [f.row_id for f in group]}),
                flows=tuple(flow_item(f) for f in group[:20]),
                host=first.host,
                party=first.party,
            )
            yield self.finding(subject, message, evidence, account=analysis.data.account, severity=severity)
