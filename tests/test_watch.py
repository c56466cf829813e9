"""Watch mode: file events become one call per settled batch; ``diploqa index --watch``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import NEW_ARTICLE
from watchfiles import Change

from diploqa.watch import ArticleEventFilter, FolderChanges, FolderWatcher, folder_snapshot

SETTLE = 0.5
#: Longest wait for a call that should come (events, debounce, settle, a loaded machine).
CALL_TIMEOUT = 20.0


class Watching:
    """A FolderWatcher on ``root`` in a thread, recording every call it makes."""

    def __init__(self, root: Path, on_change: Callable[[FolderChanges], None] | None, **kw):
        self.root = root
        self.calls: list[FolderChanges] = []
        self._called = threading.Condition()
        self._extra = on_change
        self.watcher = FolderWatcher(root, self._record, debounce_ms=200, **kw)
        self.thread: threading.Thread | None = None

    def _record(self, changes: FolderChanges) -> None:
        if self._extra is not None:
            self._extra(changes)
        with self._called:
            self.calls.append(changes)
            self._called.notify_all()

    def start(self, since) -> Watching:
        self.thread = threading.Thread(target=self.watcher.run, args=(since,), daemon=True)
        self.thread.start()
        time.sleep(0.3)  # let watchfiles set up its watches (a change before is caught anyway)
        return self

    def wait_calls(self, count: int, timeout: float = CALL_TIMEOUT) -> list[FolderChanges]:
        with self._called:
            assert self._called.wait_for(lambda: len(self.calls) >= count, timeout), (
                f"expected {count} calls within {timeout} s, got {self.calls}"
            )
            return list(self.calls)

    def stop(self) -> None:
        self.watcher.stop()
        if self.thread is not None:
            self.thread.join(timeout=10)
            assert not self.thread.is_alive(), "the watcher did not stop"


@pytest.fixture
def watch(tmp_path) -> Iterator[Callable[..., Watching]]:
    """Start a watcher on ``tmp_path/articles``: ``watch(since=..., on_change=..., settle=...)``."""
    root = tmp_path / "articles"
    root.mkdir()
    started: list[Watching] = []

    def start(since="now", on_change=None, settle: float = SETTLE) -> Watching:
        since = folder_snapshot(root) if since == "now" else since
        watching = Watching(root, on_change, settle=settle).start(since)
        started.append(watching)
        return watching

    yield start
    for watching in started:
        watching.stop()


def test_created_changed_and_deleted_files_each_hand_over_once(watch):
    w = watch()
    (w.root / "sub").mkdir()
    (w.root / "a.txt").write_text("Erster Artikel", encoding="utf-8")
    (w.root / "sub" / "b.md").write_text("Zweiter Artikel", encoding="utf-8")
    assert w.wait_calls(1)[0] == FolderChanges(added=("a.txt", "sub/b.md"))
    # One call for the batch, however many events it made: a second call about it would come
    # before the next change's.
    (w.root / "a.txt").write_text("Erster Artikel, geändert", encoding="utf-8")
    assert w.wait_calls(2)[1] == FolderChanges(changed=("a.txt",))
    (w.root / "sub" / "b.md").unlink()
    assert w.wait_calls(3)[2] == FolderChanges(removed=("sub/b.md",))
    (w.root / "c.txt").write_text("Dritter Artikel", encoding="utf-8")  # the same again
    assert w.wait_calls(4)[3:] == [FolderChanges(added=("c.txt",))]


def test_hidden_and_other_files_are_ignored(watch):
    w = watch()
    (w.root / ".hidden.txt").write_text("x", encoding="utf-8")
    (w.root / ".git").mkdir()
    (w.root / ".git" / "in-hidden-folder.txt").write_text("x", encoding="utf-8")
    for name in ("notes.pdf", "a.txt~", "draft.txt.swp", "README"):
        (w.root / name).write_text("x", encoding="utf-8")
    # A call about the files above would come before (or with) the call about this one.
    (w.root / "C.TXT").write_text("Artikel", encoding="utf-8")  # suffixes in any case
    assert w.wait_calls(1) == [FolderChanges(added=("C.TXT",))]


def test_a_file_written_in_chunks_is_handed_over_only_when_complete(watch):
    seen: list[str] = []
    chunks = [f"Absatz {n}: " + "Lawrow und Blinken verhandeln. " * 40 + "\n" for n in range(6)]
    w = watch(on_change=lambda _: seen.append(path.read_text(encoding="utf-8")), settle=1.0)
    path = w.root / "langsam.txt"
    with path.open("w", encoding="utf-8") as out:
        for chunk in chunks:  # six chunks over 1.5 s, as a slow copy would write them
            out.write(chunk)
            out.flush()
            time.sleep(0.3)
    assert w.calls == []  # nothing handed over while the file was being written
    w.wait_calls(1)
    assert seen[0] == "".join(chunks)


def test_a_change_while_the_callback_runs_is_handed_over_next(watch):
    def on_change(changes: FolderChanges) -> None:
        if changes.added == ("a.txt",):  # as if a file arrived during a long build
            (root / "late.txt").write_text("spät", encoding="utf-8")

    w = watch(on_change=on_change)
    root = w.root
    (root / "a.txt").write_text("früh", encoding="utf-8")
    calls = w.wait_calls(2)
    assert calls[1] == FolderChanges(added=("late.txt",))


def test_without_a_snapshot_the_folder_is_handed_over_once_at_start(watch, tmp_path):
    (tmp_path / "articles" / "a.txt").write_text("x", encoding="utf-8")
    w = watch(since=None)
    assert w.wait_calls(1)[0] == FolderChanges(added=("a.txt",), initial=True)
    (w.root / "b.txt").write_text("y", encoding="utf-8")  # a second start call would come first
    assert w.wait_calls(2)[1:] == [FolderChanges(added=("b.txt",))]


def test_a_file_written_before_the_os_watch_is_in_place_is_found_at_the_first_wake(
    watch, tmp_path, monkeypatch
):
    """Between the start's comparison and the moment watchfiles has its watch in place, a new
    file sends no event: the first wake compares again instead of leaving it to the rescan."""
    from diploqa import watch as watch_module

    real = watch_module.watch

    def late(root, **kw):  # the file lands in the window, before the watch is set up
        (Path(root) / "im-fenster.txt").write_text("x", encoding="utf-8")
        return real(root, **kw)

    monkeypatch.setattr(watch_module, "watch", late)
    w = watch()
    assert w.wait_calls(1, timeout=watch_module.RESCAN_SECONDS / 3) == [
        FolderChanges(added=("im-fenster.txt",))
    ]


def test_a_folder_moved_in_counts_with_all_its_files(watch, tmp_path):
    w = watch()
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ("x.txt", "y.md"):
        (outside / name).write_text(name, encoding="utf-8")
    time.sleep(1)
    outside.rename(w.root / "neu")  # one event, for the folder only
    assert w.wait_calls(1)[0] == FolderChanges(added=("neu/x.txt", "neu/y.md"))
    (w.root / "neu").rename(tmp_path / "gone")
    assert w.wait_calls(2)[1] == FolderChanges(removed=("neu/x.txt", "neu/y.md"))


def test_an_error_in_the_callback_does_not_end_watching(watch):
    failed = threading.Event()

    def on_change(changes: FolderChanges) -> None:
        if "bad.txt" in changes.added:
            failed.set()
            raise RuntimeError("the build failed")

    w = watch(on_change=on_change)
    (w.root / "bad.txt").write_text("x", encoding="utf-8")
    assert failed.wait(CALL_TIMEOUT), "bad.txt was not handed over"
    (w.root / "good.txt").write_text("x", encoding="utf-8")
    assert w.wait_calls(1)[-1] == FolderChanges(added=("good.txt",))
    assert w.thread.is_alive()


def test_snapshot_and_filter(tmp_path):
    root = tmp_path / "articles"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for name in ("a.txt", "sub/b.MD", ".hidden/c.txt", "sub/.d.txt", "e.pdf"):
        (root / name).write_text("x", encoding="utf-8")
    assert sorted(folder_snapshot(root)) == ["a.txt", "sub/b.MD"]
    assert folder_snapshot(tmp_path / "missing") == {}

    keep = ArticleEventFilter(root)
    assert keep(Change.added, str(root / "a.txt"))
    assert keep(Change.modified, str(root / "sub" / "b.MD"))
    assert keep(Change.added, str(root / "sub"))  # a folder: its files count
    assert keep(Change.deleted, str(root / "gone-folder"))
    assert not keep(Change.deleted, str(root / "gone.pdf"))
    assert not keep(Change.added, str(root / ".hidden" / "c.txt"))
    assert not keep(Change.added, str(root / "sub" / ".d.txt"))
    assert not keep(Change.added, str(root / "e.pdf"))
    assert not keep(Change.added, str(tmp_path / "elsewhere.txt"))


def test_settle_and_debounce_come_from_config(monkeypatch, tmp_path):
    from diploqa import config

    assert FolderWatcher(tmp_path, print).settle == config.WATCH_SETTLE_SECONDS
    monkeypatch.setenv("DIPLOQA_WATCH_SETTLE", "2.5")
    monkeypatch.setenv("DIPLOQA_WATCH_DEBOUNCE_MS", "300")
    watcher = FolderWatcher(tmp_path, print, settings=config.Settings.from_env().watch)
    assert (watcher.settle, watcher.debounce_ms) == (2.5, 300)
    monkeypatch.setenv("DIPLOQA_WATCH_SETTLE", "soon")
    with pytest.raises(ValueError, match="DIPLOQA_WATCH_SETTLE='soon' is not a number"):
        config.Settings.from_env()


# --------------------------------------------------------------------------------------------
# diploqa index --watch, in a subprocess
# --------------------------------------------------------------------------------------------


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


@pytest.mark.slow
def test_index_watch_adds_and_removes_files_and_ends_on_ctrl_c(built, tmp_path):
    articles, index_dir = built
    out, err = tmp_path / "watch.out", tmp_path / "watch.err"
    cmd = [sys.executable, "-m", "diploqa.cli", "index", "--watch"]
    cmd += ["--articles", str(articles), "--index", str(index_dir)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DIPLOQA_WATCH_SETTLE": "0.5"}
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            cmd,
            stdout=stdout,
            stderr=stderr,
            env=env,
            # Ctrl-C must reach Python even where the test runner ignores SIGINT.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    try:
        _wait_for(lambda: "watching" in err.read_text(), 180, "the first update", err)
        assert "5 unchanged" in out.read_text()

        started = time.monotonic()
        (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        _wait_for(lambda: "1 added" in out.read_text(), 60, "picking up a new file", out)
        added_after = time.monotonic() - started
        assert "1 added, 0 updated, 0 removed, 5 unchanged" in out.read_text()

        (articles / "005_genf.txt").unlink()
        shutil.copy(articles / "000_2ef6d3f0dcbaccb7.txt", articles / ".hidden.txt")
        _wait_for(lambda: "1 removed" in out.read_text(), 60, "picking up a deletion", out)
        assert "0 added, 0 updated, 1 removed, 5 unchanged" in out.read_text()
        assert len(out.read_text().splitlines()) == 3  # one summary line per update
        print(f"\nindex --watch: a new article was indexed {added_after:.1f} s after it appeared")

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, err.read_text()
        assert "stopped watching" in err.read_text()
        assert "Traceback" not in err.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
