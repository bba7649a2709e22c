"""Reader for the Open Cookie Database CSV (jkwakman/Open-Cookie-Database, Apache-2.0)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

NAME_COLUMN = "Cookie / Data Key name"

# The database's categories → cookie purposes. "Functional" and "Necessary" are broad (session ids,
# load balancers, chat widgets alike); the classifier narrows them with the built-in name patterns.
OCD_CATEGORY_PURPOSES: Mapping[str, str] = {
    "functional": "functional",
    "necessary": "functional",
    "preferences": "preference",
    "personalization": "preference",
    "analytics": "analytics",
    "marketing": "advertising",
    "security": "security",
}


@dataclass(frozen=True)
class OcdCookie:
    """One row of the Open Cookie Database; a wildcard row's name is a prefix."""

    name: str
    platform: str
    category: str
    purpose: str
    domain: str
    description: str
    retention: str
    wildcard: bool


def parse_open_cookie_database(text: str) -> tuple[OcdCookie, ...]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or NAME_COLUMN not in reader.fieldnames:
        raise ValueError(f"not an Open Cookie Database CSV: no {NAME_COLUMN!r} column")
    rows = []
    for row in reader:
        name = (row.get(NAME_COLUMN) or "").strip()
        if not name:
            continue
        category = (row.get("Category") or "").strip()
        rows.append(
            OcdCookie(
                name=name,
                platform=(row.get("Platform") or "").strip(),
                category=category,
                purpose=OCD_CATEGORY_PURPOSES.get(category.lower(), "unknown"),
                domain=(row.get("Domain") or "").strip(),
                description=(row.get("Description") or "").strip(),
                retention=(row.get("Retention period") or "").strip(),
                wildcard=(row.get("Wildcard match") or "").strip() == "1",
            )
        )
    return tuple(rows)


def load_open_cookie_database(path: Path) -> tuple[OcdCookie, ...]:
    return parse_open_cookie_database(Path(path).read_text(encoding="utf-8"))
