"""localStorage and sessionStorage of every frame's origin, IndexedDB records, Cache Storage, service workers;
Web Storage and Cache Storage writes as they happen too (a frame removed before the inventory is not lost).
A third-party frame's items carry their partition: the top-level site, as cookies do."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Page

from ...analyze.party import registrable_domain
from ...observations import StorageObs
from .base import CaptureState, Collector

DUMP_JS = (Path(__file__).with_name("dump_storage.js")).read_text(encoding="utf-8")
INSTRUMENT_JS = (Path(__file__).with_name("instrument_storage.js")).read_text(encoding="utf-8")
BINDING = "__trackauditStorageWrite"
MAX_VALUE_CHARS = 65_536


def partition_key(frame_url: str | None, top_url: str | None) -> str | None:
    """The top-level site partitioning a frame's storage ("https://vendor.test"), None for a first-party frame."""
    frame, top = urlsplit(frame_url or ""), urlsplit(top_url or "")
    if top.scheme not in ("http", "https") or not top.hostname or frame.scheme not in ("http", "https"):
        return None
    top_site = registrable_domain(top.hostname)
    if registrable_domain(frame.hostname or "") == top_site and frame.scheme == top.scheme:
        return None
    return f"{top.scheme}://{top_site}"


class StorageCollector(Collector):
    name = "storage"

    def __init__(self, state: CaptureState) -> None:
        super().__init__(state)
        self._seen: set[tuple[str | None, ...]] = set()
        self._phase: str | None = None

    async def attach(self, context: BrowserContext) -> None:
        await context.expose_binding(BINDING, self._on_write)
        await context.add_init_script(INSTRUMENT_JS)

    def _on_write(
        self,
        source: dict[str, Any],
        kind: str,
        origin: str,
        container: str | None,
        key: str,
        value: object,
        frame_url: str,
    ) -> None:  # a binding call: Playwright's source dict, then the script's JSON
        if kind not in ("localStorage", "sessionStorage", "cacheStorage") or not origin or origin == "null":
            return
        try:
            top_url = source["page"].url
        except Exception:
            top_url = None
        item = _item(kind, origin, frame_url, container, key, value)
        self._add(dataclasses.replace(item, partition_key=partition_key(frame_url, top_url)))

    async def after_visit(self, page: Page) -> None:
        for frame in page.frames:
            try:
                dump = await frame.evaluate(DUMP_JS, MAX_VALUE_CHARS)
            except Exception as exc:  # a detached or crashed frame: note it, read the others
                self.sink.error(f"{self.name}.frame", f"{type(exc).__name__}: {str(exc)[:300]}", url=frame.url)
                continue
            key = partition_key(frame.url, page.url)
            for item in storage_items_from_dump(dump, frame.url):
                self._add(dataclasses.replace(item, partition_key=key) if key else item)

    async def end_phase(self, context: BrowserContext, page: Page) -> None:
        await self.after_visit(page)
        # Origins no longer in a frame (visited earlier in the phase) still have their localStorage and IndexedDB.
        state = await context.storage_state(indexed_db=True)
        seen_origins = {(kind, origin) for (_, kind, origin, *_rest) in self._seen}  # partitioned ones included
        for item in storage_items_from_state(state):
            if (item.kind, item.origin) not in seen_origins:
                self._add(item)

    def _add(self, item: StorageObs) -> None:
        if self._phase != self.sink.phase:
            self._phase, self._seen = self.sink.phase, set()
        key = (self._phase, item.kind, item.origin, item.container, item.key, item.value, item.partition_key)
        if key not in self._seen:
            self._seen.add(key)
            self.sink.add(item)


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text[:MAX_VALUE_CHARS]


def _item(
    kind: str, origin: str, frame_url: str | None, container: str | None, key: object, value: object
) -> StorageObs:
    text = _text(value)
    return StorageObs(
        kind=kind,
        origin=origin,
        frame_url=frame_url,
        container=container,
        key=str(key),
        value=text,
        size=len(str(key)) + len(text or ""),
    )


def storage_items_from_dump(dump: dict[str, Any], frame_url: str | None) -> list[StorageObs]:
    """Normalise what dump_storage.js returned for one frame (JSON)."""
    origin = dump.get("origin") or ""
    if not origin or origin == "null":
        return []
    items = []
    for kind in ("localStorage", "sessionStorage"):
        for key, value in (dump.get(kind) or {}).items():
            items.append(_item(kind, origin, frame_url, None, key, value))
    for store in dump.get("indexedDB") or []:
        container = f"{store['database']}/{store['store']}"
        for key, value in store.get("records") or []:
            items.append(_item("indexedDB", origin, frame_url, container, _text(key), value))
    for cache in dump.get("caches") or []:
        for url, body in cache.get("entries") or []:
            items.append(_item("cacheStorage", origin, frame_url, cache["name"], url, body))
    for registration in dump.get("serviceWorkers") or []:
        items.append(
            _item(
                "serviceWorker",
                origin,
                frame_url,
                registration.get("scope"),
                registration.get("scriptURL") or "",
                registration.get("state"),
            )
        )
    return items


def storage_items_from_state(state: Mapping[str, Any]) -> list[StorageObs]:
    """Normalise Playwright's ``storage_state(indexed_db=True)`` (its typed dict leaves out ``indexedDB``)."""
    items = []
    for entry in state.get("origins", []):
        origin = entry.get("origin", "")
        for pair in entry.get("localStorage", []):
            items.append(_item("localStorage", origin, None, None, pair["name"], pair["value"]))
        for database in entry.get("indexedDB", []) or []:
            for store in database.get("stores", []):
                container = f"{database['name']}/{store['name']}"
                for record in store.get("records", []):
                    key = record.get("key", record.get("keyEncoded"))
                    value = record.get("value", record.get("valueEncoded"))
                    items.append(_item("indexedDB", origin, None, container, _text(key), value))
    return items
