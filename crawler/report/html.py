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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from PIL import Image as PILImage

from . import charts
from .model import FindingInfo, PageInfo, Report, VendorReport
from .wording import SEVERITY_LABEL, category_words, chain_steps, lifetime_words, verdict_tone, why

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
        out.append(escape(text[last:match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def when(stamp: Any) -> str:
    if stamp in (None, ""):
        return "—"
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
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
                shot = Shot(page, None, thumb.width, thumb.height, digest, intact, "not embedded to keep the report small")
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
    with PILImage.open(io.BytesIO(data)) as picture:
        if picture.width > FULL_WIDTH:
            picture = picture.resize((FULL_WIDTH, round(picture.height * FULL_WIDTH / picture.width)),
                                     PILImage.Resampling.LANCZOS)
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


def _cookie_rows(cookie: Mapping[str, Any], maximum: float | None) -> list[tuple[str, str]]:
    def yes(flag: Any) -> str:
        return "yes" if flag else "no"

    expires = cookie.get("expires")
    rows = [
        ("Name", cookie.get("name")), ("Value", cookie.get("value")),
        ("Domain / path", f"{cookie.get('domain')}{cookie.get('path') or ''}"),
        ("Party", f"{cookie.get('party') or '?'} party" + (f" ({cookie['entity']})" if cookie.get("entity") else "")),
        ("Lifetime", lifetime_words(cookie.get("lifetime_days")) +
         (f"; the policy maximum is {maximum:g} days" if maximum is not None and cookie.get("lifetime_days") else "")),
        ("Expires", when(expires) if isinstance(expires, (int, float)) else "at the end of the session"),
        ("Secure / HttpOnly", f"{yes(cookie.get('secure'))} / {yes(cookie.get('http_only'))}"),
        ("SameSite", cookie.get("same_site") or "not set (Lax by default)"),
    ]
    if cookie.get("partition_key"):
        rows.append(("Partitioned", str(cookie["partition_key"])))
    purpose = cookie.get("purpose")
    if purpose:
        rows.append(("Purpose", purpose + (f" (from {cookie['purpose_source']})" if cookie.get("purpose_source") else "")))
    if cookie.get("set_by"):
        kind = {"header": "Set-Cookie response of", "script": "script"}.get(cookie.get("set_by_kind") or "", "")
        rows.append(("Set by", f"{kind} {cookie['set_by']}".strip()))
    if cookie.get("phase"):
        rows.append(("Seen in phase", cookie["phase"]))
    return [(k, "" if v is None else str(v)) for k, v in rows]


HANDLED = {"rows", "flows", "cookie", "identifier", "renewed", "sources", "value", "hosts", "observed", "pages",
           "sent", "receivers", "owner", "maximum_days", "previous_run_id", "change", "kind", "key",
           "related_rules", "recipient", "carries", "protocols", "ciphers", "in_last_audit", "host", "party", "final_url", "url",
           "gone"}


def evidence_view(finding: FindingInfo, report: Report, vendor: VendorReport) -> dict[str, Any]:
    ev = finding.evidence
    view: dict[str, Any] = {}
    maximum = ev.get("maximum_days") if isinstance(ev.get("maximum_days"), (int, float)) else report.policy.max_lifetime_days

    # PII flows: repeated sightings merged, then matches sharing one context shown together
    flows = [f for f in ev.get("flows") or [] if isinstance(f, Mapping)]
    if flows:
        grouped: dict[tuple, dict[str, Any]] = {}
        for flow in flows:
            key = (flow.get("field"), flow.get("encoding"), flow.get("location"), flow.get("host"), flow.get("url"),
                   flow.get("matched"))
            entry = grouped.setdefault(key, {**flow, "count": 0, "phases": [], "row_ids": []})
            entry["count"] += 1
            if flow.get("phase") and flow["phase"] not in entry["phases"]:
                entry["phases"].append(flow["phase"])
            if flow.get("row_id") not in entry["row_ids"]:
                entry["row_ids"].append(flow.get("row_id"))
        blocks: dict[tuple, dict[str, Any]] = {}
        for entry in grouped.values():
            key = (entry.get("host"), entry.get("url"), entry.get("location"), entry.get("context"))
            block = blocks.get(key)
            if block is None:
                request = report.requests.get(entry.get("row_id")) if entry.get("table") == "requests" else None
                block = blocks[key] = {
                    "host": entry.get("host"), "party": entry.get("party"), "entity": entry.get("entity"),
                    "location": entry.get("location"), "url": entry.get("url"), "table": entry.get("table"),
                    "context": entry.get("context") or "", "request": request, "count": entry["count"],
                    "phases": list(entry["phases"]), "row_ids": list(entry["row_ids"]), "matches": []}
            else:
                block["count"] = max(block["count"], entry["count"])
                block["phases"] += [p for p in entry["phases"] if p not in block["phases"]]
                block["row_ids"] += [r for r in entry["row_ids"] if r not in block["row_ids"]]
            block["matches"].append({
                "field": entry.get("field"), "encoding": entry.get("encoding"), "matched": entry.get("matched"),
                "steps": chain_steps(str(entry.get("field") or "value"), entry.get("chain") or [])})
        for block in blocks.values():
            block["needles"] = [m["matched"] for m in block["matches"] if m["matched"]]
        shown = list(blocks.values())
        view["flows"] = shown[:MAX_FLOWS_SHOWN]
        view["flows_more"] = max(0, len(shown) - MAX_FLOWS_SHOWN)

    cookie = ev.get("cookie")
    if isinstance(cookie, Mapping):
        view["cookie"] = _cookie_rows(cookie, maximum)
        days = cookie.get("lifetime_days")
        if isinstance(days, (int, float)) and maximum:
            view["lifetime"] = {"days": days, "maximum": maximum, "over": days > maximum,
                                "pct": min(100.0, 100.0 * days / max(days, maximum * 1.25)),
                                "max_pct": 100.0 * maximum / max(days, maximum * 1.25)}
    identifier = ev.get("identifier")
    if isinstance(identifier, list):
        view["identifier_reasons"] = [str(r) for r in identifier]
    elif isinstance(identifier, str):
        view["identifier_value"] = identifier
    value = (cookie.get("value") if isinstance(cookie, Mapping) else None) or \
        (identifier if isinstance(identifier, str) else None) or ev.get("value")
    view["value"] = value
    if ev.get("renewed"):
        view["renewed"] = str(ev["renewed"])
    if ev.get("sources"):
        view["sources"] = [str(s) for s in ev["sources"]]

    # the requests that carried the value (after the restart, for IV.B)
    request_ids = finding.rows.get("requests", [])
    if value and request_ids and not flows and not ev.get("sent"):
        carried = []
        seen = set()
        for rid in request_ids:
            request = report.requests.get(rid)
            if request is None:
                continue
            for label, text in _where(str(value), request):
                key = (request.phase, request.host, label, request.url if label != "Cookie header" else "")
                if key in seen:
                    continue
                seen.add(key)
                carried.append({"request": request, "where": label, "text": text})
        after_restart = any(c["request"].phase == "reconnect" for c in carried)
        view["carried_title"] = ("Sent again after the browser restart, without logging in" if after_restart
                                 else "Requests that carried the value")
        view["carried"] = carried[:MAX_REQUESTS_SHOWN]
        view["carried_more"] = max(0, len(carried) - MAX_REQUESTS_SHOWN)

    sent = [s for s in ev.get("sent") or [] if isinstance(s, Mapping)]
    if sent:
        by_host: dict[tuple, dict[str, Any]] = {}
        for s in sent:
            entry = by_host.setdefault((s.get("host"), s.get("where")), {**s, "count": 0})
            entry["count"] += 1
        view["sent"] = list(by_host.values())
    if ev.get("receivers"):
        view["receivers"] = [str(r) for r in ev["receivers"]]
    if isinstance(ev.get("recipient"), str):
        view["recipient"] = ev["recipient"]
    if ev.get("owner"):
        view["owner"] = str(ev["owner"])

    hosts = ev.get("hosts") or []
    view["hosts"] = [h for h in hosts if isinstance(h, Mapping)]
    view["host_names"] = [str(h) for h in hosts if isinstance(h, str)]
    if ev.get("observed"):
        view["observed"] = [str(o) for o in ev["observed"]]
    if ev.get("pages"):
        view["page_urls"] = [str(p) for p in ev["pages"]]
    for key in ("carries", "protocols", "ciphers", "gone"):
        if ev.get(key):
            view[key] = [str(x) for x in ev[key]]
    if finding.is_change or "change" in ev:
        view["change"] = {"status": ev.get("change"), "kind": ev.get("kind"), "key": ev.get("key"),
                          "previous_run_id": ev.get("previous_run_id"), "related_rules": ev.get("related_rules") or []}
    elif ev.get("previous_run_id"):
        view["change"] = {"status": None, "kind": None, "key": None, "previous_run_id": ev["previous_run_id"],
                          "related_rules": []}
    if "in_last_audit" in ev:
        view["in_last_audit"] = bool(ev["in_last_audit"])
    for key in ("final_url", "url"):
        if isinstance(ev.get(key), str) and not flows:
            view.setdefault("urls", []).append((key.replace("_", " "), ev[key]))
    # the observation rows themselves, where the evidence does not already describe them
    if not isinstance(cookie, Mapping) or ev.get("sources"):
        recorded = [report.cookies[i] for i in finding.rows.get("cookies", []) if i in report.cookies]
        if recorded:
            view["recorded_cookies"] = recorded[:MAX_REQUESTS_SHOWN]
    if not flows:
        kept = [report.storage[i] for i in finding.rows.get("storage_items", []) if i in report.storage]
        if kept:
            view["recorded_storage"] = kept[:MAX_REQUESTS_SHOWN]
    other = {k: v for k, v in ev.items() if k not in HANDLED}
    if other:
        view["other"] = other
    view["rows"] = [(table, ids) for table, ids in sorted(finding.rows.items()) if ids]
    return view


# -- rendering -----------------------------------------------------------------------------------------------------
def environment() -> Environment:
    # Evidence is free-form JSON whose shape varies by rule: a missing key renders as nothing, never an error.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(highlight=highlight, when=when, filesize=filesize, pretty_json=pretty_json, slug=slug,
                       lifetime=lifetime_words, tone=verdict_tone, category=category_words)
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
    return [vendor.page(i) for i in sorted(chosen, key=lambda i: order.get(i, 0)) if vendor.page(i)]


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
        vendors.append({
            "v": vendor,
            "groups": report.clause_groups(vendor),
            "clause_counts": report.clause_counts(vendor),
            "judged": report.judged_clauses(vendor),
            "evidence": {f.id: evidence_view(f, report, vendor) for f in vendor.findings},
            "shots": {s.page.id: s for s in gallery},
            "gallery": gallery,
            "top": _top_findings(vendor),
        })
    template = environment().get_template("report.html")
    return break_at_separators(template.render(
        r=report, run=report.run, policy=report.policy, vendors=vendors,
        symbols=list(screenshots.symbols.values()),
        full_shots=[s for s in screenshots.shots.values() if s.full], full_width=FULL_WIDTH,
        hosts_chart=charts.third_party_hosts(report), lifetimes_chart=charts.cookie_lifetimes(report),
        clause_counts=report.clause_counts(), counts=report.counts,
        artefact_bytes=sum(a.bytes for a in report.manifest.artefacts) if report.manifest else 0,
    ))
