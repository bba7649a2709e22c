"""The run-time cache of public lists: download them (``update_lists``) and load them (``load_lists``).

Nothing here touches the network unless ``update_lists`` is called; its fetch function is injectable.
The cache directory holds each list under its publisher's file name plus ``manifest.json``, which
records where and when each list was fetched, its sha256 and version.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crawler import __version__
from crawler.knowledge.cname import CnameTrackers, load_builtin_cname, parse_adguard_cname
from crawler.knowledge.cookies import CookieClassifier, builtin_patterns_text, builtin_patterns_version
from crawler.knowledge.disconnect import parse_disconnect
from crawler.knowledge.filterlists import FilterListEngine
from crawler.knowledge.open_cookie_database import OcdCookie, parse_open_cookie_database
from crawler.knowledge.trackers import TrackerKnowledge, builtin_text, load_builtin

MANIFEST_NAME = "manifest.json"
# What parsing a list that is not in its expected shape raises.
_MALFORMED = (ValueError, KeyError, TypeError, AttributeError)
LISTS_DIR_ENV = "TRACKAUDIT_LISTS_DIR"
BUILTIN = "builtin"


@dataclass(frozen=True)
class ListSource:
    """Where a public list comes from. ``default`` lists are fetched when no names are given."""

    name: str
    url: str
    filename: str
    format: str  # "abp" | "open-cookie-database" | "disconnect" | "adguard-cname"
    licence: str
    default: bool = True


LIST_SOURCES: dict[str, ListSource] = {
    source.name: source
    for source in (
        ListSource(
            "easyprivacy",
            "https://easylist.to/easylist/easyprivacy.txt",
            "easyprivacy.txt",
            "abp",
            "GPL-3.0 or CC BY-SA 3.0",
        ),
        ListSource(
            "easylist",
            "https://easylist.to/easylist/easylist.txt",
            "easylist.txt",
            "abp",
            "GPL-3.0 or CC BY-SA 3.0",
        ),
        ListSource(
            "open-cookie-database",
            "https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/open-cookie-database.csv",
            "open-cookie-database.csv",
            "open-cookie-database",
            "Apache-2.0",
        ),
        # The tracker domains first-party subdomains are CNAME-cloaked to (matched against DNS chains).
        ListSource(
            "adguard-cname",
            "https://raw.githubusercontent.com/AdguardTeam/cname-trackers/master/combined_original_trackers.txt",
            "combined_original_trackers.txt",
            "adguard-cname",
            "MIT",
        ),
        # Non-commercial licence: never bundled, fetched only when asked for by name.
        ListSource(
            "disconnect",
            "https://raw.githubusercontent.com/disconnectme/disconnect-tracking-protection/master/services.json",
            "services.json",
            "disconnect",
            "CC BY-NC-SA 4.0",
            default=False,
        ),
    )
}


class ListError(Exception):
    """A list cannot be updated or loaded; the message says which and why."""


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    url: str
    sha256: str
    bytes: int
    downloaded_at: str
    version: str


@dataclass(frozen=True)
class ListUpdate:
    """The outcome of updating one list: its manifest entry, or an error message."""

    name: str
    entry: ManifestEntry | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ListInfo:
    """A list a run used: stored with every run so a finding can be traced to its evidence."""

    name: str
    version: str
    sha256: str
    source: str  # "builtin" or the file it was read from
    url: str | None = None
    fetched_at: str | None = None  # when the list was downloaded (ISO), or its file's date


@dataclass(frozen=True)
class KnowledgeBundle:
    trackers: TrackerKnowledge
    filters: FilterListEngine
    ocd_rows: tuple[OcdCookie, ...]
    cname_trackers: CnameTrackers = field(default_factory=load_builtin_cname)

    def cookie_classifier(self, remember_cookies: Iterable[str] = ()) -> CookieClassifier:
        return CookieClassifier(builtin=True, ocd_rows=self.ocd_rows, remember_cookies=remember_cookies)


def default_cache_dir() -> Path:
    configured = os.environ.get(LISTS_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "trackaudit" / "lists"


def fetch_url(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": f"trackaudit/{__version__}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


DOWNLOAD_FIX = (
    "Fix: check this machine's internet access (or its HTTPS proxy) and run 'trackaudit lists update' "
    "again; until then trackers are recognised by the built-in knowledge base only"
)


def download_problem(url: str, error: BaseException) -> str:
    """A failed download in plain words, never urllib's raw ``<urlopen error …>``."""
    host = urllib.parse.urlsplit(url).hostname or url
    if isinstance(error, urllib.error.HTTPError):
        return f"{host} answered HTTP {error.code} {error.reason}".rstrip()
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"{host} did not answer in time"
    if (
        isinstance(reason, socket.gaierror)
        or "name or service not known" in str(reason).lower()
        or "temporary failure in name resolution" in str(reason).lower()
    ):
        return f"{host} could not be found (no DNS answer: this machine looks offline)"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(reason, ssl.SSLError):
        return f"the secure connection to {host} failed ({getattr(reason, 'reason', None) or reason})"
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return f"{host} could not be reached ({text})"


def update_lists(
    cache_dir: Path,
    names: Sequence[str] | None = None,
    fetch: Callable[[str], bytes] = fetch_url,
) -> list[ListUpdate]:
    """Download lists into the cache; one failing list is reported and leaves its old copy in place."""
    sources = _select_sources(names)
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ListError(f"cannot create the list cache {cache_dir}: {error}") from None
    manifest = _read_manifest(cache_dir)
    updates = []
    for source in sources:
        update = _update_one(cache_dir, source, fetch)
        if update.entry is not None:
            manifest[source.name] = update.entry
            _write_manifest(cache_dir, manifest)
        updates.append(update)
    return updates


def load_lists(cache_dir: Path | None, extra_dirs: Iterable[Path] = ()) -> tuple[KnowledgeBundle, list[ListInfo]]:
    """Load the built-in knowledge plus every list found in cache_dir, then extra_dirs (first found wins).

    ``cache_dir=None`` reads no cache (pass ``default_cache_dir()`` for the usual one).
    """
    directories = ([Path(cache_dir)] if cache_dir is not None else []) + [Path(d) for d in extra_dirs]
    builtin = load_builtin()
    infos = [
        ListInfo("builtin-trackers", builtin.version or "", _sha256(builtin_text().encode()), BUILTIN),
        ListInfo("builtin-cookies", builtin_patterns_version(), _sha256(builtin_patterns_text().encode()), BUILTIN),
    ]
    cname_trackers = load_builtin_cname()
    trackers = builtin
    filter_texts: dict[str, str] = {}
    ocd_rows: tuple[OcdCookie, ...] = ()
    for source in LIST_SOURCES.values():
        found = _find_list(source, directories)
        if found is None:
            continue
        path, manifest_entry = found
        try:
            data = path.read_bytes()
            text = data.decode("utf-8", errors="replace")
            if source.format == "abp":
                filter_texts[source.name] = text
            elif source.format == "open-cookie-database":
                ocd_rows = parse_open_cookie_database(text)
            elif source.format == "adguard-cname":
                cname_trackers = cname_trackers.merge(parse_adguard_cname(text, builtin))
            else:
                trackers = trackers.merge(parse_disconnect(json.loads(text)))
        except (OSError, *_MALFORMED) as error:
            raise ListError(f"{source.name}: cannot read {path}: {error}") from None
        digest = _sha256(data)
        fresh_entry = manifest_entry if manifest_entry and manifest_entry.sha256 == digest else None
        infos.append(
            ListInfo(
                name=source.name,
                version=fresh_entry.version if fresh_entry else _version_of(source, text, _file_date(path)),
                sha256=digest,
                source=str(path),
                url=fresh_entry.url if fresh_entry else None,
                fetched_at=fresh_entry.downloaded_at if fresh_entry else _file_date(path),
            )
        )
    bundle = KnowledgeBundle(
        trackers=trackers, filters=FilterListEngine(filter_texts), ocd_rows=ocd_rows, cname_trackers=cname_trackers
    )
    return bundle, infos


FILTER_LISTS = tuple(name for name, source in LIST_SOURCES.items() if source.format == "abp")
MAX_LIST_AGE_DAYS = 30


def knowledge_warning(infos: Iterable[ListInfo], now: datetime | None = None) -> str | None:
    """What a run should say about its lists: none loaded, or older than MAX_LIST_AGE_DAYS."""
    now = now or datetime.now(UTC)
    filters = [info for info in infos if info.name in FILTER_LISTS]
    if not filters:
        return (
            "No filter list is loaded: trackers are recognised by the built-in knowledge base only. "
            "Fix: run 'trackaudit lists update' on a machine with internet access"
        )
    stale = []
    for info in filters:
        try:
            fetched = datetime.fromisoformat(info.fetched_at or "")
        except ValueError:
            continue
        fetched = fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC)
        age = (now - fetched).days
        if age > MAX_LIST_AGE_DAYS:
            stale.append(f"{info.name} {age} days")
    if stale:
        return (
            f"The filter lists are older than {MAX_LIST_AGE_DAYS} days ({', '.join(stale)}): trackers added "
            "since are recognised by the built-in knowledge base only. Fix: run 'trackaudit lists update'"
        )
    return None


def _select_sources(names: Sequence[str] | None) -> list[ListSource]:
    if names is None:
        return [source for source in LIST_SOURCES.values() if source.default]
    unknown = [name for name in names if name not in LIST_SOURCES]
    if unknown:
        raise ListError(f"unknown list {', '.join(map(repr, unknown))}; known lists: {', '.join(LIST_SOURCES)}")
    return [LIST_SOURCES[name] for name in names]


def _update_one(cache_dir: Path, source: ListSource, fetch: Callable[[str], bytes]) -> ListUpdate:
    try:
        data = fetch(source.url)
    except Exception as error:  # noqa: BLE001 - any failure of one download is reported, not raised
        return ListUpdate(
            source.name,
            None,
            f"{source.name}: could not download {source.url}: {download_problem(source.url, error)}. {DOWNLOAD_FIX}",
        )
    try:
        text = data.decode("utf-8")
        _check_format(source, text)
    except _MALFORMED as error:
        return ListUpdate(source.name, None, f"{source.name}: {source.url} did not return the list: {error}")
    now = datetime.now(UTC)
    target = cache_dir / source.filename
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as error:
        return ListUpdate(source.name, None, f"{source.name}: cannot write {target}: {error}")
    entry = ManifestEntry(
        name=source.name,
        url=source.url,
        sha256=_sha256(data),
        bytes=len(data),
        downloaded_at=now.isoformat(timespec="seconds"),
        version=_version_of(source, text, now.date().isoformat()),
    )
    return ListUpdate(source.name, entry, None)


def _check_format(source: ListSource, text: str) -> None:
    if source.format == "abp":
        if not text.lstrip("\ufeff").startswith("[Adblock Plus") and "! Title:" not in text[:2000]:
            raise ValueError("no Adblock Plus header")
    elif source.format == "open-cookie-database":
        parse_open_cookie_database(text)
    elif source.format == "adguard-cname":
        parse_adguard_cname(text)
    else:
        parse_disconnect(json.loads(text))


_ABP_VERSION = re.compile(r"^!\s*Version:\s*(\S+)", re.MULTILINE)


def _version_of(source: ListSource, text: str, fallback_date: str) -> str:
    """An Adblock Plus list's ``! Version:`` header; other lists are versioned by date."""
    if source.format == "abp":
        match = _ABP_VERSION.search(text[:4000])
        if match:
            return match.group(1)
    return fallback_date


def _find_list(source: ListSource, directories: Iterable[Path]) -> tuple[Path, ManifestEntry | None] | None:
    for directory in directories:
        path = directory / source.filename
        if path.is_file():
            return path, _read_manifest(directory).get(source.name)
    return None


def _read_manifest(directory: Path) -> dict[str, ManifestEntry]:
    try:
        document = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
        return {name: ManifestEntry(**entry) for name, entry in document["lists"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # a missing or damaged manifest only costs the recorded versions


def _write_manifest(directory: Path, manifest: dict[str, ManifestEntry]) -> None:
    document = {"lists": {name: asdict(entry) for name, entry in sorted(manifest.items())}}
    partial = directory / (MANIFEST_NAME + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    partial.replace(directory / MANIFEST_NAME)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_date(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
