from collections.abc import Iterable, Iterator

from ...analyze.analysis import AuditAnalysis
from ...analyze.audit_data import REMOVAL_FRESH
from ...analyze.inventory import TRACKING_CATEGORIES
from ...knowledge.categories import category_words
from ..base import Finding, Rule, register
from ..evidence import ChangeEvidence, CookieEvidence, TrackerEvidence, rows

NOT_TRACKING = ("login_session", "csrf", "consent", "preference", "security", "functional")


@register
class TrackingAfterTermination(Rule):
    """IV.A, second sentence: trackers and identifiers served by the public pages of a terminated vendor,
    shown side by side with what the vendor's last audit recorded."""

    id = "IV.A-tracking-after-termination"
    clause = "IV.A"
    title = "Tracking still served after the contract ended"
    judges_removal_check = True

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        before_hosts, before_cookies = _tracking(analysis.baseline, baseline=True)
        now_hosts, now_cookies = _tracking([analysis], baseline=False, recorded_hosts=before_hosts)
        since = (
            (
                f"the last audit before termination (run {analysis.baseline_run['run_id']}, "
                f"{analysis.baseline_run['started_at']})"
            )
            if analysis.baseline_run
            else "no earlier audit"
        )
        for host, (description, ids) in sorted(now_hosts.items()):
            was = "recorded" if host in before_hosts else "not recorded"
            message = (
                f"After termination the vendor's pages still load the tracker {host} ({description}); {since} "
                f"{was} it. IV.A requires tracking mechanisms to be removed when the service is terminated."
            )
            yield self.finding(
                f"host {host}",
                message,
                TrackerEvidence(rows(requests=ids[:30]), in_last_audit=host in before_hosts),
                account=analysis.data.account,
            )
        for name, (description, ids) in sorted(now_cookies.items()):
            was = "recorded" if name in before_cookies else "not recorded"
            message = (
                f"After termination a fresh browser is still given the persistent cookie {name} "
                f"({description}); {since} {was} it. IV.A requires tracking mechanisms to be removed when the "
                f"service is terminated."
            )
            yield self.finding(
                f"cookie {name}",
                message,
                CookieEvidence(rows(cookies=ids), in_last_audit=name in before_cookies),
                account=analysis.data.account,
            )
        gone = sorted(set(before_hosts) - set(now_hosts)) + [
            f"cookie {c}" for c in sorted(set(before_cookies) - set(now_cookies))
        ]
        if gone and analysis.baseline_run:
            yield self.finding(
                "removed trackers",
                f"Gone since {since}: {', '.join(gone)}.",
                ChangeEvidence({}, previous_run_id=analysis.baseline_run["run_id"], gone=tuple(gone)),
                account=analysis.data.account,
                severity="info",
            )


Sightings = dict[str, tuple[str, list[int]]]


def _tracking(
    analyses: Iterable[AuditAnalysis], baseline: bool, recorded_hosts: Iterable[str] = ()
) -> tuple[Sightings, Sightings]:
    """Tracking hosts and persistent non-essential cookies: host/name -> (description, row ids).

    A host tracks when the lists say so, when it behaved as a tracker (cross-site identifiers, ID syncing),
    when it sets a persistent non-essential cookie, or, after termination, when the last audit recorded it."""
    hosts: Sightings = {}
    cookies: Sightings = {}
    fresh = ("control", "login", "crawl") if baseline else REMOVAL_FRESH
    for analysis in analyses:
        setters: set[str] = set()
        for fact in analysis.cookies:
            cookie = fact.rec.obs
            if (
                fact.rec.phase in fresh
                and not cookie.session
                and fact.purpose.purpose not in NOT_TRACKING
                and not fact.login_retention
                and len(cookie.value) >= 8
            ):
                cookies[cookie.name] = (
                    f"{cookie.domain}, {fact.party} party, {fact.purpose.purpose}",
                    [fact.rec.row_id],
                )
                setters.add(cookie.domain.lstrip("."))
        for host in analysis.third_party_hosts():
            sets_cookie = any(host.host == d or host.host.endswith("." + d) for d in setters)
            if host.category in TRACKING_CATEGORIES:
                hosts[host.host] = (f"{category_words(host.category)}, {host.entity}", list(host.request_ids))
            elif host.host in analysis.observed_trackers or sets_cookie or host.host in recorded_hosts:
                seen = analysis.observed_trackers.get(host.host)
                why = "; ".join(seen) if seen else "sets a persistent cookie" if sets_cookie else "a tracker before"
                hosts[host.host] = (f"{why}, {host.entity}", list(host.request_ids))
    return hosts, cookies
