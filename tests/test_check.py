"""`pressqa check [--repair]`: the registry, Chroma and the keyword index compared, and
what can be put right put right."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SAMPLE_ARCHIVE, raw_chroma
from pressqa import Archive
from pressqa.cli import EXIT_ERROR, main


def test_check_finds_and_repairs_what_went_wrong(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "doj"
    shutil.copytree(SAMPLE_ARCHIVE / "doj", source)
    folder = str(tmp_path / "archive")
    assert main(["ingest", str(source), "--archive", folder, "-q"]) == 0
    assert main(["check", "--archive", folder]) == 0
    assert "consistent" in capsys.readouterr().out

    client, name = raw_chroma(Path(folder))
    collection = client.get_collection(name, embedding_function=None)
    chunks = collection.get(include=["metadatas"])
    victim = str(chunks["metadatas"][0]["doc_id"])  # type: ignore[index]
    collection.delete(ids=[chunks["ids"][0]])  # a release loses a chunk
    other = next(str(m["doc_id"]) for m in chunks["metadatas"] if m["doc_id"] != victim)  # type: ignore[union-attr]
    collection.add(  # a chunk of part of no release, and one of an old version of a whole one
        ids=["stray#x#1", f"{other}#old#0"], embeddings=np.zeros((2, 384), dtype=np.float32),
        documents=["stray", "old"],
        metadatas=[{"doc_id": "stray", "version": "x", "chunk": 1, "start": 0, "end": 5},
                   {"doc_id": other, "version": "old", "chunk": 0, "start": 0, "end": 3}],
    )  # fmt: skip
    with Archive.open(folder) as archive:
        total = archive.stats().releases

    assert main(["check", "--archive", folder]) == EXIT_ERROR
    shown = capsys.readouterr().out
    assert "PROBLEM: 1 chunk(s) in Chroma of an old version of a release" in shown
    assert "PROBLEM: 1 chunk(s) in Chroma of no registered release and too few to rebuild one" in shown
    assert f"PROBLEM: 1 release(s) missing chunks in Chroma: {victim} (--repair --force drops them)" in shown
    assert "PROBLEM: the keyword index does not match" in shown

    # A plain repair drops only what is of no use (an old version's chunk), nothing it could not re-add.
    assert main(["check", "--archive", folder, "--repair"]) == EXIT_ERROR
    shown = capsys.readouterr().out
    assert shown.count("repaired: ") == 2 and shown.count("PROBLEM: ") == 2
    with Archive.open(folder) as archive:
        assert archive.stats().releases == total
    assert main(["check", "--archive", folder, "--repair", "--force"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("repaired: ") == 2 and "consistent" in shown
    with Archive.open(folder) as archive:
        assert archive.stats().releases == total - 1
        assert archive.check().ok  # the keyword index holds the registered chunks only
    assert not {"stray#x#1", f"{other}#old#0"} & set(collection.get(include=[])["ids"])

    # The next ingest of the sources brings the release back whole.
    assert main(["ingest", str(source), "--archive", folder, "-q"]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["check", "--archive", folder]) == 0
    with Archive.open(folder) as archive:
        assert archive.stats().releases == total
        assert archive.search("Boeing deferred prosecution", k=1)
