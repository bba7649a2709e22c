"""Which scripts fingerprint the browser, judged from the API calls they made (``api_calls``).

Criteria, per calling script:
- canvas (Englehardt & Narayanan, "Online Tracking: A 1-million-site Measurement and Analysis", CCS 2016): on one
  canvas the script draws text with at least 10 distinct characters or sets at least 2 colours, reads the image
  back with ``toDataURL``/``toBlob`` (not in a lossy format) or ``getImageData`` of at least 16x16 pixels from a
  canvas at least 16x16, and never calls ``save``/``restore`` or ``addEventListener`` on it. A canvas that is only
  drawn (a chart) is not fingerprinting;
- canvas font enumeration: ``measureText`` under at least 50 distinct fonts;
- WebRTC local-address discovery: a peer connection with a data channel or an offer whose ICE candidates or
  local description the script reads;
- audio: an ``OfflineAudioContext`` rendering with an oscillator and a dynamics compressor;
- the navigator and screen properties it read are counted as corroboration, never as proof on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..observations import ApiCallObs
from .audit_data import Rec

MIN_TEXT_CHARACTERS = 10
MIN_COLOURS = 2
MIN_READ_BACK_PIXELS = 16
MIN_FONTS = 50
LOSSY_FORMATS = ("image/jpeg", "image/webp")
# The same calls on a page's canvas and on an OffscreenCanvas (in a worker too): judged alike.
CANVAS_TYPES = ("CanvasRenderingContext2D", "OffscreenCanvasRenderingContext2D", "HTMLCanvasElement", "OffscreenCanvas")
READ_BACKS = ("toDataURL", "toBlob", "convertToBlob", "getImageData")
SIZE = re.compile(r"^(\d+)x(\d+)")


@dataclass(frozen=True)
class Technique:
    name: str  # canvas | canvas font enumeration | WebRTC local addresses | audio
    apis: tuple[str, ...]  # the APIs the script called for it
    detail: str  # what crossed the threshold, in words
    row_ids: tuple[int, ...]


@dataclass(frozen=True)
class ScriptBehaviour:
    """One script's fingerprinting-prone API use over the audit."""

    script_url: str
    techniques: tuple[Technique, ...]
    properties_read: tuple[str, ...]  # navigator.* and screen.* read
    pages: tuple[str, ...]
    frames: tuple[str, ...]
    phases: tuple[str, ...]
    row_ids: tuple[int, ...]

    @property
    def fingerprints(self) -> bool:
        return bool(self.techniques)


def script_behaviours(calls: Iterable[Rec[ApiCallObs]]) -> list[ScriptBehaviour]:
    by_script: dict[str, list[Rec[ApiCallObs]]] = {}
    for rec in calls:
        if rec.obs.script_url:
            by_script.setdefault(rec.obs.script_url, []).append(rec)
    behaviours = []
    for script, records in sorted(by_script.items()):
        techniques = [t for t in (_canvas(records), _fonts(records), _webrtc(records), _audio(records)) if t]
        properties = sorted({r.obs.api for r in records if r.obs.api.startswith(("navigator.", "screen."))})
        behaviours.append(
            ScriptBehaviour(
                script_url=script,
                techniques=tuple(techniques),
                properties_read=tuple(properties),
                pages=tuple(dict.fromkeys(r.obs.page_url for r in records if r.obs.page_url)),
                frames=tuple(dict.fromkeys(r.obs.frame_url for r in records)),
                phases=tuple(dict.fromkeys(r.phase for r in records)),
                row_ids=tuple(r.row_id for r in records),
            )
        )
    return behaviours


def _canvas(records: list[Rec[ApiCallObs]]) -> Technique | None:
    by_canvas: dict[str, list[Rec[ApiCallObs]]] = {}
    for rec in records:
        if rec.obs.target and _canvas_method(rec.obs.api):
            by_canvas.setdefault(rec.obs.target, []).append(rec)
    for canvas_records in by_canvas.values():
        methods = {_canvas_method(r.obs.api) for r in canvas_records}
        if methods & {"save", "restore", "addEventListener"}:
            continue
        text = "".join(
            r.obs.detail or "" for r in canvas_records if _canvas_method(r.obs.api) in ("fillText", "strokeText")
        )
        colours = {r.obs.detail for r in canvas_records if _canvas_method(r.obs.api) in ("fillStyle", "strokeStyle")}
        if len(set(text)) < MIN_TEXT_CHARACTERS and len(colours) < MIN_COLOURS:
            continue
        read_backs = [r for r in canvas_records if _fingerprint_read_back(r.obs)]
        if not read_backs:
            continue
        drawn = (
            f"text with {len(set(text))} distinct characters"
            if len(set(text)) >= MIN_TEXT_CHARACTERS
            else f"{len(colours)} colours"
        )
        reads = sorted({method for r in read_backs if (method := _canvas_method(r.obs.api))})
        return Technique(
            "canvas",
            tuple(sorted({r.obs.api for r in canvas_records})),
            f"drew {drawn} on a canvas and read it back with {', '.join(reads)} ({read_backs[0].obs.detail})",
            tuple(r.row_id for r in canvas_records),
        )
    return None


def _canvas_method(api: str) -> str | None:
    owner, _, method = api.partition(".")
    return method if owner in CANVAS_TYPES else None


def _fingerprint_read_back(call: ApiCallObs) -> bool:
    if _canvas_method(call.api) not in READ_BACKS:
        return False
    size = SIZE.match(call.detail or "")
    if not size or min(int(size[1]), int(size[2])) < MIN_READ_BACK_PIXELS:
        return False
    return not any(lossy in (call.detail or "") for lossy in LOSSY_FORMATS)


def _fonts(records: list[Rec[ApiCallObs]]) -> Technique | None:
    measured = [r for r in records if _canvas_method(r.obs.api) == "measureText"]
    fonts = {r.obs.detail for r in measured}
    if len(fonts) < MIN_FONTS:
        return None
    return Technique(
        "canvas font enumeration",
        tuple(sorted({r.obs.api for r in measured})),
        f"measured text under {len(fonts)} fonts",
        tuple(r.row_id for r in measured),
    )


def _webrtc(records: list[Rec[ApiCallObs]]) -> Technique | None:
    by_peer: dict[str, list[Rec[ApiCallObs]]] = {}
    for rec in records:
        if rec.obs.api.startswith("RTCPeerConnection") and rec.obs.target:
            by_peer.setdefault(rec.obs.target, []).append(rec)
    for peer_records in by_peer.values():
        apis = {r.obs.api for r in peer_records}
        listens = (
            "RTCPeerConnection.onicecandidate" in apis
            or "RTCPeerConnection.localDescription" in apis
            or any(
                r.obs.api == "RTCPeerConnection.addEventListener" and r.obs.detail == "icecandidate"
                for r in peer_records
            )
        )
        opens = apis & {"RTCPeerConnection.createDataChannel", "RTCPeerConnection.createOffer"}
        if opens and listens:
            return Technique(
                "WebRTC local addresses",
                tuple(sorted(apis)),
                "opened a peer connection without a peer and read its ICE candidates",
                tuple(r.row_id for r in peer_records),
            )
    return None


def _audio(records: list[Rec[ApiCallObs]]) -> Technique | None:
    offline = [
        r
        for r in records
        if r.obs.api.startswith("OfflineAudioContext")
        or (r.obs.api.startswith("BaseAudioContext.") and r.obs.detail == "offline")
    ]
    apis = {r.obs.api for r in offline}
    needed = {"OfflineAudioContext", "BaseAudioContext.createOscillator", "BaseAudioContext.createDynamicsCompressor"}
    if not needed <= apis:
        return None
    return Technique(
        "audio",
        tuple(sorted(apis)),
        "rendered an oscillator through a compressor in an OfflineAudioContext",
        tuple(r.row_id for r in offline),
    )
