"""Tell a persistent identifier from a constant, after Acar et al. 2014 and Englehardt et al. 2016.

The same cookie or storage key is sampled three times: in the control profile (a fresh, logged-out
browser), in the audited profile, and in the audited profile again after a browser restart. The value is
split into parts (``split_value``); a part identifies the browser when

- the carrier persists: a cookie lives at least ``min_lifetime_days`` (a session cookie never
  qualifies; localStorage/IndexedDB have no expiry, pass ``STORAGE_LIFETIME``);
- it is long enough to single someone out and not absurdly long: ``min_length`` to ``max_length``
  characters. design.md says at least 8, the issue said 6 to 100; the default is 8, a policy may lower it. A
  number counts as long as the same field is in the control value (``number_field_widths``): random numbers
  are written without their leading zeros;
- it is not a timestamp (10- or 13-digit Unix times within ``timestamp_window_days`` of now, ISO
  dates), a boolean, a small number or a common setting word (``dark``, ``en-US``, …);
- it differs from the control sample: its Ratcliff-Obershelp similarity
  (``difflib.SequenceMatcher.ratio``) to every part of the control value of comparable length (at most twice
  as long or half as long) is below ``similarity_threshold`` (no control value at all counts as different);
- it is unchanged after the restart: it is one of the parts of the value seen after the restart.

``_ga = GA1.2.123456789.1700000000``: the parts are ``GA1``, ``2``, ``123456789`` and ``1700000000``.
The timestamp and the version prefix are excluded, the whole value is too close to another browser's
``_ga`` (they share the prefix and most of the timestamp), and the random client number ``123456789`` is
the identifier. When several parts qualify, the longest is reported.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import time
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import unquote

STORAGE_LIFETIME = math.inf

_STRONG_DELIMITERS = re.compile(r"[.|:&=,;\s]+")
_WEAK_DELIMITERS = re.compile(r"[-_]+")
_UNIX_TIME = re.compile(r"\d{10}|\d{13}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?")
_SMALL_NUMBER = re.compile(r"[-+]?\d{1,5}(?:\.\d+)?")
_LOCALE = re.compile(r"[a-z]{2,3}(?:[-_](?:[a-z]{2}|[a-z]{4}))?", re.IGNORECASE)
_MAX_SPLIT_DEPTH = 4
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
_MAX_REASONS_PER_VALUE = 8

COMMON_VALUES = frozenset(
    {
        "true", "false", "null", "none", "undefined", "nan", "yes", "no", "on", "off",
        "dark", "light", "auto", "system", "default", "enabled", "disabled", "accepted",
        "rejected", "granted", "denied", "necessary", "functional", "analytics", "marketing",
        "expanded", "collapsed", "visible", "hidden", "closed", "open", "desktop", "mobile",
        "tablet", "utf-8", "english", "anonymous", "guest", "session",
    }
)  # fmt: skip


@dataclass(frozen=True)
class IdentifierParams:
    """Policy parameters of the identifier test (a rule pack may override them)."""

    min_lifetime_days: float = 30
    min_length: int = 8
    max_length: int = 100
    similarity_threshold: float = 0.45
    # Audit profiles are fresh, so the timestamps they hold were made during the audit (creation, last visit)
    # or soon after (expiry). A wide window would take random 10-digit ids for times: 2^31 reaches 2038.
    timestamp_window_days: float = 30


@dataclass(frozen=True)
class IdentifierVerdict:
    """Whether a value is an identifier, which part identifies, and why, test by test."""

    is_identifier: bool
    part: str | None
    reasons: tuple[str, ...]


def split_value(value: str) -> list[str]:
    """The whole value, then its parts: JSON leaves (recursively, also of JSON wrapped in base64), pieces
    between ``. | : & = , ;`` and whitespace, and those pieces split again on ``-`` and ``_``. A URL-encoded
    value is split as decoded (the encoded whole is kept too). No repeats, no empty parts."""
    parts: list[str] = []
    _collect_parts(value, parts, depth=0)
    return list(dict.fromkeys(part for part in parts if part))


def _collect_parts(value: str, parts: list[str], depth: int) -> None:
    parts.append(value)
    if depth >= _MAX_SPLIT_DEPTH:
        return
    reading = unquote(value)
    if reading != value:
        parts.append(reading)
    decoded = _base64_json(reading)
    if decoded is not None:
        _collect_parts(decoded, parts, depth + 1)
        return
    leaves = _json_leaves(reading)
    if leaves is not None:
        for leaf in leaves:
            _collect_parts(leaf, parts, depth + 1)
        return
    for piece in _STRONG_DELIMITERS.split(reading):
        piece = piece.strip("\"'")
        parts.append(piece)
        if _WEAK_DELIMITERS.search(piece):
            parts.extend(_WEAK_DELIMITERS.split(piece))


def _base64_json(text: str) -> str | None:
    """The JSON a base64 value wraps (Hotjar's ``_hjSessionUser_*`` holds ``{"id": "<uuid>", ...}``), if any."""
    if len(text) < 16 or not _BASE64.fullmatch(text):
        return None
    padded = text + "=" * (-len(text) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            decoded = decode(padded).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if decoded.lstrip().startswith(("{", "[")) and _json_leaves(decoded) is not None:
            return decoded
    return None


def _json_leaves(text: str) -> list[str] | None:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    leaves = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(reversed(node.values()))
        elif isinstance(node, list):
            stack.extend(reversed(node))
        elif node is not None and not isinstance(node, bool):
            leaves.append(str(node))
    return leaves


def similarity(a: str, b: str) -> float:
    """Ratcliff-Obershelp similarity, 0 (nothing shared) to 1 (equal).

    Two numbers are compared by their shared leading digits instead: random digit strings share many
    characters by chance (a ten-letter alphabet puts two random client ids near 0.5), while numbers that are
    really the same kind of constant (counters, versions, timestamps) agree from the left."""
    if a.isdigit() and b.isdigit():
        return len(os.path.commonprefix([a, b])) / max(len(a), len(b))
    return SequenceMatcher(None, a, b).ratio()


def is_timestamp(text: str, now: float, window_days: float = 30) -> bool:
    if _UNIX_TIME.fullmatch(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return abs(seconds - now) <= window_days * 86400
    return _ISO_DATE.fullmatch(text) is not None


def is_common_value(text: str) -> bool:
    """A boolean, a small number, a locale tag or a common setting word."""
    return (
        text.lower() in COMMON_VALUES
        or _SMALL_NUMBER.fullmatch(text) is not None
        or _LOCALE.fullmatch(text) is not None
    )


def _shown(part: str) -> str:
    return repr(part if len(part) <= 40 else part[:37] + "...")


def _lifetime_reason(lifetime_days: float | None, params: IdentifierParams) -> tuple[bool, str]:
    if lifetime_days is None:
        return False, "session cookie or storage: it ends with the browser session, so it cannot persist"
    if math.isinf(lifetime_days):
        return True, "persistent storage: it has no expiry"
    if lifetime_days < params.min_lifetime_days:
        return False, f"lasts {lifetime_days:.0f} days, under the {params.min_lifetime_days:g} required"
    return True, f"lasts {lifetime_days:.0f} days, at least the {params.min_lifetime_days:g} required"


@dataclass(frozen=True)
class _PartTest:
    part: str
    failure: str | None
    control_similarity: float | None


def number_field_widths(audited: str, control: str | None) -> dict[str, int]:
    """How long each number of the audited value is written in the control profile's value, where that is longer:
    the two values have the same pieces (between the strong delimiters) and the same piece holds a number in both.

    A random number is written without its leading zeros: of Google Analytics' client ids (``GA1.2.<random below
    2^31>.<time>``) nearly half have 9 digits instead of 10, and one in 200 has 7 or fewer. Its length is the
    field's, as another browser's value shows, not its digits'."""
    if not control:
        return {}
    pieces = _STRONG_DELIMITERS.split(unquote(audited))
    control_pieces = _STRONG_DELIMITERS.split(unquote(control))
    if len(pieces) != len(control_pieces):
        return {}
    return {
        piece: len(other)
        for piece, other in zip(pieces, control_pieces, strict=True)
        if piece.isdigit() and other.isdigit() and len(other) > len(piece)
    }


def _test_part(
    part: str,
    control_parts: list[str] | None,
    restart_parts: set[str] | None,
    params: IdentifierParams,
    now: float,
    field_width: int = 0,
) -> _PartTest:
    def failed(reason: str) -> _PartTest:
        return _PartTest(part, reason, None)

    if max(len(part), field_width) < params.min_length:
        return failed(f"too short ({len(part)} < {params.min_length} characters)")
    if len(part) > params.max_length:
        return failed(f"too long ({len(part)} > {params.max_length} characters)")
    if is_timestamp(part, now, params.timestamp_window_days):
        return failed("a timestamp")
    if is_common_value(part):
        return failed("a boolean, small number, locale or common word")
    # Only values of comparable length are compared: the ratio of a short part to a long value is about their
    # lengths (a random 10-digit number scored 0.51 against a 29-character control value it was not in).
    comparable = [
        other for other in control_parts or () if 2 * min(len(part), len(other)) >= max(len(part), len(other))
    ]
    closest = max((similarity(part, other) for other in comparable), default=0.0) if control_parts else None
    threshold = params.similarity_threshold
    if closest is not None and closest >= threshold:
        reason = f"too close to the control profile's value (similarity {closest:.2f} ≥ {threshold:g})"
        return _PartTest(part, reason, closest)
    if restart_parts is None or part not in restart_parts:
        return _PartTest(part, "changed or gone after the browser restart", closest)
    return _PartTest(part, None, closest)


def find_identifier(
    audited: str | None,
    control: str | None,
    after_restart: str | None,
    lifetime_days: float | None,
    params: IdentifierParams = IdentifierParams(),
    now: float | None = None,
) -> IdentifierVerdict:
    """Judge one cookie or storage value (see the module docstring for the tests).

    ``lifetime_days``: None for a session cookie or sessionStorage, ``STORAGE_LIFETIME`` for
    localStorage/IndexedDB. ``now`` (Unix time) defaults to the clock; it dates the timestamp test.
    """
    if not audited:
        return IdentifierVerdict(False, None, ("no value in the audited profile",))
    now = time.time() if now is None else now
    persists, lifetime_reason = _lifetime_reason(lifetime_days, params)
    control_parts = split_value(control) if control else None
    restart_parts = set(split_value(after_restart)) if after_restart else None
    widths = number_field_widths(audited, control)
    tests = [
        _test_part(part, control_parts, restart_parts, params, now, widths.get(part, 0))
        for part in split_value(audited)
    ]
    qualifying = sorted((test for test in tests if test.failure is None), key=lambda test: -len(test.part))
    if not qualifying:
        shown = tests[:_MAX_REASONS_PER_VALUE]
        reasons = [lifetime_reason, "no part of the value qualifies as an identifier:"]
        reasons += [f"{_shown(test.part)}: {test.failure}" for test in shown]
        if len(tests) > len(shown):
            reasons.append(f"… and {len(tests) - len(shown)} more parts")
        return IdentifierVerdict(False, None, tuple(reasons))
    best = qualifying[0]
    if best.control_similarity is None:
        control_reason = "no control value, so it counts as different from the control profile"
    else:
        control_reason = (
            f"differs from the control profile's value "
            f"(closest similarity {best.control_similarity:.2f} < {params.similarity_threshold:g})"
        )
    length_reason = f"part {_shown(best.part)} is {len(best.part)} characters"
    if len(best.part) < params.min_length:
        length_reason += (
            f": a number written without its leading zeros, in a field of {widths[best.part]} in the control"
            " profile's value"
        )
    qualifying_reasons = (
        lifetime_reason,
        f"{length_reason} ({params.min_length} to {params.max_length} allowed)",
        "it is not a timestamp, boolean, small number, locale or common word",
        control_reason,
        "it is the same after the browser restart",
    )
    return IdentifierVerdict(persists, best.part if persists else None, qualifying_reasons)
