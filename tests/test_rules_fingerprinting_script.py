"""IV.D-fingerprinting-script: scripts that fingerprint by canvas (Englehardt & Narayanan 2016), font enumeration,
WebRTC local addresses or audio, first or third party; a chart only drawn is not fingerprinting."""

from recorded import VENDOR_URL, api_call, audit, judge, only

RULE = "IV.D-fingerprinting-script"
FP = "https://cdn.fpmetrics.example/fp.js"
CHART = VENDOR_URL + "static/chart.js"
CTX = "CanvasRenderingContext2D."


def canvas_test(
    script=FP,
    canvas="d1:1",
    text="Cwm fjordbank glyphs vext quiz",
    read=("HTMLCanvasElement.toDataURL", "220x30 image/png"),
):
    calls = [
        api_call(CTX + "fillStyle", "#f60", script_url=script, target=canvas),
        api_call(CTX + "fillText", text, script_url=script, target=canvas),
    ]
    if read:
        calls.append(api_call(read[0], read[1], script_url=script, target=canvas))
    return calls


def test_canvas_drawn_and_read_back_is_fingerprinting_with_the_calls_as_evidence():
    calls = canvas_test()
    finding = only(judge(audit(*calls), RULE))
    assert finding.subject == f"script {FP}" and finding.clause == "IV.D" and finding.severity == "violation"
    assert finding.evidence.to_json()["script"] == FP and finding.evidence.to_json()["party"] == "third"
    (technique,) = finding.evidence.to_json()["techniques"]
    assert technique["technique"] == "canvas" and "HTMLCanvasElement.toDataURL" in technique["apis"]
    assert finding.evidence.to_json()["rows"] == {"api_calls": sorted(c.row_id for c in calls)}


def test_a_canvas_only_drawn_is_not_fingerprinting():
    chart = [
        api_call(CTX + "fillStyle", colour, script_url=CHART, target="d1:1") for colour in ("#36c", "#f90", "#3a3")
    ]
    chart += [
        api_call(CTX + "fillText", label, script_url=CHART, target="d1:1")
        for label in ("Mon", "Tue", "Wed", "Thu", "Fri")
    ]
    assert judge(audit(*chart), RULE) == []


def test_canvas_criteria_short_text_small_readback_lossy_format_and_save_restore():
    assert judge(audit(*canvas_test(text="Hi!")), RULE) == []  # < 10 distinct characters, one colour
    assert judge(audit(*canvas_test(read=("HTMLCanvasElement.toDataURL", "15x15 image/png"))), RULE) == []
    assert judge(audit(*canvas_test(read=("HTMLCanvasElement.toDataURL", "220x30 image/jpeg"))), RULE) == []
    assert judge(audit(*canvas_test(read=(CTX + "getImageData", "8x8"))), RULE) == []
    saved = canvas_test() + [api_call(CTX + "save", "", script_url=FP, target="d1:1")]
    assert judge(audit(*saved), RULE) == []
    # Read-back of another canvas than the one drawn on does not count.
    other = canvas_test(read=None) + [
        api_call("HTMLCanvasElement.toDataURL", "220x30 image/png", script_url=FP, target="d1:2")
    ]
    assert judge(audit(*other), RULE) == []
    assert only(judge(audit(*canvas_test(read=(CTX + "getImageData", "16x16"))), RULE))


def test_a_first_party_fingerprinting_script_is_a_violation_too():
    finding = only(judge(audit(*canvas_test(script=CHART)), RULE))
    assert finding.evidence.to_json()["party"] == "first" and finding.severity == "violation"


def test_font_enumeration_needs_fifty_fonts():
    def fonts(count):
        return [api_call(CTX + "measureText", f"72px font{i}", script_url=FP, target="d1:9") for i in range(count)]

    finding = only(judge(audit(*fonts(50)), RULE))
    assert finding.evidence.to_json()["techniques"][0]["technique"] == "canvas font enumeration"
    assert judge(audit(*fonts(49)), RULE) == []


def test_webrtc_local_address_discovery():
    def peer(*apis):
        return [api_call(api, "", script_url=FP, target="d1:rtc1") for api in apis]

    opened = ("RTCPeerConnection", "RTCPeerConnection.createDataChannel")
    finding = only(judge(audit(*peer(*opened, "RTCPeerConnection.onicecandidate")), RULE))
    assert finding.evidence.to_json()["techniques"][0]["technique"] == "WebRTC local addresses"
    assert judge(audit(*peer(*opened)), RULE) == []  # a connection whose candidates are never read


def test_audio_fingerprinting_needs_offline_oscillator_and_compressor():
    audio = [
        api_call("OfflineAudioContext", "1,44100,44100", script_url=FP),
        api_call("BaseAudioContext.createOscillator", "offline", script_url=FP),
        api_call("BaseAudioContext.createDynamicsCompressor", "offline", script_url=FP),
    ]
    finding = only(judge(audit(*audio), RULE))
    assert finding.evidence.to_json()["techniques"][0]["technique"] == "audio"
    realtime = [
        api_call("BaseAudioContext.createOscillator", "realtime", script_url=FP),
        api_call("BaseAudioContext.createDynamicsCompressor", "realtime", script_url=FP),
    ]
    assert judge(audit(*realtime), RULE) == []


def test_navigator_reads_alone_are_not_fingerprinting_but_corroborate():
    def reads():
        return [api_call(f"navigator.{p}", script_url=FP) for p in ("userAgent", "platform", "languages", "plugins")]

    assert judge(audit(*reads()), RULE) == []
    finding = only(judge(audit(*reads(), *canvas_test()), RULE))
    assert finding.evidence.to_json()["properties_read"] == [
        "navigator.languages",
        "navigator.platform",
        "navigator.plugins",
        "navigator.userAgent",
    ]
