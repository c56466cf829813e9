"""What the matcher knows of each standing question, kept in the alerts file.

Encoding a question and ranking it over the whole archive is most of a check's work; a
:class:`~.matching.Matcher` keeps both in memory, and this module keeps them in the alerts
file too, so that a restarted server (or ``diploqa alerts check`` from a cron job) only ranks
what the new articles may change instead of encoding and ranking every question again while
searches wait for the same cores. A row holds the question's raw encoding (bytes with their
dtype and shape: no pickle) and its last ranking's bar (:meth:`~.matching.Matcher.state`).

A row is used only for the model and runtime that wrote it and in this module's
:data:`STATE_VERSION`; anything else, and a row that cannot be read, is ignored (logged): the
question is then encoded and ranked as if new, and its row is written again. Rows are written
in the transaction that moves the questions' marks (:mod:`.check`), and go with their question.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

#: The layout of a row; rows of another version are ignored (and written again).
STATE_VERSION = 1


@dataclass(frozen=True)
class QuestionState:
    """A question's raw encoding and, once ranked, its last ranking's rank-th best score
    (``bar``) and first articles with their content hashes (``top``)."""

    vector: np.ndarray
    bar: float | None = None
    top: tuple[tuple[str, str], ...] = ()

    def same(self, other: QuestionState | None) -> bool:
        """Whether ``other`` holds the same values (nothing to write again)."""
        return (
            other is not None
            and (self.bar, self.top) == (other.bar, other.top)
            and self.vector.shape == other.vector.shape
            and bool(np.array_equal(self.vector, other.vector))
        )


def model_key(model_id: str, backend: str, ranking: object) -> str:
    """What a row depends on: the encoder's model and runtime (the encoding) and the
    ranking's settings (the bar)."""
    settings = hashlib.sha256(repr(ranking).encode()).hexdigest()[:16]
    return f"{model_id}|{backend}|{settings}"


def load(db: sqlite3.Connection, model: str, ids: Iterable[str]) -> dict[str, QuestionState]:
    """The readable rows of questions ``ids`` written for ``model`` in this version."""
    wanted = list(ids)
    out: dict[str, QuestionState] = {}
    for start in range(0, len(wanted), 500):  # SQLite's limit on parameters
        part = wanted[start : start + 500]
        marks = ",".join("?" * len(part))
        rows = db.execute(
            f"SELECT * FROM question_state WHERE question_id IN ({marks}) AND model = ? "
            f"AND version = ?",
            (*part, model, STATE_VERSION),
        ).fetchall()
        for row in rows:
            try:
                out[row["question_id"]] = _decode(row)
            except (ValueError, TypeError, KeyError) as err:
                log.warning("standing question %s: its kept state is unreadable (%s): "
                            "ranked again", row["question_id"], err)  # fmt: skip
    return out


def save(db: sqlite3.Connection, model: str, question_id: str, state: QuestionState) -> None:
    """Write ``state`` as the question's row (inside the caller's transaction)."""
    vector = np.ascontiguousarray(state.vector)
    bar = state.bar if state.bar is not None and math.isfinite(state.bar) else None
    db.execute(
        "INSERT OR REPLACE INTO question_state (question_id, model, version, vector, dtype, "
        "shape, bar, top) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (question_id, model, STATE_VERSION, vector.tobytes(), vector.dtype.str,
         json.dumps(list(vector.shape)), bar, json.dumps([list(t) for t in state.top])),
    )  # fmt: skip


def _decode(row: sqlite3.Row) -> QuestionState:
    dtype = np.dtype(row["dtype"])
    if dtype.kind != "f":
        raise ValueError(f"the encoding's type is {dtype}, not a float")
    shape = tuple(int(n) for n in json.loads(row["shape"]))
    vector = np.frombuffer(row["vector"], dtype=dtype).reshape(shape).copy()
    if not np.isfinite(vector).all():
        raise ValueError("the encoding holds no numbers")
    top = tuple((str(a), str(h)) for a, h in json.loads(row["top"] or "[]"))
    bar = None if row["bar"] is None else float(row["bar"])
    return QuestionState(vector, bar, top if bar is not None else ())
