"""Policy packs (``policies/*.toml``): which rules apply, at what severity, with which parameters, cited
under which clauses (a rule's own clause unless ``clauses = [...]`` names more: one leak, several clauses).

A district with another policy writes another pack; no code changes. Errors name the file, key and fix.
"""

from __future__ import annotations

import hashlib
import importlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import ConfigError
from .base import RULES, SEVERITIES, Rule

DEFAULT_PACK = "mps-7400.1"
# Rules that became another rule cited under one more clause: old id -> (rule id, clause).
MERGED_RULES = {"II.A-pii-disclosed": ("IV.A-pii-to-third-party", "II.A")}
PACKS_DIR = Path(__file__).resolve().parents[2] / "policies"


@dataclass(frozen=True)
class PolicyPack:
    id: str
    name: str
    version: str
    path: str
    sha256: str
    clauses: dict[str, str]
    parameters: dict[str, Any]
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def clause_text(self, clause: str) -> str:
        return self.clauses.get(clause, "")


def pack_path(name_or_path: str | Path | None) -> Path:
    """A pack named by id (looked up in policies/) or by path."""
    candidate = Path(name_or_path or DEFAULT_PACK)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    return PACKS_DIR / f"{candidate}.toml"


def load_pack(name_or_path: str | Path | None = None) -> PolicyPack:
    importlib.import_module("crawler.policy.rules")  # importing the rules registers them

    path = pack_path(name_or_path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        known = ", ".join(sorted(p.stem for p in PACKS_DIR.glob("*.toml")))
        raise ConfigError(
            path,
            "(file)",
            f"cannot read the policy pack ({exc.strerror})",
            f"pass --policy with a pack file or one of: {known}",
        ) from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "(syntax)", f"not valid TOML: {exc}", "correct the TOML syntax") from None
    meta = data.get("pack", {})
    for key in ("id", "name", "version"):
        if not isinstance(meta.get(key), str):
            raise ConfigError(path, f"pack.{key}", "missing or not a string", f'add {key} = "..." under [pack]')
    clauses = data.get("clauses", {})
    parameters = data.get("parameters", {})
    rules = []
    for rule_id, settings in data.get("rules", {}).items():
        where = f'rules."{rule_id}"'
        if rule_id in MERGED_RULES:
            into, clause = MERGED_RULES[rule_id]
            raise ConfigError(
                path,
                where,
                f"this rule is now {into} cited under {clause} too",
                f'remove [{where}] and write clauses = [..., "{clause}"] under [rules."{into}"]',
            )
        if rule_id not in RULES:
            raise ConfigError(path, where, "no rule has this id", f"use one of: {', '.join(sorted(RULES))}")
        if not isinstance(settings, dict):
            raise ConfigError(path, where, "expected a table", 'write e.g. severity = "warning" under it')
        if not settings.get("enabled", True):
            continue
        severity = settings.get("severity", RULES[rule_id].default_severity)
        if severity not in SEVERITIES:
            raise ConfigError(
                path, f"{where}.severity", f"unknown severity {severity!r}", f"use one of: {', '.join(SEVERITIES)}"
            )
        unknown = set(settings.get("params", {})) - set(RULES[rule_id].defaults)
        if unknown:
            raise ConfigError(
                path,
                f"{where}.params.{sorted(unknown)[0]}",
                "this rule has no such parameter",
                f"use one of: {', '.join(sorted(RULES[rule_id].defaults)) or 'none'}",
            )
        params = {**_shared(parameters, RULES[rule_id].defaults), **settings.get("params", {})}
        for name, value in params.items():
            if name.endswith("severity") and value not in SEVERITIES:
                raise ConfigError(
                    path,
                    f"{where}.params.{name}",
                    f"unknown severity {value!r}",
                    f"use one of: {', '.join(SEVERITIES)}",
                )
        cited = settings.get("clauses", [RULES[rule_id].clause])
        if not isinstance(cited, list) or not cited or not all(isinstance(c, str) for c in cited):
            raise ConfigError(
                path,
                f"{where}.clauses",
                "expected a list of clause ids",
                f'write e.g. clauses = ["{RULES[rule_id].clause}"]',
            )
        if len(set(cited)) != len(cited):
            raise ConfigError(path, f"{where}.clauses", "a clause is named twice", "name each clause once")
        rule = RULES[rule_id](severity, params, cited)
        for clause in rule.clauses:
            if clause not in clauses:
                raise ConfigError(
                    path,
                    f'clauses."{clause}"',
                    f"rule {rule_id} judges clause {clause}, whose text is missing",
                    "quote the clause's words under [clauses]",
                )
        rules.append(rule)
    return PolicyPack(
        meta["id"],
        meta["name"],
        meta["version"],
        str(path),
        hashlib.sha256(raw_bytes).hexdigest(),
        dict(clauses),
        dict(parameters),
        tuple(rules),
    )


def _shared(parameters: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Pack-wide parameters (e.g. max_lifetime_days) reach every rule that has a parameter of that name."""
    return {k: v for k, v in parameters.items() if k in defaults}
