from collections.abc import Iterator
from dataclasses import replace

from ...analyze.analysis import AuditAnalysis, PiiFlow
from ..base import Finding, Rule, register
from ..behaviour_evidence import canary_evidence
from ..evidence import PageShowingPii, recipient_subject, recipients
from .session_recording import PLANTED


@register
class SessionRecordingOfPii(Rule):
    """A third party records pages that show the student's personal data (the planted page text reached it from
    a page whose visible text held the account's PII): it collects that data, whatever the recording sends."""

    id = "IV.A-session-recording-pii"
    clause = "IV.A"
    title = "Session recording of pages showing the student's personal data"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        shown = analysis.pii_shown_on_pages
        pages_of = {
            "requests": {r.row_id: r.obs.page_url for r in analysis.data.requests},
            "websocket_frames": {r.row_id: r.obs.page_url for r in analysis.data.websocket_frames},
        }

        def page_of(flow: PiiFlow) -> str | None:
            return pages_of[flow.table].get(flow.row_id)

        flows = [
            f for f in analysis.canary_flows if f.match.field in PLANTED and f.party == "third" and page_of(f) in shown
        ]
        for entity, sent in sorted(recipients(flows).items()):
            pages = sorted({page for f in sent if (page := page_of(f))})
            evidence = replace(
                canary_evidence(sent, analysis),
                pages_showing_pii=tuple(PageShowingPii(page, shown[page]) for page in pages),
            )
            showed = "; ".join(f"{page} ({', '.join(shown[page])})" for page in pages)
            scripts = f", sent by {', '.join(evidence.scripts)}" if evidence.scripts else ""
            message = (
                f"{entity} ({', '.join(evidence.hosts)}) records pages that show the student's personal data: "
                f"it received text the audit planted in {showed}{scripts}. IV.A does not allow tracking "
                "mechanisms to collect a student's personal information."
            )
            yield self.finding(recipient_subject(entity, sent), message, evidence, account=analysis.data.account)
