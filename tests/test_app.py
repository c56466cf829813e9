"""The web UI's handlers and rendering, without a browser, on a real index of the seeds."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from diploqa import app
from diploqa.errors import DiploqaError
from diploqa.search import Hit

XSS_ARTICLE = (
    "title: Geheimtreffen <script>alert(1)</script> in Genf\n"
    "date: 2017-05-02\n"
    "source: Testzeitung <img src=x onerror=alert(1)>\n\n"
    "Der Zitronenfalter-Gipfel von Reykjavík endete mit einer Einigung über Leuchttürme.\n\n"
    "Ein Sprecher schrieb <script>alert(1)</script> in sein Protokoll und fügte "
    "<img src=x onerror=alert(1)> hinzu. Die Delegationen vereinbarten, dass jeder "
    "Leuchtturm am Nordkap künftig von beiden Seiten gemeinsam gewartet wird.\n"
)
XSS_QUESTION = "Was wurde beim Zitronenfalter-Gipfel in Reykjavík über Leuchttürme vereinbart?"


@pytest.fixture(scope="session")
def app_holder(seed_index, seed_copy) -> app.IndexHolder:
    """A loaded holder on the shared seed index (read-only tests)."""
    holder = app.IndexHolder(seed_index.path, seed_copy)
    holder.load()
    return holder


@pytest.fixture
def app_mutable_holder(seed_index, seed_copy, tmp_path) -> app.IndexHolder:
    """A holder on private copies of articles and index, for tests that upload or rebuild."""
    articles = shutil.copytree(seed_copy, tmp_path / "articles")
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    holder = app.IndexHolder(index, articles)
    holder.load()
    return holder


def first_source(page: str) -> str | None:
    match = re.search(r'<article class="dq-card" data-source="([^"]*)"', page)
    return match and match.group(1)


def assert_no_traceback(page: str) -> None:
    assert "Traceback" not in page and 'File "' not in page


# --------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("Worüber telefonierten Obama und Putin?", "004_6afb54f85d6e1e90.txt"),
        ("Mit wem sprach Kerry in Sotschi?", "001_50e04ee83bc37b66.txt"),
        ("Who did Kerry meet in Sochi?", "001_50e04ee83bc37b66.txt"),
        ("What did Tillerson say about Assad?", "003_fa869275608591a9.txt"),
        ("Worum ging es bei den Gesprächen in Lausanne?", "000_2ef6d3f0dcbaccb7.txt"),
    ],
)
def test_answer_shows_right_source_first(app_holder, question, source):
    page = app.answer_html(app_holder, question, 5)
    assert first_source(page) == source
    assert page.count('class="dq-card"') == 5
    assert "<mark>" in page and "dq-bar-fill" in page
    assert "Im Artikel zeigen / Show in article" in page
    assert "dq-warning" not in page  # on-topic: no low-score warning


def test_card_shows_title_outlet_score_and_context(app_holder):
    page = app.answer_html(app_holder, "Who did Kerry meet in Sochi?", 1)
    assert "Kerry in Moskau:USA und Russland suchen nach Gemeinsamkeiten" in page
    assert "Süddeutsche Zeitung" in page
    assert re.search(r'style="width:\d{1,3}%"></span></span><span class="dq-pct">\d+ %', page)
    assert "dq-context-passage" in page


def test_k_controls_the_number_of_cards(app_holder):
    assert app.answer_html(app_holder, "Kerry Lawrow", 1).count('class="dq-card"') == 1
    assert app.answer_html(app_holder, "Kerry Lawrow", 20.0).count('class="dq-card"') == 20


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_shows_message_not_traceback(app_holder, question):
    page = app.answer_html(app_holder, question, 5)
    assert app.EMPTY_QUESTION_TEXT in page and "dq-error" in page
    assert "dq-card" not in page
    assert_no_traceback(page)


@pytest.mark.parametrize("k", [0, -3, 2.5])
def test_invalid_k_shows_message(app_holder, k):
    page = app.answer_html(app_holder, "Kerry", k)
    assert "dq-error" in page and "k must be" in page
    assert_no_traceback(page)


@pytest.mark.parametrize("question", ["Wie backe ich Brot?", "How tall is the Eiffel tower?"])
def test_off_topic_question_warns_but_shows_results(app_holder, question):
    page = app.answer_html(app_holder, question, 3)
    assert app.LOW_SCORE_TEXT.split(":")[0] in page and "dq-warning" in page
    assert page.index("dq-warning") < page.index("dq-card")
    assert page.count('class="dq-card"') == 3


def test_question_is_escaped(app_holder):
    question = '<img src=x onerror=alert(1)> "Kerry"'
    page = app.answer_html(app_holder, question, 1)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_search_records_are_json_ready(app_holder):
    records = app.search_records(app_holder, "Who did Kerry meet in Sochi?", 3)
    assert [r["rank"] for r in records] == [1, 2, 3]
    assert records[0]["source"] == "001_50e04ee83bc37b66.txt"
    assert set(records[0]) >= {"rank", "score", "title", "source", "date", "outlet", "text"}
    assert records[0]["answer_sentence"] in records[0]["text"]
    json.dumps(records)


def test_search_records_raise_readable_errors(app_holder):
    with pytest.raises(DiploqaError, match="empty"):
        app.search_records(app_holder, " ", 3)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def make_hit(text: str, highlight: tuple[int, int], **kw) -> Hit:
    fields = dict(score=0.85, source="a.txt", title="T", date=None, start=0, end=len(text))
    fields.update(kw)
    return Hit(text=text, highlight=highlight, rank=1, **fields)


def test_highlight_escapes_each_piece():
    text = "Vorher <b>. Der <script>alert(1)</script> Satz. Danach & <i>"
    a = text.index("Der")
    b = text.index("Satz.") + len("Satz.")
    out = app.render_passage(text, (a, b))
    assert out == (
        "Vorher &lt;b&gt;. <mark>Der &lt;script&gt;alert(1)&lt;/script&gt; Satz.</mark>"
        " Danach &amp; &lt;i&gt;"
    )


def test_bad_highlight_falls_back_to_plain_escaped_text():
    assert app.render_passage("a < b", (3, 99)) == "a &lt; b"


def test_context_shows_surroundings_and_emphasises_passage():
    text = "x" * 1000 + "PASSAGE<b>" + "y" * 1000
    start = 1000
    out = app.render_context(text, start, start + 10, chars=50)
    assert out.startswith("… " + "x" * 50)
    assert "<strong class='dq-context-passage'>PASSAGE&lt;b&gt;</strong>" in out
    assert out.endswith("y" * 50 + " …")


def test_card_escapes_source_and_metadata():
    hit = make_hit(
        "Text.",
        (0, 5),
        source='x"><script>.txt',
        title="<script>alert(1)</script>",
        outlet="<img src=x onerror=alert(1)>",
        date="2017",
    )
    out = app.render_card(hit, None)
    assert "<script" not in out and "<img" not in out
    assert 'data-source="x&quot;&gt;&lt;script&gt;.txt"' in out


def test_score_percent_is_clamped():
    assert app.score_percent(0.843) == 84
    assert app.score_percent(1.2) == 100
    assert app.score_percent(-0.1) == 0


# --------------------------------------------------------------------------------------------
# States: no index, corrupt index, articles changed
# --------------------------------------------------------------------------------------------


def test_no_index_yet_state(tmp_path, seed_copy):
    holder = app.IndexHolder(tmp_path / "no-index", seed_copy)
    holder.load()
    assert holder.index is None
    for page in (app.render_status(holder), app.answer_html(holder, "Kerry?", 5)):
        assert "No index yet" in page and "diploqa index" in page
    assert "No index yet" in app.render_articles_table(None)
    with pytest.raises(DiploqaError, match="No index yet"):
        app.search_records(holder, "Kerry?", 5)
    assert app.create_app(holder=holder).get_api_info()["named_endpoints"]  # UI still starts


def test_no_index_then_build_in_the_ui(tmp_path, seed_copy):
    holder = app.IndexHolder(tmp_path / "index", shutil.copytree(seed_copy, tmp_path / "a"))
    holder.load()
    calls = []
    report = app.update_index(holder, rebuild=False, progress=lambda d, t: calls.append((d, t)))
    assert 'data-state="done"' in report and "5 added" in report
    assert calls and calls[-1][0] == calls[-1][1]
    assert first_source(app.answer_html(holder, "Who did Kerry meet in Sochi?", 3))


def test_corrupt_index_shows_error_not_traceback(tmp_path, seed_index, seed_copy):
    index = shutil.copytree(seed_index.path, tmp_path / "index")
    (index / "manifest.json").write_text("{ not json", encoding="utf-8")
    holder = app.IndexHolder(index, seed_copy)
    holder.load()
    page = app.answer_html(holder, "Kerry?", 5)
    assert "dq-error" in page and "unreadable" in page and "--rebuild" in page
    assert_no_traceback(page)


def test_changed_articles_offer_update_without_rebuilding(app_mutable_holder):
    holder = app_mutable_holder
    (holder.articles_dir / "neu.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    holder.load()
    assert len(holder.index.articles) == 5  # not rebuilt at start
    assert "1 new or changed" in app.render_status(holder)
    report = app.update_index(holder, rebuild=False)
    assert "1 added" in report and "5 unchanged" in report
    assert holder.pending is None and len(holder.index.articles) == 6


def test_rebuild_button_reembeds_everything(app_mutable_holder):
    report = app.update_index(app_mutable_holder, rebuild=True)
    everything = len(app_mutable_holder.index.stored.chunks)  # passages and sections
    assert "full build" in report and f"{everything} embedded" in report


def test_update_error_is_reported(app_mutable_holder):
    holder = app_mutable_holder
    old = holder.index
    for path in holder.articles_dir.iterdir():
        path.write_bytes(b"\x89PNG\r\n")
    report = app.update_index(holder, rebuild=False)
    assert 'data-state="error"' in report and "no readable article" in report
    assert holder.index is old  # the old index stays live


def test_articles_table_lists_indexed_articles(app_holder):
    table = app.render_articles_table(app_holder.index)
    assert table.count("<tr data-source=") == 5
    assert "Süddeutsche Zeitung" in table and "000_2ef6d3f0dcbaccb7.txt" in table
    assert re.search(r"<td class='dq-num'>\d+</td>", table)


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------

GOOD = b"Kerry traf Lawrow in Genf. Sie sprachen lange ueber Syrien und die Waffenruhe.\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("artikel.txt", "artikel.txt"),
        ("../evil.txt", "evil.txt"),
        ("..\\..\\evil.md", "evil.md"),
        ("/etc/passwd.txt", "passwd.txt"),
        (".x.txt", "x.txt"),
        ("Gespräch über Syrien.TXT", "Gespräch über Syrien.txt"),
        ("a<b>|c?.txt", "a_b_c_.txt"),
        ("a..b...txt", "a.b.txt"),
    ],
)
def test_sanitize_filename(name, expected):
    assert app.sanitize_filename(name) == expected


@pytest.mark.parametrize("name", ["bild.png", "noext", "x.txt.exe", "..", ".txt", "dir/", "..."])
def test_sanitize_filename_rejects(name):
    with pytest.raises(ValueError):
        app.sanitize_filename(name)


def test_upload_bad_extension_is_rejected(tmp_path):
    out = app.save_upload(tmp_path, "evil.html", GOOD)
    assert out.kind == "rejected" and ".txt" in out.message
    assert list(tmp_path.iterdir()) == []


def test_upload_too_big_is_rejected(tmp_path):
    out = app.save_upload(tmp_path, "big.txt", b"a " * (app.MAX_UPLOAD_BYTES // 2 + 1))
    assert out.kind == "rejected" and "too large" in out.message
    assert list(tmp_path.iterdir()) == []


def test_upload_too_big_file_is_not_read(tmp_path):
    big = tmp_path / "upload" / "big.txt"
    big.parent.mkdir()
    with big.open("wb") as fh:
        fh.truncate(app.MAX_UPLOAD_BYTES + 1)
    out = app.save_uploaded_path(tmp_path / "articles", big)
    assert out.kind == "rejected" and "too large" in out.message
    assert not (tmp_path / "articles").exists()


def test_upload_path_traversal_stays_inside(tmp_path):
    articles = tmp_path / "articles"
    out = app.save_upload(articles, "../evil.txt", GOOD)
    assert out.kind == "renamed" and out.saved_as == "evil.txt"
    assert (articles / "evil.txt").read_bytes() == GOOD
    assert not (tmp_path / "evil.txt").exists()


def test_upload_hidden_name_is_made_visible(tmp_path):
    out = app.save_upload(tmp_path, ".x.txt", GOOD)
    assert out.saved_as == "x.txt" and "saved as x.txt" in out.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt"]


def test_upload_same_name_other_content_is_renamed(tmp_path):
    (tmp_path / "a.txt").write_bytes(GOOD)
    out = app.save_upload(tmp_path, "a.txt", GOOD + b"Noch ein Satz.\n")
    assert out.kind == "renamed" and out.saved_as == "a-2.txt"
    assert "a-2.txt" in out.message
    assert (tmp_path / "a.txt").read_bytes() == GOOD  # never overwritten
    out = app.save_upload(tmp_path, "a.txt", GOOD + b"Ein dritter Satz.\n")
    assert out.saved_as == "a-3.txt"


def test_upload_identical_content_is_reported(tmp_path):
    (tmp_path / "a.txt").write_bytes(GOOD)
    for name in ("a.txt", "other.txt"):
        out = app.save_upload(tmp_path, name, GOOD)
        assert out.kind == "duplicate" and "already there as a.txt" in out.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"\x89PNG\r\n\x1a\nrest", "binary"), (b"   \n\n***\n", "empty"), (b"", "empty")],
)
def test_upload_unreadable_article_is_rejected(tmp_path, data, reason):
    out = app.save_upload(tmp_path, "x.txt", data)
    assert out.kind == "rejected" and reason in out.message
    assert list(tmp_path.iterdir()) == []


def test_upload_leaves_no_temporary_files(tmp_path):
    app.save_upload(tmp_path, "a.txt", GOOD)
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_upload_then_search_finds_it_escaped(app_mutable_holder, tmp_path):
    holder = app_mutable_holder
    incoming = tmp_path / "gradio-upload"
    incoming.mkdir()
    (incoming / "reykjavik.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    (incoming / "bild.png").write_bytes(b"\x89PNG")
    progress = []
    old_index = holder.index
    report = app.upload_articles(
        holder,
        [str(incoming / "reykjavik.txt"), str(incoming / "bild.png")],
        progress=lambda done, total: progress.append((done, total)),
    )
    assert 'data-state="done"' in report
    assert "reykjavik.txt: gespeichert / saved" in report
    assert "bild.png: nur .txt" in report
    assert "1 added" in report and "5 unchanged" in report
    assert progress and progress[-1][0] == progress[-1][1]
    assert holder.index is not old_index and len(holder.index.articles) == 6
    assert old_index.search("Leuchttürme", 1)  # a search holding the old index still works

    page = app.answer_html(holder, XSS_QUESTION, 3)
    assert first_source(page) == "reykjavik.txt"
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    table = app.render_articles_table(holder.index)
    assert "<script" not in table and "Geheimtreffen &lt;script&gt;" in table


def test_upload_of_only_rejected_files_does_not_build(app_mutable_holder, tmp_path):
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    old = app_mutable_holder.index
    report = app.upload_articles(app_mutable_holder, [str(bad)])
    assert "✗" in report and "Nothing new to index" in report
    assert app_mutable_holder.index is old


# --------------------------------------------------------------------------------------------
# Wiring
# --------------------------------------------------------------------------------------------


def test_create_app_exposes_named_search_endpoints(app_holder):
    demo = app.create_app(holder=app_holder)
    endpoints = demo.get_api_info()["named_endpoints"]
    assert set(endpoints) == {"/search", "/search_json"}
    params = [p["parameter_name"] for p in endpoints["/search_json"]["parameters"]]
    assert params == ["question", "k"]
    fns = {fn.api_name: fn.fn for fn in demo.fns.values() if fn.api_name}
    assert fns["search"].__name__ == "search" and fns["search"].__doc__
    assert fns["search_json"].__name__ == "search_json"
    assert fns["search"]("Who did Kerry meet in Sochi?", 1).count('class="dq-card"') == 1


def test_serve_warns_when_exposed_and_passes_launch_options(
    app_holder, monkeypatch, capsys, seed_index, seed_copy
):
    seen = {}

    def fake_launch(self, **kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(app.gr.Blocks, "launch", fake_launch)
    assert app.serve(seed_index.path, seed_copy, host="0.0.0.0", port=7999) == 0
    assert "exposed to the network" in capsys.readouterr().err
    assert seen["server_name"] == "0.0.0.0" and seen["server_port"] == 7999
    assert seen["max_file_size"] == app.MAX_UPLOAD_BYTES
    assert seen["mcp_server"] == app.mcp_available()
    assert seen["css"] and seen["theme"] is not None

    assert app.serve(seed_index.path, seed_copy, host="127.0.0.1", port=7999) == 0
    assert "exposed" not in capsys.readouterr().err


def test_serve_reports_port_in_use(monkeypatch, capsys, seed_index, seed_copy):
    def fail(self, **kwargs):
        raise OSError("Cannot find empty port")

    monkeypatch.setattr(app.gr.Blocks, "launch", fail)
    assert app.serve(seed_index.path, seed_copy, port=7999) == 1
    assert "cannot serve" in capsys.readouterr().err


def test_analytics_disabled():
    import os

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_upload_never_follows_or_replaces_a_symlink(tmp_path):
    articles, outside = tmp_path / "articles", tmp_path / "outside.txt"
    articles.mkdir()
    outside.write_bytes(b"do not touch")
    (articles / "a.txt").symlink_to(outside)
    out = app.save_upload(articles, "a.txt", GOOD)
    assert out.saved_as == "a-2.txt"
    assert outside.read_bytes() == b"do not touch"


def test_upload_into_unwritable_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = app.save_upload(blocker / "articles", "a.txt", GOOD)
    assert out.kind == "rejected" and "not saved" in out.message
