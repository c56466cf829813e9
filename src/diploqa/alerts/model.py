"""The values of standing questions: a followed question, an answer found for it, what a check
did, and their JSON records (one shape for the JSON API, the webhook and the CLI)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import DiploqaError
from ..hits import Copy, Hit
from ..query import Query

#: The user whose questions a server without accounts (and the CLI without ``--users``) keeps.
LOCAL_USER = "local"


class AlertsError(DiploqaError):
    """The alerts file cannot be opened or is damaged, or a standing question cannot be
    added as asked (a bad name, webhook or filter)."""


class NotFound(AlertsError):
    """No standing question with this id, or not one of this user's."""


@dataclass(frozen=True)
class StandingQuestion:
    """A question a user follows: its query (the question and its filters) and where new
    answers go besides the inbox and the feed (``webhook``, a URL, or None).

    Attributes:
        id: 12 hex digits, in ``/feeds/<id>.atom`` and ``/api/alerts/<id>``.
        uid: a UUID, the Atom feed's permanent id.
        mark: the last arrival (:class:`~.store.AlertStore`'s sequence of article versions)
            checked against it; later ones are new to it.
        unread: answers not yet marked read (filled by listings, else 0).
    """

    id: str
    uid: str
    user: str
    name: str
    query: Query
    created: str
    webhook: str | None = None
    mark: int = 0
    unread: int = 0
    answers: int = 0

    @property
    def feed_path(self) -> str:
        return f"/feeds/{self.id}.atom"

    def record(self) -> dict[str, Any]:
        """JSON-ready: what the API lists (never a secret)."""
        params = self.query.to_params()
        return {
            "id": self.id,
            "name": self.name,
            "user": self.user,
            "question": self.query.question,
            "outlet": list(self.query.outlet),
            "since": params.get("since"),
            "until": params.get("until"),
            "source": params.get("source"),
            "webhook": self.webhook,
            "created": self.created,
            "feed": self.feed_path,
            "unread": self.unread,
            "answers": self.answers,
        }


@dataclass(frozen=True)
class Followed:
    """What following a question returns: the question, and its secrets in plain, once (only
    their hash, or for the webhook the secret itself, is kept)."""

    question: StandingQuestion
    feed_key: str
    webhook_secret: str | None = None

    @property
    def feed_url(self) -> str:
        """The feed's path with its secret, for a feed reader (no sign-in needed)."""
        return f"{self.question.feed_path}?key={self.feed_key}"


@dataclass(frozen=True)
class Answer:
    """An article that answers a standing question, found after it was followed.

    Attributes:
        hit: the article's best passage for the question, as a search shows it (its
            ``duplicates``: the copies the index held when it was found).
        also_in: copies of the story that arrived later (another outlet's print), added here
            instead of being reported again.
        created, updated: when it was found, and when a copy last joined it (ISO, UTC).
    """

    id: int
    uid: str
    question_id: str
    hit: Hit
    created: str
    updated: str
    read: bool = False
    also_in: tuple[Copy, ...] = ()

    @property
    def copies(self) -> tuple[Copy, ...]:
        """Every other printing known: the index's at the time, then later arrivals."""
        known = {c.source for c in self.hit.duplicates}
        return self.hit.duplicates + tuple(c for c in self.also_in if c.source not in known)

    def record(self) -> dict[str, Any]:
        hit = self.hit
        return {
            "id": self.id,
            "question_id": self.question_id,
            "score": round(hit.score, 4),
            "title": hit.title,
            "source": hit.source,
            "date": hit.date,
            "date_text": hit.date_text,
            "outlet": hit.outlet,
            "url": hit.url,
            "text": hit.text,
            "answer_sentence": hit.highlighted_sentence,
            "also_in": [asdict(c) for c in self.copies],
            "found": self.created,
            "updated": self.updated,
            "read": self.read,
        }


@dataclass
class CheckReport:
    """What one check did: standing questions checked, new or changed articles they were
    matched against, answers found, copies joined to earlier answers, webhook batches queued."""

    questions: int = 0
    articles: int = 0
    answers: int = 0
    joined: int = 0
    batches: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)  # questions another checker did meanwhile

    def summary(self) -> str:
        return (
            f"{self.questions} standing question(s) checked against {self.articles} new or "
            f"changed article(s): {self.answers} new answer(s), {self.joined} copy(ies) joined "
            f"to earlier answers, {self.batches} webhook batch(es) queued; {self.seconds:.1f} s"
        )


def hit_to_json(hit: Hit) -> str:
    return json.dumps(asdict(hit), ensure_ascii=False)


def hit_from_json(text: str) -> Hit:
    data = json.loads(text)
    data["highlight"] = tuple(data["highlight"])
    data["duplicates"] = tuple(Copy(**c) for c in data["duplicates"])
    return Hit(**data)


def copies_to_json(copies: tuple[Copy, ...]) -> str:
    return json.dumps([asdict(c) for c in copies], ensure_ascii=False)


def copies_from_json(text: str) -> tuple[Copy, ...]:
    return tuple(Copy(**c) for c in json.loads(text))
