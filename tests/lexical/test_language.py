"""A text's language group, by its function words."""

from __future__ import annotations

import pytest

from diploqa.lexical import LANGUAGES, language_of
from diploqa.lexical.language import language_group


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Der Quarterback gewann den Super Bowl.", "de"),
        ("Tom Brady and the Patriots: der Super Bowl ist vorbei, und die Fans feiern.", "de"),
        ("The ministers met in Geneva and discussed the sanctions.", "en"),
        ("Lavrov Sochi", None),
    ],
)
def test_the_language_is_the_one_whose_function_words_a_text_uses_more(text, language):
    assert language_of(text) == language


def test_a_text_without_function_words_is_grouped_with_the_german_ones():
    assert language_group("Lavrov Sochi") == LANGUAGES.index("de") == 0
    assert language_group("Where is the embassy?") == LANGUAGES.index("en")
