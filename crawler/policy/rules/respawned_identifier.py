from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import CookieEvidence, rows


@register
class RespawnedIdentifier(Rule):
    id = "IV.B-respawned-identifier"
    clause = "IV.B"
    title = "Deleted cookie re-created with its old identifier (respawning)"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        control = analysis.data.cookie_jar("control")
        for respawn in analysis.persistence.respawned_cookies:
            cookie = respawn.deleted.obs
            fact = analysis.cookie_facts(cookie.name, cookie.domain)
            if fact is not None and not fact.identifier.is_identifier:
                continue  # a constant set again (a load-balancer route, a consent flag) is not an identifier
            in_control = control.get((cookie.name, cookie.domain, cookie.path))
            if fact is None and in_control is not None and in_control.obs.value == cookie.value:
                continue
            sources = "; ".join(respawn.sources) or "an unknown store"
            message = (
                f"Cookie {cookie.name} ({cookie.domain}) was deleted and came back with its old value "
                f"{cookie.value!r}, restored from {sources}. A respawned identifier survives the student "
                f"clearing cookies; IV.B forbids stored information that re-activates itself."
            )
            evidence = CookieEvidence(
                rows(cookies=[respawn.deleted.row_id, respawn.returned.row_id]),
                value=cookie.value,
                sources=tuple(respawn.sources),
            )
            yield self.finding(f"cookie {cookie.name}", message, evidence, account=analysis.data.account)
