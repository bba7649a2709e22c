"""Each collector's normalisation, on recorded browser output, without a browser."""

from crawler.browse.collectors.base import CookieOrigin
from crawler.browse.collectors.cookies import cookie_from_cdp
from crawler.browse.collectors.storage import storage_items_from_dump, storage_items_from_state
from crawler.observations import CookieObs, RequestObs

THIRD_PARTY_CDP_COOKIE = {
    "name": "apx_uid",
    "value": "8f2c1e",
    "domain": "sync.adpixel.test",
    "path": "/",
    "expires": 1_900_000_000.5,
    "size": 13,
    "httpOnly": True,
    "secure": True,
    "session": False,
    "sameSite": "None",
    "priority": "Medium",
    "sameParty": False,
    "sourceScheme": "Secure",
    "sourcePort": 443,
}


def test_cdp_cookie_keeps_every_attribute_and_its_setter():
    origins = [
        CookieOrigin("header", "https://sync.adpixel.test/sync?puid=1", "sync.adpixel.test", 10.0),
        CookieOrigin("header", "https://other.test/", "other.test", 20.0),
    ]
    cookie = cookie_from_cdp(THIRD_PARTY_CDP_COOKIE, origins)
    assert cookie == CookieObs(
        name="apx_uid",
        value="8f2c1e",
        domain="sync.adpixel.test",
        host_only=True,
        path="/",
        expires=1_900_000_000.5,
        session=False,
        http_only=True,
        secure=True,
        same_site="None",
        partition_key=None,
        size=13,
        source_scheme="Secure",
        set_by_kind="header",
        set_by_url="https://sync.adpixel.test/sync?puid=1",
    )


def test_session_and_partitioned_cookie_from_a_script():
    raw = {
        "name": "lq_js",
        "value": "1",
        "domain": ".leakyquiz.test",
        "path": "/",
        "expires": -1,
        "size": 6,
        "httpOnly": False,
        "secure": True,
        "session": True,
        "partitionKey": {"topLevelSite": "https://leakyquiz.test", "hasCrossSiteAncestor": True},
    }
    script = CookieOrigin("script", "https://app.leakyquiz.test/static/lq.js", "app.leakyquiz.test", 5.0)
    cookie = cookie_from_cdp(raw, [script])
    assert cookie.session and cookie.expires is None and not cookie.host_only
    assert cookie.partition_key == "https://leakyquiz.test"
    assert cookie.same_site is None
    assert (cookie.set_by_kind, cookie.set_by_url) == ("script", "https://app.leakyquiz.test/static/lq.js")


def test_cookie_setter_must_fit_the_cookie_domain():
    stray = CookieOrigin("header", "https://tracker.example/", "tracker.example", 99.0)
    assert cookie_from_cdp(THIRD_PARTY_CDP_COOKIE, [stray]).set_by_kind is None


def test_storage_dump_of_one_frame():
    dump = {
        "origin": "https://app.leakyquiz.test",
        "localStorage": {"lq_vid": "abc123def456"},
        "sessionStorage": {"tab": "1"},
        "indexedDB": [{"database": "lq_store", "store": "ids", "records": [["vid", {"id": "abc123def456"}]]}],
        "caches": [{"name": "lq-cache-v1", "entries": [["https://app.leakyquiz.test/api/profile", '{"name":"Liam"}']]}],
        "serviceWorkers": [
            {
                "scope": "https://app.leakyquiz.test/",
                "scriptURL": "https://app.leakyquiz.test/sw.js",
                "state": "activated",
            }
        ],
        "errors": [],
    }
    items = storage_items_from_dump(dump, "https://app.leakyquiz.test/home")
    by_kind = {item.kind: item for item in items}
    assert set(by_kind) == {"localStorage", "sessionStorage", "indexedDB", "cacheStorage", "serviceWorker"}
    assert by_kind["indexedDB"].container == "lq_store/ids"
    assert by_kind["indexedDB"].key == "vid" and by_kind["indexedDB"].value == '{"id": "abc123def456"}'
    assert by_kind["cacheStorage"].key == "https://app.leakyquiz.test/api/profile"
    assert by_kind["serviceWorker"].key == "https://app.leakyquiz.test/sw.js"
    assert all(item.frame_url == "https://app.leakyquiz.test/home" for item in items)


def test_storage_dump_of_an_opaque_origin_is_ignored():
    assert storage_items_from_dump({"origin": "null", "localStorage": {"a": "b"}}, "about:blank") == []


def test_storage_state_localstorage_and_indexeddb():
    state = {
        "cookies": [],
        "origins": [
            {
                "origin": "https://www.brightpath.test",
                "localStorage": [{"name": "bp_theme", "value": "dark"}],
                "indexedDB": [
                    {"name": "db", "version": 1, "stores": [{"name": "s", "records": [{"key": 1, "value": "x"}]}]}
                ],
            }
        ],
    }
    items = storage_items_from_state(state)
    assert [(i.kind, i.key, i.value) for i in items] == [("localStorage", "bp_theme", "dark"), ("indexedDB", "1", "x")]


def test_observation_row_round_trip():
    request = RequestObs(
        time=1.0,
        method="POST",
        url="https://collect.example/v1",
        host="collect.example",
        scheme="https",
        resource_type="fetch",
        frame_url="https://a.test/",
        page_url="https://a.test/",
        is_navigation=False,
        from_service_worker=False,
        initiator_type="script",
        initiator_url="https://cdn.example/t.js",
        request_headers=(("content-type", "application/json"), ("cookie", "a=1")),
        cookie_header="a=1",
        referer=None,
        post_data='{"uid": "x"}',
        status=200,
        response_headers=(("set-cookie", "b=2"),),
        set_cookies=("b=2",),
        remote_address="127.0.0.1:443",
        tls_protocol="TLS 1.3",
        tls_cipher="AES_128_GCM",
        failure=None,
    )
    row = request.to_row()
    assert isinstance(row["request_headers"], str)
    row["is_navigation"] = 0  # as SQLite gives it back
    assert RequestObs.from_row(row) == request
