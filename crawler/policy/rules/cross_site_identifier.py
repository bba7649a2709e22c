from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import CookieEvidence, cloaking_words, cname_cloak, cookie_description, lifetime_words, rows


@register
class CrossSiteIdentifier(Rule):
    """Third-party cookies holding an identifier. Third-party storage is not judged here: Chrome partitions
    it by top-level site, so in a student's browser it cannot follow them across sites."""

    id = "IV.A-cross-site-identifier"
    clause = "IV.A"
    title = "Third-party identifier that can follow the student across sites"

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        for fact in analysis.cookies:
            cookie = fact.rec.obs
            # A partitioned (CHIPS) cookie is keyed to this site, so it cannot follow the student elsewhere.
            if fact.party != "third" or cookie.partition_key or not fact.identifier.is_identifier:
                continue
            # Infrastructure the service needs (captcha, sign-in, payment) gets a warning: the district judges
            # whether its identifier is "necessary to the operation" of the service.
            host = analysis.knowledge.trackers.lookup(cookie.domain.lstrip("."))
            severity = "warning" if (host and host.category == "essential") or fact.essential else None
            if fact.cloaking:
                message = (
                    f"The third party {fact.entity} keeps an identifier in cookie {cookie.name} on "
                    f"{cookie.domain} (lifetime {lifetime_words(fact.lifetime_days)}) under the vendor's own "
                    f"name: {cloaking_words(fact.cloaking)}. The tracker gets the cookie as if it were the "
                    f"vendor's and can link the student's visits to every other site cloaking it the same "
                    f"way. IV.A limits tracking to activity within one site."
                )
            else:
                message = (
                    f"The third party {fact.entity} keeps an identifier in cookie {cookie.name} on {cookie.domain} "
                    f"(lifetime {lifetime_words(fact.lifetime_days)}, SameSite={cookie.same_site or 'unset'}), "
                    f"readable on every site that embeds it, so it can follow the student across sites. "
                    f"IV.A limits tracking to activity within one site."
                )
            cited = rows(cookies=[fact.rec.row_id], cname_chains=[fact.cloaking.row_id] if fact.cloaking else [])
            evidence = CookieEvidence(
                cited,
                cookie_description(fact),
                identifier_reasons=tuple(fact.identifier.reasons),
                cloaked=cname_cloak(fact.cloaking) if fact.cloaking else None,
            )
            yield self.finding(fact.subject, message, evidence, account=analysis.data.account, severity=severity)
