"""Damaged, read-only and full archives: a clear message naming the part and what to do, a
repair that rebuilds what it can and never drops what it cannot re-add unasked, and an
archive left as it was."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SAMPLE_ARCHIVE, raw_chroma
from pressqa import Archive, StoreError
from pressqa.cli import EXIT_ERROR, main
from test_crash_recovery import run_killed_after, synthetic_records

QUESTION = "Which exercises did Russia join in China in 2021?"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's MND releases (one a wire copy of another), ingested once; tests damage copies."""
    folder = tmp_path_factory.mktemp("built") / "archive"
    with Archive.open(folder) as archive:
        assert not archive.ingest([SAMPLE_ARCHIVE / "mnd"]).failed
    return folder


def copy_of(built: Path, tmp_path: Path) -> Path:
    # Under --chroma=server a copy names the same collection: these tests only damage its folder.
    target = tmp_path / "archive"
    shutil.copytree(built, target)
    return target


def registry_rows(folder: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(folder / "releases.sqlite3")) as db:
        return db.execute(
            "SELECT doc_id, title, source, date, url, origin, content_hash, text_hash, minhash, n_chunks, "
            "canonical_id, duplicate_kind, distributed_at FROM releases ORDER BY doc_id"
        ).fetchall()


def answered(folder: Path) -> tuple[str, list[str], dict[str, list[str]]]:
    with Archive.open(folder, create=False) as archive:
        answer = archive.ask(QUESTION)
        copies = {hit.doc_id: list(hit.copies) for hit in archive.search("ZAPAD/INTERACTION-2021 concludes", k=3)}
        return answer.text, [citation.doc_id for citation in answer.citations], copies


def delete_registry(folder: Path) -> None:
    for name in ("releases.sqlite3", "releases.sqlite3-wal", "releases.sqlite3-shm"):
        (folder / name).unlink(missing_ok=True)


def empty_registry(folder: Path) -> None:
    with contextlib.closing(sqlite3.connect(folder / "releases.sqlite3")) as db, db:
        db.execute("DELETE FROM releases")


def scramble_registry(folder: Path) -> None:
    delete_registry(folder)
    (folder / "releases.sqlite3").write_bytes(os.urandom(40960))


@pytest.mark.parametrize("damage", [delete_registry, empty_registry, scramble_registry])
def test_a_lost_registry_is_an_error_and_repair_rebuilds_it_from_chroma(
    built: Path, tmp_path: Path, damage: object, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of(built, tmp_path)
    rows, before = registry_rows(folder), answered(folder)
    assert any(row[10] for row in rows), "the sample's wire copy is linked to its original"
    damage(folder)  # type: ignore[operator]

    # Not an empty archive that abstains: an error that names the registry and the repair.
    assert main(["ask", QUESTION, "--archive", str(folder)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert "release registry" in error and "pressqa check --repair" in error
    assert main(["check", "--archive", str(folder)]) == EXIT_ERROR
    assert "release(s) whole in Chroma that the registry does not list so" in capsys.readouterr().out

    assert main(["check", "--archive", str(folder), "--repair"]) == 0
    assert "consistent" in capsys.readouterr().out
    # Every registry field back as an ingest wrote it, duplicate links included; the same answer.
    assert registry_rows(folder) == rows
    assert answered(folder) == before
    assert main(["check", "--archive", str(folder)]) == 0


@pytest.mark.parametrize("damage", ["{", None])
def test_a_damaged_or_lost_manifest_is_named_and_rewritten_from_the_registry(
    built: Path, tmp_path: Path, damage: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of(built, tmp_path)
    before = answered(folder)
    if damage is None:
        (folder / "pressqa.json").unlink()
    else:
        (folder / "pressqa.json").write_text(damage)
    assert main(["stats", "--archive", str(folder)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert ("pressqa.json is missing" if damage is None else "pressqa.json is damaged") in error
    assert "check --repair` rewrites it from its copy in the registry" in error
    # An ingest does not take the folder for a new archive (a new id, perhaps another model).
    assert main(["ingest", str(SAMPLE_ARCHIVE / "doj"), "--archive", str(folder), "-q"]) == EXIT_ERROR
    assert main(["check", "--archive", str(folder), "--repair"]) == 0
    assert answered(folder) == before


@pytest.mark.slow
def test_a_damaged_vector_store_is_named_with_what_to_do(
    built: Path, tmp_path: Path, chroma_mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if chroma_mode == "server":
        pytest.skip("the chunks live on the Chroma server, not in the archive folder")
    folder = copy_of(built, tmp_path)
    database = folder / "chroma" / "chroma.sqlite3"
    with database.open("r+b") as handle:
        handle.truncate(database.stat().st_size // 2)
    assert main(["ask", QUESTION, "--archive", str(folder)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert f"the vector store {folder / 'chroma'} cannot be read" in error
    assert "restore" in error and "backup" in error
    assert main(["check", "--archive", str(folder)]) == EXIT_ERROR  # check cannot do without it either


def test_repair_drops_what_it_cannot_re_add_only_with_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "archive"  # its own: under --chroma=server, copies of `built` share its chunks
    with Archive.open(folder) as archive:
        archive.ingest([SAMPLE_ARCHIVE / "mnd"])
        total = archive.stats().releases
    client, name = raw_chroma(folder)
    collection = client.get_collection(name, embedding_function=None)
    chunks = collection.get(include=["metadatas"])
    victim = str(chunks["metadatas"][0]["doc_id"])  # type: ignore[index]
    collection.delete(ids=[chunks["ids"][0]])  # a release loses a chunk
    assert main(["check", "--archive", str(folder), "--repair"]) == EXIT_ERROR
    shown = capsys.readouterr().out
    assert f"PROBLEM: 1 release(s) missing chunks in Chroma: {victim} (--repair --force drops them)" in shown
    with Archive.open(folder) as archive:
        assert archive.stats().releases == total  # nothing dropped unasked

    assert main(["check", "--archive", str(folder), "--repair", "--force"]) == 0
    assert "consistent" in capsys.readouterr().out
    with Archive.open(folder) as archive:
        assert archive.stats().releases == total - 1
        # The next ingest of the source brings it back whole.
        assert archive.ingest([SAMPLE_ARCHIVE / "mnd"]).added == (victim,)
        assert archive.check().ok


@pytest.mark.slow
def test_check_reports_an_interrupted_write_before_finishing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "r.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in synthetic_records(3, seed=5)))
    folder = tmp_path / "archive"
    run_killed_after("Registry.write", "ingest", str(source), "--archive", str(folder), "-q")

    assert main(["check", "--archive", str(folder)]) == EXIT_ERROR
    assert "PROBLEM: 3 release write(s) left unfinished by an interrupted run" in capsys.readouterr().out
    assert main(["check", "--archive", str(folder), "--repair"]) == 0
    shown = capsys.readouterr().out
    assert "repaired: 3 release write(s) left unfinished" in shown and "consistent" in shown


@contextlib.contextmanager
def mounted(*arguments: str) -> Iterator[None]:
    """``mount ARGUMENTS``, undone after; skips where this user may not mount (tests run as root in CI)."""
    target = arguments[-1]
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()}); needs root")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], check=True)


def test_a_read_only_archive_is_searched_and_asked_but_not_written(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = copy_of(built, tmp_path)
    before = answered(folder)
    view = tmp_path / "read-only"
    view.mkdir()
    with mounted("--bind", "-o", "ro", str(folder), str(view)):
        assert answered(view) == before
        assert main(["stats", "--archive", str(view)]) == 0
        assert "releases: 9" in capsys.readouterr().out
        assert main(["ingest", str(SAMPLE_ARCHIVE / "doj"), "--archive", str(view), "-q"]) == EXIT_ERROR
        assert "cannot be written (Read-only file system)" in capsys.readouterr().err
        with Archive.open(view) as archive, pytest.raises(StoreError, match="can be searched and asked"):
            archive.delete(before[1][0])
    assert answered(folder) == before


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, as a user runs it (and reruns it)."""
    return subprocess.run([sys.executable, "-m", "pressqa.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_full_disk_is_named_and_leaves_the_archive_as_it_was(tmp_path: Path, chroma_mode: str) -> None:
    if chroma_mode == "server":
        pytest.skip("the chunks live on the Chroma server's disk, which this test does not fill")
    disk = tmp_path / "disk"
    disk.mkdir()
    # Each command in its own process, as a user runs them: after a write failed for a full
    # disk, Chroma's in-process client sometimes never answers the next write of the same
    # process (a lock its Rust core keeps); a new process is not affected.
    with mounted("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)):
        folder = str(disk / "archive")
        assert cli("ingest", str(SAMPLE_ARCHIVE / "doj"), "--archive", folder, "-q").returncode == 0
        filler = disk / "filler"
        with filler.open("wb") as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        os.truncate(filler, filler.stat().st_size - 150_000)  # room to open the archive, not to write it

        failed = cli("ingest", str(SAMPLE_ARCHIVE / "mnd"), "--archive", folder, "-q")
        assert failed.returncode == EXIT_ERROR
        assert f"the disk holding archive {folder} is full" in failed.stderr and "Free some space" in failed.stderr

        filler.unlink()
        assert json.loads(cli("stats", "--archive", folder, "--json").stdout)["releases"] == 7
        assert cli("check", "--archive", folder).returncode == 0
        assert json.loads(cli("ask", "How much will Boeing pay?", "--archive", folder, "--json").stdout)["citations"]
        assert cli("ingest", str(SAMPLE_ARCHIVE / "mnd"), "--archive", folder, "-q").returncode == 0
        assert json.loads(cli("stats", "--archive", folder, "--json").stdout)["releases"] == 16
        assert cli("check", "--archive", folder).returncode == 0


def test_a_registry_restored_from_an_older_backup_is_brought_forward(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "doj"
    shutil.copytree(SAMPLE_ARCHIVE / "doj", source)
    folder = tmp_path / "archive"
    assert main(["ingest", str(source), "--archive", str(folder), "-q"]) == 0
    backup = tmp_path / "backup.sqlite3"
    with (
        contextlib.closing(sqlite3.connect(folder / "releases.sqlite3")) as db,
        contextlib.closing(sqlite3.connect(backup)) as copy,
    ):
        db.backup(copy)
    boeing = source / "2021-01-07-boeing-deferred-prosecution.txt"
    boeing.write_text(boeing.read_text() + "\n\nThe independent monitor is Zorblatt Compliance LLC.")
    assert main(["ingest", str(source), "--archive", str(folder), "-q"]) == 0
    delete_registry(folder)
    shutil.copy(backup, folder / "releases.sqlite3")  # the registry as it was before the update
    capsys.readouterr()

    # The registry lists the old version, Chroma holds only the new one whole: the new one is kept.
    assert main(["check", "--archive", str(folder), "--repair"]) == 0
    with Archive.open(folder) as archive:
        assert archive.stats().releases == 7 and archive.check().ok
        (hit,) = archive.search("Zorblatt Compliance monitor", k=1)
        assert hit.title.startswith("Boeing") and "Zorblatt" in archive.ask("Who is the independent monitor?").text
