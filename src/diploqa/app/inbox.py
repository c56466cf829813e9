"""The "New" tab's HTML: each standing question with its unread count, and its answers as
cards like a search's (:func:`~.render.render_card`); pure functions, every text escaped."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable

from ..alerts.model import Answer, Followed, StandingQuestion
from ..articles import Article
from . import messages
from .render import render_card, render_message


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def render_answer(answer: Answer, position: int, article: Article | None) -> str:
    """An answer as a search card (its copies, also those that arrived later, as "also in"),
    marked when it is unread."""
    hit = dataclasses.replace(answer.hit, rank=position, duplicates=answer.copies)
    card = render_card(hit, article)
    badge = f'<span class="dq-new">{messages.NEW_BADGE}</span>' if not answer.read else ""
    state = "unread" if not answer.read else "read"
    return (
        f'<div class="dq-answer" data-answer="{answer.id}" data-state="{state}">{badge}{card}</div>'
    )


def render_inbox(
    questions: list[tuple[StandingQuestion, list[Answer]]],
    article_of: Callable[[str], Article | None],
) -> str:
    """Every standing question of the user with its newest answers."""
    if not questions:
        return render_message(messages.NOTHING_FOLLOWED_TEXT)
    parts = []
    for question, answers in questions:
        head = (
            f'<h3 class="dq-followed-name">{_e(question.name)}</h3>'
            f'<p class="dq-summary">{_e(question.query.question)} · '
            f'<span class="dq-unread" data-unread="{question.unread}">'
            f"{_e(messages.unread_count(question.unread, question.answers))}</span></p>"
        )
        if answers:
            body = "".join(
                render_answer(answer, i, article_of(answer.hit.source))
                for i, answer in enumerate(answers, start=1)
            )
        else:
            body = render_message(messages.NO_ANSWERS_YET_TEXT)
        parts.append(
            f'<section class="dq-followed" data-alert="{_e(question.id)}">{head}{body}</section>'
        )
    return f'<div class="dq-inbox">{"".join(parts)}</div>'


def render_followed(followed: Followed) -> str:
    """What the follow button answers: the question followed, and its feed's address."""
    feed = followed.feed_url
    return (
        f'<div class="dq-msg dq-info" id="followed" data-alert="{_e(followed.question.id)}">'
        f"{_e(messages.following(followed.question.name))} "
        f"<a href='{_e(feed)}' target='_blank' rel='noopener noreferrer'>"
        f"{_e(messages.feed_link_text())}</a></div>"
    )
