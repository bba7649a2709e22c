"""Trackers caught by what they do (issue 10), on the StudyHall fixture vendor: see fixtures/README.md."""

import json
import textwrap

import jsonschema
import pytest
import sqlite_utils

from conftest import run_cli
from crawler.policy.pack import load_pack
from crawler.report import render_report
from crawler.report.json_report import load_schema
from crawler.store.writer import Store
from fixtures.server import FixtureInternet

pytestmark = pytest.mark.e2e

CONFIG = """
[browser]
page_timeout_s = 10

[[vendors]]
id = "studyhall"
name = "StudyHall"
status = "candidate"
start_url = "https://www.studyhall.test/"
pages = ["/games", "/practice", "/help"]
max_pages = 5
"""


STUDENT, PASSWORD, PASSWORD_ENV = (
    "sam.rivera@students.mps.test",
    "Sh study~hall*pass!3",
    "TRACKAUDIT_TEST_STUDYHALL_PASSWORD",
)
PROFILE, HELP = "https://www.studyhall.test/profile", "https://www.studyhall.test/help"
# Signed in: the profile shows the student's name, e-mail and student ID under the session recorder; /help
# has the same recorder and shows no PII.
SIGNED_IN_CONFIG = f"""
[browser]
page_timeout_s = 10

[[vendors]]
id = "studyhall"
name = "StudyHall"
status = "approved"
start_url = "https://www.studyhall.test/"
pages = ["/profile", "/help"]
max_pages = 3

[vendors.login]
url = "https://www.studyhall.test/login"
steps = [
  {{fill = "#email", value = "{{username}}"}},
  {{fill = "#password", value = "{{password}}"}},
  {{click = "button[type=submit]"}},
]
success = {{selector = "dd#email"}}

[[vendors.accounts]]
role = "student"
username = "{STUDENT}"
password_env = "{PASSWORD_ENV}"
pii = {{name = "Sam Rivera", email = "{STUDENT}", student_id = "S50880417"}}
"""


def scan(tmp_path, config_text, passwords=None):
    config = tmp_path / "vendors.toml"
    config.write_text(textwrap.dedent(config_text))
    db_path = tmp_path / "audit.db"
    with FixtureInternet(passwords or {}) as internet:
        proc = run_cli(
            [
                "audit",
                "--config",
                str(config),
                "--vendor",
                "studyhall",
                "--db",
                str(db_path),
                "--host-resolver-rules",
                internet.host_resolver_rules,
                "--ignore-https-errors",
            ],
            cwd=tmp_path,
            timeout=240,
            env_extra={PASSWORD_ENV: PASSWORD},
        )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return sqlite_utils.Database(db_path)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    return scan(tmp_path_factory.mktemp("behaviour"), CONFIG)


def findings(db, rule_id):
    return [
        {**f, "evidence": json.loads(f["evidence"])}
        for f in db.query("select * from findings where rule_id = ?", [rule_id])
    ]


def test_api_calls_are_recorded_with_script_frame_page_and_phase(scanned):
    calls = list(scanned.query("select * from api_calls where script_url = 'https://cdn.fpmetrics.test/fp.js'"))
    apis = {c["api"] for c in calls}
    assert {
        "HTMLCanvasElement.toDataURL",
        "CanvasRenderingContext2D.fillText",
        "OfflineAudioContext",
        "BaseAudioContext.createDynamicsCompressor",
        "RTCPeerConnection.createDataChannel",
        "RTCPeerConnection.onicecandidate",
        "navigator.userAgent",
        "screen.colorDepth",
    } <= apis
    assert {c["page_url"] for c in calls} == {"https://www.studyhall.test/games"}
    assert {c["phase"] for c in calls} >= {"crawl"}
    fonts = list(scanned.query("select * from api_calls where script_url = 'https://frame.fpmetrics.test/fonts.js'"))
    assert {c["frame_url"] for c in fonts} == {"https://frame.fpmetrics.test/frame.html"}
    assert len({c["detail"] for c in fonts if c["api"] == "CanvasRenderingContext2D.measureText"}) == 60


def test_the_fingerprinting_scripts_are_iv_d_violations_with_apis_and_script(scanned):
    found = {f["subject"]: f for f in findings(scanned, "IV.D-fingerprinting-script")}
    fp = found["script https://cdn.fpmetrics.test/fp.js"]
    assert fp["clause"] == "IV.D" and fp["severity"] == "violation"
    assert {t["technique"] for t in fp["evidence"]["techniques"]} == {"canvas", "audio", "WebRTC local addresses"}
    assert "HTMLCanvasElement.toDataURL" in fp["evidence"]["apis"] and fp["evidence"]["party"] == "third"
    assert "navigator.hardwareConcurrency" in fp["evidence"]["properties_read"]
    rows = fp["evidence"]["rows"]["api_calls"]
    scripts = {
        r["script_url"]
        for r in scanned.query(f"select script_url from api_calls where id in ({','.join(map(str, rows))})")
    }
    assert scripts == {"https://cdn.fpmetrics.test/fp.js"}
    fonts = found["script https://frame.fpmetrics.test/fonts.js"]
    assert [t["technique"] for t in fonts["evidence"]["techniques"]] == ["canvas font enumeration"]


def test_the_first_party_chart_is_not_fingerprinting(scanned):
    chart = list(
        scanned.query("select * from api_calls where script_url = 'https://www.studyhall.test/static/chart.js'")
    )
    assert {"CanvasRenderingContext2D.fillText", "CanvasRenderingContext2D.fillStyle"} <= {c["api"] for c in chart}
    subjects = {f["subject"] for f in findings(scanned, "IV.D-fingerprinting-script")}
    assert "script https://www.studyhall.test/static/chart.js" not in subjects


def test_a_dedicated_worker_is_instrumented_and_its_fingerprinting_judged(scanned):
    worker = "https://www.studyhall.test/static/practice-worker.js"
    calls = list(scanned.query("select * from api_calls where script_url = ?", [worker]))
    assert {
        "OffscreenCanvasRenderingContext2D.fillText",
        "OffscreenCanvas.convertToBlob",
        "navigator.hardwareConcurrency",
    } <= {c["api"] for c in calls}
    assert {(c["frame_url"], c["page_url"]) for c in calls} == {(worker, "https://www.studyhall.test/practice")}
    (finding,) = [f for f in findings(scanned, "IV.D-fingerprinting-script") if f["subject"] == f"script {worker}"]
    assert finding["evidence"]["party"] == "first" and finding["severity"] == "violation"
    assert [t["technique"] for t in finding["evidence"]["techniques"]] == ["canvas"]


@pytest.mark.parametrize(
    "worker, page, party, apis",
    [
        (
            "https://frame.fpmetrics.test/fp-worker.js",  # started by a cross-site frame: another process
            "https://www.studyhall.test/games",
            "third",
            {"OffscreenCanvasRenderingContext2D.fillText", "OffscreenCanvas.convertToBlob", "navigator.deviceMemory"},
        ),
        (
            "https://www.studyhall.test/offline-sw.js",  # a service worker
            "https://www.studyhall.test/practice",
            "first",
            {"OffscreenCanvasRenderingContext2D.fillText", "OffscreenCanvas.convertToBlob", "navigator.appVersion"},
        ),
        (
            "https://www.studyhall.test/static/progress-shared.js",  # a shared worker: no page's child
            "https://www.studyhall.test/practice",
            "first",
            {"OffscreenCanvasRenderingContext2D.fillText", "OffscreenCanvas.convertToBlob", "navigator.platform"},
        ),
    ],
)
def test_workers_of_cross_site_frames_service_and_shared_workers_are_instrumented_and_judged(
    scanned, worker, page, party, apis
):
    calls = list(scanned.query("select * from api_calls where script_url = ?", [worker]))
    assert apis <= {c["api"] for c in calls}
    assert {(c["frame_url"], c["page_url"]) for c in calls if c["phase"] == "crawl"} == {(worker, page)}
    (finding,) = [f for f in findings(scanned, "IV.D-fingerprinting-script") if f["subject"] == f"script {worker}"]
    assert (finding["clause"], finding["severity"]) == ("IV.D", "violation")
    assert finding["evidence"]["party"] == party
    assert [t["technique"] for t in finding["evidence"]["techniques"]] == ["canvas"]
    rows = finding["evidence"]["rows"]["api_calls"]
    scripts = {
        r["script_url"]
        for r in scanned.query(f"select script_url from api_calls where id in ({','.join(map(str, rows))})")
    }
    assert scripts == {worker}


def canaries(db):
    (audit,) = db.query("select canaries from audits")
    return json.loads(audit["canaries"])


def test_typed_canaries_sent_before_submit_are_key_logging_naming_the_script(scanned):
    typed = canaries(scanned)
    assert typed["email"].endswith("@example.org")
    (finding,) = [f for f in findings(scanned, "IV.A-form-keylogging") if f["subject"] == "host api.chatpal.test"]
    assert (finding["clause"], finding["severity"]) == ("IV.A", "violation")
    evidence = finding["evidence"]
    assert {f["canary"] for f in evidence["flows"]} == {"email", "name", "text"}
    assert evidence["scripts"] == ["https://widget.chatpal.test/chat.js"] and evidence["party"] == "third"
    # A beacon sent while the email was half typed carries its local part, a flow too; the last one carries it whole.
    email_rows = ",".join(str(f["row_id"]) for f in evidence["flows"] if f["canary"] == "email")
    sent = list(scanned.query(f"select url, post_data from requests where id in ({email_rows})"))
    assert {r["url"] for r in sent} == {"https://api.chatpal.test/typing"}
    assert any(typed["email"] in r["post_data"] for r in sent)
    # Never submitted, never Enter: the chat's Send button and the page's forms sent nothing else.
    assert not list(scanned.query("select id from requests where method = 'POST' and host = 'www.studyhall.test'"))


def test_typed_text_streamed_over_a_websocket_before_submit_is_key_logging_naming_the_socket(scanned):
    typed = canaries(scanned)
    socket_url = "wss://live.talkbubble.test/socket"
    (finding,) = [f for f in findings(scanned, "IV.A-form-keylogging") if f["subject"] == "host live.talkbubble.test"]
    assert (finding["clause"], finding["severity"]) == ("IV.A", "violation")
    assert socket_url in finding["message"]
    evidence = finding["evidence"]
    assert {f["canary"] for f in evidence["flows"]} == {"email", "text"}
    assert {(f["table"], f["url"], f["location"]) for f in evidence["flows"]} == {
        ("websocket_frames", socket_url, "websocket frame")
    }
    assert evidence["scripts"] == ["https://widget.talkbubble.test/bubble.js"] and evidence["party"] == "third"
    rows = evidence["rows"]["websocket_frames"]
    frames = list(scanned.query(f"select * from websocket_frames where id in ({','.join(map(str, rows))})"))
    assert {(f["socket_url"], f["direction"], f["opcode"], f["phase"]) for f in frames} == {
        (socket_url, "sent", "text", "crawl")
    }
    assert any(json.loads(f["payload"]) == {"typing": "email", "text": typed["email"]} for f in frames)
    assert {(f["page_url"], f["frame_url"]) for f in frames} == {("https://www.studyhall.test/help",) * 2}
    received = list(scanned.query("select payload from websocket_frames where direction = 'received'"))
    assert received and all(json.loads(r["payload"]) == {"ack": True} for r in received)


def test_a_third_party_receiving_the_planted_page_text_is_session_recording(scanned):
    planted = canaries(scanned)["dom"]
    (finding,) = findings(scanned, "IV.D-session-recording")
    assert (finding["subject"], finding["clause"], finding["severity"]) == (
        "host rec.replaybox.test",
        "IV.D",
        "violation",
    )
    assert {f["canary"] for f in finding["evidence"]["flows"]} == {"dom"}
    assert finding["evidence"]["scripts"] == ["https://cdn.replaybox.test/rec.js"]
    rows = finding["evidence"]["rows"]["requests"]
    bodies = [
        r["post_data"]
        for r in scanned.query(f"select post_data from requests where id in ({','.join(map(str, rows))})")
    ]
    assert all(planted in body for body in bodies)


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):
    return scan(tmp_path_factory.mktemp("signed-in"), SIGNED_IN_CONFIG, {STUDENT: PASSWORD})


def pages_of(db, finding):
    rows = finding["evidence"]["rows"]["requests"]
    return {r["page_url"] for r in db.query(f"select page_url from requests where id in ({','.join(map(str, rows))})")}


def test_a_session_recording_of_a_page_showing_the_students_pii_is_also_iv_a(signed_in):
    (page,) = signed_in.query("select visible_text from pages where phase = 'crawl' and final_url = ?", [PROFILE])
    assert "Sam Rivera" in page["visible_text"] and STUDENT in page["visible_text"]
    (recording,) = findings(signed_in, "IV.D-session-recording")
    assert pages_of(signed_in, recording) == {PROFILE, HELP}
    (finding,) = findings(signed_in, "IV.A-session-recording-pii")
    assert (finding["subject"], finding["clause"], finding["severity"]) == (
        "host rec.replaybox.test",
        "IV.A",
        "violation",
    )
    (shown,) = finding["evidence"]["pages_showing_pii"]
    assert shown["url"] == PROFILE and {"name", "email"} <= set(shown["fields"])
    assert finding["evidence"]["scripts"] == ["https://cdn.replaybox.test/rec.js"]
    # The recording of /help, which shows no PII, is not cited under IV.A.
    assert pages_of(signed_in, finding) == {PROFILE}


def test_a_session_recording_without_the_students_pii_on_the_page_is_not_iv_a(scanned):
    assert findings(scanned, "IV.D-session-recording")
    assert not findings(scanned, "IV.A-session-recording-pii")


def test_the_form_probe_can_be_turned_off_per_vendor(tmp_path):
    config = CONFIG.replace('pages = ["/games", "/practice", "/help"]', 'pages = ["/help"]').replace(
        "max_pages = 5", "max_pages = 2\nform_probe = false"
    )
    db = scan(tmp_path, config)
    assert not findings(db, "IV.A-form-keylogging")
    assert not list(db.query("select id from requests where host = 'api.chatpal.test'"))
    assert not list(db.query("select id from websocket_frames where direction = 'sent'"))
    assert list(db.query("select id from requests where url = 'wss://live.talkbubble.test/socket'"))
    assert findings(db, "IV.D-session-recording")  # the DOM canary is no typing: still planted


def test_a_bare_meta_pixel_is_advertising_by_its_path(scanned):
    (finding,) = [f for f in findings(scanned, "IV.D-behavioural-tracker") if "www.facebook.com" in f["subject"]]
    assert (finding["clause"], finding["severity"]) == ("IV.D", "violation")
    (host,) = [h for h in finding["evidence"]["hosts"] if h["host"] == "www.facebook.com"]
    assert host["category"] == "advertising" and host["category_source"] == "builtin path /tr"
    assert host["category_request"] == "https://www.facebook.com/tr?id=777&ev=PageView&noscript=1"


def test_the_json_report_of_behaviour_findings_validates_against_the_schema(scanned):
    path = scanned.execute("pragma database_list").fetchone()[2]
    store = Store(path, read_only=True)
    document = json.loads(render_report(store, 1, "json", load_pack()))
    store.close()
    kinds = {f["evidence"].get("evidence_kind") for v in document["vendors"] for f in v["findings"]}
    assert {"api-call", "canary-flow"} <= kinds
    errors = list(jsonschema.Draft202012Validator(load_schema()).iter_errors(document))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
