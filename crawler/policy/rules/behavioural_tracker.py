from ..base import Rule, register
from ..evidence import rows


@register
class BehaviouralTracker(Rule):
    """Known trackers by category, and third parties seen behaving as trackers: setting cross-site
    identifiers or receiving another party's identifier."""

    id = "IV.D-behavioural-tracker"
    clause = "IV.D"
    title = "Advertising, behavioural, session-replay or fingerprinting tracker on student-facing pages"
    defaults = {
        "violation_categories": ["advertising", "session_replay", "fingerprinting"],
        "warning_categories": ["analytics", "social", "tag_manager"],
    }

    def check(self, analysis):
        observed = self._observed_behaviour(analysis)
        flagged = self.params["violation_categories"] + self.params["warning_categories"]
        trackers = {h.entity for h in analysis.third_party_hosts() if h.category in flagged or h.host in observed}
        by_entity: dict[str, list] = {}
        for host in analysis.third_party_hosts():  # every host of a tracking organisation: its scripts too
            if host.entity in trackers:
                by_entity.setdefault(host.entity, []).append(host)
        for entity, hosts in sorted(by_entity.items()):
            categories = sorted({h.category for h in hosts if h.category})
            behaviour = sorted({b for h in hosts for b in observed.get(h.host, ())})
            severe = any(c in self.params["violation_categories"] for c in categories) or behaviour
            severity = self.severity if severe else "warning"
            known = "; ".join(f"{h.host}: {h.category} ({h.tracker.source if h.tracker else h.filter_match.list_name})"
                              for h in hosts if h.category)
            what = ", ".join(categories) or "tracking"
            message = (f"{entity} ({', '.join(sorted(h.host for h in hosts))}) runs {what} on the vendor's pages"
                       + (f", known as {known}" if known else "")
                       + (f"; observed: {'; '.join(behaviour)}" if behaviour else "")
                       + ". IV.D requires handling student data in compliance with FERPA and COPPA, which rule out "
                         "advertising and behavioural profiling of students.")
            pages = sorted({p for h in hosts for p in h.page_urls})
            names = sorted(h.host for h in hosts)
            yield self.finding(f"host {names[0]}" if len(names) == 1 else f"hosts {', '.join(names)}", message, {
                "rows": rows(requests=[i for h in hosts for i in h.request_ids[:20]]),
                "hosts": [{"host": h.host, "category": h.category, "organisation": h.tracker.organisation if h.tracker else None,
                           "source": h.tracker.source if h.tracker else None,
                           "filter_list": h.filter_match.list_name if h.filter_match else None,
                           "filter": h.filter_match.filter if h.filter_match else None, "matched_url": h.filter_url}
                          for h in hosts],
                "observed": behaviour, "pages": pages[:20]}, account=analysis.data.account, severity=severity)

    @staticmethod
    def _observed_behaviour(analysis) -> dict[str, list[str]]:
        """Third-party hosts acting as trackers whatever the lists say."""
        observed: dict[str, list[str]] = {}
        for fact in analysis.cookies:
            cookie = fact.rec.obs
            if fact.party == "third" and fact.identifier.is_identifier and not cookie.partition_key:
                setter = cookie.domain.lstrip(".")
                for host in analysis.hosts.values():
                    if host.party == "third" and (host.host == setter or host.host.endswith("." + setter)):
                        observed.setdefault(host.host, []).append(f"sets cross-site identifier cookie {cookie.name}")
        for sharing in analysis.identifier_sharing:
            for _, host, _ in sharing.sent:
                said = f"receives the identifier in {sharing.subject} of {sharing.owner}"
                if said not in observed.get(host.host, []):
                    observed.setdefault(host.host, []).append(said)
        return observed
