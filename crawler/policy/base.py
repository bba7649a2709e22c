"""Rules: one small unit each, with a stable id, the clause it judges (the pack may cite it under more), a
default severity and parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from ..analyze.analysis import AuditAnalysis
from .evidence import Evidence

SEVERITIES = ("violation", "warning", "info")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    clause: str
    severity: str
    subject: str  # names what it is about: "cookie lq_vid", "host collect.edutrack-analytics.test"
    message: str  # plain words: what was seen and which clause it breaks
    evidence: Evidence  # points at observation rows
    account: str | None = None
    # The message under each other clause the rule may be cited under, where its words differ.
    wording: Mapping[str, str] = field(default_factory=dict, compare=False)

    def cited_under(self, clause: str) -> Finding:
        """The same finding, with the same evidence, judged under ``clause``."""
        return replace(self, clause=clause, message=self.wording.get(clause, self.message))

    def as_row(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "clause": self.clause,
            "severity": self.severity,
            "subject": self.subject,
            "message": self.message,
            "evidence": self.evidence.to_json(),
            "account": self.account,
        }


class Rule:
    """Subclass, set the class attributes, implement ``check``; registering is importing the module."""

    id: ClassVar[str]
    clause: ClassVar[str]
    title: ClassVar[str]
    # The title under another clause the pack may cite the rule under, where it reads differently.
    clause_titles: ClassVar[dict[str, str]] = {}
    default_severity: ClassVar[str] = "violation"
    defaults: ClassVar[dict[str, Any]] = {}
    # An audit and a post-termination check observe different things: each rule judges one of them.
    judges_removal_check: ClassVar[bool] = False

    def __init__(
        self, severity: str | None = None, params: dict[str, Any] | None = None, clauses: Iterable[str] | None = None
    ):
        self.severity = severity or self.default_severity
        self.params = {**self.defaults, **(params or {})}
        self.clauses: tuple[str, ...] = tuple(clauses or (self.clause,))  # every clause the pack cites it under

    def check(self, analysis: AuditAnalysis) -> Iterable[Finding]:
        raise NotImplementedError

    def cited(self, analysis: AuditAnalysis) -> Iterator[Finding]:
        """The rule's findings, each under every clause the pack cites the rule under."""
        for finding in self.check(analysis):
            for clause in self.clauses:
                yield finding.cited_under(clause)

    def title_under(self, clause: str) -> str:
        return self.clause_titles.get(clause, self.title)

    def finding(
        self,
        subject: str,
        message: str,
        evidence: Evidence,
        account: str | None = None,
        severity: str | None = None,
        wording: Mapping[str, str] | None = None,
    ) -> Finding:
        return Finding(
            self.id, self.clause, severity or self.severity, subject, message, evidence, account, dict(wording or {})
        )


RULES: dict[str, type[Rule]] = {}
# Rule ids that older databases hold, and the rule and clause that now report the same finding.
RETIRED_RULES: dict[str, tuple[str, str]] = {"II.A-pii-disclosed": ("IV.A-pii-to-third-party", "II.A")}


def register(rule_class: type[Rule]) -> type[Rule]:
    if rule_class.id in RULES:
        raise ValueError(f"two rules share the id {rule_class.id}")
    if rule_class.default_severity not in SEVERITIES:
        raise ValueError(f"{rule_class.id}: unknown severity {rule_class.default_severity}")
    RULES[rule_class.id] = rule_class
    return rule_class
