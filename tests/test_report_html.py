"""The HTML report: self-contained, escaped, every finding with its subject, clause words and evidence."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from crawler.report import render_report
from crawler.report.html import highlight
from test_report_model import EMAIL_SHA256, build_report_db

EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)


class Page(HTMLParser):
    """Visible text (scripts and styles left out) and every tag's attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


@pytest.fixture
def built(tmp_path):
    result = build_report_db(tmp_path)
    yield result
    result.store.close()


@pytest.fixture
def html(built):
    return render_report(built.store, built.run_id, "html", built.pack)


@pytest.fixture
def parsed(html):
    parsed = Page()
    parsed.feed(html)
    return parsed


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_finding_subject_and_its_clause_words_appear(built, parsed):
    for finding in built.findings:
        assert finding["subject"] in parsed.plain
        assert squash(built.pack.clauses[finding["clause"]]) in parsed.plain
        assert finding["message"] in parsed.plain


def test_the_pii_match_is_marked_inside_its_escaped_context(html):
    assert f"<mark>{EMAIL_SHA256}</mark>" in html
    assert "&lt;b&gt;&amp;co" in html and "<b>&co" not in html


def test_names_are_escaped(html, parsed):
    assert "Bright &lt;Reading&gt; &amp; Co" in html
    assert "Bright <Reading> & Co" in parsed.plain
    assert "Home <LeakyQuiz>" in parsed.plain


def test_self_contained_no_external_url_and_no_script(parsed):
    assert not [t for t, _ in parsed.tags if t == "script"]
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "xlink:href", "srcset", "data", "action"):
            value = attrs.get(name)
            if value and tag in ("link", "script", "img", "iframe", "image", "use", "source", "object", "form", "a"):
                assert not EXTERNAL.match(value), f"<{tag} {name}={value[:80]}>"
    assert not [t for t, a in parsed.tags if t == "link"]


def test_screenshots_embedded_once_as_data_uris(html, parsed):
    images = [a["href"] for t, a in parsed.tags if t == "image"]
    assert images and all(src.startswith("data:image/") for src in images)
    assert len(images) == len(set(images))
    assert "matches the recorded digest" in parsed.plain


def test_summary_verdicts_counts_and_toc(parsed):
    text = parsed.plain
    assert "compliant" in text and "violations found" in text
    assert "Contents" in text and "Evidence and provenance" in text
    assert "Findings by clause and severity" in text


def test_evidence_sections(built, html, parsed):
    text = parsed.plain
    assert "email → SHA256 → sent" in text  # the encoding chain spelled out
    assert "Sent again after the browser restart" in text  # the IV.B value in the reconnect phase
    assert "lq_vid=<mark>VID12345678</mark>" in html
    assert "New since the previous audit" in text  # the baseline.* change
    assert "400 days" in text and "396" in text  # lifetime against the policy maximum
    assert "Why this matters." in text
    assert built.pack.sha256 in text and "easyprivacy" in text and "202401010000" in text  # provenance


def test_charts_are_inline_svg(parsed):
    labels = [a.get("aria-label", "") for t, a in parsed.tags if t == "svg"]
    assert "Requests to third-party hosts, by vendor" in labels
    assert "Persistent cookie lifetimes against the policy maximum" in labels


@pytest.mark.parametrize(
    "text, needle, expected",
    [
        ('a<b>"x"', "x", "a&lt;b&gt;&#34;<mark>x</mark>&#34;"),
        ("abcABC", "abc", "<mark>abc</mark>ABC"),
        ("no match", "zzz", "no match"),
        ("A&B", ["A", "B"], "<mark>A</mark>&amp;<mark>B</mark>"),
        ("<i>", "", "&lt;i&gt;"),
    ],
)
def test_highlight_escapes_and_marks(text, needle, expected):
    assert str(highlight(text, needle)) == expected


def test_highlight_keeps_a_window_around_the_match():
    out = str(highlight("x" * 500 + "NEEDLE" + "y" * 500, "NEEDLE", 100))
    assert "<mark>NEEDLE</mark>" in out and out.startswith("…") and out.endswith("…") and len(out) < 200


def test_odd_evidence_shapes_still_render(built):
    """Evidence stored by another version: keys missing, unexpected types or unknown keys must not break the
    report, and what this version cannot read is shown as it is."""
    odd = {
        "rows": {"requests": [99999]},
        "flows": [{"field": "email"}],
        "hosts": [{}, "h.test", 3],
        "cookie": {"name": "x"},
        "sent": [{"host": "a.test"}],
        "identifier": 42,
        "mystery": {"deep": [1, "<x>"]},
    }
    built.store.insert(
        "findings",
        {
            "run_id": built.run_id,
            "vendor_id": "leaky",
            "account": None,
            "rule_id": "future.rule",
            "clause": "IX.Z",
            "severity": "warning",
            "subject": "thing <odd>",
            "message": "m",
            "evidence": __import__("json").dumps(odd),
        },
    )
    out = render_report(built.store, built.run_id, "html", built.pack)
    assert "thing &lt;odd&gt;" in out and "IX.Z" in out and "&lt;x&gt;" in out


def test_a_finding_cited_under_two_clauses_shows_its_evidence_once(built):
    """IV.A-pii-to-third-party is cited under IV.A and II.A: two findings, one evidence block."""
    import json

    flow = {
        "table": "requests",
        "row_id": None,
        "phase": "crawl",
        "host": "collect.once.test",
        "party": "third",
        "entity": "once.test",
        "url": "https://collect.once.test/i",
        "field": "email",
        "encoding": "as written",
        "chain": [],
        "location": "URL query",
        "matched": "maya@x.test",
        "context": "uid=maya@x.test-ONLY-ONCE",
    }
    evidence = json.dumps(
        {
            "evidence_kind": "pii-flow",
            "rows": {},
            "flows": [flow],
            "recipient": "once.test",
            "hosts": ["collect.once.test"],
        }
    )
    for clause in ("IV.A", "II.A"):
        built.store.insert(
            "findings",
            {
                "run_id": built.run_id,
                "vendor_id": "leaky",
                "account": "student",
                "rule_id": "IV.A-pii-to-third-party",
                "clause": clause,
                "severity": "violation",
                "subject": "host collect.once.test",
                "message": f"leak judged under {clause}",
                "evidence": evidence,
            },
        )
    out = render_report(built.store, built.run_id, "html", built.pack)
    assert "leak judged under IV.A" in out and "leak judged under II.A" in out
    assert out.count("ONLY-ONCE") == 1
    assert "with the same evidence, is judged under clause II.A" in out  # II.A comes first in the pack's order


def test_evidence_stored_before_kinds_renders_by_the_kind_it_has(html):
    """The fixture's findings are stored in the shape of earlier versions (no evidence_kind)."""
    assert "Personal data found, and how it was encoded" in html  # flows: pii-flow
    assert "Lifetime against the policy maximum" in html  # cookie with a description
    assert "Tracker identification" in html or "Seen acting as a tracker" in html  # tracker
    assert "More evidence (raw)" not in html  # every key was read
