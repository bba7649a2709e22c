"""A session recording of a page that shows the student's PII is also a IV.A finding; one of pages without PII
is session recording (IV.D) only."""

import json

from crawler.policy.evidence import PageShowingPii
from recorded import PAGE_URL, STUDENT, VENDOR_URL, audit, judge, only, page, request

RULE = "IV.A-session-recording-pii"
CANARIES = {"dom": "page canary 0a1b2c3d4e5f", "dom_input": "field canary 0f1e2d3c4b5a"}
PROFILE = VENDOR_URL + "profile"


def recording(page_url):
    body = json.dumps({"page": page_url, "text": f"Some page text\n{CANARIES['dom']}"})
    return request(
        "https://rec.replay.example/record",
        method="POST",
        post_data=body,
        page_url=page_url,
        initiator_url="https://cdn.replay.example/rec.js",
    )


def audited(*observations):
    data = audit(*observations)
    data.canaries.update(CANARIES)
    return data


def test_recording_a_page_that_showed_the_students_name_and_email_is_iv_a():
    on_profile, on_home = recording(PROFILE), recording(PAGE_URL)
    profile_text = f"Profile\nName\n{STUDENT['name']}\nEmail\n{STUDENT['email']}"
    data = audited(
        page(PROFILE, visible_text=profile_text), page(PAGE_URL, visible_text="Welcome back"), on_profile, on_home
    )
    finding = only(judge(data, RULE))
    assert (finding.clause, finding.severity, finding.subject) == ("IV.A", "violation", "host rec.replay.example")
    assert finding.evidence.pages_showing_pii == (PageShowingPii(PROFILE, ("email", "name")),)
    assert finding.evidence.rows == {"requests": [on_profile.row_id]}
    assert finding.evidence.scripts == ("https://cdn.replay.example/rec.js",)
    assert PROFILE in finding.message


def test_recording_pages_that_show_no_pii_is_session_recording_only():
    data = audited(page(PAGE_URL, visible_text="Welcome back, here are your lessons"), recording(PAGE_URL))
    assert judge(data, RULE) == []
    assert only(judge(data, "IV.D-session-recording")).clause == "IV.D"
