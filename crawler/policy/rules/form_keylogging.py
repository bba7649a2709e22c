from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..behaviour_evidence import canary_evidence
from ..evidence import recipient_subject, recipients

TYPED = ("email", "name", "text")


@register
class FormKeylogging(Rule):
    """What a student types is sent before any submit: canaries typed into the page's fields (never submitted)
    reach a third party (key logging, a violation) or the vendor itself (autosave, an info)."""

    id = "IV.A-form-keylogging"
    clause = "IV.A"
    title = "Typed text sent before the form is submitted (key logging)"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        flows = [f for f in analysis.canary_flows if f.match.field in TYPED]
        for entity, sent in sorted(recipients(flows).items()):
            evidence = canary_evidence(sent, analysis)
            what = ", ".join(sorted({f.match.field for f in sent}))
            scripts = f", sent by {', '.join(evidence.scripts)}" if evidence.scripts else ""
            sockets = sorted({f.url for f in sent if f.table == "websocket_frames" and f.url})
            over = f" over the WebSocket {', '.join(sockets)}" if sockets else ""
            if sent[0].party == "third":
                message = (
                    f"Text typed into the vendor's fields ({what}) reached {entity} "
                    f"({', '.join(evidence.hosts)}){over} before any submit{scripts}: key logging. IV.A does "
                    "not allow tracking mechanisms to collect what a student types, personal data included; "
                    "II.A forbids disclosing it to third parties."
                )
                severity = self.severity
            else:
                message = (
                    f"Text typed into the vendor's fields ({what}) was sent to the vendor's own "
                    f"{', '.join(evidence.hosts)}{over} before any submit{scripts} (autosave or live "
                    "validation): not a third party, noted for the record."
                )
                severity = "info"
            yield self.finding(
                recipient_subject(entity, sent), message, evidence, account=analysis.data.account, severity=severity
            )
