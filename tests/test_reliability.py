"""Faults and hostile input: damaged index files, a full or read-only disk, two builds at once,
and an articles folder full of junk. Every case ends in a clear error or a sane result, the
previous index keeps answering, and the next build recovers."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import GENEVA_QUESTION, NEW_ARTICLE, REPO

import diploqa
from diploqa import config
from diploqa.articles import load_articles, parse_article
from diploqa.cli import main
from diploqa.config import Settings
from diploqa.errors import IndexCorruptError, IndexMismatchError

KERRY = "Who did Kerry meet in Sochi?"
GAS_ARTICLE = """title: Gasstreit beigelegt
date: 2021-07-21

Gasstreit beigelegt

Die Vereinigten Staaten und Deutschland haben ihren Streit über die Ostsee-Pipeline Nord Stream 2
beigelegt. Washington verzichtet auf Sanktionen, Berlin sagt der Ukraine Hilfe beim Ausbau
erneuerbarer Energien zu und verspricht, auf Sanktionen zu drängen, falls Moskau Gas als Waffe
einsetzt.
"""
GAS_QUESTION = "Worauf verzichtet Washington im Streit um Nord Stream 2?"


def answers(index: diploqa.Index, question: str = KERRY, k: int = 5) -> list[tuple[str, int]]:
    return [(h.source, h.start) for h in index.search(question, k=k)]


def _generation(index_dir: Path) -> Path:
    return index_dir / json.loads((index_dir / "manifest.json").read_text())["generation"]


def _rewrite_metadata(index_dir: Path, change) -> None:
    """Apply ``change`` to the parsed metadata and store it with a *matching* checksum, as an
    attacker or a buggy tool would: only the structural checks can catch it."""
    gen = _generation(index_dir)
    meta = json.loads((gen / "metadata.json").read_text(encoding="utf-8"))
    meta = change(meta)
    data = json.dumps(meta).encode("utf-8")
    (gen / "metadata.json").write_bytes(data)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["files"]["metadata.json"] = hashlib.sha256(data).hexdigest()
    (index_dir / "manifest.json").write_text(json.dumps(manifest))


def _expect_corrupt_then_recover(
    articles: Path, index_dir: Path, match: str, recover: bool = True
) -> None:
    """A one-line IndexCorruptError naming the fix; then (a full re-embedding, so only where
    ``recover``) the next build notices and rebuilds."""
    with pytest.raises(IndexCorruptError, match=match) as err:
        diploqa.load_index(index_dir)
    assert "diploqa index --rebuild" in str(err.value)
    assert len(str(err.value).splitlines()) == 1
    if not recover:
        return
    recovered = diploqa.build_index(articles, index_dir)
    assert recovered.build_report.full_rebuild
    assert recovered.search(KERRY, k=1)[0].source == "001_50e04ee83bc37b66.txt"


# --------------------------------------------------------------------------------------------
# Damaged index files
# --------------------------------------------------------------------------------------------


def test_flipped_byte_in_faiss_file_is_caught_by_the_checksum(built):
    articles, index_dir = built
    path = _generation(index_dir) / "index.faiss"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in one vector: would silently change answers
    path.write_bytes(bytes(data))
    _expect_corrupt_then_recover(articles, index_dir, r"index\.faiss is corrupt \(checksum")


def _drop_last_chunk(meta):
    meta["chunks"].pop()
    return meta


def _offsets_out_of_range(meta):
    meta["chunks"][0]["end"] = 10**9
    return meta


def _offsets_shifted(meta):
    meta["chunks"][0]["start"] += 1
    return meta


def _negative_offset(meta):
    meta["chunks"][0]["start"] = -5
    return meta


def _unknown_article(meta):
    meta["chunks"][0]["article_id"] = "../../etc/passwd"
    return meta


def _article_missing(meta):
    meta["articles"].pop()
    return meta


def _title_is_a_number(meta):
    meta["articles"][0]["title"] = 42
    return meta


def _offset_is_a_string(meta):
    meta["chunks"][0]["start"] = "0"
    return meta


def _offset_is_a_bool(meta):
    meta["chunks"][0]["start"] = True
    return meta


def _extra_key(meta):
    meta["articles"][0]["__class__"] = "os.system"
    return meta


def _hash_changed(meta):
    meta["articles"][0]["content_hash"] = "0" * 64
    return meta


def _duplicate_article(meta):
    meta["articles"].append(meta["articles"][0])
    return meta


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_drop_last_chunk, "chunks, the manifest says"),
        (_offsets_out_of_range, "do not match its article"),
        (_offsets_shifted, "do not match its article"),
        (_negative_offset, "do not match its article"),
        (_unknown_article, "unknown article"),
        (_article_missing, "not the manifest's"),
        (_title_is_a_number, "title of type int"),
        (_offset_is_a_string, "start of type str"),
        (_offset_is_a_bool, "start of type bool"),
        (_extra_key, "does not have the fields"),
        (_hash_changed, "does not match the manifest's hash"),
        (_duplicate_article, "appears twice"),
        (lambda meta: [], "no list of articles"),
        (lambda meta: {"articles": meta["articles"]}, "no list of chunks"),
        (lambda meta: {**meta, "chunks": [None]}, "does not have the fields"),
    ],
)
def test_well_formed_but_wrong_metadata_is_refused(built, change, match):
    articles, index_dir = built
    _rewrite_metadata(index_dir, change)
    recover = change is _offsets_out_of_range
    _expect_corrupt_then_recover(articles, index_dir, f"cannot be parsed .*{match}", recover)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"dimension": "abc"}, "dimension 'abc' is not a positive"),
        ({"dimension": -384}, "dimension -384"),
        ({"dimension": True}, "dimension True"),
        ({"articles": []}, "articles is not a map"),
        ({"articles": {"a.txt": 5}}, "articles is not a map"),
        ({"files": None}, "files is not a map"),
        ({"files": {"index.faiss": "x"}}, "files is not a map"),
        ({"generation": "../../../etc"}, "no valid generation"),
        ({"generation": "gen-000001\n"}, "no valid generation"),
        ({"generation": 7}, "no valid generation"),
        ({"model": 42}, "model is not a name"),
        ({"chunking": "big"}, "chunking is not a map"),
        ({"n_chunks": -1}, "n_chunks -1"),
    ],
)
def test_manifest_with_wrong_types_is_a_clear_error(built, changes, match):
    articles, index_dir = built
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest.update(changes)
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    recover = "dimension" in changes
    _expect_corrupt_then_recover(
        articles, index_dir, f"manifest.json is corrupt .*{match}", recover
    )


@pytest.mark.parametrize(
    "text", ["[]", "null", "42", '"manifest"', "[" * 100_000 + "]" * 100_000, "\x00\xff"]
)
def test_manifest_that_is_not_an_object_is_a_clear_error(built, text, capsys):
    articles, index_dir = built
    (index_dir / "manifest.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    assert main(["search", "Sotschi", "--index", str(index_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "manifest.json" in err and "--rebuild" in err
    assert len(err.strip().splitlines()) == 1
    _expect_corrupt_then_recover(articles, index_dir, "manifest.json", recover=text == "[]")


def test_metadata_nested_too_deep_is_a_clear_error(built):
    articles, index_dir = built
    deep = ("[" * 200_000 + "]" * 200_000).encode()
    gen = _generation(index_dir)
    (gen / "metadata.json").write_bytes(deep)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["files"]["metadata.json"] = hashlib.sha256(deep).hexdigest()
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    _expect_corrupt_then_recover(articles, index_dir, "cannot be parsed", recover=False)


def test_format_version_from_the_future_asks_for_a_rebuild(built):
    _, index_dir = built
    manifest = json.loads((index_dir / "manifest.json").read_text())
    manifest["format_version"] = "2-beta"
    (index_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match=r"format '2-beta'.*--rebuild"):
        diploqa.load_index(index_dir)


@pytest.mark.parametrize("name", ["index.faiss", "metadata.json", "manifest.json"])
def test_each_index_file_deleted_is_named_and_rebuild_recovers(built, name):
    articles, index_dir = built
    path = index_dir / name if name == "manifest.json" else _generation(index_dir) / name
    path.unlink()
    _expect_corrupt_then_recover(articles, index_dir, name.replace(".", r"\."), recover=False)


@pytest.mark.parametrize("name", ["index.faiss", "metadata.json", "manifest.json"])
def test_each_index_file_truncated_is_named_and_rebuild_recovers(built, name):
    articles, index_dir = built
    path = index_dir / name if name == "manifest.json" else _generation(index_dir) / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    _expect_corrupt_then_recover(articles, index_dir, name.replace(".", r"\."))


# --------------------------------------------------------------------------------------------
# Disk full and read-only index folder: real file systems in a private mount namespace
# --------------------------------------------------------------------------------------------


def _mount_namespace_reason() -> str | None:
    if not shutil.which("unshare"):
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        return f"cannot mount a tmpfs in a private mount namespace: {probe.stderr.strip()}"
    return None


needs_mounts = pytest.mark.skipif(
    _mount_namespace_reason() is not None, reason=str(_mount_namespace_reason())
)

# Runs inside `unshare -m` (a private mount namespace: the mounts vanish with the script).
# $1 mount point, $2 old index, $3 articles, $4 "full:<free bytes>" or "readonly",
# $5 where to copy the index folder afterwards for inspection, $6 the python interpreter.
_FAULT_SCRIPT = r"""
set -e
mount -t tmpfs -o size=8m tmpfs "$1"
cp -a "$2" "$1/index"
case "$4" in
  full:*)
    "$6" -c 'import os, sys
st = os.statvfs(sys.argv[1]); free = st.f_bavail * st.f_frsize
with open(sys.argv[1] + "/filler", "wb") as fh:
    fh.write(b"x" * max(0, free - int(sys.argv[2])))' "$1" "${4#full:}" ;;
  readonly) mount -o remount,ro "$1" ;;
esac
set +e
"$6" -m diploqa.cli index --articles "$3" --index "$1/index" >"$5.out" 2>"$5.err"
echo $? >"$5.rc"
cp -a "$1/index" "$5"
"""


def _build_on_faulty_disk(tmp_path: Path, index_dir: Path, articles: Path, mode: str):
    mnt, out = tmp_path / "mnt", tmp_path / "after"
    mnt.mkdir()
    script = tmp_path / "fault.sh"
    script.write_text(_FAULT_SCRIPT)
    args = [str(mnt), str(index_dir), str(articles), mode, str(out), sys.executable]
    subprocess.run(["unshare", "-m", "sh", str(script), *args], check=True, timeout=600)
    rc = int(Path(f"{out}.rc").read_text())
    return rc, Path(f"{out}.err").read_text(), out


@needs_mounts
@pytest.mark.slow
@pytest.mark.parametrize("free", [0, 60_000])
def test_disk_full_during_a_build_keeps_the_old_index(built, tmp_path, free):
    articles, index_dir = built
    before = answers(diploqa.load_index(index_dir))
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    rc, err, after = _build_on_faulty_disk(tmp_path, index_dir, articles, f"full:{free}")

    assert rc == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: cannot write the index to")
    assert "No space left on device; the previous index is unchanged" in last
    assert "Traceback" not in err
    # Nothing half-written is left: only the old generation, no temporary manifest.
    leftovers = sorted(p.name for p in after.iterdir())
    assert leftovers == sorted(p.name for p in index_dir.iterdir())
    survivor = diploqa.load_index(after)
    assert answers(survivor) == before and len(survivor.articles) == 5
    recovered = diploqa.build_index(articles, after)  # with space again, the update works
    assert recovered.build_report.added == ["005_genf.txt"]
    assert recovered.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"


@needs_mounts
@pytest.mark.slow
def test_read_only_index_folder_is_a_clear_error(built, tmp_path):
    articles, index_dir = built
    before = answers(diploqa.load_index(index_dir))
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")

    rc, err, after = _build_on_faulty_disk(tmp_path, index_dir, articles, "readonly")

    assert rc == 1, err
    assert err.strip().splitlines()[-1] == (
        f"error: index folder {tmp_path / 'mnt' / 'index'} is not writable; "
        "the previous index is unchanged"
    )
    assert answers(diploqa.load_index(after)) == before


def test_write_error_in_process_cleans_up_and_keeps_the_old_index(built, monkeypatch):
    """The same path without mounts: the metadata write fails with EIO."""
    from diploqa.store.faiss import location as folder

    articles, index_dir = built
    before = answers(diploqa.load_index(index_dir))
    names_before = sorted(p.name for p in index_dir.iterdir())
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    real = folder.write_synced

    def failing(path, data):
        if path.name == "metadata.json":
            raise OSError(5, "Input/output error", str(path))
        real(path, data)

    monkeypatch.setattr(folder, "write_synced", failing)
    with pytest.raises(diploqa.DiploqaError, match="Input/output error; the previous index"):
        diploqa.build_index(articles, index_dir)
    assert sorted(p.name for p in index_dir.iterdir()) == names_before
    assert answers(diploqa.load_index(index_dir)) == before
    monkeypatch.setattr(folder, "write_synced", real)
    assert diploqa.build_index(articles, index_dir).build_report.added == ["005_genf.txt"]


# --------------------------------------------------------------------------------------------
# Two builds of the same index at once
# --------------------------------------------------------------------------------------------


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} ({_logging_state()})")
        time.sleep(0.1)


def _logging_state() -> str:
    """What decides whether a warning reaches caplog: once, in CI, none did (both tests below
    that read warnings failed in one worker); this says why if it happens again."""
    root = logging.getLogger()
    loggers = root.manager.loggerDict.items()
    off = [n for n, lg in loggers if n.startswith("diploqa") and getattr(lg, "disabled", 0)]
    return (f"root level {root.level}, handlers {root.handlers}, filters {root.filters}, "
            f"disable {root.manager.disable}, diploqa loggers disabled: {off}")  # fmt: skip


@pytest.mark.slow
def test_two_builds_at_once_wait_for_each_other(built, tmp_path, capsys, caplog):
    """A ``diploqa index`` process holds the folder's lock; a second build (here, in this
    process) waits for it instead of writing beside it, then adds what it finds."""
    articles, index_dir = built
    gate = tmp_path / "gate"
    (articles / "005_genf.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    args = ["index", "--articles", str(articles), "--index", str(index_dir)]
    env = {**os.environ, "DIPLOQA_FAULT": "pause:before-write", "DIPLOQA_FAULT_GATE": str(gate)}
    a_out, a_err = tmp_path / "a.out", tmp_path / "a.err"
    a = None
    b_exit: list[int] = []
    b = threading.Thread(target=lambda: b_exit.append(main(args)), daemon=True)
    try:
        with a_out.open("w") as out, a_err.open("w") as err:
            a = subprocess.Popen([sys.executable, "-m", "diploqa.cli", *args], stdout=out,
                                 stderr=err, env=env)  # fmt: skip
        # A holds the lock, paused just before it writes its generation.
        _wait_for(lambda: Path(f"{gate}.reached").exists(), 300, "build A to take the lock")
        (articles / "006_gas.txt").write_text(GAS_ARTICLE, encoding="utf-8")
        capsys.readouterr()
        b.start()
        _wait_for(lambda: "another build" in caplog.text, 300, "build B to wait for A")
        time.sleep(1)
        assert b.is_alive()  # B waits; it does not write beside A
        gate.touch()
        assert a.wait(timeout=300) == 0, a_err.read_text()
        b.join(timeout=300)
        assert b_exit == [0]
    finally:
        gate.touch()
        if a is not None and a.poll() is None:
            a.kill()
            a.wait()
        b.join(timeout=300)

    assert "1 added" in a_out.read_text()  # 005
    assert "1 added, 0 updated, 0 removed, 6 unchanged" in capsys.readouterr().out  # 006
    final = diploqa.load_index(index_dir)
    assert len(final.articles) == 7
    assert final.search(GENEVA_QUESTION, k=1)[0].source == "005_genf.txt"
    assert final.search(GAS_QUESTION, k=1)[0].source == "006_gas.txt"
    fresh = diploqa.build_index(articles, tmp_path / "fresh")
    assert final.stored.chunks == fresh.stored.chunks
    assert len(list(index_dir.glob("gen-*"))) <= 2


# --------------------------------------------------------------------------------------------
# An articles folder full of hostile files, indexed end to end
# --------------------------------------------------------------------------------------------

UMLAUT_ARTICLE = (
    "title: Gespräche über Atomwaffen\n\n"
    "Die Außenminister äußerten sich in Genf über die Zukunft des Abrüstungsvertrags. "
    "Größere Fortschritte gab es nicht, man vereinbarte aber weitere Gespräche.\n"
)


def _hostile_folder(root: Path) -> Path:
    root.mkdir()
    (root / "empty.txt").write_bytes(b"")
    (root / "whitespace.txt").write_bytes(b"  \n\t\r\n   \n")
    (root / "debris.md").write_text(
        "Zum Inhalt springen\nZur SZ-Startseite\n(Foto: AFP)\nTeilen\n***\n", encoding="utf-8"
    )
    (root / "bild.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    with (root / "huge.txt").open("wb") as fh:  # 50 MB of real text
        line = ("Kerry traf Lawrow in Sotschi und sprach über Syrien. " * 20 + "\n").encode()
        for _ in range(50 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    (root / "cp1252.txt").write_bytes(
        UMLAUT_ARTICLE.replace("Genf", "Wien").encode("cp1252")
        + "Sie nannten das Treffen „konstruktiv“ – mehr nicht.\n".encode("cp1252")
    )
    (root / "latin1.txt").write_bytes(
        "Treffen in Helsinki\n\nDie Präsidenten trafen sich in Helsinki zu einem Gipfel "
        "über Rüstungskontrolle und Cyberangriffe; Ergebnisse blieben aus.\n".encode("latin-1")
    )
    (root / "utf16.md").write_bytes(
        "Sanktionen gegen Ölfirmen\n\nDie USA verhängten Sanktionen gegen zwei große "
        "russische Ölfirmen, Moskau kündigte Gegenmaßnahmen an.\n".encode("utf-16")  # with BOM
    )
    (root / "mixed endings.txt").write_bytes(
        b"Waffenruhe in Aleppo\r\n\r\nDie Waffenruhe in Aleppo hielt nur wenige Stunden.\r"
        b"Beide Seiten warfen sich Verst\xc3\xb6\xc3\x9fe vor.\n\nDie UN forderten Zugang.\r\n"
    )
    (root / "zero width.txt").write_text(
        "Gefangenen\u200baustausch in Abu\u00a0Dhabi\n\nRussland und die USA tausch\u00adten "
        "in Abu Dhabi zwei Gefangene aus.\x07\x1b Der Austausch war\u200d lange "
        "vorbereitet worden.\u2028Beide Seiten bestätigten ihn.\n",
        encoding="utf-8",
    )
    (root / "Ümläute und Leerzeichen.md").write_text(UMLAUT_ARTICLE, encoding="utf-8")
    (root / "twin a.txt").write_text(GAS_ARTICLE, encoding="utf-8")
    (root / "twin b.txt").write_text(GAS_ARTICLE, encoding="utf-8")
    (root / ".hidden.txt").write_text(UMLAUT_ARTICLE, encoding="utf-8")
    (root / "..dots.txt").write_text(UMLAUT_ARTICLE, encoding="utf-8")
    os.mkfifo(root / "pipe.txt")  # reading it would block forever
    shutil.copy(REPO / "seeds" / "001_50e04ee83bc37b66.txt", root / "sotschi.txt")
    return root


def test_hostile_articles_folder_is_indexed_sensibly(tmp_path, caplog):
    articles = _hostile_folder(tmp_path / "articles")
    started = time.perf_counter()
    index = diploqa.build_index(articles, tmp_path / "index")
    assert time.perf_counter() - started < 120  # the 50 MB file is never read

    skipped = {s.path: s.reason for s in index.build_report.skipped}
    assert set(skipped) == {
        "empty.txt",
        "whitespace.txt",
        "debris.md",
        "bild.txt",
        "huge.txt",
        "pipe.txt",
        "twin b.txt",
    }
    assert skipped["twin b.txt"] == "same title, date and text as twin a.txt"
    assert skipped["huge.txt"].startswith("too large (50.0 MB; articles over 2.0 MB")
    assert "binary" in skipped["bild.txt"] and "empty" in skipped["debris.md"]
    assert skipped["pipe.txt"] == "not a regular file"
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert all(name in warnings for name in skipped), (warnings, _logging_state())

    ids = {a.id for a in index.articles}
    assert ids == {
        "cp1252.txt",
        "latin1.txt",
        "utf16.md",
        "mixed endings.txt",
        "zero width.txt",
        "Ümläute und Leerzeichen.md",
        "twin a.txt",
        "sotschi.txt",
    }  # hidden files (leading dot) are not articles, by design
    texts = {a.id: a.text for a in index.articles}
    assert "„konstruktiv“ – mehr nicht" in texts["cp1252.txt"]
    assert "Präsidenten" in texts["latin1.txt"] and "Ölfirmen" in texts["utf16.md"]
    assert "\r" not in texts["mixed endings.txt"] and "Verstöße" in texts["mixed endings.txt"]
    zero = texts["zero width.txt"]
    assert "Gefangenenaustausch" in zero and "tauschten" in zero
    assert not any(ch in zero for ch in "\u200b\u200d\u00ad\x07\x1b\u2028")

    assert index.search("Sanktionen gegen Ölfirmen", k=1)[0].source == "utf16.md"
    assert index.search("Gipfel in Helsinki", k=1)[0].source == "latin1.txt"
    assert index.search("Gefangenenaustausch Abu Dhabi", k=1)[0].source == "zero width.txt"
    hits = index.search(GAS_QUESTION, k=2)  # the same text under two names: found once
    assert hits[0].source == "twin a.txt" and hits[1].text != hits[0].text
    assert index.search(KERRY, k=1)[0].source == "sotschi.txt"


@pytest.mark.parametrize(
    "raw",
    [
        "\n".join(f"{'a' * 30} {i}" for i in range(60_000)),  # shared prefixes
        "\n".join(f"Zeile {i} mit ein paar verschiedenen Wörtern darin" for i in range(45_000)),
        "x" * 2_000_000,  # one line, no spaces, no sentence end
        ("ab " * 40) + "y" * 2_000_000,
        "Kerry traf Lawrow. " * 100_000,
        ".\n" * 1_000_000,
    ],
    ids=["shared-prefixes", "distinct-lines", "one-word", "long-title", "one-line", "dots"],
)
def test_cleaning_a_hostile_2mb_article_is_fast(raw):
    started = time.perf_counter()
    with contextlib.suppress(diploqa.ArticlesError):
        parse_article(raw, "x.txt")
    assert time.perf_counter() - started < 20  # was quadratic: minutes to hours


def test_size_limit_is_configurable(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("Kerry traf Lawrow. " * 100, encoding="utf-8")
    monkeypatch.setenv("DIPLOQA_MAX_ARTICLE_BYTES", "1000")
    articles, skipped = load_articles(tmp_path, limits=Settings.from_env().limits)
    assert not articles and skipped[0].reason.startswith("too large")
    monkeypatch.setenv("DIPLOQA_MAX_ARTICLE_BYTES", str(config.MAX_ARTICLE_BYTES))
    assert len(load_articles(tmp_path, limits=Settings.from_env().limits)[0]) == 1
