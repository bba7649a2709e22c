"""IV.A-form-keylogging: the canaries the probe typed, sent before any submit, in a request or a WebSocket frame."""

import json

from recorded import audit, judge, only, request, websocket_frame

RULE = "IV.A-form-keylogging"
CANARIES = {"email": "quill.0a1b2c3d4e@example.org", "name": "Quillon Abcdefgh", "text": "my homework note 0a1b2c3d4e"}
SOCKET = "wss://live.tutorchat-cloud.com/socket"
SCRIPT = "https://widget.tutorchat-cloud.com/bubble.js"


def typed(*observations):
    data = audit(*observations)
    data.canaries = dict(CANARIES)
    return data


def test_typed_text_streamed_over_a_websocket_to_a_third_party_is_key_logging_naming_socket_and_script():
    frames = [
        websocket_frame(SOCKET, json.dumps({"typing": "question", "text": CANARIES["text"][:n]}), initiator_url=SCRIPT)
        for n in (3, len(CANARIES["text"]))
    ]
    data = typed(request("https://app.classnook.com/home"), *frames)

    finding = only(judge(data, RULE))

    assert (finding.subject, finding.clause, finding.severity) == ("host live.tutorchat-cloud.com", "IV.A", "violation")
    assert f"over the WebSocket {SOCKET}" in finding.message and f"sent by {SCRIPT}" in finding.message
    assert finding.evidence.rows == {"websocket_frames": [frames[1].row_id]}
    [item] = finding.evidence.flows
    assert (item.table, item.url, item.canary, item.location, item.script) == (
        "websocket_frames",
        SOCKET,
        "text",
        "websocket frame",
        SCRIPT,
    )
    assert finding.evidence.scripts == (SCRIPT,)


def test_a_frame_the_page_received_is_not_something_it_sent():
    echoed = websocket_frame(SOCKET, json.dumps({"echo": CANARIES["email"]}), direction="received")
    assert judge(typed(echoed), RULE) == []


def test_typed_text_over_the_vendors_own_websocket_is_an_info():
    own = websocket_frame("wss://app.classnook.com/autosave", json.dumps({"draft": CANARIES["text"]}))
    finding = only(judge(typed(own), RULE))
    assert finding.severity == "info" and "over the WebSocket wss://app.classnook.com/autosave" in finding.message
