"""The page's part of standing questions without a browser: the follow button and the "New"
tab in the app (and not with ``--public``), who an event acts for, the inbox's HTML."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from diploqa.alerts import AlertService, AlertStore
from diploqa.alerts.model import Answer, StandingQuestion
from diploqa.app import ui
from diploqa.app.following import Following, caller
from diploqa.app.inbox import render_inbox
from diploqa.app.updater import Updater
from diploqa.auth.middleware import PRINCIPAL, Principal
from diploqa.hits import Copy, Hit
from diploqa.query import Query


def request_of(user: str | None, role: str = "reader"):
    """What Gradio hands an event: its HTTP request, whose scope the access gate filled."""
    scope = {PRINCIPAL: Principal(user, role)} if user else {}
    return SimpleNamespace(request=SimpleNamespace(scope=scope))


@pytest.fixture
def alerts(tmp_path, app_holder) -> AlertService:
    return AlertService(AlertStore(tmp_path / "alerts.sqlite3"), app_holder)


def test_the_button_and_the_tab_are_there_only_with_standing_questions(
    app_holder, seed_copy, alerts
):
    following = ui.create_app(Updater(app_holder, seed_copy), sign_out=True, alerts=alerts)
    ids = {getattr(block, "elem_id", None) for block in following.blocks.values()}
    assert {"follow", "follow-status", "new-tab", "inbox", "inbox-refresh"} <= ids
    names = {fn.fn.__name__ for fn in following.fns.values() if fn.fn}
    assert {"follow", "inbox"} <= names
    public = ui.create_app(Updater(app_holder, seed_copy), editing=False)
    ids = {getattr(block, "elem_id", None) for block in public.blocks.values()}
    assert not ids & {"follow", "new-tab", "inbox"}
    endpoints = set(following.get_api_info()["named_endpoints"])
    assert "/search" in endpoints  # nothing of following in the public API: the same names
    assert endpoints == set(public.get_api_info()["named_endpoints"])


def test_events_act_for_the_signed_in_user_or_the_local_one():
    assert caller(request_of("lena"), accounts=True) == ("lena", "reader")
    assert caller(request_of(None), accounts=False) == ("local", "editor")
    with pytest.raises(Exception, match="sign in required"):
        caller(request_of(None), accounts=True)


def test_follow_saves_the_question_with_its_filters_and_the_tab_marks_read(alerts):
    page = Following(alerts, accounts=True, per_article=2)
    html = page.follow("Wo trafen sich Lawrow und Blinken?", 5, ["Testzeitung"], "2022", "",
                       "", None, "relevance", request_of("lena"))  # fmt: skip
    assert 'id="followed"' in html and "/feeds/" in html and "key=" in html
    [question] = alerts.store.questions("lena")
    assert question.query.outlet == ("Testzeitung",) and question.query.since == "2022"
    assert question.mark > 0  # the seeds were there: not new
    assert alerts.store.questions("ed") == []
    bad = page.follow(" ", 5, [], "", "", "", None, "relevance", request_of("lena"))
    assert "dq-error" in bad and len(alerts.store.questions("lena")) == 1
    inbox = page.inbox(request_of("lena"))
    assert "Wo trafen sich Lawrow und Blinken?" in inbox and "0 neu von 0" in inbox
    assert "Sie folgen noch keiner Frage" in page.inbox(request_of("ed"))


def _answer(read: bool) -> Answer:
    text = "Ein Sprecher schrieb <script>alert(1)</script> ins Protokoll."
    copies = (Copy("b.txt", "B", "Abendblatt", None, None),)
    hit = Hit(text, 0.9, "a.txt", "Titel <b>", "2022-01-21", 0, len(text), "Testzeitung",
              highlight=(0, 19), duplicates=copies)  # fmt: skip
    later = (Copy("c.txt", "C", "Morgenpost", "https://example.org/c", None),)
    return Answer(7, "u", "q1", hit, "2026-12-06T10:00:00+00:00", "2026-12-06T10:00:00+00:00",
                  read, later)  # fmt: skip


def test_the_inbox_shows_answers_as_cards_escaped_with_every_copy():
    question = StandingQuestion("q1", "u", "lena", "Genf <i>", Query("Wer?"), "2026", unread=1,
                                answers=2)  # fmt: skip
    html = render_inbox([(question, [_answer(False), _answer(True)])], lambda s: None)
    assert html.count('class="dq-card"') == 2
    assert 'data-state="unread"' in html and 'data-state="read"' in html
    assert html.count('class="dq-new"') == 1
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Genf &lt;i&gt;" in html and "Titel &lt;b&gt;" in html
    assert "Abendblatt" in html and "Morgenpost" in html  # the index's copy and a later one
    assert "1 neu von 2" in html
