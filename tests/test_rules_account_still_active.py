"""III.C-account-still-active: the account still logs in after termination, or the saved browser state still
opens its pages (the removal replay's structured result, not its wording)."""

from crawler.observations import RECOGNISED, PhaseResult
from recorded import audit, judge, page

RULE = "III.C-account-still-active"


def removal(*observations, replay: PhaseResult | None = None, login_outcome: str = "failed"):
    data = audit(*observations, phases=("removal-login", "removal-public", "removal-replay"))
    data.login_outcome = login_outcome
    if replay is not None:
        data.phase_results["removal-replay"] = replay
    return data


def test_a_recognised_saved_session_is_a_violation_naming_the_url():
    home = page("https://app.classnook.com/home", "removal-replay")
    data = removal(home, replay=PhaseResult(RECOGNISED, "https://app.classnook.com/home", "in words"))
    (finding,) = judge(data, RULE)
    assert finding.subject == "account student saved session"
    assert "https://app.classnook.com/home" in finding.message
    assert finding.evidence.kind == "page" and finding.evidence.url == "https://app.classnook.com/home"
    assert finding.evidence.rows == {"pages": [home.row_id]}


def test_a_replay_without_a_result_is_not_read_from_its_note():
    data = removal(replay=None)
    data.phase_results["removal-public"] = PhaseResult("other", None, "the saved browser state opened the account")
    assert judge(data, RULE) == []


def test_a_login_that_still_works_is_a_violation():
    data = removal(page("https://app.classnook.com/dashboard", "removal-login"), login_outcome="success")
    (finding,) = judge(data, RULE)
    assert finding.subject == "account student login" and finding.evidence.kind == "login"
