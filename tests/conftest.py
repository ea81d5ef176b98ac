"""Shared fixtures: real Chroma in temporary folders, the real packaged embedding model."""

from __future__ import annotations

import os

# Before pressqa or any HF library is imported: nothing may reach the network.
os.environ.update({"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "GRADIO_ANALYTICS_ENABLED": "False"})

from collections.abc import Iterator
from pathlib import Path

import pytest

from pressqa import Archive, Settings

REPO = Path(__file__).resolve().parent.parent
SAMPLE_ARCHIVE = REPO / "ingest" / "sample-archive"


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


def release_text(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)
