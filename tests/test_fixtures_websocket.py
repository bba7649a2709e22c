"""The fixture server's WebSocket: RFC 6455 framing, and a handshake and exchange over TLS (the chat widget's
socket, live.talkbubble.test)."""

from __future__ import annotations

import base64
import io
import json
import secrets
import socket

import pytest

from fixture_client import UNVERIFIED, fetch
from fixtures import websocket
from fixtures.server import FixtureInternet

MASK = b"\x12\x34\x56\x78"


def test_the_accept_key_is_the_rfc_6455_example():
    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("length", [0, 5, 125, 126, 200, 65535, 65536, 70000])
def test_a_masked_frame_of_any_length_reads_back_unmasked(length):
    payload = secrets.token_bytes(length)
    encoded = websocket.encode_frame(websocket.BINARY, payload, mask=MASK)
    assert encoded[1] & 0x80  # the mask bit
    assert websocket.read_frame(io.BytesIO(encoded)) == websocket.Frame(True, websocket.BINARY, payload)


def test_a_cut_off_frame_is_the_end_of_the_connection():
    encoded = websocket.encode_frame(websocket.TEXT, b"hello", mask=MASK)
    assert websocket.read_frame(io.BytesIO(encoded[:-1])) is None
    assert websocket.read_frame(io.BytesIO(b"")) is None


def test_serve_joins_fragments_answers_ping_and_close_and_replies_to_each_text_message():
    received = []

    def on_message(text):
        received.append(text)
        return f"got {len(text)}"

    incoming = io.BytesIO(
        websocket.encode_frame(websocket.TEXT, b"hel", mask=MASK, fin=False)
        + websocket.encode_frame(websocket.PING, b"p", mask=MASK)
        + websocket.encode_frame(websocket.CONTINUATION, "lo é".encode(), mask=MASK)
        + websocket.encode_frame(websocket.BINARY, b"\x00\x01", mask=MASK)
        + websocket.encode_frame(websocket.CLOSE, b"\x03\xe8", mask=MASK)
        + websocket.encode_frame(websocket.TEXT, b"after close", mask=MASK)
    )
    outgoing = io.BytesIO()
    websocket.serve(incoming, outgoing, on_message)
    assert received == ["hello é"]
    replies = io.BytesIO(outgoing.getvalue())
    frames = [websocket.read_frame(replies) for _ in range(3)]
    assert frames == [
        websocket.Frame(True, websocket.PONG, b"p"),
        websocket.Frame(True, websocket.TEXT, b"got 7"),
        websocket.Frame(True, websocket.CLOSE, b"\x03\xe8"),
    ]
    assert websocket.read_frame(replies) is None


def test_the_chat_socket_shakes_hands_over_tls_and_acknowledges_each_frame():
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    with (
        FixtureInternet({}) as internet,
        socket.create_connection(("127.0.0.1", internet.https_port), timeout=5) as raw,
        UNVERIFIED.wrap_socket(raw, server_hostname="live.talkbubble.test") as tls,
    ):
        tls.sendall(
            (
                "GET /socket HTTP/1.1\r\nHost: live.talkbubble.test\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        stream = tls.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += stream.read(1)
        assert head.startswith(b"HTTP/1.1 101")
        assert f"Sec-WebSocket-Accept: {websocket.accept_key(key)}".encode() in head
        tls.sendall(websocket.encode_frame(websocket.TEXT, b'{"typing": "email", "text": "a"}', mask=MASK))
        assert json.loads(websocket.read_frame(stream).payload) == {"ack": True}
        tls.sendall(websocket.encode_frame(websocket.CLOSE, b"", mask=MASK))
        assert websocket.read_frame(stream).opcode == websocket.CLOSE
        assert [r.path for r in internet.log.matching(host="live.talkbubble.test")] == ["/socket"]


def test_a_plain_get_of_the_socket_is_refused():
    with FixtureInternet({}) as internet:
        reply = fetch(internet, "live.talkbubble.test", "/socket")
    assert reply.status == 400
