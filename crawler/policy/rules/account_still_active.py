from collections.abc import Iterator

from ...analyze.analysis import AuditAnalysis
from ...observations import RECOGNISED
from ..base import Finding, Rule, register
from ..evidence import LoginEvidence, PageEvidence, rows


@register
class AccountStillActive(Rule):
    id = "III.C-account-still-active"
    clause = "III.C"
    title = "The test account still works after termination"
    judges_removal_check = True

    def check(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        data = analysis.data
        login_pages = [p.row_id for p in data.pages if p.phase == "removal-login"]
        if "removal-login" in data.phase_times and data.login_outcome == "success":
            final = next((p.obs.final_url for p in reversed(data.pages) if p.phase == "removal-login"), None)
            message = (
                f"After termination the test account {data.account} of {data.vendor_name} can still log in "
                f"(the login reached {final}). III.C requires the student's data to be destroyed when the "
                f"contract ends."
            )
            yield self.finding(
                f"account {data.account} login",
                message,
                LoginEvidence(rows(pages=login_pages), final_url=final),
                account=data.account,
            )
        replay = data.phase_results.get("removal-replay")
        if replay is not None and replay.result == RECOGNISED:
            replay_pages = [p.row_id for p in data.pages if p.phase == "removal-replay"]
            message = (
                f"The cookies and storage the last audit left in the browser still open the account's pages "
                f"at {replay.url} after termination: the service still recognises the student. III.C requires "
                f"the student's data to be destroyed when the contract ends."
            )
            yield self.finding(
                f"account {data.account} saved session",
                message,
                PageEvidence(rows(pages=replay_pages), url=replay.url),
                account=data.account,
            )
