"""Decoded views of a request part, so the PII scan sees through URL-encoding, forms, JSON and base64.

``decoded_views`` returns the text itself and every decoding of it, nested up to ``depth`` levels, each
labelled with its decoding path ("query > json", "form > base64"). Structured decodings (query strings,
forms, cookies, JSON, multipart) render their values as ``key=value`` lines, so the key stays next to
the value and the matcher's key-hint rule still works. ``scan_request`` scans a request's URL, headers
and post body through these views.

Garbage in is expected (binary bodies, invalid JSON, bad base64, megabytes of minified script): a
decoding that fails yields nothing, each body is cut to ``MAX_SCAN_CHARS``, and the views of one body
together stay under ``MAX_VIEW_CHARS``.

A megabyte of text holds tens of thousands of runs that look like base64, and the views of one body share
most of them. URL-decoding and base64 decode *in place*: the decoded value is its source with a few spans
replaced, and remembers which (``_Value.edits``). So each distinct run is decoded once per body, a value
decoded in place is split into base64-looking runs again only around its edits (the runs elsewhere are its
source's), and ``scan_part`` scans a view decoded in place only around its changes.
"""

from __future__ import annotations

import binascii
import json
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from urllib.parse import unquote_plus, urlsplit

from crawler.analyze.pii import PiiMatch, PiiMatcher

MAX_SCAN_CHARS = 1_000_000
MAX_VIEW_CHARS = 4_000_000
MAX_URL_DECODE_ROUNDS = 3
MIN_BASE64_TOKEN = 8

_BASE64_TOKEN = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_BASE64_TOKEN},}}={{0,2}}")
# A base64 token never spans a character outside these, so a stretch of them splits into tokens on its own.
_BETWEEN_BASE64_TOKENS = re.compile(f"({_BASE64_TOKEN.pattern})")  # split: text, token, text, token, ..., text
_STRETCH_HEAD = re.compile(r"[A-Za-z0-9+/_=-]*")
_STRETCH_TAIL = re.compile(r"[A-Za-z0-9+/_=-]*\Z")
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# First characters of a token whose first byte is a control character other than tab, CR and LF, a UTF-8
# continuation byte or never in UTF-8 (the character's six bits are the byte's top six).
_NEVER_STARTS_TEXT = frozenset("ABEFGHghijklmnopqrstuv+/-_")
_TOKEN_CHARS = string.ascii_letters + string.digits + "+/_-"
_TOKEN_CHAR = bytes(1 if chr(byte) in _TOKEN_CHARS else 0 for byte in range(256))
_MAY_START_TEXT = bytes(
    1 if chr(byte) in _TOKEN_CHARS and chr(byte) not in _NEVER_STARTS_TEXT else 0 for byte in range(256)
)
MANY_TOKEN_CHARS = 4096  # from this length on, ``_tokens_that_may_decode`` is faster than a regex
_WITHOUT_TAB_CR_LF = str.maketrans("", "", "\t\r\n")
_PERCENT_ESCAPES = re.compile(r"%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*")
_FORM_KEY = r"[\w.\-\[\]%+]{1,128}"
_FORM = re.compile(rf"\s*{_FORM_KEY}=[^&;]*(?:[&;]\s*{_FORM_KEY}=[^&;]*)*\s*")
_PAIR_SEPARATOR = re.compile(r"[&;]\s*")
_BOUNDARY = re.compile(r'boundary="?([^";,\s]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(r'\bname="([^"]*)"', re.IGNORECASE)
_PART_FILENAME = re.compile(r'\bfilename="([^"]*)"', re.IGNORECASE)
# Decodings that undo an encoding step a variant chain may also end with; see ``scan_request``.
_UNDONE_BY_DECODING = frozenset({"url", "url_plus", "base64", "base64_nopad", "base64url", "base64url_nopad"})


Edit = tuple[int, int, int, int]  # ``source[start:end]`` became ``text[new_start:new_end]``
Replacement = tuple[int, int, str]  # ``text[start:end]`` decodes to the string


@dataclass(frozen=True)
class _Value:
    """A decoded value and the key it was stored under, if any; for a decoding in place, the value it
    decodes and the spans replaced, in order."""

    key: str | None
    text: str
    source: _Value | None = field(default=None, compare=False, repr=False)
    edits: tuple[Edit, ...] = field(default=(), compare=False, repr=False)

    def render(self) -> str:
        return f"{self.key}={self.text}" if self.key else self.text


class _Budget:
    """How many characters of views one body may still produce."""

    def __init__(self, chars: int) -> None:
        self.chars = chars

    def take(self, values: list[_Value]) -> bool:
        self.chars -= sum(len(value.text) for value in values)
        return self.chars >= 0


def _as_text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def _decoded_escapes(escapes: re.Match[str]) -> str:
    return bytes.fromhex(escapes.group().replace("%", "")).decode("utf-8", "replace")


def percent_decoded(text: str) -> str:
    """``urllib.parse.unquote(text)`` in one regex pass. Unquote decodes each run of ASCII characters to bytes
    and those as UTF-8, invalid sequences replaced; an ASCII byte never continues a UTF-8 sequence, so
    decoding each run of ``%XX`` escapes on its own gives the same text."""
    return _PERCENT_ESCAPES.sub(_decoded_escapes, text)


def _in_place(source: _Value, replacements: list[Replacement]) -> _Value:
    """``source`` with ``text[start:end]`` replaced by each ``(start, end, new)``, in order."""
    pieces: list[str] = []
    edits: list[Edit] = []
    position, shift = 0, 0
    for start, end, new in replacements:
        pieces += (source.text[position:start], new)
        edits.append((start, end, start + shift, start + shift + len(new)))
        shift += len(new) - (end - start)
        position = end
    pieces.append(source.text[position:])
    return _Value(None, "".join(pieces), source, tuple(edits))


def _url_decoded(value: _Value) -> list[_Value]:
    """Percent-decoded until stable, at most ``MAX_URL_DECODE_ROUNDS`` times; in place if once is enough."""
    if "%" not in value.text:
        return []
    escapes = [(run.start(), run.end(), _decoded_escapes(run)) for run in _PERCENT_ESCAPES.finditer(value.text)]
    if not escapes:
        return []
    once = _in_place(value, escapes)
    # Every escape was decoded, so an escape left in the result takes a character of a decoded one.
    if not any(_PERCENT_ESCAPES.search(once.text, max(0, start - 2), end + 2) for _, _, start, end in once.edits):
        return [once]
    decoded = once.text
    for _ in range(MAX_URL_DECODE_ROUNDS - 1):
        again = percent_decoded(decoded)
        if again == decoded:
            break
        decoded = again
    return [_Value(None, decoded)]


def _pairs(text: str) -> list[_Value]:
    values = []
    for pair in _PAIR_SEPARATOR.split(text.strip()):
        key, _, value = pair.partition("=")
        values.append(_Value(unquote_plus(key), unquote_plus(value)))
    return values


def _query(text: str) -> list[_Value]:
    if "://" not in text[:16]:
        return []
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return []
    return [
        value
        for component in (parts.query, parts.fragment)
        if _FORM.fullmatch(component)
        for value in _pairs(component)
    ]


def _form(text: str) -> list[_Value]:
    if "=" not in text or "://" in text[:16] or _BASE64_TOKEN.fullmatch(text) or not _FORM.fullmatch(text):
        return []
    return _pairs(text)


def _json(text: str) -> list[_Value]:
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return []
    try:
        document = json.loads(stripped)
    except (ValueError, RecursionError):
        return []
    values = []
    stack: list[tuple[str, object]] = [("", document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            children = [(f"{path}.{key}" if path else str(key), child) for key, child in node.items()]
        elif isinstance(node, list):
            children = [(f"{path}.{index}" if path else str(index), child) for index, child in enumerate(node)]
        else:
            children = []
            if isinstance(node, str) or (isinstance(node, (int, float)) and not isinstance(node, bool)):
                values.append(_Value(path or None, str(node)))
        stack.extend(reversed(children))
    return values


def _multipart(text: str, content_type: str | None) -> list[_Value]:
    found = _BOUNDARY.search(content_type or "")
    if found:
        boundary = found.group(1)
    elif text.startswith("--") and "content-disposition" in text[:1000].lower():
        boundary = text[2:].split("\n", 1)[0].strip()
    else:
        return []
    if not boundary:
        return []
    values = []
    for part in text.split("--" + boundary)[1:]:
        head, separator, body = part.replace("\r\n", "\n").partition("\n\n")
        if not separator:
            continue
        name = _PART_NAME.search(head)
        filename = _PART_FILENAME.search(head)
        values.append(_Value(name.group(1) if name else None, body.removesuffix("\n")))
        if filename:
            values.append(_Value("filename", filename.group(1)))
    return values


def _printable_but_tab_cr_lf(text: str) -> bool:
    return ("\t" in text or "\r" in text or "\n" in text) and text.translate(_WITHOUT_TAB_CR_LF).isprintable()


def decode_base64_token(token: str) -> str | None:
    """The printable UTF-8 text a base64 token (standard or URL-safe alphabet, padded or not) stands for."""
    if token.isdigit() or token[0] in _NEVER_STARTS_TEXT:
        return None
    unpadded = token.rstrip("=")
    if len(unpadded) % 4 == 1:
        return None
    data = (unpadded + "=" * (-len(unpadded) % 4)).encode("ascii")
    if "-" in unpadded or "_" in unpadded:
        if "+" in unpadded or "/" in unpadded:
            return None
        data = data.translate(_URLSAFE_TO_STANDARD)
    try:
        decoded = binascii.a2b_base64(data, strict_mode=True).decode("utf-8", "surrogateescape")
    except binascii.Error:
        return None
    # Invalid UTF-8 decodes to lone surrogates, which are not printable.
    if not decoded or not (decoded.isprintable() or _printable_but_tab_cr_lf(decoded)):
        return None
    return decoded


class _Base64Tokens:
    """The decodable base64 tokens of the values of one body: each distinct token decoded once, and a value
    decoded in place split into tokens again only around its edits."""

    def __init__(self) -> None:
        self.decoded: dict[str, str] = {}
        self.undecodable: set[str] = set()
        self._found: dict[int, tuple[_Value, list[Replacement]]] = {}

    def decodable(self, tokens: list[str]) -> set[str]:
        """The ones of ``tokens`` that decode."""
        unique = set(tokens)
        for token in unique - self.undecodable - self.decoded.keys():
            decoded = decode_base64_token(token)
            if decoded is None:
                self.undecodable.add(token)
            else:
                self.decoded[token] = decoded
        return unique & self.decoded.keys()

    def replacements(self, value: _Value) -> list[Replacement]:
        """``(start, end, decoded)`` of each decodable token of ``value.text``, in order."""
        known = self._found.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        source = self._found.get(id(value.source)) if value.source is not None else None
        if source is not None and source[0] is value.source:
            found = self._after_edits(value, source[1])
        else:
            found = self._between(value.text, 0, len(value.text))
        self._found[id(value)] = (value, found)
        return found

    def _between(self, text: str, start: int, end: int) -> list[Replacement]:
        if end - start < MANY_TOKEN_CHARS:
            pieces = _BETWEEN_BASE64_TOKENS.split(text[start:end])
            tokens = pieces[1::2]
            offsets = list(accumulate(map(len, pieces), initial=start))
            spans = list(zip(offsets[1::2], offsets[2::2], strict=False))  # one offset more than tokens
        else:
            spans = [(start + low, start + high) for low, high in _tokens_that_may_decode(text[start:end])]
            tokens = [text[low:high] for low, high in spans]
        decodable = self.decodable(tokens)
        if not decodable:
            return []
        decoded = self.decoded
        return [
            (low, high, decoded[token]) for (low, high), token in zip(spans, tokens, strict=True) if token in decodable
        ]

    def _after_edits(self, value: _Value, source_found: list[Replacement]) -> list[Replacement]:
        """The source's tokens away from the edits, moved with them, and the stretches of token characters
        around the edits split again: a token never spans a character outside them."""
        text = value.text
        regions: list[tuple[int, int]] = []
        for _, _, new_start, new_end in value.edits:
            start, end = _stretch_start(text, new_start), _STRETCH_HEAD.match(text, new_end).end()  # type: ignore[union-attr]
            if regions and start <= regions[-1][1]:
                regions[-1] = (regions[-1][0], max(end, regions[-1][1]))
            else:
                regions.append((start, end))
        found = [replacement for start, end in regions for replacement in self._between(text, start, end)]
        edits, next_edit, shift, next_region = value.edits, 0, 0, 0
        for start, end, decoded in source_found:
            while next_edit < len(edits) and edits[next_edit][1] <= start:
                shift = edits[next_edit][3] - edits[next_edit][1]
                next_edit += 1
            if next_edit < len(edits) and edits[next_edit][0] < end:
                continue  # an edited token: its region is split again
            start, end = start + shift, end + shift
            while next_region < len(regions) and regions[next_region][1] <= start:
                next_region += 1
            if next_region < len(regions) and regions[next_region][0] < end:
                continue
            found.append((start, end, decoded))
        return sorted(found)


def _tokens_that_may_decode(text: str) -> list[tuple[int, int]]:
    """The spans of the ``_BASE64_TOKEN`` matches in ``text`` but those ``decode_base64_token`` rejects by their
    first character. The tokens are the runs of at least ``MIN_BASE64_TOKEN`` token characters and up to two
    ``=`` after each; the runs are found with big-integer arithmetic over the whole text, in C, like the PII
    matcher's prefix filters."""
    data = text.encode("ascii", "replace")  # one byte per character; "?" is no token character
    token_chars = data.translate(_TOKEN_CHAR)
    chars = int.from_bytes(token_chars, "little")
    runs = chars
    for shift in range(3):  # 1, 2, 4, then 8 token characters from each byte on
        runs &= runs >> (8 << shift)
    starts = runs & int.from_bytes(data.translate(_MAY_START_TEXT), "little") & ~(chars << 8)
    if not starts:
        return []
    marks = starts.to_bytes(len(data), "little")
    spans = []
    start = marks.find(1)
    while start >= 0:
        end = token_chars.find(0, start)
        end = len(data) if end < 0 else end
        end += 2 if data.startswith(b"==", end) else 1 if data.startswith(b"=", end) else 0
        spans.append((start, end))
        start = marks.find(1, end)
    return spans


def _stretch_start(text: str, position: int) -> int:
    reach = 64
    while True:
        floor = max(0, position - reach)
        start = _STRETCH_TAIL.search(text, floor, position).start()  # type: ignore[union-attr]  # matches empty
        if start > floor or floor == 0:
            return start
        reach *= 4


def _base64(value: _Value, base64_tokens: _Base64Tokens) -> list[_Value]:
    """Decodable base64 tokens replaced in place, keeping the text around them (and so their keys)."""
    replacements = base64_tokens.replacements(value)
    return [_in_place(value, replacements)] if replacements else []


def _decodings(value: _Value, content_type: str | None, base64_tokens: _Base64Tokens) -> list[tuple[str, list[_Value]]]:
    text = value.text
    decodings = [
        ("url-decoded", _url_decoded(value)),
        ("query", _query(text)),
        ("form", _form(text)),
        ("json", _json(text)),
        ("multipart", _multipart(text, content_type)),
        ("base64", _base64(value, base64_tokens)),
    ]
    return [(label, values) for label, values in decodings if values]


def _under_key(parent_key: str | None, values: list[_Value]) -> list[_Value]:
    if parent_key is None:
        return values
    return [
        _Value(f"{parent_key}.{value.key}" if value.key else parent_key, value.text, value.source, value.edits)
        for value in values
    ]


def _expand(
    values: list[_Value],
    path: tuple[str, ...],
    content_type: str | None,
    depth_left: int,
    budget: _Budget,
    views: dict[tuple[str, ...], list[_Value]],
    base64_tokens: _Base64Tokens,
) -> None:
    if depth_left == 0:
        return
    children_by_label: dict[str, list[_Value]] = {}
    for value in values:
        for label, children in _decodings(value, content_type, base64_tokens):
            children_by_label.setdefault(label, []).extend(_under_key(value.key, children))
    for label, children in children_by_label.items():
        if not budget.take(children):
            return
        child_path = path + (label,)
        views.setdefault(child_path, []).extend(children)
        _expand(children, child_path, None, depth_left - 1, budget, views, base64_tokens)


def _changes(values: list[_Value], parent_values: list[_Value]) -> list[tuple[int, int]] | None:
    """Where the rendered ``values`` differ from the rendered ``parent_values`` they decode in place, or None
    if one of them is not such a decoding. A value left out (nothing to decode in it) is a change where its
    neighbours meet, so every stretch outside the changes is a copy of the parent view's text."""
    index_of = {id(value): index for index, value in enumerate(parent_values)}
    changes: list[tuple[int, int]] = []
    position, previous = 0, -1
    for value in values:
        index = index_of.get(id(value.source))
        if index is None or value.source is not parent_values[index]:
            return None
        if index != previous + 1:
            changes.append((max(0, position - 1), position))
        offset = position + (len(value.key) + 1 if value.key else 0)
        changes += [(offset + new_start, offset + new_end) for _, _, new_start, new_end in value.edits]
        position = offset + len(value.text) + 1
        previous = index
    if previous != len(parent_values) - 1:
        changes.append((position - 1, position - 1))
    return changes


def _views(
    text: str | bytes | None, content_type: str | None, depth: int
) -> list[tuple[str, str, list[tuple[int, int]] | None]]:
    raw = _Value(None, _as_text(text)[:MAX_SCAN_CHARS])
    nested: dict[tuple[str, ...], list[_Value]] = {(): [raw]}
    _expand([raw], (), content_type, depth, _Budget(MAX_VIEW_CHARS), nested, _Base64Tokens())
    views: list[tuple[str, str, list[tuple[int, int]] | None]] = [("raw", raw.text, None)]
    seen = {raw.text}
    for path in sorted(nested, key=len)[1:]:
        rendered = "\n".join(value.render() for value in nested[path])
        if rendered not in seen:
            seen.add(rendered)
            views.append((" > ".join(path), rendered, _changes(nested[path], nested[path[:-1]])))
    return views


def decoded_views(text: str | bytes | None, content_type: str | None = None, depth: int = 2) -> list[tuple[str, str]]:
    """``[("raw", text), (decoding path, decoded text), ...]``, shallow decodings first, no repeats."""
    return [(label, view) for label, view, _ in _views(text, content_type, depth)]


def _header_pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name).lower(), _as_text(value)) for name, value in pairs]


def _leak_identity(match: PiiMatch) -> tuple[str, str, tuple[str, ...]]:
    chain = match.chain
    while chain and chain[-1] in _UNDONE_BY_DECODING:
        chain = chain[:-1]
    return match.account, match.field, chain


def scan_part(
    matcher: PiiMatcher,
    location: str,
    text: str | bytes | None,
    key: str | None = None,
    content_type: str | None = None,
) -> list[PiiMatch]:
    """Scan one request part through its decoded views; locations read "post body > form > json".

    The same leak seen in several views (``liam%40x.org`` raw, ``liam@x.org`` URL-decoded) is reported
    once, from the shallowest view, whose offsets index the text as it was sent. So a view decoded in place
    is scanned only near its changes (``PiiMatcher.scan``'s ``changed``): away from them it is a copy of its
    parent view, scanned before it, and every match there is one the parent reported or left out already.
    """
    matches: list[PiiMatch] = []
    reported_in_shallower_view: set[tuple[str, str, tuple[str, ...]]] = set()
    for label, view, changes in _views(text, content_type, depth=2):
        view_location = location if label == "raw" else f"{location} > {label}"
        found = matcher.scan(view, view_location, key=key, changed=changes)
        new = [m for m in found if _leak_identity(m) not in reported_in_shallower_view]
        reported_in_shallower_view.update(_leak_identity(m) for m in found)
        matches.extend(new)
    return matches


def scan_request(
    matcher: PiiMatcher,
    url: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
    post_data: str | bytes | None,
    content_type: str | None = None,
) -> list[PiiMatch]:
    """PII in a request: the URL (query values included), every header, the post body.

    Locations: "request url", "header <lower-case name>", "post body", each followed by the decoding
    path when the match was found in a decoded view. ``content_type`` defaults to the request's own.
    """
    header_pairs = _header_pairs(headers)
    if content_type is None:
        content_type = next((value for name, value in header_pairs if name == "content-type"), None)
    matches = scan_part(matcher, "request url", url)
    for name, value in header_pairs:
        matches.extend(scan_part(matcher, f"header {name}", value, key=name))
    if post_data:
        matches.extend(scan_part(matcher, "post body", post_data, content_type=content_type))
    return matches
