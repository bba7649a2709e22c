"""What leaves the browser layer: frozen, Playwright-free records of what was seen.

Collectors build these at the boundary; the store writes them and the analyzers read them back
(``from_row``), so analysis can run on recorded observations without a browser.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

PHASES = (
    "control",
    "login",
    "crawl",
    "reconnect",
    "retention",
    "logout",
    "respawn",  # an audit, in protocol order
    "removal-login",
    "removal-public",
    "removal-replay",
)  # a post-termination check
# A phase's result, stored with the phase (phases.result): the saved browser state still opened the account.
RECOGNISED = "recognised"
# The retention phase's results: which cookies keep the login was proven; the login was not kept at all; or the
# check could not be made (the relaunch with every saved cookie was not logged in either way).
RETENTION_PROVEN = "proven"
RETENTION_NOT_KEPT = "login not kept"


@dataclass(frozen=True)
class PhaseResult:
    """What a phase found, beyond completing: ``result`` (e.g. ``RECOGNISED``), the URL it concerns, and the
    same in words for people (``phases.message``)."""

    result: str
    url: str | None = None
    note: str | None = None


class _Row:
    """Mixin: turn a dataclass into a flat row (JSON for tuples/dicts) and back."""

    table: ClassVar[str]
    json_fields: ClassVar[tuple[str, ...]] = ()

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)  # type: ignore[call-overload]
        for name in self.json_fields:
            row[name] = json.dumps(row[name], ensure_ascii=False)
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]):
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in row.items() if k in names}
        for name in cls.json_fields:
            if isinstance(values.get(name), str):
                loaded = json.loads(values[name])
                values[name] = _freeze(loaded)
        for name in _bool_fields(cls):
            if values.get(name) is not None:
                values[name] = bool(values[name])
        return cls(**values)


_BOOL_FIELDS: dict[type, tuple[str, ...]] = {}


def _bool_fields(cls: type) -> tuple[str, ...]:
    """The fields typed ``bool`` or ``bool | None`` (SQLite gives them back as 0/1), from the resolved hints."""
    if cls not in _BOOL_FIELDS:
        hints = get_type_hints(cls)
        _BOOL_FIELDS[cls] = tuple(f.name for f in fields(cls) if _is_bool(hints[f.name]))  # type: ignore[arg-type]
    return _BOOL_FIELDS[cls]


def _is_bool(hint: Any) -> bool:
    if get_origin(hint) in (Union, UnionType):
        return bool in get_args(hint) and all(arg in (bool, type(None)) for arg in get_args(hint))
    return hint is bool


def _freeze(value):
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class RequestObs(_Row):
    """One request and, when it completed, its response."""

    table: ClassVar[str] = "requests"
    json_fields: ClassVar[tuple[str, ...]] = ("request_headers", "response_headers", "set_cookies")

    time: float
    method: str
    url: str
    host: str
    scheme: str
    resource_type: str
    frame_url: str | None
    page_url: str | None
    is_navigation: bool
    from_service_worker: bool
    initiator_type: str | None
    initiator_url: str | None
    request_headers: tuple  # ((name, value), ...) as sent, Cookie included
    cookie_header: str | None
    referer: str | None
    post_data: str | None
    status: int | None
    response_headers: tuple  # ((name, value), ...)
    set_cookies: tuple  # raw Set-Cookie header values
    remote_address: str | None
    tls_protocol: str | None
    tls_cipher: str | None
    failure: str | None


@dataclass(frozen=True)
class WebSocketFrameObs(_Row):
    """A WebSocket frame a page sent or received (a chat widget streaming what is typed, say), with the socket,
    the frame and script that opened it when known, and the payload cut at a length."""

    table: ClassVar[str] = "websocket_frames"

    time: float
    socket_url: str
    host: str
    page_url: str | None
    frame_url: str | None  # the frame that opened the socket; None when not known
    initiator_url: str | None  # the script that opened the socket
    direction: str  # "sent" | "received"
    opcode: str  # "text" | "binary"
    payload: str  # the text; a binary frame's bytes in base64
    size: int  # the whole payload's length: characters of text, bytes of binary
    truncated: bool


@dataclass(frozen=True)
class CookieObs(_Row):
    """A cookie in the browser's jar at the end of a phase, with who set it."""

    table: ClassVar[str] = "cookies"

    name: str
    value: str
    domain: str
    host_only: bool
    path: str
    expires: float | None  # Unix time; None for a session cookie
    session: bool
    http_only: bool
    secure: bool
    same_site: str | None
    partition_key: str | None
    size: int
    source_scheme: str | None
    set_by_kind: str | None  # "header" | "script" | None when not seen being set
    set_by_url: str | None  # response URL of the Set-Cookie, or the script URL behind document.cookie

    def lifetime_days(self, seen_at: float | None) -> float | None:
        """How long the cookie was set to last, in days, counted from when it was seen (the end of its phase);
        None for a session cookie or when the time it was seen is unknown."""
        if self.session or self.expires is None or seen_at is None:
            return None
        return (self.expires - seen_at) / 86400


@dataclass(frozen=True)
class StorageObs(_Row):
    """One client-side storage item at the end of a phase."""

    table: ClassVar[str] = "storage_items"

    kind: str  # localStorage | sessionStorage | indexedDB | cacheStorage | serviceWorker
    origin: str
    frame_url: str | None
    container: str | None  # IndexedDB "db/store", cache name, SW scope
    key: str
    value: str | None
    size: int
    # The top-level site whose partition holds the item (a third-party frame's storage), None when unpartitioned.
    partition_key: str | None = None


@dataclass(frozen=True)
class ScriptCookieWrite(_Row):
    """A ``document.cookie`` assignment seen by the instrumentation script."""

    table: ClassVar[str] = "script_cookie_writes"

    time: float
    frame_url: str
    script_url: str | None
    cookie_string: str


@dataclass(frozen=True)
class ApiCallObs(_Row):
    """A call to a JavaScript API that fingerprinting uses, seen by the instrumentation script: which script
    called what, in which frame of which page. Each distinct call is recorded once per document."""

    table: ClassVar[str] = "api_calls"

    time: float
    page_url: str | None  # the tab's top-level page
    frame_url: str
    script_url: str | None  # the calling script, from the stack (an inline script shows its page's URL)
    api: str  # e.g. "HTMLCanvasElement.toDataURL", "navigator.userAgent", "OfflineAudioContext"
    target: str | None  # the canvas or peer connection called on, unique within the audit
    detail: str | None  # text drawn, colour, font, read-back size and format, audio context kind


@dataclass(frozen=True)
class CnameChainObs(_Row):
    """The DNS CNAME chain of a first-party host the audit contacted, looked up after the browsing: a first-party
    name that is an alias of a tracker's domain (CNAME cloaking) is the tracker's, whatever its name says."""

    table: ClassVar[str] = "cname_chains"
    json_fields: ClassVar[tuple[str, ...]] = ("chain",)

    time: float
    host: str
    chain: tuple  # the host, then each CNAME target in order; just the host when it is no alias
    resolver: str  # "HOST:PORT", or "system"
    error: str | None  # why the chain could not be looked up (it is then incomplete or empty)


@dataclass(frozen=True)
class RetentionCookieObs(_Row):
    """A persistent first-party cookie the retention phase tested: the student was relaunched without it (alone
    or in a group) from the cookies saved after the reconnect. ``needed``: without it the student was logged out
    (True), stayed logged in (False), or it was removed in a group that was needed together (None). When even the
    relaunch with every saved cookie was not logged in, each is recorded not needed, with nothing left out."""

    table: ClassVar[str] = "retention_cookies"

    name: str
    domain: str
    path: str
    needed: bool | None
    trial: int  # the relaunch that decided it (1 is the relaunch with every saved cookie)
    left_out: int  # how many cookies that relaunch left out


@dataclass(frozen=True)
class PageObs(_Row):
    """One page visit."""

    table: ClassVar[str] = "pages"
    json_fields: ClassVar[tuple[str, ...]] = ("forms",)

    url: str
    final_url: str | None
    status: int | None
    title: str | None
    depth: int
    started: float
    finished: float
    screenshot: str | None  # path relative to the database's folder
    screenshot_sha256: str | None
    error: str | None
    # The forms on the page and the personal data each asks for: what a sign-up page collects from a child.
    forms: tuple = ()
    # Why the visit failed: DNS, TLS, refused, timeout, connection or "HTTP <status>" (crawler.coverage); None if it loaded.
    failure_class: str | None = None
    # The page's visible text when the audit planted its DOM canary (crawl phase, bounded): what a session
    # recording of the page captured, searched for the account's PII.
    visible_text: str | None = None


@dataclass(frozen=True)
class ErrorObs(_Row):
    """A failure that did not stop the audit."""

    table: ClassVar[str] = "errors"

    time: float
    source: str  # collector or step name
    url: str | None
    message: str
