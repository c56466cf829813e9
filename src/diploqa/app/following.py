"""The page's part of standing questions: a "follow this question" button beside the search,
and the "Neu / New" tab with each followed question's unread count and new answers.

Kept in one module so the page's layout (:mod:`.layout`) and events (:mod:`.events`) each
only place and bind it. Who follows is the signed-in user the access gate handed on (without
accounts: the local user); answers shown in the tab are marked read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr  # after .layout, which switches Gradio's telemetry off first

from ..alerts.model import LOCAL_USER
from ..alerts.service import AlertService
from ..auth.middleware import PRINCIPAL
from ..errors import DiploqaError
from ..query import Query, per_article_limit
from . import messages
from .inbox import render_followed, render_inbox
from .render import render_message

#: Answers shown per followed question in the tab.
ANSWERS_SHOWN = 20


@dataclass(frozen=True)
class FollowControls:
    """The follow button (in the Ask tab) and the "New" tab's components."""

    button: gr.Button
    status: gr.HTML
    tab: gr.Tab | None = None
    refresh: gr.Button | None = None
    inbox: gr.HTML | None = None


def lay_out_follow() -> tuple[gr.Button, gr.HTML]:
    """The follow button and its answer, placed where the caller is (below the answers: above
    them it would push the first answer out of a phone's view)."""
    button = gr.Button(messages.FOLLOW_BUTTON, size="sm", elem_id="follow")
    status = gr.HTML(elem_id="follow-status")
    return button, status


def lay_out_inbox() -> tuple[gr.Tab, gr.Button, gr.HTML]:
    """The "New" tab, placed among the page's tabs."""
    with gr.Tab(messages.NEW_TAB, id="new-tab", elem_id="new-tab") as tab:
        refresh = gr.Button(messages.INBOX_REFRESH, size="sm", elem_id="inbox-refresh")
        inbox = gr.HTML(elem_id="inbox")
    return tab, refresh, inbox


def caller(request: Any, accounts: bool) -> tuple[str, str]:
    """``(user, role)`` of a page event: the principal the gate identified, else (a server
    without accounts) the local user."""
    scope = getattr(getattr(request, "request", None), "scope", None) or {}
    principal = scope.get(PRINCIPAL)
    if principal is not None:
        return principal.user, principal.role
    if accounts:
        raise DiploqaError("sign in required")
    return LOCAL_USER, "editor"


class Following:
    """The functions behind the button and the tab, on ``alerts``. ``accounts``: the server
    has accounts (every event then has a signed-in user); ``per_article``: the server's
    default, as for a search."""

    def __init__(self, alerts: AlertService, accounts: bool, per_article: int | None) -> None:
        self.alerts = alerts
        self.accounts = accounts
        self.per_article = per_article

    def follow(
        self, question, k, outlet, since, until, source, per_article, sort, request: gr.Request
    ) -> str:
        try:
            user, role = caller(request, self.accounts)
            limit = per_article_limit(per_article, self.per_article)
            query = Query(question, k, outlet=outlet, since=since, until=until, source=source,
                          per_article=limit, sort=sort)  # fmt: skip
            followed = self.alerts.store.add(
                query.question, query, user, role=role, current=self.alerts.current()
            )
        except DiploqaError as err:
            return render_message(messages.error(err), "error")
        return render_followed(followed)

    def inbox(self, request: gr.Request) -> str:
        """The tab's content; the answers it shows are marked read."""
        try:
            user, _ = caller(request, self.accounts)
            store = self.alerts.store
            shown = [(q, store.answers(q.id, user, limit=ANSWERS_SHOWN))
                     for q in store.questions(user)]  # fmt: skip
            for question, answers in shown:
                unread = [a.id for a in answers if not a.read]
                if unread:
                    store.mark_read(question.id, user, unread)
        except DiploqaError as err:
            return render_message(messages.error(err), "error")
        index = self.alerts.holder.index
        article_of = (lambda s: index.stored.articles.get(s)) if index else (lambda s: None)
        return render_inbox(shown, article_of)

    def bind(self, controls: FollowControls, search_inputs: list) -> None:
        private: dict[str, Any] = {"api_visibility": "private", "concurrency_limit": None}
        controls.button.click(self.follow, inputs=search_inputs, outputs=controls.status, **private)
        if controls.tab is not None:
            controls.tab.select(self.inbox, outputs=controls.inbox, **private)
            controls.refresh.click(self.inbox, outputs=controls.inbox, **private)
