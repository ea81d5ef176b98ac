"""Server mode: archives whose chunks live on a real Chroma server (``chroma run`` on
127.0.0.1), shared by several processes.  The rest of the suite runs in this mode too
under ``pytest --chroma=server``; these tests are about what only that mode does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE_ARCHIVE, stored_chunks
from pressqa import Archive, Settings
from pressqa.chroma_server import chroma_server, free_port
from pressqa.errors import StoreError

ZAPAD = "Which exercises did Russia join in China in 2021?"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pressqa.cli", *args], capture_output=True, text=True, check=True)


def test_an_ingest_in_one_process_is_answered_by_others(tmp_path: Path, chroma_url: str) -> None:
    folder = tmp_path / "archive"
    with Archive.open(settings=Settings(archive=folder, chroma_url=chroma_url)) as reader:
        assert reader.search(ZAPAD) == []
        cli("ingest", str(SAMPLE_ARCHIVE), "--archive", str(folder), "--chroma-url", chroma_url, "-q")
        # The reader, open all along, serves the other process's ingest (dense and keyword side).
        hits = reader.search(ZAPAD)
        assert hits and "ZAPAD" in " ".join(hit.text for hit in hits)
        assert reader.check().problems == ()
        asked = cli("ask", ZAPAD, "--archive", str(folder), "--chroma-url", chroma_url, "--json")
    answer = json.loads(asked.stdout)
    assert "ZAPAD/INTERACTION" in answer["text"]
    assert {citation["date"] for citation in answer["citations"]} >= {"2021-08-13"}
    assert not (folder / "chroma").exists()  # the chunks are on the server, not in the folder


def test_archives_on_one_server_keep_to_their_own_releases(tmp_path: Path, chroma_url: str) -> None:
    first, second = (tmp_path / name / "archive" for name in ("first", "second"))
    (tmp_path / "one.md").write_text("# Lighthouse restored\n\nThe Giordan lighthouse on Gozo was restored.\n")
    with (
        Archive.open(settings=Settings(archive=first, chroma_url=chroma_url)) as one,
        Archive.open(settings=Settings(archive=second, chroma_url=chroma_url)) as other,
    ):
        one.ingest([tmp_path / "one.md"])
        other.ingest([SAMPLE_ARCHIVE])
        assert [hit.title for hit in one.search("Giordan lighthouse")] == ["Lighthouse restored"]
        assert "Lighthouse restored" not in {hit.title for hit in other.search("Giordan lighthouse")}
        assert one.stats().chunks == len(stored_chunks(one))


def test_an_archive_opened_in_the_wrong_mode_says_where_its_chunks_are(tmp_path: Path, chroma_url: str) -> None:
    served, local = tmp_path / "served", tmp_path / "local"
    Archive.open(settings=Settings(archive=served, chroma_url=chroma_url)).close()
    Archive.open(settings=Settings(archive=local, chroma_url=None)).close()
    with pytest.raises(StoreError, match="keeps its chunks on a Chroma server; pass --chroma-url"):
        Archive.open(settings=Settings(archive=served, chroma_url=None))
    with pytest.raises(StoreError, match="keeps its chunks in its own folder"):
        Archive.open(settings=Settings(archive=local, chroma_url=chroma_url))


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match=f"cannot reach the Chroma server at {url}.*chroma run"):
        Archive.open(settings=Settings(archive=tmp_path / "archive", chroma_url=url))
    failed = subprocess.run(
        [sys.executable, "-m", "pressqa.cli", "stats", "--archive", str(tmp_path / "archive"), "--chroma-url", url],
        capture_output=True,
        text=True,
    )
    assert failed.returncode != 0 and "cannot reach the Chroma server" in failed.stderr


def test_the_suites_archives_keep_their_chunks_where_the_run_asked(archive: Archive, chroma_mode: str) -> None:
    assert json.loads((archive.path / "pressqa.json").read_text())["chroma"] == chroma_mode
    assert (archive.path / "chroma").exists() == (chroma_mode == "embedded")


def test_a_server_without_the_archives_collection_is_named_not_served_empty(tmp_path: Path, chroma_url: str) -> None:
    folder = tmp_path / "archive"
    (tmp_path / "one.md").write_text("# Lighthouse restored\n\nThe Giordan lighthouse on Gozo was restored.\n")
    with Archive.open(settings=Settings(archive=folder, chroma_url=chroma_url)) as archive:
        archive.ingest([tmp_path / "one.md"])
    with chroma_server(tmp_path / "other-server") as other:  # say, a fresh server after a data loss
        expected = f"the Chroma server at {other} has no collection pressqa-"
        with pytest.raises(StoreError, match=expected):
            Archive.open(settings=Settings(archive=folder, chroma_url=other))


def test_a_server_that_stops_answering_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text("# Lighthouse restored\n\nThe Giordan lighthouse on Gozo was restored.\n")
    with chroma_server(tmp_path / "server") as url:
        archive = Archive.open(settings=Settings(archive=tmp_path / "archive", chroma_url=url))
        archive.ingest([tmp_path / "one.md"])
    stopped = f"the Chroma server at {url} stopped answering .*start it again and rerun"
    with pytest.raises(StoreError, match=stopped):
        archive.search("Giordan lighthouse")
    with pytest.raises(StoreError, match=stopped):  # reading every chunk, page by page
        archive.check()
    archive.close()
