"""The knowledge base's tracker categories in the words a finding message or a report uses."""

from __future__ import annotations

CATEGORY_WORDS = {
    "advertising": "advertising",
    "analytics": "analytics",
    "session_replay": "session recording",
    "social": "social media",
    "fingerprinting": "fingerprinting",
    "tag_manager": "tag manager",
    "essential": "infrastructure",
    "content": "embedded content",
}


def category_words(category: str | None) -> str:
    """``session_replay`` → "session recording"; unknown categories lose their underscores."""
    if not category:
        return ""
    return CATEGORY_WORDS.get(category, category.replace("_", " "))
