from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis, HostFacts
from ...knowledge.categories import category_words
from ..base import Finding, Rule, register
from ..evidence import TrackerEvidence, TrackerHost, cloaking_words, cname_cloak, rows


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

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        observed = analysis.observed_trackers
        flagged = self.params["violation_categories"] + self.params["warning_categories"]
        trackers = {h.entity for h in analysis.third_party_hosts() if h.category in flagged or h.host in observed}
        by_entity: dict[str, list[HostFacts]] = {}
        for host in analysis.third_party_hosts():  # every host of a tracking organisation: its scripts too
            if host.entity in trackers:
                by_entity.setdefault(host.entity, []).append(host)
        for entity, hosts in sorted(by_entity.items()):
            categories = sorted({h.category for h in hosts if h.category})
            behaviour = sorted({b for h in hosts for b in observed.get(h.host, ())})
            severe = any(c in self.params["violation_categories"] for c in categories) or behaviour
            severity = self.severity if severe else "warning"
            known = "; ".join(
                f"{h.host}: {category_words(h.category)} ({h.category_source})"
                + (f" for {h.category_url}" if h.category_source != (h.tracker.source if h.tracker else None) else "")
                for h in hosts
                if h.category
            )
            what = ", ".join(category_words(c) for c in categories) or "tracking"
            message = (
                f"{entity} ({', '.join(sorted(h.host for h in hosts))}) runs {what} on the vendor's pages"
                + (f", known as {known}" if known else "")
                + (f"; observed: {'; '.join(behaviour)}" if behaviour else "")
                + "".join(f"; {cloaking_words(h.cloaking)}" for h in hosts if h.cloaking)
                + ". IV.D requires handling student data in compliance with FERPA and COPPA, which rule out "
                "advertising and behavioural profiling of students."
            )
            pages = sorted({p for h in hosts for p in h.page_urls})
            names = sorted(h.host for h in hosts)
            evidence = TrackerEvidence(
                rows(
                    requests=[i for h in hosts for i in h.request_ids[:20]],
                    cname_chains=[h.cloaking.row_id for h in hosts if h.cloaking],
                ),
                hosts=tuple(
                    TrackerHost(
                        h.host,
                        h.category,
                        h.tracker.organisation if h.tracker else None,
                        h.tracker.source if h.tracker else None,
                        h.filter_match.list_name if h.filter_match else None,
                        h.filter_match.filter if h.filter_match else None,
                        h.filter_url,
                        h.category_source,
                        h.category_url,
                    )
                    for h in hosts
                ),
                observed=tuple(behaviour),
                pages=tuple(pages[:20]),
                cloaked=tuple(cname_cloak(h.cloaking) for h in hosts if h.cloaking) or None,
            )
            yield self.finding(
                f"host {names[0]}" if len(names) == 1 else f"hosts {', '.join(names)}",
                message,
                evidence,
                account=analysis.data.account,
                severity=severity,
            )
