"""kill -9 in the middle of an ingest, then rerun: the archive must equal a clean ingest."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pressqa import Archive

WORDS = [
    "ministry",
    "defence",
    "army",
    "navy",
    "air",
    "force",
    "exercise",
    "patrol",
    "border",
    "treaty",
    "summit",
    "minister",
    "spokesperson",
    "court",
    "sentenced",
    "fraud",
    "million",
    "billion",
    "budget",
    "council",
    "harbour",
    "bridge",
    "district",
    "brigade",
    "drill",
    "joint",
    "naval",
    "cruise",
    "agreement",
    "talks",
    "delegation",
    "president",
    "envoy",
    "sanctions",
    "export",
    "import",
    "grain",
    "fuel",
    "depot",
    "training",
    "base",
    "troops",
    "officers",
    "aircraft",
    "vessel",
    "coast",
    "guard",
    "rescue",
    "flood",
    "relief",
    "vaccine",
    "hospital",
    "school",
    "election",
    "ballot",
    "audit",
]


def synthetic_records(count: int, seed: int = 11) -> list[dict[str, str]]:
    """Distinct releases of three paragraphs each, long enough to make two or three chunks."""
    rng = random.Random(seed)
    records = []
    for number in range(count):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 90))) + "." for _ in range(3)]
        records.append(
            {
                "id": f"syn-{number:03d}",
                "title": f"Synthetic release {number}",
                "date": "2020-02-03",
                "source": "Synthetic Ministry",
                "url": None,
                "text": "\n\n".join(paragraphs),
            }
        )
    return records


def ingest_command(archive: Path, source: Path) -> list[str]:
    return [sys.executable, "-m", "pressqa.cli", "ingest", str(source), "--archive", str(archive), "-q"]


def env() -> dict[str, str]:
    # Small batches, so a run has many commit points to be killed between.
    return {**os.environ, "PRESSQA_INGEST_BATCH_CHUNKS": "24"}


def committed(archive: Path) -> int:
    try:
        with sqlite3.connect(archive / "releases.sqlite3", timeout=0.1) as db:
            return int(db.execute("SELECT COUNT(*) FROM releases").fetchone()[0])
    except sqlite3.Error:
        return 0


def snapshot(path: Path) -> dict[str, object]:
    with Archive.open(path, create=False) as archive:
        stored = archive.store.chunks.get(include=["documents", "metadatas"])
        chunks = sorted(
            zip(stored["ids"], stored["documents"], [m["doc_id"] for m in stored["metadatas"]], strict=True)
        )
        rows = archive.store.registry._db.execute(
            "SELECT doc_id, content_hash, n_chunks, canonical_id FROM releases ORDER BY doc_id"
        ).fetchall()
        archive.store.sync_keyword_index()
        return {
            "chunks": chunks,
            "rows": rows,
            "count": archive.store.chunks.count(),
            "keyword": sorted(archive.store.keyword.ids),
            "keyword_generation": archive.store.keyword.generation,
            "generation": archive.store.registry.generation,
        }


@pytest.mark.slow
def test_killed_ingest_completes_on_rerun_like_a_clean_one(tmp_path: Path) -> None:
    source = tmp_path / "releases.jsonl"
    records = synthetic_records(40)
    source.write_text("".join(json.dumps(r) + "\n" for r in records))

    clean = tmp_path / "clean"
    subprocess.run(ingest_command(clean, source), env=env(), check=True, capture_output=True)

    crashed = tmp_path / "crashed"
    kills = 0
    # Kill at three points: as soon as the first batch is committed, then part-way through later ones.
    for wait_for_rows in (1, 12, 25):
        process = subprocess.Popen(
            ingest_command(crashed, source), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while committed(crashed) < wait_for_rows and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 2, "the ingest finished before it could be killed; make the input larger"
    assert committed(crashed) < len(records)

    rerun = subprocess.run(ingest_command(crashed, source), env=env(), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    recovered, expected = snapshot(crashed), snapshot(clean)
    assert recovered["rows"] == expected["rows"]
    assert recovered["chunks"] == expected["chunks"]
    assert recovered["count"] == expected["count"] == len(expected["chunks"])  # type: ignore[arg-type]
    assert recovered["keyword"] == [chunk[0] for chunk in recovered["chunks"]]  # type: ignore[union-attr]
    assert recovered["keyword_generation"] == recovered["generation"]
