"""Every speed and scale figure of trackaudit, measured side by side in one run on the fixture web, each beside
its goal:

    ./run bench            # the full run (about 15 minutes on 2 cores)
    ./run bench --tiny     # every figure on a tiny input (what the test suite runs; the goals do not apply)

1. a full BrightPath audit against bare Playwright making the same visits (same settle policy, same relaunches);
2. the PII matcher on 20 MB of text with three accounts' variants, against a loop of ``in``, and with decoded views;
3. 8 fixture vendors audited with --concurrency 1 against --concurrency 2 (vendors per hour);
4. a 500-page crawl of the StoryShelf fixture: peak RSS of the Python process, browser growth per page, evidence
   bytes per page;
5. judging that 500-page audit again and writing every report format.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import psutil  # noqa: E402
import sqlite_utils  # noqa: E402

from crawler.browse.browser import LaunchSettings, launch_profile  # noqa: E402
from crawler.browse.protocol import QUIET_S, SCROLL_CAP_S, SETTLE_CAP_S, NetworkActivity  # noqa: E402
from crawler.config import load_config  # noqa: E402
from crawler.jobs.runner import run_audit, targets_for  # noqa: E402
from crawler.policy.judge import Judge  # noqa: E402
from crawler.report import EXTENSIONS, write_report  # noqa: E402
from crawler.store.writer import Store  # noqa: E402
from fixtures.server import FixtureInternet  # noqa: E402

SHARED_LISTS = REPO.parent / "shared" / "lists"
PASSWORDS = {
    "maya.okafor@students.mps.test": "Bp bench/pass+1",
    "liam.novak@students.mps.test": "Lq bench/pass+2",
    "noah.kim@students.mps.test": "Cn bench/pass+3",
    "emma.garcia@students.mps.test": "Qb bench/pass+4",
}
# The password variables that fixtures/demo.toml and fixtures/jobs.toml name, for the accounts above.
PASSWORD_ENV = {
    "TRACKAUDIT_DEMO_BRIGHTPATH_PASSWORD": PASSWORDS["maya.okafor@students.mps.test"],
    "TRACKAUDIT_TEST_BRIGHTPATH_PASSWORD": PASSWORDS["maya.okafor@students.mps.test"],
    "TRACKAUDIT_DEMO_LEAKYQUIZ_PASSWORD": PASSWORDS["liam.novak@students.mps.test"],
    "TRACKAUDIT_TEST_CLASSNOTES_PASSWORD": PASSWORDS["noah.kim@students.mps.test"],
    "TRACKAUDIT_TEST_QUIZBLAST_PASSWORD": PASSWORDS["emma.garcia@students.mps.test"],
}


@dataclasses.dataclass(frozen=True)
class Figure:
    name: str
    measured: str
    goal: str
    met: bool | None  # None: no goal applies (a tiny run, or a figure that is only reported)


# -- the fixture web and its configs ------------------------------------------------------------------------
def vendor_blocks(max_pages: int | None = None) -> dict[str, str]:
    """Each fixture vendor's [[vendors]] block (demo.toml and jobs.toml), made auditable, by id."""
    blocks: dict[str, str] = {}
    for name in ("demo.toml", "jobs.toml"):
        text = (REPO / "fixtures" / name).read_text()
        for block in text.split("[[vendors]]")[1:]:
            block = "[[vendors]]" + block
            vendor_id = block.split('id = "', 1)[1].split('"', 1)[0]
            block = block.replace('status = "terminated"', 'status = "approved"')
            if max_pages:
                block = block.replace("max_pages = 8", f"max_pages = {max_pages}")
            blocks.setdefault(vendor_id, block)
    return blocks


def write_config(path: Path, internet: FixtureInternet, blocks: list[str], vendor_timeout_s: int = 600) -> Path:
    browser = (
        f'[browser]\nheadless = true\nhost_resolver_rules = "{internet.host_resolver_rules}"\n'
        f'trusted_spki = ["{internet.spki}"]\nvendor_timeout_s = {vendor_timeout_s}\n\n'
    )
    path.write_text(browser + "\n".join(blocks))
    return path


def bench_env() -> dict[str, str]:
    return {**os.environ, **PASSWORD_ENV}


def cli(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", *args], cwd=cwd, env=bench_env(), capture_output=True, text=True
    )
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"trackaudit {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return proc, time.monotonic() - started


def lists_args(tiny: bool) -> list[str]:
    """The shared copies of the real lists when there are some; a tiny run judges with the built-in knowledge."""
    return ["--lists-dir", str(SHARED_LISTS)] if SHARED_LISTS.is_dir() and not tiny else []


def load_judge(tiny: bool) -> Judge:
    return Judge.load(lists_dir=SHARED_LISTS if SHARED_LISTS.is_dir() and not tiny else None)


# -- 1. a BrightPath audit against bare Playwright ----------------------------------------------------------
def audit_overhead(internet: FixtureInternet, work: Path, tiny: bool) -> list[Figure]:
    config_path = write_config(work / "brightpath.toml", internet, [vendor_blocks(1 if tiny else None)["brightpath"]])
    config = load_config(config_path)
    settings = LaunchSettings.from_config(config.browser)
    secrets = dict(PASSWORD_ENV)
    store = Store(work / "brightpath.db")
    judge = load_judge(tiny)
    started = time.monotonic()
    result = run_audit(
        store,
        settings,
        targets_for(config, list(config.vendors), secrets),
        mode="audit",
        command="bench",
        config=config,
        judge=judge,
    )
    audit_s = time.monotonic() - started
    visits = {
        phase: [
            r["url"]
            for r in store.db.query(
                "select url from pages where run_id = ? and phase = ? order by id", [result.run_id, phase]
            )
        ]
        for phase in ("control", "login", "crawl", "reconnect", "logout", "respawn")
    }
    started = time.monotonic()
    asyncio.run(
        bare_playwright(settings, config.vendors[0], PASSWORDS[config.vendors[0].accounts[0].username], visits, work)
    )
    bare_s = time.monotonic() - started
    ratio = audit_s / bare_s
    return [
        Figure(
            "BrightPath audit / bare Playwright, same visits",
            f"{ratio:.2f}x ({audit_s:.1f} s / {bare_s:.1f} s, {sum(map(len, visits.values()))} visits)",
            "<= 1.3x",
            None if tiny else ratio <= 1.3,
        )
    ]


async def bare_playwright(
    settings: LaunchSettings, vendor, password: str, visits: dict[str, list[str]], work: Path
) -> None:
    """The audit's visits with nothing recorded: three persistent launches (control beside the login, audited,
    reconnect), the same settling, the same waves of tabs, the login typed as the config says."""
    from playwright.async_api import async_playwright

    async def settle(page, activity: NetworkActivity) -> None:
        await activity.quiet(QUIET_S, SETTLE_CAP_S)
        await page.evaluate("window.scrollTo(0, document.body ? document.body.scrollHeight : 0)")
        await activity.quiet(QUIET_S, SCROLL_CAP_S)

    async def session(playwright, profile: str, body) -> None:
        context = await launch_profile(playwright, settings, work / "bare" / profile)
        activity = NetworkActivity()
        activity.attach(context)
        page = context.pages[0] if context.pages else await context.new_page()
        try:
            await body(context, page, activity)
        finally:
            await context.close()

    async def visit_all(page, activity, urls) -> None:
        """In waves of ``tabs`` pages, the first in the session's tab, as the audit visits."""
        for start in range(0, len(urls), settings.tabs):
            wave = urls[start : start + settings.tabs]
            tabs = [page, *[await page.context.new_page() for _ in wave[1:]]]

            async def visit(tab, url) -> None:
                await tab.goto(url, wait_until="load")
                await settle(tab, activity)

            await asyncio.gather(*(visit(tab, url) for tab, url in zip(tabs, wave, strict=True)))
            for tab in tabs[1:]:
                await tab.close()

    async def control(context, page, activity) -> None:
        await visit_all(page, activity, visits["control"])

    async def audited(context, page, activity) -> None:
        await visit_all(page, activity, [vendor.login.url])
        for step in vendor.login.steps:  # the fixture vendors' logins fill, check and click
            value = (
                (step.value or "").replace("{username}", vendor.accounts[0].username).replace("{password}", password)
            )
            if step.action == "fill":
                await page.fill(step.selector, value)
            elif step.action == "check":
                await page.check(step.selector)
            elif step.action == "click":
                await page.click(step.selector)
        await page.wait_for_selector(vendor.login.success_selector)
        await settle(page, activity)
        await visit_all(page, activity, visits["crawl"])

    async def reconnect(context, page, activity) -> None:
        await visit_all(page, activity, visits["reconnect"])
        await visit_all(page, activity, visits["logout"])
        await context.clear_cookies()
        await visit_all(page, activity, visits["respawn"])

    async with async_playwright() as playwright:

        async def audited_then_reconnect() -> None:
            await session(playwright, "audited", audited)
            await session(playwright, "audited", reconnect)

        await asyncio.gather(session(playwright, "control", control), audited_then_reconnect())


# -- 2. the PII matcher -------------------------------------------------------------------------------------
def pii(tiny: bool) -> list[Figure]:
    import pii_scan

    figures = pii_scan.measure(0.2 if tiny else 20.0)
    return [
        Figure(
            "PII matcher, 3 accounts' variants",
            f"{figures['scan_mb_s']:.1f} MB/s over {figures['megabytes']:g} MB "
            f"(CPU time: {figures['scan_cpu_mb_s']:.1f} MB/s), best of {pii_scan.RUNS}",
            ">= 50 MB/s",
            None if tiny else figures["scan_mb_s"] >= 50,
        ),
        Figure(
            "PII matcher / loop of `in`",
            f"{figures['speedup']:.0f}x ({figures['variants']} variants)",
            ">= 20x",
            None if tiny else figures["speedup"] >= 20,
        ),
        Figure(
            "PII matcher with decoded views",
            f"{figures['decoded_mb_s']:.1f} MB/s (CPU time: {figures['decoded_cpu_mb_s']:.1f} MB/s), "
            f"best of {pii_scan.RUNS}",
            ">= 10 MB/s",
            None if tiny else figures["decoded_mb_s"] >= 10,
        ),
    ]


# -- 3. concurrency -----------------------------------------------------------------------------------------
def concurrency(internet: FixtureInternet, work: Path, tiny: bool) -> list[Figure]:
    if tiny:  # two one-page public libraries: every phase, few visits
        picked = [STORYSHELF.format(pages=1).replace('id = "storyshelf"', f'id = "shelf-{n}"') for n in (1, 2)]
    else:  # 8 vendors: the five fixture vendors, three of them a second time under another id
        blocks = vendor_blocks()
        picked = [blocks[v] for v in ("brightpath", "leakyquiz", "classnotes", "quizblast", "funmathzone")]
        picked += [
            blocks[v].replace(f'id = "{v}"', f'id = "{v}-b"', 1) for v in ("brightpath", "leakyquiz", "classnotes")
        ]
    config = write_config(work / "vendors.toml", internet, picked)
    vendor_ids = [block.split('id = "', 1)[1].split('"', 1)[0] for block in picked]
    per_hour = {}
    for workers in (1, 2):
        args = [
            "audit",
            "--config",
            str(config),
            *[a for v in vendor_ids for a in ("--vendor", v)],
            "--concurrency",
            str(workers),
            "--quiet",
            "--db",
            str(work / f"concurrency-{workers}.db"),
            *lists_args(tiny),
        ]
        _, seconds = cli(args, work)
        per_hour[workers] = len(vendor_ids) / seconds * 3600
    ratio = per_hour[2] / per_hour[1]
    return [
        Figure(
            f"{len(vendor_ids)} vendors, --concurrency 2 / 1",
            f"{ratio:.2f}x ({per_hour[2]:.0f} / {per_hour[1]:.0f} vendors per hour)",
            ">= 1.6x",
            None if tiny else ratio >= 1.6,
        )
    ]


# -- 4. and 5. a 500-page crawl, then its judgement and reports ---------------------------------------------
STORYSHELF = """[[vendors]]
id = "storyshelf"
name = "StoryShelf"
status = "approved"
start_url = "https://www.storyshelf.test/"
max_pages = {pages}
"""


class MemoryWatch:
    """Samples the audit process (Python) and its descendants (the Playwright driver and Chromium) while it runs,
    with the number of crawl pages stored so far."""

    def __init__(self, pid: int, db_path: Path):
        self.process = psutil.Process(pid)
        self.db_path = db_path
        self.samples: list[tuple[int, float, float, float]] = []  # (crawl pages, python, browser, driver MB)
        self.peak_python_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                python_mb = self.process.memory_info().rss / 2**20
                children = self.process.children(recursive=True)
                browser_mb = sum(_rss(child) for child in children) / 2**20
                driver_mb = sum(_rss(child) for child in children if _is_driver(child)) / 2**20
            except psutil.Error:
                continue
            self.peak_python_mb = max(self.peak_python_mb, python_mb)
            pages = self._crawl_pages()
            if pages is not None:
                self.samples.append((pages, python_mb, browser_mb, driver_mb))

    def _crawl_pages(self) -> int | None:
        try:
            db = sqlite_utils.Database(self.db_path)
            count = db.execute("select count(*) from pages where phase = 'crawl'").fetchone()[0]
            db.close()
            return count
        except Exception:
            return None

    def growth_mb_per_page(self, driver_only: bool = False) -> float | None:
        """The slope of browser memory (Playwright's driver and Chromium; or the driver alone) against crawl pages
        (least squares), past the first tenth of the crawl."""
        top = max((s[0] for s in self.samples), default=0)
        points = [
            (p, d if driver_only else b) for p, _, b, d in self.samples if top and p >= max(2, top // 10) and p < top
        ]
        if len(points) < 3 or len({p for p, _ in points}) < 2:
            return None
        mean_p = sum(p for p, _ in points) / len(points)
        mean_b = sum(b for _, b in points) / len(points)
        return sum((p - mean_p) * (b - mean_b) for p, b in points) / sum((p - mean_p) ** 2 for p, _ in points)


def _is_driver(process: psutil.Process) -> bool:
    try:
        return "run-driver" in process.cmdline()
    except psutil.Error:
        return False


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def big_crawl(internet: FixtureInternet, work: Path, tiny: bool) -> list[Figure]:
    pages = 2 if tiny else 500
    config = write_config(work / "storyshelf.toml", internet, [STORYSHELF.format(pages=pages)], vendor_timeout_s=7200)
    db_path = work / "storyshelf.db"
    args = [
        sys.executable,
        "-m",
        "crawler",
        "audit",
        "--config",
        str(config),
        "--vendor",
        "storyshelf",
        "--concurrency",
        "1",
        "--quiet",
        "--db",
        str(db_path),
        *lists_args(tiny),
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        args, cwd=work, env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    with MemoryWatch(process.pid, db_path) as watch:
        output = process.communicate()[0]
    seconds = time.monotonic() - started
    if process.returncode not in (0, 1):
        raise RuntimeError(f"the {pages}-page crawl exited {process.returncode}:\n{output}")
    store = Store(db_path)
    run_id = store.db.execute("select max(id) from runs").fetchone()[0]
    visited = store.db.execute("select count(*) from pages where run_id = ?", [run_id]).fetchone()[0]
    crawled = store.db.execute("select count(*) from pages where run_id = ? and phase = 'crawl'", [run_id]).fetchone()[
        0
    ]
    evidence = sum(
        f.stat().st_size
        for kind in ("evidence", "screenshots")
        for f in (work / kind / f"run-{run_id}").rglob("*")
        if f.is_file()
    )
    growth, driver_growth = watch.growth_mb_per_page(), watch.growth_mb_per_page(driver_only=True)
    figures = [
        Figure(
            f"{crawled}-page crawl: peak RSS of the Python process",
            f"{watch.peak_python_mb:.0f} MB ({crawled / seconds:.2f} pages/s)",
            "< 300 MB",
            None if tiny else watch.peak_python_mb < 300,
        ),
        Figure(
            f"{crawled}-page crawl: browser growth per page",
            "n/a (too few samples)"
            if growth is None or driver_growth is None
            else f"{growth:.3f} MB/page (driver {driver_growth:.3f}, Chromium {growth - driver_growth:.3f})",
            "< 0.2 MB/page",
            None if tiny or growth is None else growth < 0.2,
        ),
        Figure(
            f"{crawled}-page crawl: evidence per page",
            f"{evidence / max(1, visited) / 1024:.0f} KB/page ({evidence / 2**20:.0f} MB for {visited} visits)",
            "reported",
            None,
        ),
    ]
    judge = load_judge(tiny)
    started = time.monotonic()
    judge.judge(store, run_id)
    for fmt, extension in EXTENSIONS.items():
        write_report(store, run_id, fmt, work / "reports" / f"report.{extension}", judge.pack)
    report_s = time.monotonic() - started
    figures.append(
        Figure(
            f"{crawled}-page audit: judge + {len(EXTENSIONS)} report formats",
            f"{report_s:.2f} s",
            "< 5 s",
            None if tiny else report_s < 5,
        )
    )
    return figures


# -- the table ----------------------------------------------------------------------------------------------
def table(figures: list[Figure]) -> str:
    rows = [("Figure", "Measured", "Goal", "Met")] + [
        (f.name, f.measured, f.goal, {True: "yes", False: "NO", None: "-"}[f.met]) for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="every figure on a tiny input (a smoke test)")
    parser.add_argument(
        "--only",
        choices=["audit", "pii", "concurrency", "crawl"],
        action="append",
        help="measure only these figures (repeatable)",
    )
    args = parser.parse_args(argv)
    only = set(args.only or ["audit", "pii", "concurrency", "crawl"])
    load = os.getloadavg()
    print(
        f"trackaudit bench{' (tiny)' if args.tiny else ''}: {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start",
        flush=True,
    )
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="trackaudit-bench-") as scratch, FixtureInternet(PASSWORDS) as internet:
        work = Path(scratch)
        steps = [
            ("audit", lambda: audit_overhead(internet, work / "audit", args.tiny)),
            ("pii", lambda: pii(args.tiny)),
            ("concurrency", lambda: concurrency(internet, work / "concurrency", args.tiny)),
            ("crawl", lambda: big_crawl(internet, work / "crawl", args.tiny)),
        ]
        for name, step in steps:
            if name in only:
                (work / name).mkdir()
                started = time.monotonic()
                figures += step()
                print(f"  {name}: measured in {time.monotonic() - started:.0f} s", flush=True)
    load = os.getloadavg()
    print(table(figures))
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
