"""``diploqa`` and its commands: index, search, eval, serve, users, tokens and alerts.

A thin shell over the Python API. The settings are resolved once (:meth:`Settings.from_env
<diploqa.config.Settings.from_env>`, the flags over them) and passed down. Every error a user
can cause ends as one line on stderr and exit status 1 (usage errors: 2), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import config
from .alerts import cli as alerts_cli
from .config import Settings
from .errors import DiploqaError
from .evaluation.command import add_eval_parser, run_eval
from .index_command import chunking_arg, run_index

if TYPE_CHECKING:
    from .articles import CsvColumns
    from .preload import Preload

#: Where an index lives, for every command that reads or writes one.
STORE_HELP = (
    "where the index lives: faiss (the --index folder, default), "
    "milvus://HOST:PORT[/NAME] or milvus-lite:PATH (DIPLOQA_STORE)"
)


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 1, not {number}")
    return number


def _csv_columns(value: str) -> CsvColumns:
    from .articles import CsvColumns

    try:
        return CsvColumns.parse(value)
    except DiploqaError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


_CSV_COLUMNS = "FIELD=COLUMN[,...]"
_CSV_COLUMNS_HELP = (
    "which columns of the CSV files hold the text and, where present, title, date, outlet, "
    "url, id: FIELD=COLUMN pairs, by number from 1 for files without a header line (every "
    "line an article), e.g. text=2 or text=2,title=1; or by the header's names, e.g. "
    "text=Inhalt,title=Titel. The separator (, ; tab) and quote (\" or ') are detected"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diploqa",
        description="Question answering over archives of German news.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or update the index from an articles folder")
    p.add_argument("--articles", type=Path, default=None, help="articles folder (./seeds)")
    p.add_argument("--index", type=Path, default=None, help="index folder (./index)")
    p.add_argument("--model", default=None, help=f"model name or path ({config.DEFAULT_MODEL})")
    p.add_argument("--rebuild", action="store_true", help="re-embed every article")
    p.add_argument(
        "--device",
        choices=config.DEVICES,
        default=None,
        help="embed on the CPU (default) or on a CUDA GPU with PyTorch (DIPLOQA_DEVICE); "
        "searching always runs on the CPU",
    )
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.add_argument(
        "--watch",
        action="store_true",
        help="then keep watching the articles folder and update the index on every change "
        "(Ctrl-C ends)",
    )
    p.add_argument("--csv-columns", type=_csv_columns, metavar=_CSV_COLUMNS, help=_CSV_COLUMNS_HELP)
    p.add_argument(
        "--passages",
        type=chunking_arg,
        metavar="TOKENS[/OVERLAP]",
        help="passage length and overlap in model tokens (default 160/32; shorter ones suit "
        "questions, longer ones headlines: docs/quality.md). The index keeps them until named "
        "again; a change re-embeds every article",
    )

    p = sub.add_parser("search", help="ask a question (German or English)")
    p.add_argument("question", nargs="+", help="the question")
    p.add_argument("--index", type=Path, default=None, help="index folder (./index)")
    p.add_argument("-k", type=_positive_int, default=5, help="number of passages (5)")
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.add_argument(
        "--outlet",
        action="append",
        default=None,
        help="only this outlet (case-insensitive; repeat for several)",
    )
    p.add_argument("--since", default=None, help="only articles dated from (2016, 2016-10, …)")
    p.add_argument("--until", default=None, help="only articles dated until (inclusive)")
    p.add_argument("--source", default=None, help="only article ids matching this glob")
    p.add_argument(
        "--per-article",
        type=_positive_int,
        default=None,
        help="at most this many passages of one article (default: no limit)",
    )
    p.add_argument(
        "--sort",
        default="relevance",
        help="relevance (default), or date: newest first, undated last",
    )
    p.add_argument(
        "--timeline",
        nargs="?",
        const="month",
        choices=("auto", "day", "week", "month", "year"),  # timeline.INTERVAL_CHOICES
        help="instead of passages, how many articles match per period (default month), as a "
        "histogram; give it after the question",
    )

    add_eval_parser(sub, _positive_int, STORE_HELP)
    p = sub.add_parser("serve", help="start the web UI")
    p.add_argument("--index", type=Path, default=None, help="index folder (./index)")
    p.add_argument("--articles", type=Path, default=None, help="articles folder (./seeds)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (7860)")
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.add_argument("--watch", action="store_true", help="update the index whenever article "
                   "files change (searches go on meanwhile)")  # fmt: skip
    p.add_argument(
        "--users",
        type=Path,
        default=None,
        help="users file: everyone signs in; readers search, editors also change the archive "
        "($DIPLOQA_USERS)",
    )
    p.add_argument("--public", action="store_true", help="no accounts: searching open to all "
                   "who can reach the server, editing switched off")  # fmt: skip
    p.add_argument("--csv-columns", type=_csv_columns, metavar=_CSV_COLUMNS, help=_CSV_COLUMNS_HELP)
    p.add_argument("--title", help="the page's heading (default: from the archive)")
    p.add_argument("--about", help="the line under it (default: what the archive holds)")
    p.add_argument("--examples", type=Path, metavar="FILE", help="example questions, one a "
                   "line (default: the archive's newest headlines)")  # fmt: skip
    p.add_argument("--page-config", type=Path, metavar="FILE", help="title, about and examples "
                   "(TOML; default INDEX/page.toml if there; the flags win)")  # fmt: skip
    alerts_cli.add_serve_flags(p)

    users_help = "users file ($DIPLOQA_USERS)"
    p = sub.add_parser("users", help="add, remove or list the accounts of `serve --users`")
    users = p.add_subparsers(dest="action", required=True)
    q = users.add_parser("add", help="add an account (the password is asked for)")
    q.add_argument("name")
    q.add_argument("--role", required=True, help="reader (search) or editor (also change)")
    q.add_argument(
        "--password-stdin", action="store_true", help="read the password as one line of stdin"
    )
    q.add_argument("--users", type=Path, default=None, help=users_help)
    q = users.add_parser("remove", help="remove an account and its tokens")
    q.add_argument("name")
    q.add_argument("--users", type=Path, default=None, help=users_help)
    q = users.add_parser("list", help="list the accounts")
    q.add_argument("--users", type=Path, default=None, help=users_help)

    p = sub.add_parser("tokens", help="API tokens for programs (Authorization: Bearer …)")
    tokens = p.add_subparsers(dest="action", required=True)
    q = tokens.add_parser("add", help="make a token for a user and print it once")
    q.add_argument("name", help="the user whose role the token carries")
    q.add_argument("--label", default="", help="what the token is for")
    q.add_argument("--users", type=Path, default=None, help=users_help)
    q = tokens.add_parser("revoke", help="revoke a token by its id, or all tokens of a user")
    q.add_argument("name", help="token id or user name")
    q.add_argument("--users", type=Path, default=None, help=users_help)
    q = tokens.add_parser("list", help="list the tokens (ids, never the secrets)")
    q.add_argument("--users", type=Path, default=None, help=users_help)
    alerts_cli.add_parser(sub, STORE_HELP)
    return parser


def _cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from .index import load_index
    from .query import Query
    from .search_text import print_hits, print_timeline

    # A bad question, number or date fails here, before the model and the index are loaded.
    query = Query(
        " ".join(args.question), args.k, outlet=args.outlet, since=args.since, until=args.until,
        source=args.source, per_article=args.per_article, sort=args.sort,
    )  # fmt: skip
    index = load_index(settings=settings)
    if args.timeline:
        print_timeline(index.timeline(query, args.timeline), query, args.json, sys.stdout)
    else:
        print_hits(index.search(query), query, args.json, sys.stdout)
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from .preload import start_preload

    # The models load on threads while the server starts (docs/benchmarks.md, cold start).
    preload = start_preload(settings.paths.index, settings.store, settings)
    try:
        return _serve(args, settings, preload)
    finally:
        preload.wait(60)  # a thread inside OpenVINO at interpreter exit would crash it


def _serve(args: argparse.Namespace, settings: Settings, preload: Preload) -> int:
    from .app.messages import ui_missing

    # Gradio is imported only once the server answers (diploqa.app.server): check it is there.
    for module in ("gradio", "uvicorn", "fastapi"):
        if importlib.util.find_spec(module) is None:
            raise DiploqaError(ui_missing(module))
    from .app.page_texts import texts_from_flags
    from .app.server import serve

    stopped = serve(
        host=args.host,
        port=args.port,
        watch=args.watch,
        users_file=settings.server.users_file,
        public=args.public,
        allow_private_webhooks=args.allow_private_webhooks,
        csv_columns=args.csv_columns,
        notify=lambda line: print(line, file=sys.stderr, flush=True),
        on_update=lambda line: print(line, flush=True),
        preload=preload,
        settings=settings,
        texts=texts_from_flags(args.title, args.about, args.examples),
        page_file=args.page_config,
    )
    code = 0
    if stopped.problem is not None:
        print(f"error: {stopped.problem}", file=sys.stderr)
        code = 1
    if stopped.cut_short:
        print("stopping: an index update was cut short; the index is as it was", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # a thread still inside OpenVINO at interpreter exit would crash it
    return code


def _users_path(settings: Settings) -> Path:
    path = settings.server.users_file
    if path is None:
        raise DiploqaError("no users file: give --users FILE or set DIPLOQA_USERS")
    return path


def _read_password(from_stdin: bool) -> str:
    """One line of stdin, or asked twice at the terminal (never an argument: a command line
    is visible to every user of the machine)."""
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("password again: ") != first:
        raise DiploqaError("the passwords differ")
    return first


def _cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from .auth import load_users, password_hasher, save_users
    from .auth.users import users_lock

    path = _users_path(settings)
    users = load_users(path, missing_ok=args.action == "add")
    if args.action == "list":
        for account in users.accounts.values():
            count = sum(t.user == account.name for t in users.tokens.values())
            print(f"{account.name}\t{account.role}\t{count} token(s)")
        return 0
    if args.action == "add":
        from .auth.users import check_name, check_role

        check_name(args.name)  # before asking for a password
        check_role(args.role)
        if args.name in users.accounts:
            raise DiploqaError(f"user {args.name!r} exists already: remove it first to change it")
        password = _read_password(args.password_stdin)
        with users_lock(path):  # read again: someone may have changed it meanwhile
            users = load_users(path, missing_ok=True)
            save_users(path, users.with_user(args.name, args.role, password, password_hasher()))
        print(f"added {args.role} {args.name!r} to {path}")
        return 0
    with users_lock(path):
        save_users(path, load_users(path).without_user(args.name))
    print(f"removed {args.name!r} and its tokens from {path}")
    return 0


def _cmd_tokens(args: argparse.Namespace, settings: Settings) -> int:
    from .auth import load_users, save_users
    from .auth.users import users_lock

    path = _users_path(settings)
    if args.action == "list":
        for token in load_users(path).tokens.values():
            print(f"{token.id}\t{token.user}\t{token.role}\t{token.created}\t{token.label}")
        return 0
    if args.action == "add":
        with users_lock(path):
            users, token = load_users(path).with_token(args.name, args.label)
            save_users(path, users)
        print(f"token for {args.name!r} (shown once, keep it secret):", file=sys.stderr)
        print(token)
        return 0
    with users_lock(path):
        users, gone = load_users(path).without_tokens(args.name)
        save_users(path, users)
    print(f"revoked {len(gone)} token(s): {', '.join(gone)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``diploqa`` console script."""
    args = _parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    if not args.verbose:
        for noisy in ("sentence_transformers", "transformers", "httpx", "bm25s", "pymilvus"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    commands = {
        "index": run_index,
        "search": _cmd_search,
        "eval": run_eval,
        "serve": _cmd_serve,
        "users": _cmd_users,
        "tokens": _cmd_tokens,
        "alerts": alerts_cli.run,
    }
    try:
        return commands[args.command](args, _settings(args))
    except DiploqaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the index was left as it was", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``diploqa search … | head``): not an error worth a traceback.
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as err:
        print(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of this command: the environment's, resolved once, with the flags the
    command has over them.

    Raises:
        SettingsError: a variable or a flag has a value it cannot take.
    """
    flags = ("articles", "index", "store", "model", "device")
    given = {name: getattr(args, name, None) for name in flags}
    settings = Settings.from_env().overridden(**given, users_file=getattr(args, "users", None))
    if alerts := getattr(args, "alerts", None):  # the --alerts of serve and of alerts
        settings = replace(settings, server=replace(settings.server, alerts_file=alerts))
    return settings


if __name__ == "__main__":
    sys.exit(main())
