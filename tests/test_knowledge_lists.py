import json
import urllib.error
from datetime import UTC
from email.message import Message
from pathlib import Path

import pytest

from crawler.knowledge.lists import (
    LIST_SOURCES,
    ListError,
    ListInfo,
    default_cache_dir,
    load_lists,
    update_lists,
)

EASYPRIVACY = b"[Adblock Plus 2.0]\n! Version: 202611290000\n! Title: EasyPrivacy\n||tracker.example^\n"
EASYLIST = b"[Adblock Plus 2.0]\n! Title: EasyList\n||ads.example^\n"
OCD = (
    b"ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,Data Controller,"
    b"User Privacy & GDPR Rights Portals,Wildcard match\n"
    b"1,Example,Marketing,ex_id,,An id,1 year,Example,,0\n"
)
DISCONNECT = json.dumps(
    {"categories": {"Advertising": [{"AdCo": {"https://adco.example/": ["adco.example"]}}]}}
).encode()
ADGUARD_CNAME = (
    b"! Title: AdGuard CNAME original trackers list\n!\n! Company: Eulerian\n||eulerian.net^\n!\n"
    b"! Company: Adobe Experience Cloud (formerly Omniture)\n||sc.omtrdc.net^\n"
)
BODIES = {
    LIST_SOURCES["easyprivacy"].url: EASYPRIVACY,
    LIST_SOURCES["easylist"].url: EASYLIST,
    LIST_SOURCES["open-cookie-database"].url: OCD,
    LIST_SOURCES["disconnect"].url: DISCONNECT,
    LIST_SOURCES["adguard-cname"].url: ADGUARD_CNAME,
}


def fake_fetch(url):
    return BODIES[url]


def test_update_downloads_the_default_lists_and_writes_a_manifest(tmp_path):
    updates = update_lists(tmp_path, fetch=fake_fetch)
    assert [(update.name, update.ok) for update in updates] == [
        ("easyprivacy", True),
        ("easylist", True),
        ("open-cookie-database", True),
        ("adguard-cname", True),
    ]
    assert (tmp_path / "easyprivacy.txt").read_bytes() == EASYPRIVACY
    assert not (tmp_path / "services.json").exists()  # non-commercial licence: only when asked by name
    manifest = json.loads((tmp_path / "manifest.json").read_text())["lists"]
    easyprivacy = manifest["easyprivacy"]
    assert easyprivacy["url"] == "https://easylist.to/easylist/easyprivacy.txt"
    assert easyprivacy["version"] == "202611290000"
    assert easyprivacy["bytes"] == len(EASYPRIVACY)
    assert len(easyprivacy["sha256"]) == 64
    assert easyprivacy["downloaded_at"].endswith("+00:00")
    # Lists without a version header are versioned by the day they were fetched.
    assert manifest["easylist"]["version"] == manifest["easylist"]["downloaded_at"][:10]
    assert manifest["open-cookie-database"]["version"] == manifest["open-cookie-database"]["downloaded_at"][:10]


def test_update_by_name_fetches_disconnect(tmp_path):
    (update,) = update_lists(tmp_path, names=["disconnect"], fetch=fake_fetch)
    assert update.ok
    assert update.entry.url.endswith("/services.json")
    assert (tmp_path / "services.json").read_bytes() == DISCONNECT


def test_a_failed_download_is_reported_and_keeps_the_old_copy(tmp_path):
    update_lists(tmp_path, names=["easyprivacy"], fetch=fake_fetch)

    def failing_for_easyprivacy(url):
        if url == LIST_SOURCES["easyprivacy"].url:
            raise urllib.error.URLError("Name or service not known")
        return fake_fetch(url)

    easyprivacy, easylist = update_lists(tmp_path, names=["easyprivacy", "easylist"], fetch=failing_for_easyprivacy)
    assert not easyprivacy.ok
    assert easyprivacy.entry is None
    assert easyprivacy.error.startswith(
        "easyprivacy: could not download https://easylist.to/easylist/easyprivacy.txt: easylist.to could not be "
        "found (no DNS answer: this machine looks offline). Fix: check this machine's internet access"
    )
    assert "urlopen" not in easyprivacy.error
    assert easylist.ok
    assert (tmp_path / "easyprivacy.txt").read_bytes() == EASYPRIVACY
    manifest = json.loads((tmp_path / "manifest.json").read_text())["lists"]
    assert set(manifest) == {"easyprivacy", "easylist"}


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            urllib.error.HTTPError("https://easylist.to/x", 503, "Service Unavailable", Message(), None),
            "easylist.to answered HTTP 503 Service Unavailable",
        ),
        (urllib.error.URLError(TimeoutError("timed out")), "easylist.to did not answer in time"),
        (
            urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
            "easylist.to refused the connection",
        ),
        (
            urllib.error.URLError(OSError(101, "Network is unreachable")),
            "easylist.to could not be reached (Network is unreachable)",
        ),
    ],
)
def test_a_failed_download_is_said_in_plain_words(tmp_path, error, words):
    def failing(url):
        raise error

    (update,) = update_lists(tmp_path, names=["easyprivacy"], fetch=failing)
    assert words in update.error and "urlopen" not in update.error and "Fix:" in update.error


@pytest.mark.parametrize(
    ("name", "body", "problem"),
    [
        ("easyprivacy", b"<html>Service unavailable</html>", "no Adblock Plus header"),
        ("open-cookie-database", b"<html></html>", "no 'Cookie / Data Key name' column"),
        ("disconnect", b"{}", "'categories'"),
        ("easylist", b"\xff\xfe not utf-8", "utf-8"),
    ],
)
def test_a_response_that_is_not_the_list_is_refused(tmp_path, name, body, problem):
    (update,) = update_lists(tmp_path, names=[name], fetch=lambda url: body)
    assert update.error.startswith(f"{name}: {LIST_SOURCES[name].url} did not return the list: ")
    assert problem in update.error
    assert not (tmp_path / LIST_SOURCES[name].filename).exists()


def test_unknown_list_names_are_refused_before_any_download(tmp_path):
    def no_network(url):
        raise AssertionError("fetched")

    with pytest.raises(ListError, match="unknown list 'easyprivcy'; known lists: easyprivacy, easylist"):
        update_lists(tmp_path, names=["easyprivacy", "easyprivcy"], fetch=no_network)


def test_load_without_a_cache_has_the_builtin_knowledge_only():
    bundle, infos = load_lists(None)
    assert [info.name for info in infos] == ["builtin-trackers", "builtin-cookies"]
    assert all(info.source == "builtin" and info.version and len(info.sha256) == 64 for info in infos)
    assert bundle.filters.list_names == ()
    assert bundle.ocd_rows == ()
    assert bundle.trackers.lookup("www.google-analytics.com").organisation == "Google"
    assert bundle.cookie_classifier(["bp_remember"]).classify("bp_remember").purpose == "login_retention"


def test_load_uses_the_cache_and_its_manifest(tmp_path):
    update_lists(tmp_path, names=["easyprivacy", "easylist", "open-cookie-database", "disconnect"], fetch=fake_fetch)
    bundle, infos = load_lists(tmp_path)
    by_name = {info.name: info for info in infos}
    assert list(by_name) == [
        "builtin-trackers",
        "builtin-cookies",
        "easyprivacy",
        "easylist",
        "open-cookie-database",
        "disconnect",
    ]
    assert by_name["easyprivacy"] == ListInfo(
        name="easyprivacy",
        version="202611290000",
        sha256=json.loads((tmp_path / "manifest.json").read_text())["lists"]["easyprivacy"]["sha256"],
        source=str(tmp_path / "easyprivacy.txt"),
        url="https://easylist.to/easylist/easyprivacy.txt",
        fetched_at=json.loads((tmp_path / "manifest.json").read_text())["lists"]["easyprivacy"]["downloaded_at"],
    )
    page = "https://school.test/"
    assert bundle.filters.check("https://tracker.example/t.js", page, "script").list_name == "easyprivacy"
    assert bundle.filters.check("https://ads.example/a.js", page, "script").list_name == "easylist"
    assert bundle.cookie_classifier().classify("ex_id").source == "open-cookie-database"
    assert bundle.trackers.lookup("adco.example").source == "disconnect"
    assert bundle.trackers.lookup("www.google-analytics.com").source == "builtin"


def test_a_file_changed_since_download_is_not_given_the_manifest_version(tmp_path):
    update_lists(tmp_path, names=["easylist"], fetch=fake_fetch)
    (tmp_path / "easylist.txt").write_bytes(EASYLIST.replace(b"! Title", b"! Version: 7\n! Title"))
    _, infos = load_lists(tmp_path)
    easylist = next(info for info in infos if info.name == "easylist")
    assert (easylist.version, easylist.url) == ("7", None)


def test_cache_dir_comes_first_then_extra_dirs(tmp_path):
    cache, extra = tmp_path / "cache", tmp_path / "extra"
    update_lists(cache, names=["easyprivacy"], fetch=fake_fetch)
    older = {url: body.replace(b"202611290000", b"1") for url, body in BODIES.items()}
    update_lists(extra, names=["easyprivacy", "easylist"], fetch=older.__getitem__)
    _, infos = load_lists(cache, extra_dirs=[extra, tmp_path / "missing"])
    sources = {info.name: (info.version, Path(info.source).parent) for info in infos if info.source != "builtin"}
    assert sources == {"easyprivacy": ("202611290000", cache), "easylist": (sources["easylist"][0], extra)}


def test_a_damaged_list_is_a_list_error(tmp_path):
    (tmp_path / "services.json").write_text("{not json")
    with pytest.raises(ListError, match=r"disconnect: cannot read .*services\.json"):
        load_lists(tmp_path)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKAUDIT_LISTS_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("TRACKAUDIT_LISTS_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "trackaudit" / "lists"


def test_a_run_without_filter_lists_or_with_old_ones_is_warned(tmp_path):
    from datetime import datetime, timedelta

    from crawler.knowledge.lists import knowledge_warning

    _, builtin_only = load_lists(None)
    assert "built-in knowledge base only" in knowledge_warning(builtin_only)
    assert "trackaudit lists update" in knowledge_warning(builtin_only)
    update_lists(tmp_path, names=["easyprivacy", "easylist"], fetch=fake_fetch)
    _, fresh = load_lists(tmp_path)
    assert knowledge_warning(fresh) is None
    later = datetime.now(UTC) + timedelta(days=45)
    warning = knowledge_warning(fresh, now=later)
    assert "older than 30 days" in warning and "easyprivacy 45 days" in warning
