"""Inline SVG charts for the HTML report, drawn here: no script, no library, nothing fetched."""

from __future__ import annotations

from markupsafe import Markup, escape

from ..knowledge.categories import category_words
from .model import Report

WIDTH = 760
LABEL_W = 300
ROW_H = 22
TWO_LINE_ROW_H = 32
BAR_H = 14
RED, DARK_RED, GREY, BLUE, INK, MUTED = "#b42318", "#7a1a10", "#98a2b3", "#3e6fb0", "#1d2939", "#667085"


def _text(
    x: float, y: float, text: str, anchor: str = "start", size: float = 12, fill: str = INK, weight: str = "normal"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
        f'font-weight="{weight}">{escape(text)}</text>'
    )


def _label(y: float, first: str, second: str, first_weight: str = "normal") -> str:
    """A two-line label right-aligned against the bars: nothing cut off, the detail in grey below."""
    size = 11.5 if len(first) <= 44 else max(8.0, 11.5 * 44 / len(first))
    return (
        f'<text x="{LABEL_W - 8}" y="{y + 11:.1f}" text-anchor="end" font-size="{size:.1f}" fill="{INK}" '
        f'font-weight="{first_weight}">{escape(first)}</text>'
        f'<text x="{LABEL_W - 8}" y="{y + 24:.1f}" text-anchor="end" font-size="10" fill="{MUTED}">'
        f"{escape(second)}</text>"
    )


def _clip(text: str, limit: int = 44) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(height: float, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _ticks(maximum: float) -> list[float]:
    if maximum <= 0:
        return [0]
    raw = maximum / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    step = next(s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw)
    ticks, value = [0.0], 0.0
    while value < maximum - 1e-9:  # the last tick is at or beyond the maximum, so bars stay inside
        value += step
        ticks.append(value)
    return ticks


def third_party_hosts(report: Report, per_vendor: int = 12) -> Markup | None:
    """Requests to each third-party host, grouped by vendor; hosts a finding names are red."""
    groups = [(v, v.third_party_hosts[:per_vendor], len(v.third_party_hosts) - per_vendor) for v in report.vendors]
    if not report.vendors:
        return None
    largest = max([h.requests for _, hosts, _ in groups for h in hosts] or [1])
    ticks = _ticks(largest)
    scale_max = ticks[-1] if ticks[-1] > 0 else 1
    plot_w = WIDTH - LABEL_W - 50
    body, y = [], 26.0
    body.append(_text(LABEL_W, 14, "requests", size=11, fill=MUTED))
    rows_top = y
    for vendor, hosts, hidden in groups:
        body.append(
            _text(
                0, y + 14, f"{vendor.name} — {len(vendor.third_party_hosts)} third-party host(s)", size=12, weight="600"
            )
        )
        y += ROW_H
        if not hosts:
            body.append(_text(16, y + 12, "no third-party host contacted", size=12, fill=MUTED))
            y += ROW_H
        for host in hosts:
            w = max(2.0, plot_w * host.requests / scale_max)
            colour = RED if host.flagged else GREY
            body.append(_label(y, host.host, category_words(host.category) or "no known category"))
            body.append(
                f'<rect x="{LABEL_W}" y="{y + 6:.1f}" width="{w:.1f}" height="{BAR_H}" rx="2" fill="{colour}"/>'
            )
            body.append(_text(LABEL_W + w + 5, y + 17, str(host.requests), size=11, fill=MUTED))
            y += TWO_LINE_ROW_H
        if hidden > 0:
            body.append(_text(16, y + 12, f"… and {hidden} more", size=11, fill=MUTED))
            y += ROW_H
        y += 6
    for tick in ticks:
        x = LABEL_W + plot_w * tick / scale_max
        body.insert(0, f'<line x1="{x:.1f}" y1="{rows_top:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#eaecf0"/>')
        body.append(_text(x, y + 14, f"{tick:g}", anchor="middle", size=10.5, fill=MUTED))
    y += 22
    body.append(f'<rect x="{LABEL_W}" y="{y:.1f}" width="12" height="10" fill="{RED}"/>')
    body.append(_text(LABEL_W + 18, y + 9.5, "named in a finding", size=11, fill=MUTED))
    body.append(f'<rect x="{LABEL_W + 150}" y="{y:.1f}" width="12" height="10" fill="{GREY}"/>')
    body.append(_text(LABEL_W + 168, y + 9.5, "other third party", size=11, fill=MUTED))
    return _svg(y + 16, body, "Requests to third-party hosts, by vendor")


def cookie_lifetimes(report: Report, limit: int = 30) -> Markup | None:
    """Each persistent cookie's lifetime against the policy's maximum (a dashed line)."""
    rows = [(v, c) for v in report.vendors for c in v.cookies][:limit]
    maximum = report.policy.max_lifetime_days
    if not rows:
        return None
    longest = max(c.lifetime_days for _, c in rows)
    cap = max((maximum or longest) * 1.5, 30.0)  # keep the maximum readable; longer bars are cut with an arrow
    scale_max = min(max(longest, maximum or 0) * 1.08, cap)
    plot_w = WIDTH - LABEL_W - 120
    body, y = [], 30.0
    top = y
    current = None
    for vendor, cookie in rows:
        if vendor.id != current:
            current = vendor.id
            body.append(_text(0, y + 14, vendor.name, size=12, weight="600"))
            y += ROW_H
        days = max(cookie.lifetime_days, 0.0)
        over = maximum is not None and days > maximum
        w = max(2.0, plot_w * min(days, scale_max) / scale_max)
        party = "first party" if cookie.party == "first" else "third party"
        body.append(_label(y, cookie.name, f"{cookie.domain.lstrip('.')}, {party}", first_weight="600"))
        if over and maximum is not None:
            # the part beyond the maximum in a darker red, so even a few days over stand out from the limit line
            inside = plot_w * maximum / scale_max
            body.append(f'<rect x="{LABEL_W}" y="{y + 6:.1f}" width="{inside:.1f}" height="{BAR_H}" fill="{RED}"/>')
            body.append(
                f'<rect x="{LABEL_W + inside:.1f}" y="{y + 3:.1f}" width="{max(w - inside, 3.0):.1f}" '
                f'height="{BAR_H + 6}" fill="{DARK_RED}"/>'
            )
            w = max(w, inside + 3.0)
        else:
            body.append(f'<rect x="{LABEL_W}" y="{y + 6:.1f}" width="{w:.1f}" height="{BAR_H}" rx="2" fill="{BLUE}"/>')
        suffix = " ▸" if days > scale_max else ""
        label = f"{days:.0f} days{suffix}" + (f", {days - maximum:.0f} over" if over and maximum is not None else "")
        body.append(
            _text(
                LABEL_W + w + 5, y + 17, label, size=11, fill=RED if over else MUTED, weight="600" if over else "normal"
            )
        )
        y += TWO_LINE_ROW_H
    for tick in (t for t in _ticks(scale_max) if t <= scale_max):
        x = LABEL_W + plot_w * tick / scale_max
        body.insert(0, f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#eaecf0"/>')
        body.append(_text(x, y + 14, f"{tick:g}", anchor="middle", size=10.5, fill=MUTED))
    body.append(_text(LABEL_W + plot_w / 2, y + 30, "lifetime in days", anchor="middle", size=11, fill=MUTED))
    if maximum is not None and maximum <= scale_max:
        x = LABEL_W + plot_w * maximum / scale_max
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 8:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{RED}" '
            f'stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
        body.append(
            _text(x, top - 12, f"policy maximum: {maximum:g} days", anchor="middle", size=11, fill=RED, weight="600")
        )
    return _svg(y + 40, body, "Persistent cookie lifetimes against the policy maximum")
