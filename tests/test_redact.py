import base64
from urllib.parse import quote_plus

from hypothesis import given, strategies as st

from crawler.redact import MASK, Redactor


def test_password_and_its_encodings_are_masked():
    secret = "p@ss w/rd+1"
    redactor = Redactor([secret])
    body = f"email=a%40b.test&password={quote_plus(secret)}&raw={secret}&b64={base64.b64encode(secret.encode()).decode()}"
    cleaned = redactor.text(body)
    assert secret not in cleaned and quote_plus(secret) not in cleaned
    assert cleaned.count(MASK) == 3 and cleaned.startswith("email=a%40b.test&password=")


def test_nested_values():
    redactor = Redactor(["hunter22"])
    assert redactor.value({"h": [("cookie", "x=hunter22")], "n": 3}) == {"h": [("cookie", f"x={MASK}")], "n": 3}
    assert redactor.bytes(b"..hunter22..") == f"..{MASK}..".encode()


# A secret sharing no character with the mask cannot re-form across it after replacement.
SECRETS = st.text(alphabet=st.characters(blacklist_characters=MASK), min_size=6, max_size=30)


@given(SECRETS, st.text(max_size=40), st.text(max_size=40))
def test_any_password_anywhere_is_masked(secret, before, after):
    cleaned = Redactor([secret]).text(before + secret + after)
    assert secret not in cleaned
