"""Plain words shared by finding messages and reports: lifetimes in days (years where longer), categories in words."""

import pytest

from crawler.knowledge.categories import category_words
from crawler.policy.evidence import lifetime_words
from crawler.report import wording


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (400, "400 days (1.1 years)"),
        (396, "396 days (1.1 years)"),
        (730.5, "730 days (2.0 years)"),
        (364, "364 days"),
        (30, "30 days"),
        (0.5, "12 hours"),
        (None, "a session cookie"),
    ],
)
def test_lifetime_in_days_and_years_where_longer(days, words):
    assert lifetime_words(days) == words


def test_the_report_says_the_same_lifetime_and_names_a_session_cookie_plainly():
    assert wording.lifetime_words(400) == "400 days (1.1 years)"
    assert wording.lifetime_words(None) == "session (deleted when the browser closes)"


@pytest.mark.parametrize(
    ("category", "words"),
    [
        ("session_replay", "session recording"),
        ("tag_manager", "tag manager"),
        ("advertising", "advertising"),
        ("some_new_kind", "some new kind"),
        (None, ""),
    ],
)
def test_categories_in_words(category, words):
    assert category_words(category) == words
