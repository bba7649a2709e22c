"""Rules: one small unit each, with a stable id, its clause, a default severity and parameters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

SEVERITIES = ("violation", "warning", "info")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    clause: str
    severity: str
    subject: str  # names what it is about: "cookie lq_vid", "host collect.edutrack-analytics.test"
    message: str  # plain words: what was seen and which clause it breaks
    evidence: dict[str, Any] = field(default_factory=dict)  # points at observation rows
    account: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "clause": self.clause, "severity": self.severity, "subject": self.subject,
                "message": self.message, "evidence": self.evidence, "account": self.account}


class Rule:
    """Subclass, set the class attributes, implement ``check``; registering is importing the module."""

    id: ClassVar[str]
    clause: ClassVar[str]
    title: ClassVar[str]
    default_severity: ClassVar[str] = "violation"
    defaults: ClassVar[dict[str, Any]] = {}
    # An audit and a post-termination check observe different things: each rule judges one of them.
    judges_removal_check: ClassVar[bool] = False

    def __init__(self, severity: str | None = None, params: dict[str, Any] | None = None):
        self.severity = severity or self.default_severity
        self.params = {**self.defaults, **(params or {})}

    def check(self, audit) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, subject: str, message: str, evidence: dict[str, Any], account: str | None = None,
                severity: str | None = None) -> Finding:
        return Finding(self.id, self.clause, severity or self.severity, subject, message, evidence, account)


RULES: dict[str, type[Rule]] = {}


def register(rule_class: type[Rule]) -> type[Rule]:
    if rule_class.id in RULES:
        raise ValueError(f"two rules share the id {rule_class.id}")
    if rule_class.default_severity not in SEVERITIES:
        raise ValueError(f"{rule_class.id}: unknown severity {rule_class.default_severity}")
    RULES[rule_class.id] = rule_class
    return rule_class
