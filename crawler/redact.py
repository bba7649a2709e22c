"""Keep passwords out of everything the tool writes: the database, logs, reports, HARs and traces.

Two passes. By enumeration: every form in which a typed password travels (as typed, percent-encoded the ways
Python, JavaScript and Chromium's form encoder write it, upper- or lower-case hex, base64, JSON and HTML escaped)
is replaced wherever it appears. By meaning: query strings and form bodies (``name=value``), JSON string
literals and multipart parts are decoded, and a field whose decoded value holds a password is masked whole,
whatever encoding the page used. A short password is masked by meaning only, so it never masks unrelated text.
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

MASK = "[REDACTED]"
# Below this length a password could occur by chance in ordinary text: it is masked only where a whole field
# (a form value, a JSON string, a multipart part) decodes to it.
MIN_FREE_TEXT_LENGTH = 6

# Characters each encoder leaves as they are (besides ASCII letters and digits).
_CHROMIUM_FORM_SAFE = "*-._"  # Chromium's application/x-www-form-urlencoded and URLSearchParams: space is '+'
_ENCODE_URI_COMPONENT_SAFE = "!'()*-._~"  # JavaScript's encodeURIComponent
# A field starts at the beginning or after a separator, so scanning stays linear on long unbroken text.
_FIELD = re.compile(r"(?:(?<=[\s&?;,\"'<>(\[{])|^)(?P<key>[^\s&=?#\"'<>;]{1,200})=(?P<value>[^\s&#\"'<>]*)")
_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)+"')
_MULTIPART_PART = re.compile(
    r"(?P<head>Content-Disposition:[^\r\n]*(?:\r?\n[^\r\n]+)*\r?\n\r?\n)"
    r"(?P<value>.*?)(?=\r?\n--)",
    re.IGNORECASE | re.DOTALL,
)
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")
_MAX_DEPTH = 4


def _percent(raw: bytes, safe: str, space_as_plus: bool = False) -> str:
    out = []
    for byte in raw:
        ch = chr(byte)
        if byte < 128 and (ch.isalnum() or ch in safe):
            out.append(ch)
        elif space_as_plus and ch == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def secret_forms(secret: str) -> set[str]:
    """The forms in which a typed password travels: as typed, URL-encoded (form bodies) and base64."""
    # surrogatepass: even a password with lone surrogates (a non-UTF-8 environment) has bytes to encode.
    raw = secret.encode("utf-8", errors="surrogatepass")
    percent = {
        quote(raw, safe=""),
        quote_plus(raw),
        quote(raw),
        _percent(raw, _CHROMIUM_FORM_SAFE, space_as_plus=True),
        _percent(raw, _CHROMIUM_FORM_SAFE),
        _percent(raw, _ENCODE_URI_COMPONENT_SAFE),
    }
    forms = {secret} | percent | {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), form) for form in percent}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    # As JSON and HTML would write it: HARs are JSON, trace snapshots are HTML.
    forms |= {
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret).replace("/", "\\/")[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
    }
    return {form for form in forms if form}


class Redactor:
    def __init__(self, secrets: list[str] | tuple[str, ...] = ()):
        self._secrets: list[str] = []
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if not secret or secret in self._secrets:
            return
        self._secrets.append(secret)
        if len(secret) >= MIN_FREE_TEXT_LENGTH:
            forms = set(self._forms) | secret_forms(secret)
            # Longest first, so an encoded form is not half-masked by a shorter form inside it.
            self._forms = sorted(forms, key=len, reverse=True)

    def text(self, value: str) -> str:
        if not self._secrets:
            return value
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return self._by_meaning(value, 0)

    # by meaning ---------------------------------------------------------------------------------------
    def _holds_secret(self, decoded: str) -> bool:
        for secret in self._secrets:
            if decoded == secret or (len(secret) >= MIN_FREE_TEXT_LENGTH and secret in decoded):
                return True
        return False

    def _decodings(self, value: str) -> set[str]:
        decoded = {value, unquote_plus(value, errors="replace"), unquote(value, errors="replace")}
        return decoded | {html.unescape(d) for d in decoded}

    def _by_meaning(self, value: str, depth: int) -> str:
        if depth > _MAX_DEPTH:
            return value
        if "=" in value:
            value = _FIELD.sub(self._mask_field, value)
        if '"' in value:
            value = _JSON_STRING.sub(lambda m: self._mask_json_string(m, depth), value)
        if "--" in value and "content-disposition" in value.lower():
            value = _MULTIPART_PART.sub(self._mask_part, value)
        return value

    def _mask_field(self, match: re.Match) -> str:
        found = match.group("value")
        if found and found != MASK and any(self._holds_secret(d) for d in self._decodings(found)):
            return f"{match.group('key')}={MASK}"
        return match.group(0)

    def _mask_part(self, match: re.Match) -> str:
        found = match.group("value")
        if found and found != MASK and self._holds_secret(found):
            return match.group("head") + MASK
        return match.group(0)

    def _mask_json_string(self, match: re.Match, depth: int) -> str:
        literal = match.group(0)
        try:
            decoded = json.loads(literal)
        except ValueError:
            return literal
        if not isinstance(decoded, str) or decoded == MASK:
            return literal
        if any(self._holds_secret(d) for d in self._decodings(decoded)):
            return json.dumps(MASK)
        if decoded == literal[1:-1]:  # nothing was escaped: the outer pass already saw this text
            return literal
        # An escaped string may hold a whole body (a HAR's postData): redact inside it and escape it again.
        inner = decoded
        for form in self._forms:
            if form in inner:
                inner = inner.replace(form, MASK)
        inner = self._by_meaning(inner, depth + 1)
        if inner == decoded:
            return literal
        return json.dumps(inner, ensure_ascii="\\u" in literal)

    # values of every kind -----------------------------------------------------------------------------
    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def bytes(self, data: bytes) -> bytes:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # binary (an image in a trace): the encoded forms only
            for form in self._forms:
                data = data.replace(form.encode("utf-8"), MASK.encode("ascii"))
            return data
        return self.text(text).encode("utf-8")

    def __bool__(self) -> bool:
        return bool(self._secrets)
