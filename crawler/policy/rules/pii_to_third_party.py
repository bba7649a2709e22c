from ..base import Rule, register
from ..evidence import fields_words, flow_evidence, recipient_subject, recipients, rows


def third_party_pii_findings(rule, analysis, clause_words: str):
    """The account's PII reaching third parties, one finding per receiving organisation."""
    flows = [f for f in analysis.pii_flows if f.table == "requests" and f.party == "third"]
    for entity, group in sorted(recipients(flows).items()):
        hosts = sorted({f.host for f in group})
        example = group[0]
        known = [analysis.knowledge.trackers.lookup(h) for h in hosts]
        necessary = all(k is not None and k.category == "essential" for k in known)
        message = (f"The test student's {fields_words(group)} reached the third party {entity} "
                   f"({', '.join(hosts)}) in {len({f.row_id for f in group})} request(s), e.g. in the "
                   f"{example.match.location} of {example.url}. {clause_words}"
                   + (" The recipient provides infrastructure (sign-in, payment, captcha): the district decides "
                      "whether this is necessary to operate the service." if necessary else ""))
        yield rule.finding(recipient_subject(entity, group), message,
                           {"rows": rows(requests=[f.row_id for f in group]), "recipient": entity, "hosts": hosts,
                            "flows": [flow_evidence(f) for f in group[:50]]},
                           account=analysis.data.account, severity="warning" if necessary else None)


@register
class PiiToThirdParty(Rule):
    id = "IV.A-pii-to-third-party"
    clause = "IV.A"
    title = "Student PII collected by a third-party tracking mechanism"

    def check(self, analysis):
        return third_party_pii_findings(
            self, analysis, "IV.A allows tracking mechanisms to collect personal data only to track activity "
                            "within the vendor's own site.")
