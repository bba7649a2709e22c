import base64
import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.analyze.decode import MAX_SCAN_CHARS, decoded_views, scan_part, scan_request
from crawler.analyze.pii import PiiMatcher, pii_fields

MATCHER = PiiMatcher(
    pii_fields(
        "liam",
        {
            "name": "Liam Novak",
            "email": "Liam.Novak@Example.org",
            "student_id": "4417209",
            "birth_date": "2012-11-23",
            "phone": "402-555-0147",
        },
    )
)


def views(text, content_type=None):
    return dict(decoded_views(text, content_type))


def test_raw_view_comes_first_and_plain_text_has_no_other_view():
    assert decoded_views("hello world") == [("raw", "hello world")]


def test_url_decoding_repeats_until_stable_at_most_three_times():
    assert views("a%252540b")["url-decoded"] == "a@b"
    assert views("a%25252540b")["url-decoded"] == "a%40b"


def test_form_body_values_with_their_keys():
    assert views("email=liam%40x.org&name=Liam+Novak")["form"] == "email=liam@x.org\nname=Liam Novak"


def test_cookie_header_is_read_as_pairs():
    assert views("sid=abc; theme=dark")["form"] == "sid=abc\ntheme=dark"


def test_json_strings_and_numbers_with_their_paths():
    body = json.dumps({"user": {"id": 4417209, "tags": ["a", "b"], "ok": True}, "n": None})
    assert views(body)["json"] == "user.id=4417209\nuser.tags.0=a\nuser.tags.1=b"


def test_json_inside_a_json_string():
    body = json.dumps({"payload": json.dumps({"email": "x@y.org"})})
    assert views(body)["json > json"] == "payload.email=x@y.org"


def test_json_inside_a_url_param():
    url = "https://t.test/e?data=" + quote(json.dumps({"e": "x@y.org"}))
    assert views(url)["query > json"] == "data.e=x@y.org"


def test_multipart_body():
    body = (
        '--XyZ\r\nContent-Disposition: form-data; name="dob"\r\n\r\n2012-11-23\r\n'
        '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="liam.txt"\r\n'
        "Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
    )
    assert views(body, "multipart/form-data; boundary=XyZ")["multipart"] == "dob=2012-11-23\nf=hello\nfilename=liam.txt"
    assert "multipart" in views(body)  # boundary sniffed from the body


def test_base64_tokens_decoded_in_place():
    token = base64.b64encode(b"liam@x.org").decode()
    assert views(f"u={token}&v=1")["base64"] == "u=liam@x.org&v=1"


def test_base64_only_for_long_tokens_and_printable_results():
    assert "base64" not in views("v=YWJj")  # "abc": token under 8 characters
    assert "base64" not in views("v=" + base64.b64encode(bytes(range(24))).decode())
    assert "base64" not in views("v=" + "a" * 9)  # not valid base64 length


def test_nesting_stops_at_depth_two():
    inner = base64.b64encode(b"email=x@y.org").decode()
    url = "https://t.test/?d=" + quote(json.dumps({"t": inner}))
    labels = [label for label, _ in decoded_views(url)]
    assert "query > json" in labels
    assert all(label.count(">") <= 1 for label in labels)
    assert len(decoded_views(url, depth=3)) > len(decoded_views(url))


def test_garbage_never_raises():
    for junk in [b"\x00\xff\xfe" * 1000, '{"a": [1, 2', "[" * 100_000, "%E0%A4%A" * 50, "a=%zz&&==;;",
                 "https://[::1/?a=b", "=" * 40, "eyJ" + "A" * 5000, "--\r\n\r\n"]:  # fmt: skip
        decoded_views(junk)
        scan_request(MATCHER, "https://t.test/", [("cookie", junk if isinstance(junk, str) else "")], junk)


def test_huge_body_is_capped():
    body = "Liam Novak " + "x" * (2 * MAX_SCAN_CHARS) + " Liam Novak"
    assert len(decoded_views(body)[0][1]) == MAX_SCAN_CHARS
    assert [m.start for m in scan_part(MATCHER, "post body", body)] == [0]


def test_scan_request_locations_name_the_part_and_the_decoding_path():
    token = base64.urlsafe_b64encode(json.dumps({"student_id": "4417209"}).encode()).decode()
    escaped_email = r'{"e": "liam\u002enovak\u0040example.org"}'  # only JSON decoding reveals it
    url = "https://t.test/e?q=" + quote(escaped_email)
    matches = scan_request(
        MATCHER,
        url,
        [("Cookie", "sid=4417209; theme=dark"), ("User-Agent", "Mozilla/5.0")],
        f"d={token}",
    )
    assert sorted((m.location, m.field) for m in matches) == [
        ("header cookie", "student_id"),
        ("post body > base64", "student_id"),
        ("request url > query > json", "email"),
        ("request url > query > json", "name"),
    ]


def test_one_leak_seen_in_several_views_is_reported_once_from_the_raw_text():
    url = "https://t.test/p?email=liam.novak%40example.org"
    [match] = [m for m in scan_request(MATCHER, url, {}, None) if m.field == "email"]
    assert match.location == "request url"
    assert url[match.start : match.end] == "liam.novak%40example.org"


def test_content_type_header_drives_multipart_parsing():
    body = '--b\r\nContent-Disposition: form-data; name="tel"\r\n\r\n4025550147\r\n--b--'
    matches = scan_request(MATCHER, "https://t.test/", {"Content-Type": "multipart/form-data; boundary=b"}, body)
    assert [(m.location, m.field) for m in matches] == [("post body > multipart", "phone")]


@settings(max_examples=300)
@given(st.one_of(st.text(), st.binary(), st.from_regex(r"[%=&;{}\[\]\"':,A-Za-z0-9+/_.-]*", fullmatch=True)))
def test_decoding_never_raises(junk):
    decoded_views(junk)
    decoded_views(junk, "multipart/form-data; boundary=" + (junk[:5] if isinstance(junk, str) else "x"))
    scan_request(MATCHER, junk if isinstance(junk, str) else "", {"x": junk if isinstance(junk, str) else ""}, junk)
