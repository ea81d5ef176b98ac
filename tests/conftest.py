"""Shared fixtures: real Chroma in temporary folders, the real packaged embedding model.

``pytest --chroma=server`` runs the whole suite again with every archive keeping its chunks
on a real Chroma server (``chroma run`` on 127.0.0.1, started here for the session), through
``PRESSQA_CHROMA_URL``, which subprocesses inherit too."""

from __future__ import annotations

import os

# Before pressqa or any HF library is imported: nothing may reach the network.
os.environ.update({"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "GRADIO_ANALYTICS_ENABLED": "False"})

import contextlib
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from pressqa import Archive, IngestReport, Settings
from pressqa.chroma_server import chroma_server
from pressqa.store import Store, StoredChunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

REPO = Path(__file__).resolve().parent.parent
SAMPLE_ARCHIVE = REPO / "ingest" / "sample-archive"


@contextlib.contextmanager
def store_of(archive: Archive) -> Iterator[Store]:
    """The archive's store opened beside it, through the store package's own interface: it
    reads what the archive has committed."""
    store = Store(archive.path, archive.settings, create=False)
    try:
        yield store
    finally:
        store.close()


def stored_chunks(archive: Archive) -> list[StoredChunk]:
    """Every chunk the archive's Chroma collection holds, of any version."""
    with store_of(archive) as store:
        return list(store.all_chunks())


def raw_chroma(folder: Path) -> tuple[ClientAPI, str]:
    """Chroma itself, as another program reaches an archive's chunks: a client and the name
    of the archive's collection.  Tests damage archives through it, as a user's mistake
    or another tool would; pressqa is only ever used through its own interface."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    quiet = ChromaSettings(anonymized_telemetry=False)
    url = os.environ.get("PRESSQA_CHROMA_URL")
    if url is None:
        return chromadb.PersistentClient(path=str(folder / "chroma"), settings=quiet), "chunks"
    server = urlsplit(url)
    archive_id = json.loads((folder / "pressqa.json").read_text())["id"]
    client = chromadb.HttpClient(host=server.hostname or "", port=server.port or 80, settings=quiet)
    return client, f"pressqa-{archive_id}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chroma",
        choices=["embedded", "server"],
        default="embedded",
        help="where the tests' archives keep their chunks: in their folders, or on a Chroma server",
    )


@pytest.fixture(scope="session", autouse=True)
def chroma_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """Under ``--chroma=server``, every archive the tests open uses one session-wide server."""
    if request.config.getoption("chroma") == "embedded":
        yield "embedded"
        return
    with tempfile.TemporaryDirectory(prefix="pressqa-chroma-") as folder, chroma_server(Path(folder)) as url:
        os.environ["PRESSQA_CHROMA_URL"] = url
        try:
            yield "server"
        finally:
            del os.environ["PRESSQA_CHROMA_URL"]


@pytest.fixture(scope="session")
def chroma_url(chroma_mode: str) -> Iterator[str]:
    """A Chroma server's URL, for the tests about server mode itself (in either run)."""
    if chroma_mode == "server":
        yield os.environ["PRESSQA_CHROMA_URL"]
    else:
        with tempfile.TemporaryDirectory(prefix="pressqa-chroma-") as folder, chroma_server(Path(folder)) as url:
            yield url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(archive=tmp_path / "archive")


@pytest.fixture
def archive(settings: Settings) -> Iterator[Archive]:
    with Archive.open(settings=settings) as opened:
        yield opened


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """The bundled sample archive, ingested once per test session (read-only use)."""
    folder = tmp_path_factory.mktemp("sample") / "archive"
    with Archive.open(folder) as opened:
        report = opened.ingest([SAMPLE_ARCHIVE])
        assert not report.failed, report.failed
        yield opened


@contextlib.contextmanager
def archive_of(folder: Path, records: Sequence[Mapping[str, Any]]) -> Iterator[tuple[Archive, IngestReport]]:
    """An archive in ``folder/archive`` holding ``records`` (releases as a JSONL export has
    them), ingested from ``folder/releases.jsonl``; every record must ingest."""
    source = folder / "releases.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    with Archive.open(folder / "archive") as archive:
        report = archive.ingest([source])
        assert not report.failed, report.failed
        yield archive, report


def release_text(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)
