from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import CookieEvidence, StorageEvidence, cookie_description, rows


@register
class IdentifierOnReconnect(Rule):
    id = "IV.B-identifier-on-reconnect"
    clause = "IV.B"
    title = "Persistent identifier re-sent or renewed when the student reconnects"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        persistence = analysis.persistence
        resent = {(r.cookie.obs.name, r.cookie.obs.domain): r for r in persistence.resent_cookies}
        renewed = {(r.before.obs.name, r.before.obs.domain): r for r in persistence.renewed_cookies}
        for fact in analysis.cookies:
            key = (fact.rec.obs.name, fact.rec.obs.domain)
            if key not in resent and key not in renewed:
                continue
            if not fact.tracking_identifier:
                continue  # IV.B allows a persistent cookie that keeps the student logged in
            seen, request_ids, cookie_ids = [], [], [fact.rec.row_id]
            if key in resent:
                sendings = resent[key].sent
                hosts = sorted({s.host for s in sendings})
                places = sorted({s.where for s in sendings})
                seen.append(f"sent again to {', '.join(hosts)} ({', '.join(places)})")
                request_ids += [s.request_id for s in sendings]
            if key in renewed:
                renewal = renewed[key]
                seen.append(f"renewed with a {renewal.how} by {renewal.renewed_by[0]}")
                cookie_ids.append(renewal.after.row_id)
            message = (
                f"After the browser was closed and reopened, without logging in, the persistent identifier "
                f"in cookie {fact.rec.obs.name} ({fact.rec.obs.domain}) was {' and '.join(seen)}. IV.B forbids "
                f"stored information that is automatically sent or updated when the student reconnects, "
                f"except a persistent cookie that keeps the login."
            )
            if fact.retention_basis:
                message += f" It is not that cookie ({fact.retention_basis}), whatever its name says."
            evidence = CookieEvidence(
                rows(cookies=cookie_ids, requests=request_ids),
                cookie_description(fact),
                identifier_reasons=tuple(fact.identifier.reasons),
                on_reconnect=True,
                renewed=renewed[key].how if key in renewed else None,
                retention=fact.retention_basis,
            )
            yield self.finding(fact.subject, message, evidence, account=analysis.data.account)
        for kept, sent in analysis.resent_storage:
            item = kept.rec.obs
            hosts = sorted({s.host for s in sent})
            message = (
                f"After the browser was closed and reopened, the identifier {kept.identifier.part!r} kept in "
                f"{kept.subject} of {item.origin} was sent again to {', '.join(hosts)}. IV.B forbids stored "
                f"information that is automatically shared with the service when the student reconnects."
            )
            stored = StorageEvidence(
                rows(storage_items=[kept.rec.row_id], requests=[s.request_id for s in sent]),
                identifier_value=kept.identifier.part,
            )
            yield self.finding(kept.subject, message, stored, account=analysis.data.account)
