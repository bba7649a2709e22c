"""Keep passwords out of everything the tool writes: the database, logs, reports, HARs and traces."""

from __future__ import annotations

import base64
import html
import json
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"


def secret_forms(secret: str) -> set[str]:
    """The forms in which a typed password travels: as typed, URL-encoded (form bodies) and base64."""
    # surrogatepass: even a password with lone surrogates (a non-UTF-8 environment) has bytes to encode.
    raw = secret.encode("utf-8", errors="surrogatepass")
    forms = {secret, quote(raw, safe=""), quote_plus(raw), quote(raw)}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    # As JSON and HTML would write it: HARs are JSON, trace snapshots are HTML.
    forms |= {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1], html.escape(secret)}
    return {form for form in forms if form}


class Redactor:
    def __init__(self, secrets: list[str] | tuple[str, ...] = ()):
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if secret:
            forms = set(self._forms) | secret_forms(secret)
            # Longest first, so an encoded form is not half-masked by a shorter form inside it.
            self._forms = sorted(forms, key=len, reverse=True)

    def text(self, value: str) -> str:
        for form in self._forms:
            if form in value:
                value = value.replace(form, MASK)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def bytes(self, data: bytes) -> bytes:
        for form in self._forms:
            data = data.replace(form.encode("utf-8"), MASK.encode("ascii"))
        return data

    def __bool__(self) -> bool:
        return bool(self._forms)
