"""The transformations a tracker may apply to a piece of PII before sending it.

Every encoder is a pure ``str -> str`` function registered by name in ``ENCODERS``; a variant's
encoding chain is a tuple of these names, innermost first. Three kinds:

- normalizations (``identity``, ``lower``, ``upper``, ``title``, ``trimmed``) change the text, not its form;
- transport encodings (URL, base64, hex) a receiver can undo;
- digests (md5 … sha512), each presented as lower-case hex, upper-case hex, or base64 of the raw digest.
  The upper-case and base64 presentations are *final*: nobody re-encodes them in practice, so the
  variant generator chains nothing after them (``FINAL_STEPS``).
"""

from __future__ import annotations

import base64 as _base64
import hashlib
from collections.abc import Callable
from urllib.parse import quote, quote_plus

Encoder = Callable[[str], str]


def identity(value: str) -> str:
    return value


def lower(value: str) -> str:
    return value.lower()


def upper(value: str) -> str:
    return value.upper()


def title(value: str) -> str:
    return value.title()


def trimmed(value: str) -> str:
    return value.strip()


def url(value: str) -> str:
    return quote(value, safe="")


def url_plus(value: str) -> str:
    return quote_plus(value, safe="")


def base64_standard(value: str) -> str:
    return _base64.b64encode(value.encode()).decode()


def base64_unpadded(value: str) -> str:
    return base64_standard(value).rstrip("=")


def base64_urlsafe(value: str) -> str:
    return _base64.urlsafe_b64encode(value.encode()).decode()


def base64_urlsafe_unpadded(value: str) -> str:
    return base64_urlsafe(value).rstrip("=")


def hex_encoded(value: str) -> str:
    return value.encode().hex()


def _hex_digest(algorithm: str, upper_case: bool) -> Encoder:
    def encode(value: str) -> str:
        digest = hashlib.new(algorithm, value.encode()).hexdigest()
        return digest.upper() if upper_case else digest

    encode.__name__ = encode.__qualname__ = algorithm + ("_upper" if upper_case else "")
    return encode


def _base64_digest(algorithm: str) -> Encoder:
    def encode(value: str) -> str:
        return _base64.b64encode(hashlib.new(algorithm, value.encode()).digest()).decode()

    encode.__name__ = encode.__qualname__ = algorithm + "_base64"
    return encode


md5 = _hex_digest("md5", upper_case=False)
md5_upper = _hex_digest("md5", upper_case=True)
md5_base64 = _base64_digest("md5")
sha1 = _hex_digest("sha1", upper_case=False)
sha1_upper = _hex_digest("sha1", upper_case=True)
sha1_base64 = _base64_digest("sha1")
sha224 = _hex_digest("sha224", upper_case=False)
sha224_upper = _hex_digest("sha224", upper_case=True)
sha224_base64 = _base64_digest("sha224")
sha256 = _hex_digest("sha256", upper_case=False)
sha256_upper = _hex_digest("sha256", upper_case=True)
sha256_base64 = _base64_digest("sha256")
sha384 = _hex_digest("sha384", upper_case=False)
sha384_upper = _hex_digest("sha384", upper_case=True)
sha384_base64 = _base64_digest("sha384")
sha512 = _hex_digest("sha512", upper_case=False)
sha512_upper = _hex_digest("sha512", upper_case=True)
sha512_base64 = _base64_digest("sha512")

NORMALIZERS: dict[str, Encoder] = {
    "identity": identity,
    "lower": lower,
    "upper": upper,
    "title": title,
    "trimmed": trimmed,
}

TRANSPORT_ENCODERS: dict[str, Encoder] = {
    "url": url,
    "url_plus": url_plus,
    "base64": base64_standard,
    "base64_nopad": base64_unpadded,
    "base64url": base64_urlsafe,
    "base64url_nopad": base64_urlsafe_unpadded,
    "hex": hex_encoded,
}

DIGEST_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")

DIGEST_ENCODERS: dict[str, Encoder] = {
    encoder.__name__: encoder
    for encoder in (
        md5, md5_upper, md5_base64,
        sha1, sha1_upper, sha1_base64,
        sha224, sha224_upper, sha224_base64,
        sha256, sha256_upper, sha256_base64,
        sha384, sha384_upper, sha384_base64,
        sha512, sha512_upper, sha512_base64,
    )
}  # fmt: skip

ENCODERS: dict[str, Encoder] = {**NORMALIZERS, **TRANSPORT_ENCODERS, **DIGEST_ENCODERS}

FINAL_STEPS = frozenset(name for name in DIGEST_ENCODERS if name.endswith(("_upper", "_base64")))

# Normalizations read as adjectives ("the lower-cased email"), encodings as "<name> of <inner>".
NORMALIZER_ADJECTIVES = {
    "lower": "lower-cased",
    "upper": "upper-cased",
    "title": "title-cased",
    "trimmed": "trimmed",
}

ENCODING_NAMES = {
    "url": "URL-encoding",
    "url_plus": "form-encoding",
    "base64": "base64",
    "base64_nopad": "unpadded base64",
    "base64url": "URL-safe base64",
    "base64url_nopad": "unpadded URL-safe base64",
    "hex": "hex",
    **{algorithm: algorithm for algorithm in DIGEST_ALGORITHMS},
    **{f"{algorithm}_upper": f"upper-case {algorithm}" for algorithm in DIGEST_ALGORITHMS},
    **{f"{algorithm}_base64": f"base64 {algorithm} digest" for algorithm in DIGEST_ALGORITHMS},
}


def apply_chain(value: str, chain: tuple[str, ...]) -> str:
    """Apply the named encoders in order, innermost first."""
    for step in chain:
        value = ENCODERS[step](value)
    return value
