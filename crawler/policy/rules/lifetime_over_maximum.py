from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import CookieEvidence, StorageEvidence, cookie_description, lifetime_words, rows

NOT_TRACKING_DATA = ("preference", "functional")


@register
class LifetimeOverMaximum(Rule):
    """Cookies set to outlive the maximum, except those known not to hold tracking data (login, security,
    consent, preferences), and identifiers kept in storage that never expires (localStorage, IndexedDB: kept
    until the user clears site data)."""

    id = "IV.C-lifetime-over-maximum"
    clause = "IV.C"
    title = "Tracking data kept longer than the policy's maximum"
    defaults = {"max_lifetime_days": 396}

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        maximum = self.params["max_lifetime_days"]
        for fact in analysis.cookies:
            if fact.lifetime_days is None or fact.lifetime_days <= maximum:
                continue
            if fact.login_retention or fact.essential or fact.purpose.purpose in NOT_TRACKING_DATA:
                continue  # a long-lived login, security, preference or consent cookie is not tracking data
            cookie = fact.rec.obs
            message = (
                f"Cookie {cookie.name} ({cookie.domain}, {fact.party} party, {fact.purpose.purpose}) is set "
                f"to last {lifetime_words(fact.lifetime_days)}, longer than the {maximum} days the district "
                f"accepts. IV.C allows tracking data to be kept only as long as reasonably necessary."
            )
            evidence = CookieEvidence(rows(cookies=[fact.rec.row_id]), cookie_description(fact), maximum_days=maximum)
            yield self.finding(fact.subject, message, evidence, account=analysis.data.account)
        for kept in analysis.storage:
            item = kept.rec.obs
            if item.kind not in ("localStorage", "indexedDB") or not kept.identifier.is_identifier:
                continue
            message = (
                f"The identifier {kept.identifier.part!r} is kept in {kept.subject} of {item.origin}, "
                f"which has no expiry: it stays on the student's computer until site data "
                f"is cleared, longer than the {maximum} days the district accepts. IV.C allows tracking data "
                f"to be kept only as long as reasonably necessary."
            )
            stored = StorageEvidence(
                rows(storage_items=[kept.rec.row_id]),
                identifier_reasons=tuple(kept.identifier.reasons),
                maximum_days=maximum,
            )
            yield self.finding(kept.subject, message, stored, account=analysis.data.account)
