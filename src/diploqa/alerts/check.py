"""One check: the articles of an index that are new or changed since each standing question's
mark become its new answers, exactly once.

The arrivals of the index are recorded first (:func:`~.store.observe`); then every question
whose mark is behind is matched (:class:`~.matching.Matcher`) against the articles that arrived
after its mark, and its answers, its webhook batch and its new mark are written in **one**
transaction (one for all questions matched together: each commit is a disk sync, a thousand
of them add seconds to a check). A process killed before that commit leaves the marks
where they were, so the next
check (the server's at its start, or ``diploqa alerts check``) finds the same articles again;
killed after it, the mark has moved and nothing is found twice. Two checkers at once (a
server and a cron job on the same file) are safe too: a question whose mark moved while it
was matched is left to the one that moved it.

What the matcher knows of each question (its encoding, its last ranking's bar) is written in
the same transaction (:mod:`.state`) and given back to a matcher that knows nothing yet: a
restarted server's first check ranks only the questions the new articles may answer.

A matched article that tells a story already reported to the question (another outlet's copy,
by the index's near-duplicate groups, or an edit of the reported article itself, by its
MinHash signature) joins that answer's "also in" instead of being reported again; so does an
arriving copy that did not match on its own.

Inside a server the check yields to searches: before each of its steps it calls the matcher's
:attr:`~.matching.Matcher.pause` (the server's
:meth:`SearchActivity.pause <diploqa.app.activity.SearchActivity.pause>`), which waits, for a
bounded time, while a search is being answered.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid

from .. import duplicates
from ..faults import fault_point
from ..hits import copy_of
from ..index import Index
from .matching import Match, Matcher
from .model import CheckReport, StandingQuestion, copies_from_json, copies_to_json, hit_to_json
from .outbox import enqueue
from .state import load, model_key, save
from .store import AlertStore, answer_from_row, now_text, observe

log = logging.getLogger(__name__)

#: Counts of a question's record that a webhook batch leaves out (they change after it).
_COUNTS = ("unread", "answers")


def check(store: AlertStore, index: Index, matcher: Matcher) -> CheckReport:
    """Match what is new in ``index`` for every standing question behind it; see the
    module. Returns what it did."""
    started = time.perf_counter()
    report = CheckReport()
    articles = index.manifest.articles
    with store.db.write() as db:
        top = observe(db, articles)
    ids_of: dict[str, list[str]] = {}
    for aid, content_hash in articles.items():
        ids_of.setdefault(content_hash, []).append(aid)
    behind = [q for q in store.questions() if q.mark < top]
    model = model_key(index.encoder.model_id, index.encoder.backend, index.ranking)
    _restore(store, index, matcher, model, behind)
    by_mark: dict[int, list[StandingQuestion]] = {}
    for question in behind:
        by_mark.setdefault(question.mark, []).append(question)
    for mark, questions in sorted(by_mark.items()):
        matcher.step()
        with store.db.read() as db:
            hashes = [row[0] for row in db.execute(
                "SELECT content_hash FROM arrivals WHERE seq > ? AND seq <= ?", (mark, top)
            )]  # fmt: skip
        new = sorted({aid for h in hashes for aid in ids_of.get(h, ())})
        known = [matcher.state(index, q.query) for q in questions]
        found = matcher.match(index, [q.query for q in questions], new)
        report.questions += len(questions)
        report.articles = max(report.articles, len(new))
        with store.db.write() as db:
            for question, matches, before in zip(questions, found, known, strict=True):
                if _record(db, index, question, mark, top, matches, new, report):
                    now = matcher.state(index, question.query)
                    if now is not None and not now.same(before):
                        save(db, model, question.id, now)
            fault_point("alerts-before-commit")
        fault_point("alerts-after-commit")
    report.seconds = time.perf_counter() - started
    return report


def _restore(
    store: AlertStore,
    index: Index,
    matcher: Matcher,
    model: str,
    questions: list[StandingQuestion],
) -> None:
    """Give ``matcher`` what the alerts file kept of the questions it knows nothing of (a
    process that just started): their encodings and last rankings (:mod:`.state`)."""
    unknown = [q for q in questions if matcher.state(index, q.query) is None]
    if not unknown:
        return
    with store.db.read() as db:
        kept = load(db, model, [q.id for q in unknown])
    for question in unknown:
        state = kept.get(question.id)
        if state is not None and not matcher.restore(index, question.query, state):
            log.warning("standing question %s: its kept encoding does not fit the model: "
                        "encoded again", question.id)  # fmt: skip


def _record(
    db: sqlite3.Connection,
    index: Index,
    question: StandingQuestion,
    mark: int,
    top: int,
    matches: list[Match],
    new: list[str],
    report: CheckReport,
) -> bool:
    """Write one question's outcome and move its mark (inside the caller's transaction);
    False if it was removed or another process checked it meanwhile."""
    story_of = index.ranker.story_of
    matched = {m.article_id for m in matches}
    row = db.execute(
        "SELECT mark, webhook_url FROM questions WHERE id = ?", (question.id,)
    ).fetchone()
    if row is None or row["mark"] != mark:  # removed, or checked by another process
        report.skipped.append(question.id)
        return False
    fresh: list[int] = []
    for match in matches:
        aid = match.article_id
        copies = [a for a in story_of.get(aid, ()) if a != aid]
        answer = _linked(db, index, question.id, copies, aid)
        if answer is None:
            fresh.append(_insert(db, index, question.id, match))
        elif answer >= 0:
            report.joined += _join(db, index, question.id, answer, match.article_id)
    for aid in new:  # copies of reported stories that did not match on their own
        group = story_of.get(aid, ())
        if aid in matched or len(group) < 2:
            continue
        answer = _linked(db, index, question.id, [a for a in group if a != aid])
        if answer is not None and answer >= 0:
            report.joined += _join(db, index, question.id, answer, aid)
    if fresh and row["webhook_url"]:
        batch_id = str(uuid.uuid4())
        body = _batch_body(db, batch_id, question, fresh)
        enqueue(db, batch_id, question.id, row["webhook_url"], body)
        report.batches += 1
    db.execute("UPDATE questions SET mark = ? WHERE id = ?", (top, question.id))
    report.answers += len(fresh)
    return True


def _linked(
    db: sqlite3.Connection,
    index: Index,
    question_id: str,
    copies: list[str],
    article_id: str | None = None,
) -> int | None:
    """The answer of this question that already tells the story of ``copies`` (other
    articles of the arriving article's near-duplicate group) or of ``article_id`` (the
    arriving article, when it matched): its id; -1 when ``article_id`` itself was reported
    and this version still tells the same story (an edit: nothing to do); None when there is
    none."""
    ids = [*copies, *([article_id] if article_id else [])]
    if not ids:
        return None
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT l.article_id, a.id, a.signature FROM answer_articles l "
        f"JOIN answers a ON a.id = l.answer_id "
        f"WHERE l.question_id = ? AND l.article_id IN ({marks}) ORDER BY a.id",
        (question_id, *ids),
    ).fetchall()
    own = [r for r in rows if r["article_id"] == article_id]
    if own:  # an earlier version of this very article was reported
        signature = index.stored.stories.signatures.get(article_id, "")
        return -1 if any(_same_story(signature, r["signature"]) for r in own) else None
    return rows[0]["id"] if rows else None


def _same_story(a: str, b: str) -> bool:
    """Whether two encoded MinHash signatures are near-duplicates (False if unreadable)."""
    try:
        sa, sb = duplicates.decode_signature(a), duplicates.decode_signature(b)
    except ValueError:
        return False
    return duplicates.similarity(sa, sb) >= duplicates.THRESHOLD


def _insert(db: sqlite3.Connection, index: Index, question_id: str, match: Match) -> int:
    now = now_text()
    content_hash = index.manifest.articles.get(match.article_id, "")
    signature = index.stored.stories.signatures.get(match.article_id, "")
    done = db.execute(
        "INSERT INTO answers (uid, question_id, article_id, content_hash, signature, score, "
        "hit, also_in, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)",
        (str(uuid.uuid4()), question_id, match.article_id, content_hash, signature,
         match.score, hit_to_json(match.hit), now, now),
    )  # fmt: skip
    answer_id = done.lastrowid
    for aid in [match.article_id, *(c.source for c in match.hit.duplicates)]:
        _link(db, question_id, aid, answer_id)
    return answer_id


def _join(db: sqlite3.Connection, index: Index, question_id: str, answer_id: int, aid: str):
    """Add article ``aid`` to the answer's "also in"; 1 if it was not there yet."""
    row = db.execute("SELECT hit, also_in FROM answers WHERE id = ?", (answer_id,)).fetchone()
    also_in = copies_from_json(row["also_in"])
    known = {c.source for c in also_in} | {
        c["source"] for c in json.loads(row["hit"])["duplicates"]
    }
    _link(db, question_id, aid, answer_id)
    if aid in known or aid == json.loads(row["hit"])["source"]:
        return 0
    also_in += (copy_of(index.article(aid)),)
    db.execute(
        "UPDATE answers SET also_in = ?, updated = ? WHERE id = ?",
        (copies_to_json(also_in), now_text(), answer_id),
    )
    return 1


def _link(db: sqlite3.Connection, question_id: str, article_id: str, answer_id: int) -> None:
    db.execute(
        "INSERT OR IGNORE INTO answer_articles (question_id, article_id, answer_id) "
        "VALUES (?, ?, ?)",
        (question_id, article_id, answer_id),
    )


def _batch_body(
    db: sqlite3.Connection, batch_id: str, question: StandingQuestion, answer_ids: list[int]
) -> bytes:
    """The webhook body: the batch id, the question and its new answers (JSON, UTF-8)."""
    marks = ",".join("?" * len(answer_ids))
    rows = db.execute(f"SELECT * FROM answers WHERE id IN ({marks}) ORDER BY id", answer_ids)
    payload = {
        "id": batch_id,
        "type": "diploqa.answers",
        "created": now_text(),
        "question": {k: v for k, v in question.record().items() if k not in _COUNTS},
        "answers": [answer_from_row(row).record() for row in rows],
    }
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
