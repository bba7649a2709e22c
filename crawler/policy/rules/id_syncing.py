from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import Sending, SharingEvidence, rows


@register
class IdSyncing(Rule):
    id = "IV.A-id-syncing"
    clause = "IV.A"
    title = "Identifier shared with another organisation (ID syncing)"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        for sharing in analysis.identifier_sharing:
            example_rec, _, example_where = sharing.sent[0]
            message = (
                f"The identifier in {sharing.subject} (owned by {sharing.owner}) was passed to "
                f"{', '.join(sharing.receivers)} in {len({r.row_id for r, _, _ in sharing.sent})} request(s), "
                f"e.g. in the {example_where} of {example_rec.obs.url[:200]}. Sharing an identifier lets the "
                f"receivers link the student's activity across sites (ID syncing), which IV.A does not allow."
            )
            evidence = SharingEvidence(
                rows(**{sharing.table: [sharing.row_id]}, requests=[r.row_id for r, _, _ in sharing.sent]),
                identifier=sharing.part,
                owner=sharing.owner,
                receivers=tuple(sharing.receivers),
                sent=tuple(Sending(r.row_id, h.host, h.entity, w, r.obs.url) for r, h, w in sharing.sent[:30]),
            )
            yield self.finding(sharing.subject, message, evidence, account=analysis.data.account)
