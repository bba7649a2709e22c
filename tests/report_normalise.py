"""The JSON report of a run reduced to what must not change when the code is reorganised: ids, times, digests,
sizes and the random values each run mints (identifiers, cookie values) are masked; lists are compared as
multisets. Two demo runs of the same code normalise to the same document."""

from __future__ import annotations

import json
import re
from typing import Any

DROPPED_KEYS = {
    "id",
    "row_id",
    "request_id",
    "rows",
    "page_ids",
    "created_at",
    "generated_at",
    "started_at",
    "finished_at",
    "seconds",
    "expires",
    "sha256",
    "manifest_sha256",
    "bytes",
    "database",
    "time",
    "evidence_manifest",
    "generator",
    "screenshot",
    "screenshot_sha256",
    "previous_run_id",
    "baseline_run_id",
    "run_id",
    "audit_id",
    "knowledge_warning",  # depends on the lists' age on the day the run was made
}
TOKEN = re.compile(r"[A-Za-z0-9_\-]{16,}")
DECIMAL = re.compile(r"\d+\.\d+")
LONG_NUMBER = re.compile(r"\d{6,}")
PORT = re.compile(r"127\.0\.0\.1:\d+")
CHECKOUT = re.compile(r"/[^\s'\"]*?/(fixtures|policies|lists)/")
# Requests race one another, so which request a message quotes as its example, and which 30 of an
# identifier's sendings the evidence samples, differ between two runs of the same code.
EXAMPLE = re.compile(r"e\.g\. in the .+? of \S+?\. ")
LENGTH = re.compile(r"is \d+ characters")
# How many digits a random client id happened to get: one in 200 is short enough to be judged by its field.
FIELD_WIDTH = re.compile(
    r": a number written without its leading zeros, in a field of \d+ in the control profile's value"
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask(text: str) -> str:
    text = CHECKOUT.sub(r"<checkout>/\1/", text)
    text = EXAMPLE.sub("e.g. <example>. ", text)
    text = FIELD_WIDTH.sub("", text)
    text = LENGTH.sub("is <n> characters", text)
    text = PORT.sub("127.0.0.1:<port>", text)
    text = TOKEN.sub("<token>", text)
    text = LONG_NUMBER.sub("<n>", text)
    return DECIMAL.sub("<x>", text)


def _file_dated_list(entry: dict) -> bool:
    """A list file with no version of its own, which trackaudit versions by the file's date: the day it was copied
    to this machine, not part of what the run found."""
    version, source = entry.get("version"), entry.get("source")
    return (
        isinstance(version, str) and isinstance(source, str) and "/lists/" in source and bool(DATE.fullmatch(version))
    )


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        normalised = {k: normalise(v) for k, v in sorted(value.items()) if k not in DROPPED_KEYS}
        if _file_dated_list(value):
            normalised["version"] = "<file date>"
        if isinstance(normalised.get("sent"), list):  # a sample of sendings: keep who received it, and where
            normalised["sent"] = sorted(
                {
                    json.dumps({k: v for k, v in item.items() if k != "url"}, sort_keys=True)
                    for item in normalised["sent"]
                }
            )
        return normalised
    if isinstance(value, list):
        items = [normalise(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    if isinstance(value, str):
        return _mask(value)
    if isinstance(value, float):
        return "<x>"
    return value


def normalised_report(path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return normalise(json.load(handle))
