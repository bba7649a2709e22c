"""The fast paths of the PII scan against straightforward reference implementations, on random inputs:
the matcher's occurrence finding (an automaton for short variants, gram indexes for long ones) against a
``str.find`` loop over every variant, and the decoders against the standard library."""

import base64
import binascii
import string
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.analyze import decode, pii
from crawler.analyze.decode import decode_base64_token, percent_decoded
from crawler.analyze.pii import PiiMatch, PiiMatcher, pii_fields

ACCOUNTS = {
    "liam": {"name": "Liam Novak", "email": "Liam.Novak@Example.org", "student_id": "4417209",
             "birth_date": "2012-11-23", "phone": "402-555-0147"},
    "mateo": {"first_name": "Mateo", "last_name": "Álvarez-Ruiz", "email": "m.alvarez@example.com",
              "student_id": "S-88213", "dob": "2013-07-30", "phone": "+1 402 555 0123"},
}  # fmt: skip
MATCHER = PiiMatcher([field for account, values in ACCOUNTS.items() for field in pii_fields(account, values)])
VARIANTS = sorted({variant.text for variant in MATCHER.variants()})
KEYS = ["sid", "dob", "phone", "fn", "email", "theme", "x", "student_id"]
NOISE = string.ascii_letters + string.digits + string.punctuation + " \n\té中😀"


def reference_scan(matcher: PiiMatcher, text: str, location: str, key: str | None = None) -> list[PiiMatch]:
    """The precision rule of ``pii``'s docstring applied to every occurrence a ``str.find`` loop finds."""
    matches = []
    for variant in matcher.variants():
        start = text.find(variant.text)
        while start >= 0:
            end = start + len(variant.text)
            keep = True
            if matcher.is_ambiguous(variant.text):
                hints = matcher._hints[(variant.account, variant.field)]
                near = [pii._key_before(text, start), key]
                keep = pii._is_delimited(text, start, end) and (
                    variant.is_full_date or any(k is not None and pii.key_resembles(k, hints) for k in near)
                )
            if keep:
                matches.append(
                    PiiMatch(variant.account, variant.field, variant.text, variant.chain, location, start, end)
                )
            start = text.find(variant.text, start + 1)
    return pii._without_contained(matches)


@st.composite
def texts_with_variants(draw):
    pieces = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            pieces.append(draw(st.sampled_from(VARIANTS)))
        elif kind == 1:
            pieces.append(f"{draw(st.sampled_from(KEYS))}={draw(st.sampled_from(VARIANTS))}&")
        elif kind == 2:  # a variant cut short or run into another one
            variant = draw(st.sampled_from(VARIANTS))
            pieces.append(variant[: draw(st.integers(0, len(variant)))] + draw(st.sampled_from(VARIANTS)))
        else:
            pieces.append(draw(st.text(alphabet=NOISE, max_size=40)))
    return "".join(pieces)


@settings(max_examples=120)
@given(texts_with_variants(), st.sampled_from([None, *KEYS]))
def test_scan_finds_what_a_find_loop_over_every_variant_finds(text, key):
    assert MATCHER.scan(text, "body", key=key) == reference_scan(MATCHER, text, "body", key=key)


@pytest.mark.parametrize("block", [16, 64, 1 << 16])
def test_filters_across_block_boundaries_and_gram_indexes_find_every_occurrence(monkeypatch, block):
    monkeypatch.setattr(pii._PrefixFilter, "BLOCK", block)
    strings = ["abcdefgh", "0123456789abcdef0123", "x" * 30, "ab" * 20, "é-ç-ø-é-ç-ø-é-ç-ø-é-ç-ø", "zz?zzzz"]
    occurrences = pii._Occurrences(strings + ["abcd", "zz"])
    text = "".join(("abcdefgh" * 3, "x" * 45, "ab" * 33, "é-ç-ø-" * 7, "0123456789abcdef" * 4, "zz?zzzzé"))
    for shift in range(20):
        shifted = "." * shift + text
        expected = {
            (s, start)
            for s in strings + ["abcd", "zz"]
            for start in range(len(shifted))
            if shifted.startswith(s, start)
        }
        assert sorted(occurrences.find(shifted)) == sorted(expected)


PERCENT_TEXT = st.lists(
    st.one_of(
        st.text(alphabet="%az09AF \u00e9\u4e2d", max_size=6),
        st.binary(min_size=1, max_size=4).map(lambda data: "".join(f"%{byte:02X}" for byte in data)),
        st.text(max_size=3).map(quote),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=400)
@given(PERCENT_TEXT)
def test_percent_decoded_is_unquote(text):
    assert percent_decoded(text) == unquote(text)


def reference_decode_base64_token(token: str) -> str | None:
    """What ``decode_base64_token`` means, with the standard library's base64 module."""
    if token.isdigit():
        return None
    unpadded = token.rstrip("=")
    if len(unpadded) % 4 == 1:
        return None
    altchars = b"-_" if ("-" in unpadded or "_" in unpadded) else b"+/"
    if altchars == b"-_" and ("+" in unpadded or "/" in unpadded):
        return None
    try:
        decoded = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), altchars=altchars, validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text or not all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return None
    return text


BASE64_TOKENS = st.one_of(
    st.from_regex(r"[A-Za-z0-9+/_-]{8,40}={0,2}", fullmatch=True),
    st.text(min_size=1, max_size=30).map(lambda text: base64.b64encode(text.encode()).decode()),
    st.text(min_size=1, max_size=30).map(lambda text: base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")),
    st.binary(min_size=1, max_size=30).map(lambda data: base64.b64encode(data).decode()),
)


@settings(max_examples=400)
@given(BASE64_TOKENS)
def test_decode_base64_token_agrees_with_the_base64_module(token):
    assert decode_base64_token(token) == reference_decode_base64_token(token)


@pytest.mark.parametrize("first_byte", range(256))
def test_decode_base64_token_for_every_first_byte_agrees_with_the_base64_module(first_byte):
    for tail in (b"bcdef", "é-ok".encode(), b"\tx\ny"):
        for token in (
            base64.b64encode(bytes([first_byte]) + tail),
            base64.urlsafe_b64encode(bytes([first_byte]) + tail),
        ):
            assert decode_base64_token(token.decode()) == reference_decode_base64_token(token.decode())


TOKEN_TEXT = st.lists(
    st.one_of(
        st.from_regex(r"[A-Za-z0-9+/_-]{0,14}={0,3}", fullmatch=True),
        st.text(alphabet="=%. \n\té😀Ag+_-", max_size=3),
        BASE64_TOKENS,
    ),
    max_size=30,
).map("".join)


@settings(max_examples=400)
@given(TOKEN_TEXT)
def test_tokens_found_with_big_integers_are_the_regex_matches_that_may_decode(text):
    expected = [
        token.span()
        for token in decode._BASE64_TOKEN.finditer(text)
        if token.group()[0] not in decode._NEVER_STARTS_TEXT
    ]
    assert decode._tokens_that_may_decode(text) == expected


@pytest.mark.parametrize("bits", [1, 22])
def test_grams_passing_the_hash_filter_by_collision_are_looked_up_exactly(monkeypatch, bits):
    monkeypatch.setattr(pii._GramIndex, "FILTER_BITS", bits)  # one bit: every gram of the text passes the filter
    strings = ["0123456789abcdef0123", "x" * 30, "the quick brown fox jumps"]
    occurrences = pii._Occurrences(strings)
    text = "noise " * 50 + "0123456789abcdef0123" + "y" * 31 + "x" * 33 + "The quick brown fox jumps" * 2
    expected = {(s, i) for s in strings for i in range(len(text)) if text.startswith(s, i)}
    assert sorted(occurrences.find(text)) == sorted(expected) and expected
