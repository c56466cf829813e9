"""``diploqa alerts add|list|remove|check|feed-key``, and the flags ``diploqa serve`` takes for
standing questions (``--alerts``, ``--allow-private-webhooks``).

The CLI acts as the operator: on the server's machine, with the alerts file, it may list and
remove anyone's questions; it adds them for ``--user`` (a user of the ``--users`` file, whose
role decides whether a webhook may be set), or for the local user of a server without
accounts. ``check`` is what a cron job runs where no server does: the matching once, then
one delivery pass of the webhooks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DiploqaError

if TYPE_CHECKING:  # imported when an alerts command runs: ``diploqa`` itself starts light
    from ..config import Settings
    from .store import AlertStore

#: The user of a server without accounts (:data:`.model.LOCAL_USER`).
LOCAL_USER = "local"

_ALERTS_HELP = (
    "the standing questions' file (DIPLOQA_ALERTS; default alerts.sqlite3 beside the index)"
)
_PRIVATE_HELP = (
    "allow webhooks to loopback, link-local and private addresses (tests, intranets); "
    "refused by default so that a webhook cannot reach into the server's network"
)


def add_serve_flags(parser: argparse.ArgumentParser) -> None:
    """``serve --alerts FILE --allow-private-webhooks``."""
    parser.add_argument("--alerts", type=Path, default=None, help=_ALERTS_HELP)
    parser.add_argument("--allow-private-webhooks", action="store_true", help=_PRIVATE_HELP)


def add_parser(commands: argparse._SubParsersAction, store_help: str) -> None:
    """The ``alerts`` command and its actions (``--store`` explained as the main CLI does)."""
    p = commands.add_parser(
        "alerts", help="standing questions: be told when new articles answer them"
    )
    actions = p.add_subparsers(dest="action", required=True)

    def common(q: argparse.ArgumentParser, user: bool = True) -> None:
        q.add_argument("--alerts", type=Path, default=None, help=_ALERTS_HELP)
        if user:
            q.add_argument("--user", default=None, help="whose questions (default: all; "
                           f"for add: {LOCAL_USER!r} unless there is a users file)")  # fmt: skip
            q.add_argument("--users", type=Path, default=None, help="users file ($DIPLOQA_USERS)")

    q = actions.add_parser("add", help="follow a question; prints its id and feed path")
    q.add_argument("name", help="a few words to recognise it by")
    q.add_argument("question", help="the question, German or English")
    q.add_argument("--outlet", action="append", default=None, help="only this outlet (repeat)")
    q.add_argument("--since", default=None, help="only articles dated from (2016, 2016-10, …)")
    q.add_argument("--until", default=None, help="only articles dated until (inclusive)")
    q.add_argument("--source", default=None, help="only article ids matching this glob")
    q.add_argument("--webhook", default=None, help="POST each batch of new answers here")
    q.add_argument("--index", type=Path, default=None, help="index folder (./index)")
    q.add_argument("--store", default=None, help=store_help)
    q.add_argument("--allow-private-webhooks", action="store_true", help=_PRIVATE_HELP)
    common(q)
    q = actions.add_parser("list", help="list standing questions with unread answers")
    common(q)
    q = actions.add_parser("remove", help="stop following a question (its answers go too)")
    q.add_argument("id")
    common(q)
    q = actions.add_parser("feed-key", help="a new feed secret; the old feed URL stops")
    q.add_argument("id")
    common(q)
    q = actions.add_parser("check", help="match new articles once (for cron), send webhooks")
    q.add_argument("--index", type=Path, default=None, help="index folder (./index)")
    q.add_argument("--store", default=None, help=store_help)
    q.add_argument("--allow-private-webhooks", action="store_true", help=_PRIVATE_HELP)
    common(q, user=False)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``diploqa alerts ACTION`` with the resolved settings."""
    from .db import alerts_path
    from .store import AlertStore

    private = getattr(args, "allow_private_webhooks", False)
    store = AlertStore(alerts_path(settings), allow_private_webhooks=private)
    if args.action == "add":
        return _add(args, settings, store)
    if args.action == "list":
        return _list(args, store)
    if args.action == "remove":
        store.remove(args.id, args.user)
        print(f"removed standing question {args.id}")
        return 0
    if args.action == "feed-key":
        key = store.new_feed_key(args.id, args.user)
        print(f"/feeds/{args.id}.atom?key={key}")
        print("the old feed URL no longer works", file=sys.stderr)
        return 0
    return _check(settings, store)


def _add(args: argparse.Namespace, settings: Settings, store: AlertStore) -> int:
    from ..query import Query
    from ..store import location_of

    users_file = settings.server.users_file
    user, role = args.user or LOCAL_USER, "editor"
    if users_file is not None:
        from ..auth import load_users

        if not args.user:
            raise DiploqaError(f"give --user NAME: the users file {users_file} has accounts")
        role = load_users(users_file).role_of(args.user)
        if role is None:
            raise DiploqaError(f"no user {args.user!r} in {users_file}")
    query = Query(args.question, outlet=args.outlet, since=args.since, until=args.until,
                  source=args.source)  # fmt: skip
    location = location_of(settings)
    try:
        current = location.read_manifest().articles if location.has_index() else None
    finally:
        location.close()
    followed = store.add(args.name, query, user, args.webhook, role, current)
    print(followed.question.id)
    print(followed.feed_url)
    print(f"following {followed.question.name!r} for {user}; the feed's address (with its "
          "secret, shown once) goes after the server's, e.g. http://127.0.0.1:7860"
          f"{followed.question.feed_path}?key=…", file=sys.stderr)  # fmt: skip
    if followed.webhook_secret:
        print(followed.webhook_secret)
        print("the last line is the webhook's secret (shown once): the receiver checks the "
              "X-Diploqa-Signature header with it", file=sys.stderr)  # fmt: skip
    return 0


def _list(args: argparse.Namespace, store: AlertStore) -> int:
    from .outbox import Outbox

    pending = Outbox(store).pending()
    for q in store.questions(args.user):
        line = f"{q.id}\t{q.user}\t{q.unread} unread / {q.answers}\t{q.name}\t{q.query.question}"
        if q.webhook:
            waiting, error = pending.get(q.id, (0, None))
            line += f"\twebhook {q.webhook}" + (f" ({waiting} waiting: {error})" if waiting else "")
        print(line)
    return 0


def _check(settings: Settings, store: AlertStore) -> int:
    from ..index import load_index
    from ..store import location_of
    from .outbox import Outbox

    location = location_of(settings)
    try:
        if not location.has_index():
            raise DiploqaError(f"no index in {location.path}: build one with diploqa index")
        report = store.check(load_index(store=location, settings=settings))
    finally:
        location.close()
    print(report.summary())
    sent, failed = Outbox(store, hold=settings.server.webhook_hold_seconds).send_due()
    if sent or failed:
        print(f"webhooks: {sent} batch(es) delivered, {failed} to retry")
    return 0
