"""Loading what judges a run (policy pack, knowledge lists) and judging it: shared by every command."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..knowledge.lists import KnowledgeBundle, ListInfo, default_cache_dir, load_lists
from ..store.writer import Store
from .engine import Judgement, judge_vendors
from .pack import PolicyPack, load_pack


@dataclass(frozen=True)
class Judge:
    pack: PolicyPack
    knowledge: KnowledgeBundle
    lists: tuple[ListInfo, ...]

    @classmethod
    def load(cls, policy: str | Path | None = None, lists_dir: str | Path | None = None) -> Judge:
        """The pack, plus the built-in knowledge and every list in the cache (and ``lists_dir`` when given)."""
        extra = [Path(lists_dir)] if lists_dir else []
        knowledge, infos = load_lists(default_cache_dir(), extra_dirs=extra)
        return cls(load_pack(policy), knowledge, tuple(infos))

    def provenance(self) -> list[dict[str, Any]]:
        """What is stored with each run: the pack and every list, with versions and hashes."""
        pack = {
            "name": f"policy:{self.pack.id}",
            "version": self.pack.version,
            "sha256": self.pack.sha256,
            "source": self.pack.path,
        }
        return [pack, *(asdict(info) for info in self.lists)]

    def judge_each(
        self, store: Store, run_id: int, vendor_id: str | None = None, compare_with_previous: bool = False
    ) -> Iterator[Judgement]:
        """Judge the run vendor by vendor (findings written as each is judged); each judgement carries its
        vendor's analyses, which the next vendor's replace."""
        return judge_vendors(store, run_id, self.pack, self.knowledge, vendor_id, compare_with_previous)

    def judge(
        self, store: Store, run_id: int, vendor_id: str | None = None, compare_with_previous: bool = False
    ) -> list[Judgement]:
        """Judge the run; the judgements keep their findings, not the analyses behind them."""
        return [
            replace(judgement, analyses=())
            for judgement in self.judge_each(store, run_id, vendor_id, compare_with_previous)
        ]
