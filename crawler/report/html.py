"""The full report: one self-contained HTML file a district can send to a vendor.

Jinja2 templates in ``templates/`` (autoescaped), CSS inline, charts as inline SVG drawn in ``charts.py``,
screenshots embedded as ``data:`` URIs (each image once, reused by reference), no script and no request to
anything outside the file.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from PIL import Image as PILImage

from ..knowledge.categories import category_words
from ..policy.evidence import (
    ApiCallEvidence,
    CanaryEvidence,
    ChangeEvidence,
    CookieDescription,
    CookieEvidence,
    FlowEvidence,
    FlowItem,
    LoginEvidence,
    OtherEvidence,
    PageEvidence,
    SharingEvidence,
    StorageEvidence,
    TlsEvidence,
    TrackerEvidence,
    evidence_from_json,
)
from . import charts
from .model import ClauseGroup, FindingInfo, PageInfo, Report, VendorReport
from .wording import SEVERITY_LABEL, chain_steps, lifetime_words, verdict_tone, why

TEMPLATES = Path(__file__).with_name("templates")
# Screenshots: each embedded once; beyond these budgets a screenshot is listed by path and SHA-256 instead.
MAX_IMAGE_BYTES = 1_200_000
MAX_TOTAL_IMAGE_BYTES = 8_000_000
THUMB_WIDTH = 640  # pixels: half a desktop page, legible in the gallery's two columns
THUMB_ASPECT = 0.625  # the thumbnail shows the top 16:10 of the page
FULL_WIDTH = 1280
MAX_FLOWS_SHOWN = 6
MAX_REQUESTS_SHOWN = 8
CONTEXT_CHARS = 160


# -- filters ------------------------------------------------------------------------------------------------
def highlight(text: Any, needles: Any, limit: int | None = None) -> Markup:
    """``text`` escaped, with every occurrence of ``needles`` (one string or several) wrapped in ``<mark>``
    (case-insensitively when a needle's exact text is absent); ``limit`` keeps a window of about that many
    characters around the first match."""
    text = "" if text is None else str(text)
    if isinstance(needles, (list, tuple)):
        needles = [str(n) for n in needles if n]
    else:
        needles = [str(needles)] if needles else []
    if not needles:
        if limit and len(text) > limit:
            return escape(text[:limit] + "…")
        return escape(text)
    needles = sorted(set(needles), key=len, reverse=True)  # the longest match wins where two overlap
    flags = 0 if all(n in text for n in needles) else re.IGNORECASE
    pattern = re.compile("|".join(re.escape(n) for n in needles), flags)
    first = pattern.search(text)
    if limit and len(text) > limit + len(needles[0]):
        start = max(0, (first.start() if first else 0) - limit // 2)
        end = min(len(text), start + limit + len(needles[0]))
        text = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def when(stamp: Any) -> str:
    if stamp in (None, ""):
        return "—"
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def filesize(size: Any) -> str:
    size = float(size or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def slug(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


# -- screenshots ----------------------------------------------------------------------------------------------
@dataclass
class Shot:
    page: PageInfo
    symbol: str | None  # id of the embedded thumbnail, None when not embedded
    width: int
    height: int
    sha256: str | None
    intact: bool | None  # file's SHA-256 equals the page row's
    note: str = ""
    full: str | None = None  # data URI of the full-size image, shown once at the end of the report


@dataclass
class Screenshots:
    """Reads each chosen screenshot once; identical files share one embedded thumbnail and one full image."""

    base: Path
    symbols: dict[str, tuple[str, str, int, int]] = field(default_factory=dict)  # sha → (id, data URI, w, h)
    full_images: dict[str, str] = field(default_factory=dict)  # sha → data URI of the full-size image
    shots: dict[int, Shot] = field(default_factory=dict)
    total: int = 0

    def add(self, page: PageInfo) -> Shot | None:
        if page.id in self.shots:
            return self.shots[page.id]
        if not page.screenshot:
            return None
        path = (self.base / page.screenshot).resolve()
        try:
            data = path.read_bytes()
        except OSError:
            shot = Shot(page, None, 0, 0, None, None, "screenshot file missing")
            self.shots[page.id] = shot
            return shot
        digest = hashlib.sha256(data).hexdigest()
        intact = None if not page.screenshot_sha256 else digest == page.screenshot_sha256
        if digest not in self.symbols:
            thumb, full = _thumbnail(data), _full_size(data)
            size = len(thumb.data) + len(full.data)
            if size > MAX_IMAGE_BYTES or self.total + size > MAX_TOTAL_IMAGE_BYTES:
                shot = Shot(
                    page, None, thumb.width, thumb.height, digest, intact, "not embedded to keep the report small"
                )
                self.shots[page.id] = shot
                return shot
            self.total += size
            self.symbols[digest] = (f"img-{digest[:12]}", thumb.uri, thumb.width, thumb.height)
            self.full_images[digest] = full.uri
        symbol, _, width, height = self.symbols[digest]
        shot = Shot(page, symbol, width, height, digest, intact, full=self.full_images[digest])
        self.shots[page.id] = shot
        return shot


@dataclass(frozen=True)
class Image:
    data: bytes
    mime: str
    width: int
    height: int

    @property
    def uri(self) -> str:
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


def _jpeg(picture: PILImage.Image, quality: int) -> Image:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=quality, optimize=True)
    return Image(out.getvalue(), "image/jpeg", picture.width, picture.height)


def _thumbnail(data: bytes) -> Image:
    """The top of the page (what a student sees first), scaled so its text stays legible in a two-column gallery."""
    with PILImage.open(io.BytesIO(data)) as picture:
        top = picture.crop((0, 0, picture.width, min(picture.height, round(picture.width * THUMB_ASPECT))))
        scale = THUMB_WIDTH / top.width
        if scale < 1:
            top = top.resize((THUMB_WIDTH, round(top.height * scale)), PILImage.Resampling.LANCZOS)
        return _jpeg(top, quality=82)


def _full_size(data: bytes) -> Image:
    with PILImage.open(io.BytesIO(data)) as opened:
        picture: PILImage.Image = opened
        if picture.width > FULL_WIDTH:
            picture = picture.resize(
                (FULL_WIDTH, round(picture.height * FULL_WIDTH / picture.width)), PILImage.Resampling.LANCZOS
            )
        return _jpeg(picture, quality=75)


# -- evidence, shaped for the template ------------------------------------------------------------------------
def _where(value: str, request) -> list[tuple[str, str]]:
    """Where in a request a value travels: (label, text to show)."""
    found = []
    if request.cookie_header and value in request.cookie_header:
        part = next((p.strip() for p in request.cookie_header.split(";") if value in p), request.cookie_header)
        found.append(("Cookie header", part))
    if value in (request.url or ""):
        found.append(("URL", request.url))
    if request.post_data and value in request.post_data:
        found.append(("body", request.post_data))
    return found


def _cookie_rows(cookie: CookieDescription, maximum: float | None) -> list[tuple[str, str]]:
    def yes(flag: Any) -> str:
        return "yes" if flag else "no"

    rows: list[tuple[str, Any]] = [
        ("Name", cookie.name),
        ("Value", cookie.value),
        ("Domain / path", f"{cookie.domain}{cookie.path or ''}"),
        ("Party", f"{cookie.party or '?'} party" + (f" ({cookie.entity})" if cookie.entity else "")),
        (
            "Lifetime",
            lifetime_words(cookie.lifetime_days)
            + (f"; the policy maximum is {maximum:g} days" if maximum is not None and cookie.lifetime_days else ""),
        ),
        ("Expires", when(cookie.expires) if cookie.expires is not None else "at the end of the session"),
        ("Secure / HttpOnly", f"{yes(cookie.secure)} / {yes(cookie.http_only)}"),
        ("SameSite", cookie.same_site or "not set (Lax by default)"),
    ]
    if cookie.partition_key:
        rows.append(("Partitioned", cookie.partition_key))
    if cookie.purpose:
        rows.append(("Purpose", cookie.purpose + (f" (from {cookie.purpose_source})" if cookie.purpose_source else "")))
    if cookie.set_by:
        kind = {"header": "Set-Cookie response of", "script": "script"}.get(cookie.set_by_kind or "", "")
        rows.append(("Set by", f"{kind} {cookie.set_by}".strip()))
    if cookie.phase:
        rows.append(("Seen in phase", cookie.phase))
    return [(k, "" if v is None else str(v)) for k, v in rows]


def _flows_view(flows: tuple[FlowItem, ...], report: Report) -> dict[str, Any]:
    """PII flows: repeated sightings merged, then matches sharing one context shown together."""
    grouped: dict[tuple, dict[str, Any]] = {}
    for flow in flows:
        key = (flow.field, flow.encoding, flow.location, flow.host, flow.url, flow.matched)
        entry = grouped.setdefault(key, {"flow": flow, "count": 0, "phases": [], "row_ids": []})
        entry["count"] += 1
        if flow.phase and flow.phase not in entry["phases"]:
            entry["phases"].append(flow.phase)
        if flow.row_id not in entry["row_ids"]:
            entry["row_ids"].append(flow.row_id)
    blocks: dict[tuple, dict[str, Any]] = {}
    for entry in grouped.values():
        flow = entry["flow"]
        block_key = (flow.host, flow.url, flow.location, flow.context)
        block = blocks.get(block_key)
        if block is None:
            request = report.requests.get(flow.row_id) if flow.table == "requests" and flow.row_id else None
            block = blocks[block_key] = {
                "host": flow.host,
                "party": flow.party,
                "entity": flow.entity,
                "location": flow.location,
                "url": flow.url,
                "table": flow.table,
                "context": flow.context or "",
                "request": request,
                "count": entry["count"],
                "phases": list(entry["phases"]),
                "row_ids": list(entry["row_ids"]),
                "matches": [],
            }
        else:
            block["count"] = max(block["count"], entry["count"])
            block["phases"] += [p for p in entry["phases"] if p not in block["phases"]]
            block["row_ids"] += [r for r in entry["row_ids"] if r not in block["row_ids"]]
        block["matches"].append(
            {
                "field": flow.field,
                "encoding": flow.encoding,
                "matched": flow.matched,
                "steps": chain_steps(str(flow.field or "value"), list(flow.chain)),
            }
        )
    for block in blocks.values():
        block["needles"] = [m["matched"] for m in block["matches"] if m["matched"]]
    shown = list(blocks.values())
    return {"flows": shown[:MAX_FLOWS_SHOWN], "flows_more": max(0, len(shown) - MAX_FLOWS_SHOWN)}


def _carried(value: str | None, finding: FindingInfo, report: Report) -> dict[str, Any]:
    """The requests (among the finding's rows) that carried the value: for IV.B, after the restart."""
    request_ids = finding.rows.get("requests", [])
    if not value or not request_ids:
        return {}
    carried: list[dict[str, Any]] = []
    seen = set()
    for rid in request_ids:
        request = report.requests.get(rid)
        if request is None:
            continue
        for label, text in _where(value, request):
            key = (request.phase, request.host, label, request.url if label != "Cookie header" else "")
            if key in seen:
                continue
            seen.add(key)
            carried.append({"request": request, "where": label, "text": text})
    after_restart = any(c["request"].phase == "reconnect" for c in carried)
    return {
        "carried_title": (
            "Sent again after the browser restart, without logging in"
            if after_restart
            else "Requests that carried the value"
        ),
        "carried": carried[:MAX_REQUESTS_SHOWN],
        "carried_more": max(0, len(carried) - MAX_REQUESTS_SHOWN),
    }


def _recorded(finding: FindingInfo, report: Report, cookies: bool = True, storage: bool = True) -> dict[str, Any]:
    """The observation rows themselves, where the evidence does not already describe them."""
    view: dict[str, Any] = {}
    recorded = [report.cookies[i] for i in finding.rows.get("cookies", []) if i in report.cookies] if cookies else []
    if recorded:
        view["recorded_cookies"] = recorded[:MAX_REQUESTS_SHOWN]
    kept = [report.storage[i] for i in finding.rows.get("storage_items", []) if i in report.storage] if storage else []
    if kept:
        view["recorded_storage"] = kept[:MAX_REQUESTS_SHOWN]
    return view


def _cookie_view(ev: CookieEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    maximum = ev.maximum_days if ev.maximum_days is not None else report.policy.max_lifetime_days
    view: dict[str, Any] = {
        "value": ev.cookie.value if ev.cookie else ev.value,
        "identifier_reasons": list(ev.identifier_reasons or ()),
        "renewed": ev.renewed,
        "sources": list(ev.sources or ()),
        "in_last_audit": ev.in_last_audit,
        "retention": ev.retention,
    }
    if ev.cookie is not None:
        view["cookie"] = _cookie_rows(ev.cookie, maximum)
        days = ev.cookie.lifetime_days
        if days is not None and maximum:
            view["lifetime"] = {
                "days": days,
                "maximum": maximum,
                "over": days > maximum,
                "pct": min(100.0, 100.0 * days / max(days, maximum * 1.25)),
                "max_pct": 100.0 * maximum / max(days, maximum * 1.25),
            }
    view.update(_carried(view["value"], finding, report))
    view.update(_recorded(finding, report, cookies=ev.cookie is None or bool(ev.sources)))
    return view


def _storage_view(ev: StorageEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    view: dict[str, Any] = {
        "value": ev.identifier_value,
        "identifier_value": ev.identifier_value,
        "identifier_reasons": list(ev.identifier_reasons or ()),
    }
    view.update(_carried(ev.identifier_value, finding, report))
    view.update(_recorded(finding, report))
    return view


def _flow_view(ev: FlowEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {
        **_flows_view(ev.flows, report),
        "recipient": ev.recipient,
        "host_names": list(ev.hosts or ()),
        **_recorded(finding, report, storage=False),
    }


def _sharing_view(ev: SharingEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    by_host: dict[tuple, dict[str, Any]] = {}
    for s in ev.sent:
        by_host.setdefault((s.host, s.where), {"sending": s, "count": 0})["count"] += 1
    sent = [
        {
            "entity": e["sending"].entity,
            "host": e["sending"].host,
            "where": e["sending"].where,
            "url": e["sending"].url,
            "count": e["count"],
        }
        for e in by_host.values()
    ]
    return {
        "value": ev.identifier,
        "identifier_value": ev.identifier,
        "owner": ev.owner,
        "receivers": list(ev.receivers),
        "sent": sent,
        **_recorded(finding, report),
    }


def _tracker_view(ev: TrackerEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {
        "hosts": list(ev.hosts or ()),
        "observed": list(ev.observed or ()),
        "page_urls": list(ev.pages or ()),
        "in_last_audit": ev.in_last_audit,
    }


def _tls_view(ev: TlsEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {"carries": list(ev.carries or ()), "protocols": list(ev.protocols or ()), "ciphers": list(ev.ciphers or ())}


def _change_view(ev: ChangeEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {
        "change": {
            "status": ev.change,
            "kind": ev.what,
            "key": ev.key,
            "previous_run_id": ev.previous_run_id,
            "related_rules": list(ev.related_rules or ()),
        },
        "gone": list(ev.gone or ()),
    }


def _login_view(ev: LoginEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {"urls": [("final url", ev.final_url)] if ev.final_url else []}


def _page_view(ev: PageEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {"urls": [("url", ev.url)] if ev.url else []}


def _api_call_view(ev: ApiCallEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {
        "script": ev.script,
        "party": ev.party,
        "entity": ev.entity,
        "techniques": ev.techniques,
        "properties_read": ev.properties_read,
        "pages": ev.pages,
        "frames": ev.frames,
    }


def _canary_view(ev: CanaryEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {
        "host_names": ev.hosts,
        "party": ev.party,
        "entity": ev.entity,
        "canaries": ev.flows[:MAX_FLOWS_SHOWN],
        "canaries_more": max(0, len(ev.flows) - MAX_FLOWS_SHOWN),
        "scripts": ev.scripts,
        "pages_showing_pii": ev.pages_showing_pii,
    }


def _other_view(ev: OtherEvidence, finding: FindingInfo, report: Report) -> dict[str, Any]:
    return {"other": dict(ev.data or {}), **_recorded(finding, report)}


VIEWS: dict[str, Callable[[Any, FindingInfo, Report], dict[str, Any]]] = {
    CookieEvidence.kind: _cookie_view,
    StorageEvidence.kind: _storage_view,
    FlowEvidence.kind: _flow_view,
    SharingEvidence.kind: _sharing_view,
    TrackerEvidence.kind: _tracker_view,
    TlsEvidence.kind: _tls_view,
    ChangeEvidence.kind: _change_view,
    LoginEvidence.kind: _login_view,
    PageEvidence.kind: _page_view,
    ApiCallEvidence.kind: _api_call_view,
    CanaryEvidence.kind: _canary_view,
    OtherEvidence.kind: _other_view,
}


def evidence_view(finding: FindingInfo, report: Report, vendor: VendorReport) -> dict[str, Any]:
    """What the template shows of a finding's evidence, by its kind."""
    evidence = evidence_from_json(finding.evidence)
    view = VIEWS[evidence.kind](evidence, finding, report)
    view["kind"] = evidence.kind
    read = evidence.to_json()
    unread = {k: v for k, v in finding.evidence.items() if k not in read}  # stored by another version
    if unread:
        view["other"] = {**view.get("other", {}), **unread}
    view["rows"] = [(table, ids) for table, ids in sorted(finding.rows.items()) if ids]
    return view


def evidence_shown_with(vendor: VendorReport, groups: tuple[ClauseGroup, ...]) -> dict[int, FindingInfo]:
    """A finding cited under several clauses is one finding with one evidence: the report shows the evidence
    once, with the first of them, and the others point to it (finding id -> the finding showing it)."""
    first: dict[tuple[str | None, str, str], FindingInfo] = {}
    shown_with: dict[int, FindingInfo] = {}
    for group in groups:
        for finding in group.findings:
            key = (finding.account, finding.subject, json.dumps(finding.evidence, sort_keys=True, default=str))
            if key in first:
                shown_with[finding.id] = first[key]
            else:
                first[key] = finding
    return shown_with


# -- rendering -----------------------------------------------------------------------------------------------------
def environment() -> Environment:
    # A missing key renders as nothing, never an error: a report always renders.
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True),
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        highlight=highlight,
        when=when,
        filesize=filesize,
        pretty_json=pretty_json,
        slug=slug,
        lifetime=lifetime_words,
        tone=verdict_tone,
        category=category_words,
    )
    env.globals.update(SEVERITY_LABEL=SEVERITY_LABEL, why=why)
    return env


def _chosen_pages(report: Report, vendor: VendorReport) -> list[PageInfo]:
    """Pages whose screenshots the report shows: those findings involve, then the first of each phase."""
    chosen: list[int] = []
    for finding in vendor.findings:
        chosen += [p for p in finding.page_ids if p not in chosen]
    seen_phases = set()
    for page in vendor.pages:
        key = (page.account, page.phase)
        if page.screenshot and key not in seen_phases:
            seen_phases.add(key)
            if page.id not in chosen:
                chosen.append(page.id)
    order = {p.id: i for i, p in enumerate(vendor.pages)}
    return [shown for i in sorted(chosen, key=lambda i: order.get(i, 0)) if (shown := vendor.page(i))]


BREAKABLE = re.compile(r'(<code[^>]*>|<(?:td|span) class="hash"[^>]*>)(.*?)(</code>|</td>|</span>)', re.DOTALL)
SEPARATOR = re.compile(r"(/|\?|&amp;|=|,|\.(?=[A-Za-z]))")
TAG = re.compile(r"(<[^>]+>)")


def break_at_separators(html: str) -> str:
    """Let long URLs and paths wrap after ``/ ? & = , .`` rather than in the middle of a word."""

    def wrap(match: re.Match[str]) -> str:
        inner = match.group(2)
        if len(TAG.sub("", inner)) < 24:
            return match.group(0)
        parts = TAG.split(inner)
        inner = "".join(part if part.startswith("<") else SEPARATOR.sub(r"\1<wbr>", part) for part in parts)
        return match.group(1) + inner + match.group(3)

    return BREAKABLE.sub(wrap, html)


SEVERITY_ORDER = {"violation": 0, "warning": 1, "info": 2}
TOP_FINDINGS = 6


def _top_findings(vendor: VendorReport) -> list[FindingInfo]:
    """The findings a summary screen names: the most severe first, one per subject."""
    ranked = sorted(vendor.findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.clause, f.subject))
    top, subjects = [], set()
    for finding in ranked:
        if finding.subject not in subjects:
            subjects.add(finding.subject)
            top.append(finding)
    return top[:TOP_FINDINGS]


def render(report: Report) -> str:
    screenshots = Screenshots(Path(report.artefacts_dir))
    vendors = []
    for vendor in report.vendors:
        gallery = [s for s in (screenshots.add(p) for p in _chosen_pages(report, vendor)) if s is not None]
        groups = report.clause_groups(vendor)
        vendors.append(
            {
                "v": vendor,
                "groups": groups,
                "clause_counts": report.clause_counts(vendor),
                "judged": report.judged_clauses(vendor),
                "evidence": {f.id: evidence_view(f, report, vendor) for f in vendor.findings},
                "shown_with": evidence_shown_with(vendor, groups),
                "shots": {s.page.id: s for s in gallery},
                "gallery": gallery,
                "top": _top_findings(vendor),
            }
        )
    template = environment().get_template("report.html")
    return break_at_separators(
        template.render(
            r=report,
            run=report.run,
            policy=report.policy,
            vendors=vendors,
            symbols=list(screenshots.symbols.values()),
            full_shots=[s for s in screenshots.shots.values() if s.full],
            full_width=FULL_WIDTH,
            hosts_chart=charts.third_party_hosts(report),
            lifetimes_chart=charts.cookie_lifetimes(report),
            clause_counts=report.clause_counts(),
            counts=report.counts,
            artefact_bytes=sum(a.bytes for a in report.manifest.artefacts) if report.manifest else 0,
        )
    )
