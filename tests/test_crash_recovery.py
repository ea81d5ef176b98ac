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
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pressqa import Archive, Settings
from pressqa.embedding import Embedder
from pressqa.store import Store

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


def snapshot(path: Path) -> dict[str, list[tuple[str, ...]]]:
    """Every chunk in Chroma (id, text, release) and every registered release (id, version,
    chunk count, original), after opening has finished what a kill left; ``check`` finds
    the keyword index in step with the registry and holding exactly the registered chunks."""
    with Archive.open(path, create=False) as archive:
        consistent = archive.check()
        assert consistent.ok, consistent
        store = Store(path, archive.settings, create=False)
    try:
        return {
            "chunks": sorted((chunk.chunk_id, chunk.text, chunk.doc_id) for chunk in store.all_chunks()),
            "rows": sorted(
                (doc_id, version, str(count), str(store.duplicate_of(doc_id)))
                for doc_id, (version, count) in store.versions().items()
            ),
        }
    finally:
        store.close()


def assert_same_as_clean(crashed: Path, clean: Path) -> None:
    """Same registry rows, chunk ids and texts, no extra chunk, keyword index in step."""
    assert snapshot(crashed) == snapshot(clean)


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
    assert_same_as_clean(crashed, clean)


# A child that runs the CLI but kills itself (SIGKILL, as kill -9 would) right after the
# named step of a write, so each window between two steps is hit for certain.
KILL_AFTER = """
import os, signal, sys
import chromadb.api.models.Collection as collection
from pressqa.store import facade, registry
owner = {"Collection": collection.Collection, "Registry": registry.Registry, "Store": facade.Store}
cls_name, method = sys.argv[1].split(".")
original = getattr(owner[cls_name], method)
def run_then_die(*args, **kwargs):
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(owner[cls_name], method, run_then_die)
from pressqa.cli import main
main(sys.argv[2:])
"""


def run_killed_after(step: str, *cli_args: str) -> None:
    result = subprocess.run([sys.executable, "-c", KILL_AFTER, step, *cli_args], env=env(), capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]


def versions_served(path: Path) -> dict[str, set[str]]:
    """For each release found by search, the versions of the chunks search returned."""
    served: dict[str, set[str]] = {}
    with Archive.open(path, create=False) as archive:
        for query in ["synthetic release", "ministry treaty summit", "budget council harbour"]:
            for hit in archive.search(query, k=10):
                served.setdefault(hit.doc_id, set()).add(hit.chunk_id.split("#")[1])
    return served


@pytest.mark.slow
@pytest.mark.parametrize("step", ["Collection.upsert", "Registry.write", "Store._remove_stale_chunks"])
def test_update_killed_at_each_step_then_reverted(tmp_path: Path, step: str) -> None:
    old = synthetic_records(6, seed=3)
    new = [{**r, "text": r["text"] + " Added sentence."} if n % 2 else r for n, r in enumerate(old)]
    old_source, new_source = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old_source.write_text("".join(json.dumps(r) + "\n" for r in old))
    new_source.write_text("".join(json.dumps(r) + "\n" for r in new))
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    for path in (clean, crashed):
        with Archive.open(path) as archive:
            archive.ingest([old_source])

    run_killed_after(step, "ingest", str(new_source), "--archive", str(crashed), "-q")
    # Whatever the kill left, search serves one version of each release.
    assert all(len(versions) == 1 for versions in versions_served(crashed).values())
    # The source goes back to the old text: the archive must end as if the update never ran.
    with Archive.open(crashed) as archive:
        archive.ingest([old_source])
    assert snapshot(crashed)["rows"] == snapshot(clean)["rows"]
    assert snapshot(crashed)["chunks"] == snapshot(clean)["chunks"]


@pytest.mark.slow
def test_delete_killed_between_registry_and_chroma(tmp_path: Path) -> None:
    source = tmp_path / "r.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in synthetic_records(3, seed=5)))
    archive_path = tmp_path / "archive"
    with Archive.open(archive_path) as archive:
        archive.ingest([source])
    run_killed_after("Registry.delete", "delete", "syn-001", "--archive", str(archive_path))
    state = snapshot(archive_path)  # opening finishes the interrupted delete
    assert {chunk[2] for chunk in state["chunks"]} == {"syn-000", "syn-002"}


# A child that runs the CLI and kills itself (SIGKILL) right after the n-th call of one
# step of the ingest: parse, embed, Chroma write, registry write, keyword-index write.
KILL_AT = """
import os, signal, sys
import chromadb.api.models.Collection as collection
from pressqa import embedding
from pressqa.ingest import chunking
from pressqa.store import facade, keyword, registry
owner = {"Collection": collection.Collection, "Registry": registry.Registry, "Store": facade.Store,
         "Embedder": embedding.Embedder, "KeywordIndex": keyword.KeywordIndex, "Chunker": chunking.Chunker}
cls_name, method = sys.argv[1].split(".")
calls, limit = [0], int(sys.argv[2])
original = getattr(owner[cls_name], method)
before = sys.argv[1] == "KeywordIndex._commit"  # die inside the index write: it never completes
def counted(*args, **kwargs):
    calls[0] += 1
    if before and calls[0] == limit:
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args, **kwargs)
    if calls[0] == limit:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(owner[cls_name], method, counted)
from pressqa.cli import main
main(sys.argv[3:])
"""
# The steps of each batch.
BATCH_STEPS = [
    "Chunker.chunk",  # parsing and chunking
    "Embedder.embed",
    "Registry.mark_pending",
    "Collection.upsert",
    "Registry.write",
    "KeywordIndex.replace",
    "Store._remove_stale_chunks",
    "Registry.clear_pending",
]


@pytest.mark.slow
def test_twenty_kills_at_random_steps_then_a_rerun_equal_a_clean_ingest(tmp_path: Path) -> None:
    source = tmp_path / "releases.jsonl"
    records = synthetic_records(60, seed=5)
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    # About 75 batches: each killed run gets at most two of them written.
    small_batches = {**env(), "PRESSQA_INGEST_BATCH_CHUNKS": "2"}
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    subprocess.run(ingest_command(clean, source), env=small_batches, check=True, capture_output=True)

    rng = random.Random(20)
    points = [(rng.choice(BATCH_STEPS), rng.randint(1, 2)) for _ in range(19)] + [("KeywordIndex._commit", 2)]
    killed_at = []
    for step, nth in points:
        run = subprocess.run(
            [sys.executable, "-c", KILL_AT, step, str(nth), *ingest_command(crashed, source)[3:]],
            env=small_batches,
            capture_output=True,
        )
        if run.returncode == -signal.SIGKILL:
            killed_at.append(f"{step}#{nth}")
            with Archive.open(crashed, create=False) as archive:  # opening finishes what the kill left
                assert archive.check().ok, (killed_at, archive.check())
        else:
            assert run.returncode == 0, run.stderr.decode()[-2000:]
    assert len(killed_at) == 20, killed_at

    rerun = subprocess.run(ingest_command(crashed, source), env=small_batches, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert_same_as_clean(crashed, clean)


class FailingEmbedder(Embedder):
    """The packaged model, until told to fail as one out of memory would."""

    failing = False

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.failing:
            raise RuntimeError("the embedder ran out of memory")
        return super().embed(texts)


def test_a_failed_update_keeps_the_old_version_searchable(tmp_path: Path) -> None:
    old = synthetic_records(3, seed=8)
    source = tmp_path / "releases.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in old))
    embedder = FailingEmbedder(Settings())
    with Archive.open(tmp_path / "archive", embedder=embedder) as archive:
        archive.ingest([source])
        before = {hit.doc_id: (hit.chunk_id, hit.text) for hit in archive.search("synthetic release", k=3)}
        changed = [{**r, "text": r["text"] + " Quarterly flood relief totals were revised."} for r in old]
        source.write_text("".join(json.dumps(r) + "\n" for r in changed))

        embedder.failing = True
        with pytest.raises(RuntimeError):
            archive.ingest([source])
        embedder.failing = False  # questions embed too
        after = {hit.doc_id: (hit.chunk_id, hit.text) for hit in archive.search("synthetic release", k=3)}
        assert after == before  # the old version, whole, still served
        assert archive.check().ok
