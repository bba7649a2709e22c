import base64
import json
from urllib.parse import quote_plus

from hypothesis import given
from hypothesis import strategies as st

from crawler.redact import MASK, Redactor


def test_password_and_its_encodings_are_masked():
    secret = "p@ss w/rd+1"
    redactor = Redactor([secret])
    body = (
        f"email=a%40b.test&password={quote_plus(secret)}&raw={secret}&b64={base64.b64encode(secret.encode()).decode()}"
    )
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


WITH_SPECIALS = "~*'\"<&é! +%/x"


def _chromium_form(secret: str) -> str:
    """How Chromium encodes a form field: keeps * - . _, space as +, upper-case hex for the rest (~ too)."""
    out = []
    for byte in secret.encode():
        ch = chr(byte)
        out.append(ch if byte < 128 and (ch.isalnum() or ch in "*-._") else "+" if ch == " " else f"%{byte:02X}")
    return "".join(out)


def test_chromium_form_encoding_and_lower_case_hex_are_masked():
    redactor = Redactor([WITH_SPECIALS])
    chromium = _chromium_form(WITH_SPECIALS)
    assert "%7E" in chromium and "*" in chromium
    for body in (f"email=a&password={chromium}", f"password={chromium.lower()}&x=1", f"pw={quote_plus(WITH_SPECIALS)}"):
        cleaned = redactor.text(body)
        assert "password" not in cleaned or f"={MASK}" in cleaned
        assert chromium not in cleaned and chromium.lower() not in cleaned


def test_a_field_whose_decoded_value_is_the_password_is_masked_whatever_the_encoding():
    secret = "Tr!cky ~pass*"
    redactor = Redactor([secret])
    # Over-encoded (every character escaped) and mixed-case hex: no enumeration lists these.
    odd = "".join(f"%{b:02x}" if i % 2 else f"%{b:02X}" for i, b in enumerate(secret.encode()))
    assert redactor.text(f"https://v.test/login?user=a&pw={odd}#top") == f"https://v.test/login?user=a&pw={MASK}#top"
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in secret)
    assert redactor.text(f'{{"user":"a","password":"{escaped}"}}') == f'{{"user":"a","password":"{MASK}"}}'


def test_a_json_body_inside_a_har_is_masked_inside_its_escaped_string():
    secret = "p\u00e9 ~*'\"<&"
    redactor = Redactor([secret])
    body = json.dumps({"email": "a@b.test", "password": secret})
    har = json.dumps({"postData": {"mimeType": "application/json", "text": body}})
    cleaned = redactor.text(har)
    assert json.loads(json.loads(cleaned)["postData"]["text"]) == {"email": "a@b.test", "password": MASK}


def test_a_multipart_part_is_masked():
    secret = "ab c"  # short: masked as a whole field only
    body = (
        '--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\nabc\r\n'
        f'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n{secret}\r\n--XyZ--\r\n'
    )
    cleaned = Redactor([secret]).text(body)
    assert f'name="password"\r\n\r\n{MASK}\r\n--XyZ--' in cleaned and "\r\n\r\nabc\r\n" in cleaned


def test_a_short_password_never_masks_unrelated_text():
    redactor = Redactor(["abc"])
    text = "the abcdef cabcab page, Welcome abc!"
    assert redactor.text(text) == text
    assert redactor.text("user=x&password=abc") == f"user=x&password={MASK}"
    assert redactor.text('{"password": "abc", "note": "abcd"}') == f'{{"password": "{MASK}", "note": "abcd"}}'


def test_redacting_long_unbroken_text_stays_fast():
    import time

    blob = ("A" * 200_000 + "?") * 5 + '"' + "b" * 100_000
    started = time.monotonic()
    Redactor(["hunter22"]).text(blob)
    assert time.monotonic() - started < 2
