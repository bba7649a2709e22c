"""The forms of a page and the personal data each asks for, read from the page's HTML."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup, Tag

# What a field asks for, from its type, name, id, autocomplete or label words (first match wins).
PERSONAL_DATA = (
    ("password", re.compile(r"pass(word|wd)?|pwd", re.I)),
    ("email", re.compile(r"e-?mail", re.I)),
    ("birth date", re.compile(r"birth|bday|dob|\bage\b|date of birth", re.I)),
    ("phone", re.compile(r"phone|\btel\b|mobile", re.I)),
    ("name", re.compile(r"(first|last|full|given|family|sur)[-_ ]?name|^name$|\bname\b", re.I)),
    ("address", re.compile(r"address|street|postal|zip|city", re.I)),
    ("school", re.compile(r"school|grade|class(room)?", re.I)),
    ("username", re.compile(r"user(name)?|login", re.I)),
)
HIDDEN_TYPES = ("hidden", "submit", "button", "reset", "image")


def page_forms(html: str, limit: int = 20) -> tuple[dict[str, Any], ...]:
    """Each form's action, method and the kinds of personal data its visible fields ask for."""
    soup = BeautifulSoup(html, "html.parser")
    forms = []
    for form in soup.find_all("form")[:limit]:
        fields = []
        for field in form.find_all(["input", "select", "textarea"]):
            kind = (_attr(field, "type") or ("text" if field.name == "input" else field.name)).lower()
            if kind in HIDDEN_TYPES:
                continue
            label = _label_text(soup, field)
            described = " ".join(str(field.get(a) or "") for a in ("name", "id", "autocomplete", "placeholder"))
            asks = next(
                (what for what, pattern in PERSONAL_DATA if pattern.search(f"{kind} {described} {label}")), None
            )
            fields.append({"name": field.get("name"), "type": kind, "asks_for": asks})
        forms.append(
            {
                "action": form.get("action"),
                "method": (_attr(form, "method") or "get").lower(),
                "fields": fields,
                "asks_for": sorted({f["asks_for"] for f in fields if f["asks_for"]}),
            }
        )
    return tuple(forms)


def _attr(tag: Tag, name: str) -> str | None:
    """An attribute's text (bs4 gives a multi-valued attribute, such as class, as a list)."""
    value = tag.get(name)
    return " ".join(value) if isinstance(value, list) else value


def _label_text(soup: BeautifulSoup, field) -> str:
    if field.get("id"):
        label = soup.find("label", attrs={"for": field["id"]})
        if label:
            return label.get_text(" ", strip=True)
    parent = field.find_parent("label")
    return parent.get_text(" ", strip=True) if parent else ""
