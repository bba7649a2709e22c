"""The frames of one WebSocket, sent and received, bounded per frame and per socket like request bodies."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import WebSocket

from ...observations import WebSocketFrameObs
from .base import CaptureState

MAX_FRAME_CHARS = 100_000
MAX_SOCKET_CHARS = 1_000_000  # both directions: a socket streaming for the whole visit stops being stored here


@dataclass(frozen=True)
class SocketOrigin:
    """Who opened a socket, as CDP's ``Network.webSocketCreated`` told the session that saw it."""

    frame_url: str | None
    initiator_url: str | None


class SocketFrames:
    """Records a socket's frames as they pass until its budget is spent, then says so once (an error row).
    ``origin`` is asked at the first frame: by then CDP has told who opened the socket, if it saw it."""

    def __init__(
        self, state: CaptureState, socket_url: str, page_url: str, origin: Callable[[], SocketOrigin | None]
    ) -> None:
        self.state = state
        self.socket_url = socket_url
        self.page_url = page_url
        self._origin = origin
        self._known_origin: SocketOrigin | None = None
        self.stored_chars = 0
        self.dropped = False

    def _unkept(self) -> None:
        self.state.note_unkept(
            f"frames of the WebSocket {self.socket_url} past their bound ({MAX_FRAME_CHARS:,} characters a frame, "
            f"{MAX_SOCKET_CHARS:,} a socket)"
        )

    def watch(self, ws: WebSocket, source: str) -> None:
        ws.on("framesent", lambda payload: self.state.spawn(self.record("sent", payload), source))
        ws.on("framereceived", lambda payload: self.state.spawn(self.record("received", payload), source))

    async def record(self, direction: str, payload: str | bytes) -> None:
        captured_at = time.time()
        if self.stored_chars >= MAX_SOCKET_CHARS:
            if not self.dropped:
                self.dropped = True
                self._unkept()
                self.state.sink.error(
                    "network",
                    f"WebSocket frames after the first {MAX_SOCKET_CHARS:,} characters of this socket are not stored",
                    url=self.socket_url,
                )
            return
        # Masked before it is cut, so no half of a password survives the cut.
        redactor = self.state.sink.store.redactor
        if isinstance(payload, bytes):
            opcode, size = "binary", len(payload)
            text = base64.b64encode(redactor.bytes(payload)).decode("ascii")
        else:
            opcode, size = "text", len(payload)
            text = redactor.text(payload)
        if self._known_origin is None:
            self._known_origin = self._origin() or SocketOrigin(None, None)
        kept = text[: min(MAX_FRAME_CHARS, MAX_SOCKET_CHARS - self.stored_chars)]
        if len(kept) < len(text):
            self._unkept()
        self.stored_chars += len(kept)
        self.state.sink.add(
            WebSocketFrameObs(
                time=captured_at,
                socket_url=self.socket_url,
                host=urlsplit(self.socket_url).hostname or "",
                page_url=self.page_url,
                frame_url=self._known_origin.frame_url,
                initiator_url=self._known_origin.initiator_url,
                direction=direction,
                opcode=opcode,
                payload=kept,
                size=size,
                truncated=len(kept) < len(text),
            )
        )
