from collections.abc import Iterator
from urllib.parse import urlsplit

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..behaviour_evidence import api_call_evidence


@register
class FingerprintingScript(Rule):
    """A script seen fingerprinting the browser (canvas, font enumeration, WebRTC, audio), whoever serves it:
    the vendor's own scripts included, since a fingerprint follows the student like a cookie that cannot be
    cleared."""

    id = "IV.D-fingerprinting-script"
    clause = "IV.D"
    title = "Browser fingerprinting on student-facing pages"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        for behaviour in analysis.fingerprinting_scripts:
            host = urlsplit(behaviour.script_url).hostname or ""
            party, entity = analysis.parties.party(host), analysis.parties.entity(host)
            techniques = "; ".join(f"{t.name}: {t.detail}" for t in behaviour.techniques)
            read = (
                f" It also read {len(behaviour.properties_read)} navigator and screen properties."
                if behaviour.properties_read
                else ""
            )
            message = (
                f"The {party}-party script {behaviour.script_url} ({entity}) fingerprints the browser "
                f"({techniques}).{read} A fingerprint identifies the student's device across sites and "
                "visits without any cookie; IV.D requires handling student data in compliance with FERPA "
                "and COPPA, which rule out profiling students."
            )
            yield self.finding(
                f"script {behaviour.script_url}",
                message,
                api_call_evidence(behaviour, party, entity),
                account=analysis.data.account,
            )
