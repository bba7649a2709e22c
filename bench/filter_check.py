"""Microseconds per filter-list check against the real EasyPrivacy in ../shared/lists.

Run: .venv/bin/python bench/filter_check.py
"""

import sys
import time
from pathlib import Path

from crawler.knowledge.filterlists import FilterListEngine

EASYPRIVACY = Path(__file__).resolve().parents[1] / ".." / "shared" / "lists" / "easyprivacy.txt"
PAGE = "https://www.brightpath.test/lessons"
REQUESTS = [
    ("https://www.google-analytics.com/collect?v=1&tid=UA-1", "image"),
    ("https://www.googletagmanager.com/gtag/js?id=G-XXXX", "script"),
    ("https://cdn.jsdelivr.net/npm/bp-ui@1.0.0/ui.min.js", "script"),
    ("https://www.brightpath.test/api/v1/lessons?page=2", "fetch"),
    ("https://fonts.gstatic.com/s/roboto/v30/KFOmCnqEu92Fr1Mu4mxK.woff2", "font"),
    ("https://static.hotjar.com/c/hotjar-123.js?sv=6", "script"),
]
ROUNDS = 20_000


def main() -> int:
    if not EASYPRIVACY.is_file():
        print(f"skipped: {EASYPRIVACY} not found")
        return 0
    started = time.perf_counter()
    engine = FilterListEngine({"easyprivacy": EASYPRIVACY.read_text(encoding="utf-8")})
    built = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(ROUNDS):
        for url, resource_type in REQUESTS:
            engine.check(url, PAGE, resource_type)
    per_check = (time.perf_counter() - started) / (ROUNDS * len(REQUESTS))
    print(f"EasyPrivacy engine built in {built * 1000:.0f} ms")
    print(f"{per_check * 1e6:.2f} µs per check ({ROUNDS * len(REQUESTS)} checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
