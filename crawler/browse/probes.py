"""Behaviour probes run on each crawled page: per-audit canary values typed into the page's fields (never
submitted, no Enter, no click but on the fields) to catch key logging, and a canary planted in the DOM to
catch session recording. Where a canary travels is judged later by the PII matcher, the canaries as its PII."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass

from .collectors.base import CaptureState

TYPE_DELAY_MS = 0  # key events all the same, as fast as the page takes them
SETTLE_MS = 300  # what a key logger's debounce or a recorder's batch gets before the page is left

# The text-like fields a student types into; never password, file, hidden, or the login form's fields.
FIELDS_JS = r"""(excluded) => {
  const skipForms = new Set();
  for (const selector of excluded) {
    try {
      for (const el of document.querySelectorAll(selector)) if (el.form) skipForms.add(el.form);
    } catch (e) { /* a selector this page does not understand */ }
  }
  const TYPES = new Set(["text", "email", "search", "tel", ""]);
  const fields = [];
  document.querySelectorAll("input, textarea").forEach((el, index) => {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (el.tagName === "INPUT" && !TYPES.has(type)) return;
    if (el.disabled || el.readOnly || (el.form && skipForms.has(el.form))) return;
    if (el.hasAttribute("data-trackaudit-canary")) return;  // the DOM canary's own field
    if (excluded.some((s) => { try { return el.matches(s); } catch (e) { return false; } })) return;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return;
    el.setAttribute("data-trackaudit-probe", String(index));
    const hint = `${type} ${el.name || ""} ${el.id || ""} ${el.getAttribute("autocomplete") || ""}`.toLowerCase();
    fields.push({index: String(index), hint});
  });
  return fields;
}"""

PLANT_JS = r"""([canary, maxText]) => {
  if (!document.body) return null;
  const whole = document.body.innerText;
  const holder = document.createElement("div");
  holder.setAttribute("data-trackaudit-canary", "");
  holder.appendChild(document.createTextNode(canary.dom));
  const input = document.createElement("input");
  input.type = "text";
  input.setAttribute("data-trackaudit-canary", "");
  input.value = canary.dom_input;
  holder.appendChild(input);
  document.body.appendChild(holder);
  return {text: whole.slice(0, maxText), length: whole.length};
}"""
MAX_PAGE_TEXT = 1_000_000  # characters of a page's visible text kept (a longer page is a gap: see plant_dom_canary)


@dataclass(frozen=True)
class Canaries:
    """Values no one else could send: an e-mail at a reserved domain, a name, free text, DOM text."""

    email: str
    name: str
    text: str
    dom: str
    dom_input: str

    @classmethod
    def new(cls) -> Canaries:
        token = secrets.token_hex(5)
        surname = "".join(secrets.choice(string.ascii_lowercase) for _ in range(8)).capitalize()
        return cls(
            email=f"quill.{token}@example.org",
            name=f"Quillon {surname}",
            text=f"my homework note {token}",
            dom=f"page canary {secrets.token_hex(6)}",
            dom_input=f"field canary {secrets.token_hex(6)}",
        )

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def value_for(hint: str, canaries: Canaries) -> str:
    if "mail" in hint:
        return canaries.email
    if "name" in hint and "user" not in hint:
        return canaries.name
    return canaries.text


async def type_canaries(page, canaries: Canaries, excluded_selectors: list[str]) -> int:
    """Type a canary into each text-like field outside the login form, then blur it. Returns the fields typed."""
    fields = await page.evaluate(FIELDS_JS, excluded_selectors)
    typed = 0
    for field in fields:
        locator = page.locator(f'[data-trackaudit-probe="{field["index"]}"]').first
        try:
            await locator.press_sequentially(value_for(field["hint"], canaries), delay=TYPE_DELAY_MS, timeout=3000)
            await locator.blur(timeout=2000)
            typed += 1
        except Exception:  # a field that vanished or is covered: the others are still typed
            continue
    return typed


async def plant_dom_canary(page, canaries: Canaries, state: CaptureState) -> str | None:
    """Plant the canary; returns the page's visible text just before (None: a page without a body). Text past
    MAX_PAGE_TEXT is not kept, so it is not checked for the student's PII a session recording of the page would
    capture: that is noted as unkept (a gap)."""
    shown = await page.evaluate(PLANT_JS, [{"dom": canaries.dom, "dom_input": canaries.dom_input}, MAX_PAGE_TEXT])
    if not isinstance(shown, dict) or not isinstance(shown.get("text"), str):
        return None
    if isinstance(shown.get("length"), int) and shown["length"] > MAX_PAGE_TEXT:
        state.note_unkept(f"the visible text of {page.url} past {MAX_PAGE_TEXT:,} characters")
    return shown["text"]


def record_canaries(sink, canaries: Canaries) -> None:
    """Kept with the audit, so the analysis can look for them in what the browser sent."""
    sink.store.update("audits", sink.audit_id, {"canaries": json.dumps(canaries.as_dict())})


def login_field_selectors(vendor) -> list[str]:
    return [step.selector for step in (vendor.login.steps if vendor.login else ()) if step.selector]


async def probe_page(page, state: CaptureState, vendor, canaries: Canaries) -> str | None:
    """Plant the DOM canary and, unless the vendor's config turns it off, type the field canaries; a failure
    is an error row and the visit goes on. Returns the page's visible text when the canary was planted."""
    text = None
    try:
        text = await plant_dom_canary(page, canaries, state)
        typed = await type_canaries(page, canaries, login_field_selectors(vendor)) if vendor.form_probe else 0
        if typed:
            await page.wait_for_timeout(SETTLE_MS)
    except Exception as exc:
        state.sink.error(
            "probe",
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}",
            url=page.url,
        )
    return text
