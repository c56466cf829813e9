"""``diploqa index``: build or update the index once, or keep it up to date (``--watch``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .config import ChunkingConfig, Settings
from .errors import DiploqaError, SettingsError


def chunking_arg(value: str) -> ChunkingConfig:
    """``--passages TOKENS[/OVERLAP]``, checked (a usage error names what is wrong)."""
    from .chunking import parse_chunking  # the articles' readers: only where a build runs

    try:
        return parse_chunking(value)
    except SettingsError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def run_index(args: argparse.Namespace, settings: Settings) -> int:
    """``diploqa index``: build or update once, or (``--watch``) then on every change."""
    from tqdm import tqdm

    from .build import build_index

    def update(rebuild: bool) -> None:
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = tqdm(total=total, unit="passage", desc="embedding", file=sys.stderr)
            bar.update(done - bar.n)

        try:
            index = build_index(
                rebuild=rebuild,
                progress=progress,
                chunking=args.passages,
                csv_columns=args.csv_columns,
                settings=settings,
            )
        finally:
            if bar is not None:
                bar.close()
        report = index.build_report
        for skipped in report.skipped:
            print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
        print(f"{index.path}: {report.summary()}", flush=True)

    if not args.watch:
        update(args.rebuild)
        return 0
    return _watch_index(args, settings, update)


def _watch_index(
    args: argparse.Namespace, settings: Settings, update: Callable[[bool], None]
) -> int:
    """``diploqa index --watch``: build, then update on every settled change until Ctrl-C.

    A failed update is reported and watching goes on; Ctrl-C (also during an update, which
    then leaves the index as it was) ends with status 0.
    """
    from .articles import check_articles_dir
    from .encoders import get_encoder
    from .watch import FolderWatcher, folder_snapshot

    articles = settings.paths.articles
    if not articles.is_dir():
        check_articles_dir(articles)  # the one-line error of a plain `diploqa index`

    def update_reporting_errors(rebuild: bool) -> None:
        try:
            update(rebuild)
        except DiploqaError as err:
            print(f"error: {err}", file=sys.stderr, flush=True)

    try:
        since = folder_snapshot(articles)  # before the build reads the folder
        update_reporting_errors(args.rebuild)
        # The first inference pays for compiling the model: before any file waits for it.
        get_encoder(settings=settings.encoder).encode_passages(["Lawrow traf Blinken in Genf."])
        print(f"watching {articles} for changes (Ctrl-C ends)", file=sys.stderr, flush=True)
        watcher = FolderWatcher(
            articles, lambda _: update_reporting_errors(False), settings=settings.watch
        )
        watcher.run(since)
    except KeyboardInterrupt:
        print("stopped watching; the index is as the last finished update left it", file=sys.stderr)
        return 0
    return 0
