"""The demo's HTML report as a privacy officer reads it: on a phone (no page-wide horizontal scroll) and on
paper (at most 12 A4 pages, none of them more than half empty but the last). Rendered by Chromium through
pytest-playwright's ``page`` fixture."""

import io

import pypdfium2
import pytest

from conftest import run_cli

pytestmark = pytest.mark.e2e

MAX_PRINTED_PAGES = 12
PHONE_WIDTH = 390


@pytest.fixture(scope="module")
def demo_report(demo_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("layout") / "report.html"
    proc = run_cli(
        ["report", "--db", str(demo_run.db_path), "--format", "html", "--out", str(out)],
        cwd=demo_run.db_path.parent.parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _filled_fraction(image) -> float:
    """How far down the page its content reaches (0 = blank, 1 = to the bottom margin)."""
    grey = image.convert("L")
    width, height = grey.size
    pixels = grey.load()
    for y in range(height - 1, -1, -1):
        if any(pixels[x, y] < 240 for x in range(0, width, 3)):
            return (y + 1) / height
    return 0.0


def test_no_horizontal_page_scroll_on_a_phone(page, demo_report):
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.goto(demo_report.as_uri())
    scroll_width, client_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= client_width, f"the page is {scroll_width} px wide on a {client_width} px phone"
    # wide tables scroll inside their card instead
    overflowing = page.evaluate("""() => [...document.querySelectorAll('table')]
        .filter(t => t.scrollWidth > t.clientWidth + 1)
        .map(t => getComputedStyle(t).overflowX)""")
    assert all(overflow in ("auto", "scroll") for overflow in overflowing)


def test_summary_comes_first_with_each_vendors_verdict(page, demo_report):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(demo_report.as_uri())
    first_section = page.locator("main section").first
    assert first_section.get_attribute("id") == "summary"
    summaries = page.locator(".vendor-summary")
    assert summaries.count() == 2
    leaky = summaries.filter(has_text="LeakyQuiz")
    assert "violations found" in leaky.inner_text()
    assert leaky.locator("ol.top-findings li").count() >= 3
    assert leaky.locator("ul.clauses li.violation").count() >= 4


def test_printed_report_is_at_most_twelve_well_filled_pages(page, demo_report):
    page.goto(demo_report.as_uri())
    pdf = pypdfium2.PdfDocument(io.BytesIO(page.pdf(format="A4", print_background=True)))
    pages = len(pdf)
    assert pages <= MAX_PRINTED_PAGES, f"{pages} A4 pages"
    fills = [_filled_fraction(pdf[i].render(scale=0.3).to_pil()) for i in range(pages)]
    half_empty = [i + 1 for i, fill in enumerate(fills[:-1]) if fill < 0.5]
    assert not half_empty, f"pages more than half empty: {half_empty} (fill {[round(f, 2) for f in fills]})"


def test_screenshot_thumbnails_link_to_the_full_image(page, demo_report):
    page.goto(demo_report.as_uri())
    link = page.locator(".gallery figure.shot a[href^='#full-']").first
    target = link.get_attribute("href")
    full = page.locator(f"{target} img")
    assert full.count() == 1
    width = full.evaluate("img => img.naturalWidth")
    thumb_width = page.locator(".gallery figure.shot svg").first.evaluate("svg => svg.viewBox.baseVal.width")
    assert width >= 1200 and thumb_width <= 640


def test_each_cookie_is_described_once_and_long_tables_fold(page, demo_report):
    page.goto(demo_report.as_uri())
    described = page.evaluate("""() => [...document.querySelectorAll('section.vendor')].flatMap(v =>
        [...v.querySelectorAll('.evidence table.kv')].map(t => v.id + ' ' + t.querySelector('td').innerText))""")
    assert described and len(described) == len(set(described)), described
    assert page.locator("p.seen-ref a[href^='#finding-']").count() >= 5
    assert page.locator("details.more-rows").count() >= 1
    assert page.locator("p.more-note").count() == page.locator("details.more-rows").count()


def test_plain_words_for_lifetimes_and_categories(page, demo_report):
    page.goto(demo_report.as_uri())
    text = page.locator("body").inner_text()
    assert "400 days (1.1 years)" in text
    for internal in ("months (", "session_replay", "tag_manager"):
        assert internal not in text
