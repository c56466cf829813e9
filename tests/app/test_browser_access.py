"""In a real Chromium: a reader and an editor sign in to ``diploqa serve --users``; the
reader sees no editing control, the editor uploads an article and finds it."""

from __future__ import annotations

import pytest
from conftest import GENEVA_QUESTION, NEW_ARTICLE
from test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    UPDATE_TIMEOUT_MS,
    _missing_browser,
    submit,
)

pytestmark = pytest.mark.slow

UPLOAD = "genf-2022.txt"


@pytest.fixture(scope="module")
def browser():
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def signed_in(browser, server, user: str):
    """A fresh browser context (its own cookies) signed in as ``user`` through the form."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(server.url + "/", wait_until="domcontentloaded", timeout=60_000)
    assert "/login" in page.url
    page.fill("#username", user)
    page.fill("#password", server.passwords[user])
    page.click("#sign-in")
    page.locator("#question textarea").wait_for(timeout=120_000)
    return context, page


def ask(page, question: str) -> list[str]:
    """Ask ``question``; return every card's file name."""
    submit(page, question, timeout_ms=60_000)
    return [c.get_attribute("data-source") for c in page.locator("#results .dq-card").all()]


def test_wrong_password_stays_on_the_sign_in_page(browser, auth_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(auth_server.url + "/login", timeout=60_000)
    page.fill("#username", "lena")
    page.fill("#password", "falsch-falsch")
    auth_server.secrets.append("falsch-falsch")
    page.click("#sign-in")
    page.get_by_text("wrong user name or password").wait_for(timeout=10_000)
    assert page.locator("#question").count() == 0
    context.close()


def test_reader_searches_and_sees_no_editing_control(browser, auth_server):
    context, page = signed_in(browser, auth_server, "lena")
    assert page.url.rstrip("/") == auth_server.url
    assert ask(page, "Wer traf Lawrow in Sotschi?")
    page.get_by_role("tab", name="Artikel / Articles").click()
    page.locator("#articles-table").wait_for()
    for control in ("#upload", "#update", "#rebuild", "input[type=file]"):
        assert page.locator(control).count() == 0, control
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reader.png"))
    page.locator("#sign-out").click()
    page.locator("#password").wait_for(timeout=10_000)
    page.goto(auth_server.url + "/", timeout=60_000)
    assert "/login" in page.url  # signed out: the page asks again
    context.close()


def test_editor_uploads_an_article_and_finds_it(browser, auth_server, tmp_path):
    context, page = signed_in(browser, auth_server, "ed")
    assert page.url.startswith(auth_server.url + "/edit/")
    upload = tmp_path / UPLOAD
    upload.write_text(NEW_ARTICLE, encoding="utf-8")
    page.get_by_role("tab", name="Artikel / Articles").click()
    page.locator("#upload input[type=file]").set_input_files(str(upload))
    report = page.locator("#upload-report .dq-upload-report")
    report.wait_for(timeout=UPDATE_TIMEOUT_MS)
    assert report.get_attribute("data-state") == "done", report.inner_text()
    assert (auth_server.articles / UPLOAD).exists()
    page.get_by_role("tab", name="Fragen / Ask").click()
    assert UPLOAD in ask(page, GENEVA_QUESTION)[:2]
    context.close()
