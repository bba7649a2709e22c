from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import CookieEvidence, rows


@register
class IdentifierSurvivesLogout(Rule):
    """On a shared school computer the next student inherits whatever survives a logout."""

    id = "IV.B-identifier-survives-logout"
    clause = "IV.B"
    title = "Persistent identifier kept after the student logs out"
    default_severity = "warning"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        for rec in analysis.persistence.survived_logout:
            fact = analysis.cookie_facts(rec.obs.name, rec.obs.domain)
            if fact is None or not fact.tracking_identifier:
                continue
            message = (
                f"Cookie {rec.obs.name} ({rec.obs.domain}) kept its identifier through the logout: on a "
                f"shared computer the next student carries it and is tracked as the same person. IV.B "
                f"forbids persistent stored information beyond what keeps the login."
            )
            yield self.finding(
                fact.subject,
                message,
                CookieEvidence(rows(cookies=[rec.row_id, fact.rec.row_id])),
                account=analysis.data.account,
            )
