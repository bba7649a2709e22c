from collections.abc import Iterator
from dataclasses import replace

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..behaviour_evidence import canary_evidence
from ..evidence import recipient_subject, recipients

PLANTED = ("dom", "dom_input")


@register
class SessionRecording(Rule):
    """A third party receives text planted in the page after it loaded: it is recording the page (session
    replay), whatever its name. A known session-replay vendor is named as corroboration."""

    id = "IV.D-session-recording"
    clause = "IV.D"
    title = "Session recording: a third party receives the page's content"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        flows = [f for f in analysis.canary_flows if f.match.field in PLANTED and f.party == "third"]
        for entity, sent in sorted(recipients(flows).items()):
            evidence = canary_evidence(sent, analysis)
            known = sorted(
                {
                    f"{h.host} ({h.tracker.organisation})"
                    for host in evidence.hosts
                    if (h := analysis.hosts.get(host)) and h.tracker and h.tracker.category == "session_replay"
                }
            )
            evidence = replace(evidence, known_session_replay=tuple(known))
            scripts = f", sent by {', '.join(evidence.scripts)}" if evidence.scripts else ""
            message = (
                f"{entity} ({', '.join(evidence.hosts)}) received text the audit planted in the page "
                f"after it loaded{scripts}: it records the page (session recording)"
                + (f"; known as session replay: {', '.join(known)}" if known else "")
                + ". Everything a student sees and does on the page goes to a third party; IV.D requires "
                "handling student data in compliance with FERPA and COPPA."
            )
            yield self.finding(recipient_subject(entity, sent), message, evidence, account=analysis.data.account)
