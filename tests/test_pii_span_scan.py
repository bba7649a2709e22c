"""Views decoded in place (URL-decoding, base64) are split into tokens and scanned only around the spans
their decoding changed: the results must be exactly those of splitting and scanning every view whole."""

import base64
import json
import random
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.analyze import decode
from crawler.analyze.decode import decoded_views, scan_part
from test_pii_fast_scan import MATCHER, NOISE, VARIANTS

KEYS = ["sid=", "dob=", "phone: ", "email=", "&", "=", "%", "%25", "\n", '"fn":"', "==", "/"]
# Longer than the windows around a change (twice the longest variant and some), so that views have stretches
# that are not scanned at all.
FILLERS = ["".join(random.Random(seed).choices(NOISE, k=700)) for seed in range(4)] + ["." * 900, "A" * 700]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@st.composite
def bodies(draw):
    pieces = []
    for _ in range(draw(st.integers(0, 14))):
        variant = draw(st.sampled_from(VARIANTS))
        pieces.append(
            draw(
                st.sampled_from(
                    [
                        variant,
                        b64(variant),
                        b64(variant).rstrip("="),
                        quote(variant, safe=""),
                        quote(b64(variant), safe=""),
                        b64(quote(variant, safe="")),
                        variant[: len(variant) // 2],
                        *KEYS,
                        *FILLERS,
                    ]
                )
            )
        )
        if draw(st.booleans()):
            pieces.append(draw(st.text(alphabet=NOISE, max_size=12)))
    return "".join(pieces)


@st.composite
def structured_bodies(draw):
    """JSON and form bodies: views of several values, some of which decode in place and some not."""
    values = draw(st.lists(bodies(), max_size=5))
    if draw(st.booleans()):
        return json.dumps({f"k{index}": value for index, value in enumerate(values)})
    return "&".join(f"k{index}={quote(value, safe='')}" for index, value in enumerate(values))


def scan_every_view_whole(matcher, location, text, key=None):
    """``scan_part`` as it reads, with every view scanned whole."""
    matches, reported = [], set()
    for label, view in decoded_views(text):
        found = matcher.scan(view, location if label == "raw" else f"{location} > {label}", key=key)
        matches += [m for m in found if decode._leak_identity(m) not in reported]
        reported.update(decode._leak_identity(m) for m in found)
    return matches


@settings(max_examples=150, suppress_health_check=[HealthCheck.data_too_large])
@given(st.one_of(bodies(), structured_bodies()), st.sampled_from([None, "sid", "email", "theme"]))
def test_scanning_around_the_changes_finds_what_scanning_every_view_whole_finds(body, key):
    assert scan_part(MATCHER, "post body", body, key=key) == scan_every_view_whole(MATCHER, "post body", body, key)


@settings(max_examples=150, suppress_health_check=[HealthCheck.data_too_large])
@given(bodies(), st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 40)), max_size=6))
def test_a_scan_near_changes_returns_the_whole_scans_matches_near_them(body, spans):
    changed = []
    for start, length in sorted(spans):
        start = min(start, len(body))
        if changed and start <= changed[-1][1]:
            continue
        changed.append((start, min(len(body), start + length)))
    reach = MATCHER._reach
    near = [
        m
        for m in MATCHER.scan(body, "b")
        if any(start <= m.end + reach and end >= m.start - reach for start, end in changed)
    ]
    assert MATCHER.scan(body, "b", changed=changed) == near


@settings(max_examples=200, suppress_health_check=[HealthCheck.data_too_large])
@given(bodies())
def test_tokens_of_a_value_decoded_in_place_are_those_of_its_text_split_whole(body):
    tokens = decode._Base64Tokens()
    raw = decode._Value(None, body)
    for child in decode._url_decoded(raw) + decode._base64(raw, tokens):
        if child.source is raw:
            for grandchild in decode._url_decoded(child) + decode._base64(child, tokens):
                if grandchild.source is child:
                    assert tokens.replacements(grandchild) == tokens._between(grandchild.text, 0, len(grandchild.text))
            assert tokens.replacements(child) == tokens._between(child.text, 0, len(child.text))


def test_a_value_decoded_in_place_remembers_its_edits():
    raw = decode._Value("d", "x=TGlhbSBOb3Zhaw==&e=a%40b.c")
    [url_decoded] = decode._url_decoded(raw)
    [base64_decoded] = decode._base64(raw, decode._Base64Tokens())
    assert (url_decoded.text, url_decoded.edits) == ("x=TGlhbSBOb3Zhaw==&e=a@b.c", ((22, 25, 22, 23),))
    assert (base64_decoded.text, base64_decoded.edits) == ("x=Liam Novak&e=a%40b.c", ((2, 18, 2, 12),))
    assert url_decoded.source is raw and base64_decoded.source is raw
