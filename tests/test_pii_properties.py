"""Properties of the PII matcher: random text finds nothing, every variant of any PII is found."""

import datetime as dt
import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crawler.analyze.decode import scan_part
from crawler.analyze.pii import PiiMatcher, pii_fields

ACCOUNTS = {
    "liam": {"name": "Liam Novak", "email": "Liam.Novak@Example.org", "student_id": "4417209",
             "birth_date": "2012-11-23", "phone": "402-555-0147"},
    "ava": {"name": "Ava Chen", "email": "ava.chen2012@student.mps.org", "student_id": "5520981",
            "birth_date": "03/04/2011", "phone": "(531) 555-0199"},
    "mateo": {"first_name": "Mateo", "last_name": "Alvarez-Ruiz", "email": "m.alvarez@example.com",
              "student_id": "S-88213", "dob": "2013-07-30", "phone": "+1 402 555 0123"},
}  # fmt: skip
MATCHER = PiiMatcher([field for account, pii in ACCOUNTS.items() for field in pii_fields(account, pii)])

RANDOM_TEXT = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " \n", max_size=4000)
HINT_KEYS = ["student_id", "sid", "studentId", "dob", "birth", "phone", "tel", "name", "fn", "ln", "email", "em"]
KEY_VALUE_TEXT = st.lists(
    st.tuples(st.sampled_from(HINT_KEYS), st.from_regex(r"[0-9]{1,14}|[A-Za-z0-9+/=_-]{1,24}", fullmatch=True)),
    max_size=40,
).map(lambda pairs: "&".join(f"{key}={value}" for key, value in pairs))


def _alphanumerics(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


# Hypothesis also draws the literals of this module, so "random" text can spell a real value ('2012/11/23' is
# Liam's birth date): such text is not random, and finding the PII in it is right.
PII_ALPHANUMERICS = [_alphanumerics(value) for pii in ACCOUNTS.values() for value in pii.values()]


def _spells_real_pii(text: str) -> bool:
    letters_and_digits = _alphanumerics(text)
    return any(value in letters_and_digits for value in PII_ALPHANUMERICS)


@settings(max_examples=300)
@given(RANDOM_TEXT)
def test_random_text_yields_nothing(text):
    assume(not _spells_real_pii(text))
    assert MATCHER.scan(text, "body") == []
    assert scan_part(MATCHER, "post body", text) == []


@settings(max_examples=300)
@given(KEY_VALUE_TEXT)
def test_random_values_under_hint_keys_yield_nothing(text):
    assert MATCHER.scan(text, "request url") == []


NAMES = st.from_regex(r"[A-Z][a-z]{2,9}", fullmatch=True)
ARBITRARY_PII = st.fixed_dictionaries(
    {
        "name": st.builds("{} {}".format, NAMES, NAMES),
        "email": st.emails(),
        "student_id": st.from_regex(r"[0-9]{5,9}", fullmatch=True),
        "birth_date": st.dates(dt.date(1990, 1, 1), dt.date(2020, 12, 31)).map(dt.date.isoformat),
        "phone": st.from_regex(r"[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4}", fullmatch=True),
    }
)
SURROUNDING = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", max_size=200)


@settings(max_examples=25)
@given(ARBITRARY_PII, st.data())
def test_every_variant_of_arbitrary_pii_is_found_in_arbitrary_text(pii, data):
    matcher = PiiMatcher(pii_fields("someone", pii))
    variants = list(matcher.variants())
    for _ in range(20):
        variant = data.draw(st.sampled_from(variants))
        before, after = data.draw(SURROUNDING), data.draw(SURROUNDING)
        # The precision rule: an ambiguous variant needs delimiters and its key next to it.
        inserted = f"&{variant.field}={variant.text}&" if matcher.is_ambiguous(variant.text) else variant.text
        start = len(before) + inserted.index(variant.text)
        end = start + len(variant.text)
        matches = matcher.scan(before + inserted + after, "body")
        assert any(m.field == variant.field and m.start <= start and end <= m.end for m in matches), variant
