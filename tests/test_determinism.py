"""The same archive and question give the same passages in every process: Chroma's HNSW
graph is saved at the end of every write, so no process rebuilds part of it in an order of
its own."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import raw_chroma
from pressqa import Archive, Release, SearchFilters, Settings
from pressqa.cli import main
from pressqa.store import Store, StoredRelease
from pressqa.types import Chunk

DIMENSION = 384


def nearest(folder: str | Path) -> str:
    """A digest of the nearest neighbours of seeded random queries, read from the archive as
    it is (``Archive.open`` would first finish what an older archive lacks)."""
    folder = Path(folder)
    store = Store(folder, Settings(archive=folder), create=False)
    queries = np.random.default_rng(7).standard_normal((60, DIMENSION)).astype(np.float32)
    found = [[chunk.chunk_id for chunk in store.dense(query, 20, SearchFilters())] for query in queries]
    store.close()
    return hashlib.sha1(repr(found).encode()).hexdigest()


# ``nearest`` in a fresh process.
QUERY = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    "import test_determinism as t; print(t.nearest(sys.argv[1]))"
)


def write_random_chunks(store: Store, count: int, seed: int) -> None:
    """``count`` one-chunk releases with random vectors: the hardest case for an approximate
    index, and no model to wait for (this is about the store, not the embedder)."""
    vectors = np.random.default_rng(seed).standard_normal((count, DIMENSION)).astype(np.float32)
    batch = []
    for number in range(count):
        doc_id = f"r{seed}-{number:05d}"
        text = f"Release {number} of batch {seed}."
        release = Release(doc_id=doc_id, title=f"Release {number}", text=text, origin=doc_id)
        digest = hashlib.sha256(text.encode()).hexdigest()
        chunk = Chunk(f"{doc_id}#{digest[:12]}#0", doc_id, 0, text, 0, len(text))
        batch.append(StoredRelease(release, (chunk,), digest, digest, b""))
    store.write(batch, vectors, [])


def answers_in_fresh_processes(folder: Path, processes: int = 3) -> set[str]:
    return {
        subprocess.run([sys.executable, "-c", QUERY, str(folder)], capture_output=True, text=True, check=True).stdout
        for _ in range(processes)
    }


# Chunks per write, as an ingest writes them (1,024 a batch), the last batch short: with
# Chroma's default settings, the graph of the last batch was not saved and every process
# made its own (4 processes, 4 different results).
WRITES = [1024, 1024, 1024, 700]


def test_every_process_searches_the_same_graph(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    store = Store(folder, Settings(archive=folder))
    for seed, count in enumerate(WRITES):
        write_random_chunks(store, count, seed)
    store.close()
    assert len(answers_in_fresh_processes(folder)) == 1
    with Archive.open(folder) as archive:
        assert archive.check().ok


def test_an_older_archive_is_settled_by_check_repair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "archive"
    Store(folder, Settings(archive=folder)).close()
    # The collection as an older pressqa made it: Chroma's defaults, saved every 1,000 vectors.
    client, name = raw_chroma(folder)
    client.delete_collection(name)
    client.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    store = Store(folder, Settings(archive=folder))
    for seed, count in enumerate(WRITES):
        write_random_chunks(store, count, seed)
    store.close()
    assert main(["check", "--archive", str(folder)]) == 1
    assert "the vector index is saved only every 1,000 chunks" in capsys.readouterr().out

    assert main(["check", "--archive", str(folder), "--repair"]) == 0
    assert main(["check", "--archive", str(folder)]) == 0  # check opens without finishing anything itself
    # The graph the repairing process searches is the one it saved: every other process's.
    assert answers_in_fresh_processes(folder) == {nearest(folder) + "\n"}
