"""How fast the PII matcher scans: MB/s over random text, with the variants of three accounts, and how many
times faster its scan is than a loop of ``in`` over the same variants. Rates are given in wall-clock time and
in CPU time of this process (``*_cpu_mb_s``), which a busy machine disturbs less; each is the best of
``RUNS`` runs (as ``timeit`` advises: the slower runs measure the other work on the machine).

    .venv/bin/python bench/pii_scan.py [MEGABYTES]
"""

from __future__ import annotations

import random
import string
import sys
import time
from collections.abc import Callable

from crawler.analyze.decode import scan_part
from crawler.analyze.pii import PiiMatcher, pii_fields

ACCOUNTS = {
    "liam": {"name": "Liam Novak", "email": "Liam.Novak@Example.org", "student_id": "4417209",
             "birth_date": "2012-11-23", "phone": "402-555-0147"},
    "ava": {"name": "Ava Chen", "email": "ava.chen2012@student.mps.org", "student_id": "5520981",
            "birth_date": "03/04/2011", "phone": "(531) 555-0199"},
    "mateo": {"first_name": "Mateo", "last_name": "Alvarez-Ruiz", "email": "m.alvarez@example.com",
              "student_id": "S-88213", "dob": "2013-07-30", "phone": "+1 402 555 0123"},
}  # fmt: skip
ALPHABET = string.ascii_letters + string.digits + string.punctuation + " \n"
BODY_CHARS = 1_000_000  # scan_part caps a body here, so time it on bodies of this size
RUNS = 3


def best_rates(megabytes: float, work: Callable[[], list]) -> tuple[float, float, list]:
    """The best wall-clock and CPU-time rates of ``RUNS`` runs of ``work()``, and what it returned."""
    wall, cpu = [], []
    for _ in range(RUNS):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = work()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return megabytes / min(wall), megabytes / min(cpu), result


def measure(megabytes: float = 20.0) -> dict:
    """The matcher's figures: scan rate, its speed-up over a loop of ``in``, and the rate with decoded views."""
    figures: dict = {"megabytes": megabytes}
    started = time.perf_counter()
    matcher = PiiMatcher([field for account, pii in ACCOUNTS.items() for field in pii_fields(account, pii)])
    figures["build_s"] = time.perf_counter() - started
    figures["variants"] = matcher.variant_count

    rng = random.Random(7400)
    text = "".join(rng.choices(ALPHABET, k=int(megabytes * 1_000_000)))

    figures["scan_mb_s"], figures["scan_cpu_mb_s"], found = best_rates(megabytes, lambda: matcher.scan(text, "bench"))
    figures["matches"] = len(found)

    sample = text[:BODY_CHARS]
    variants = {variant.text for variant in matcher.variants()}
    started = time.perf_counter()
    figures["naive_hits"] = sum(1 for variant in variants if variant in sample)
    naive_elapsed = time.perf_counter() - started
    started = time.perf_counter()
    matcher.scan(sample, "bench")
    figures["speedup"] = naive_elapsed / (time.perf_counter() - started)
    figures["naive_variants"] = len(variants)

    bodies = [text[i : i + BODY_CHARS] for i in range(0, len(text), BODY_CHARS)]
    figures["decoded_mb_s"], figures["decoded_cpu_mb_s"], found = best_rates(
        megabytes, lambda: [m for body in bodies for m in scan_part(matcher, "post body", body)]
    )
    figures["decoded_matches"] = len(found)
    return figures


def main(megabytes: float = 20.0) -> None:
    f = measure(megabytes)
    print(f"built {f['variants']} variants of {len(ACCOUNTS)} accounts in {f['build_s']:.2f} s")
    print(
        f"scan, best of {RUNS}: {f['scan_mb_s']:.1f} MB/s ({f['scan_cpu_mb_s']:.1f} MB/s of CPU time) over {megabytes:g} MB "
        f"of random text, {f['matches']} matches"
    )
    print(
        f"one pass vs a loop of `in` over {f['naive_variants']} variants, 1 MB: "
        f"{f['speedup']:.0f}x faster ({f['naive_hits']} naive hits)"
    )
    print(
        f"scan_part (with decoded views), best of {RUNS}: {f['decoded_mb_s']:.1f} MB/s ({f['decoded_cpu_mb_s']:.1f} MB/s of CPU "
        f"time), {f['decoded_matches']} matches"
    )


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 20.0)
