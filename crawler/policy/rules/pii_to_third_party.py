from collections.abc import Iterator

from ...analyze.analysis import SENT_TABLES, AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import (
    FlowEvidence,
    carriers_words,
    fields_words,
    flow_item,
    recipient_subject,
    recipients,
    rows,
)


@register
class PiiToThirdParty(Rule):
    """The account's PII reaching third parties, one finding per receiving organisation. The same leak breaks
    II.A (disclosure to third parties) when the pack cites the rule under it too."""

    id = "IV.A-pii-to-third-party"
    clause = "IV.A"
    title = "Student PII collected by a third-party tracking mechanism"
    clause_titles = {"II.A": "Student PII disclosed to a third party"}
    clause_words = {
        "IV.A": "IV.A allows tracking mechanisms to collect personal data only to track activity within the "
        "vendor's own site.",
        "II.A": "II.A forbids disclosing a student's personal data to third parties beyond what operating the "
        "service needs.",
    }

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        flows = [f for f in analysis.pii_flows if f.table in SENT_TABLES and f.party == "third"]
        for entity, group in sorted(recipients(flows).items()):
            hosts = sorted({f.host for f in group})
            example = group[0]
            known = [analysis.knowledge.trackers.lookup(h) for h in hosts]
            necessary = all(k is not None and k.category == "essential" for k in known)
            seen = (
                f"The test student's {fields_words(group)} reached the third party {entity} "
                f"({', '.join(hosts)}) in {carriers_words(group)}, e.g. in the {example.match.location} of "
                f"{example.url}."
            )
            infrastructure = (
                " The recipient provides infrastructure (sign-in, payment, captcha): the district "
                "decides whether this is necessary to operate the service."
                if necessary
                else ""
            )
            wording = {clause: f"{seen} {words}{infrastructure}" for clause, words in self.clause_words.items()}
            evidence = FlowEvidence(
                rows(**{table: [f.row_id for f in group if f.table == table] for table in SENT_TABLES}),
                flows=tuple(flow_item(f) for f in group[:50]),
                recipient=entity,
                hosts=tuple(hosts),
            )
            yield self.finding(
                recipient_subject(entity, group),
                wording[self.clause],
                evidence,
                account=analysis.data.account,
                severity="warning" if necessary else None,
                wording=wording,
            )
