"""The shared write-then-rename and checksum helpers."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from diploqa.files import atomic_write, build_folder, made_once, replacing, sha256_file


@pytest.mark.parametrize("fsync", [True, False])
def test_atomic_write_replaces_the_content_and_leaves_no_temporary_file(tmp_path, fsync):
    path = tmp_path / "manifest.json"
    atomic_write(path, b"first", fsync=fsync)
    assert path.read_bytes() == b"first"
    atomic_write(path, b"second, longer", fsync=fsync)
    assert path.read_bytes() == b"second, longer"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary_one(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError), replacing(path) as scratch:
        assert scratch.parent == tmp_path and scratch.name.startswith(".data.bin.")
        scratch.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_build_folder_renames_in_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with pytest.raises(RuntimeError), build_folder(target, ".build-") as (_, out):
        out.mkdir()
        (out / "half").write_text("x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with build_folder(target, ".build-") as (_, out):
        out.mkdir()
        (out / "weights").write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (target / "weights").read_text() == "x"


def test_sha256_file(tmp_path):
    path = tmp_path / "blob"
    data = bytes(range(256)) * 5000  # more than one 1 MiB block
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_atomic_write_gives_the_mode_a_plain_write_would(tmp_path):
    """The index is shared by a team: its manifest must not become private to its writer."""
    import os
    import stat

    from diploqa.files import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.json", b"{}")
        assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644
        (tmp_path / "kept.json").write_bytes(b"x")
        (tmp_path / "kept.json").chmod(0o640)
        atomic_write(tmp_path / "kept.json", b"y")
        assert stat.S_IMODE((tmp_path / "kept.json").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_build_folder_keeps_the_folder_another_process_renamed_in_first(tmp_path):
    target = tmp_path / "model"
    with build_folder(target, ".build-") as (_, out):
        out.mkdir()
        (out / "weights").write_text("mine")
        target.mkdir()  # another process (two test workers, two servers) got there first
        (target / "weights").write_text("theirs")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (target / "weights").read_text() == "theirs"


MAKER = """
import sys, time
from pathlib import Path
from diploqa.files import made_once

target, calls = Path(sys.argv[1]), Path(sys.argv[2])
def make(_, out):
    with calls.open("a") as log:
        log.write("made\\n")
    time.sleep(0.5)  # long enough for the others to find the folder missing
    out.mkdir()
    (out / "model.bin").write_text("whole")
print(made_once(target, ".make-", lambda t: (t / "model.bin").is_file(), make))
"""


def test_made_once_makes_a_folder_once_for_processes_started_together(tmp_path):
    target, calls = tmp_path / "cache" / "model", tmp_path / "calls"
    makers = [
        subprocess.Popen([sys.executable, "-c", MAKER, str(target), str(calls)],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    assert [p.communicate(timeout=60)[0].strip() for p in makers] == [str(target)] * 3
    assert calls.read_text() == "made\n"
    assert (target / "model.bin").read_text() == "whole"
    assert [p.name for p in target.parent.iterdir()] == ["model"]  # no lock file left


def test_made_once_after_a_failed_make_the_next_caller_makes_it(tmp_path):
    target = tmp_path / "model"

    def ready(folder):
        return (folder / "model.bin").is_file()

    def fail(_, out):
        out.mkdir()
        raise RuntimeError("interrupted")

    def make(_, out):
        out.mkdir()
        (out / "model.bin").write_text("whole")

    with pytest.raises(RuntimeError):
        made_once(target, ".make-", ready, fail)
    assert not target.exists()
    assert made_once(target, ".make-", ready, make) == target
    assert made_once(target, ".make-", ready, fail) == target  # ready: not made again
    assert (target / "model.bin").read_text() == "whole"
