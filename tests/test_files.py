"""The shared write-then-rename and checksum helpers."""

from __future__ import annotations

import hashlib

import pytest

from diploqa.files import atomic_write, build_folder, replacing, sha256_file


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
