import time
from collections.abc import Iterator

from ... import setcookie
from ...analyze.analysis import AuditAnalysis
from ..base import Finding, Rule, register
from ..evidence import CookieEvidence, rows


@register
class IdentifierRecognisedAfterTermination(Rule):
    """The last audit's persistent cookies are replayed into a fresh browser: a service that sets one again
    with its old value (or a later expiry) still recognises the student's old identifier."""

    id = "IV.A-identifier-recognised-after-termination"
    clause = "IV.A"
    title = "An old identifier is still recognised after the contract ended"
    judges_removal_check = True

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        saved: dict[str, str] = {}
        for previous in analysis.baseline:
            for fact in previous.cookies:
                if fact.rec.phase in ("login", "crawl") and not fact.rec.obs.session:
                    saved[fact.rec.obs.name] = fact.rec.obs.value
        renewals: dict[str, list[tuple[str, int, str]]] = {}  # name -> (table, row id, who set it)
        for rec in analysis.data.requests_in("removal-replay"):
            for header in rec.obs.set_cookies:
                if _sets_again(header, saved):
                    renewals.setdefault(setcookie.cookie_name(header), []).append(("requests", rec.row_id, rec.obs.url))
        for write in analysis.data.script_writes:
            if write.phase == "removal-replay" and _sets_again(write.obs.cookie_string, saved):
                renewals.setdefault(setcookie.cookie_name(write.obs.cookie_string), []).append(
                    ("script_cookie_writes", write.row_id, write.obs.script_url or write.obs.frame_url or "")
                )
        for name, sightings in sorted(renewals.items()):
            message = (
                f"Given back the identifier cookie {name} = {saved[name]!r} from the last audit, the service "
                f"set it again with the same value ({sightings[0][2]}) after termination: it still "
                f"recognises and keeps the student's old identifier. IV.A requires tracking mechanisms to be "
                f"removed or terminated when the service is terminated."
            )
            by_table: dict[str, list[int]] = {}
            for table, row_id, _ in sightings:
                by_table.setdefault(table, []).append(row_id)
            yield self.finding(
                f"cookie {name}",
                message,
                CookieEvidence(rows(**by_table), value=saved[name]),
                account=analysis.data.account,
            )


def _sets_again(cookie_string: str, saved: dict[str, str]) -> bool:
    """Whether a Set-Cookie (or document.cookie string) sets a saved cookie again with its value, not to remove it."""
    cookie = setcookie.parse(cookie_string)
    return (
        cookie is not None
        and cookie.name in saved
        and cookie.value == saved[cookie.name]
        and not cookie.deletes(received_at=time.time())
    )
