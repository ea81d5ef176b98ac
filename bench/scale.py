"""The 85k-release archive of issue 6 (DOJ plus the Senate corpus), with the Senate's vectors
made on a GPU machine.

Embedding the Senate's 72k releases on this machine's two cores would take about three hours.
A lent GPU machine does it in minutes, but it cannot read ../shared, and a call to it carries
at most 64 MiB each way.  So the work is split in three, with pressqa's own code in each step:

    python bench/scale.py texts TEXTS --corpus ../shared/corpora/senate-press-releases
        here: pressqa's reader and chunker write the exact texts an ingest would embed, in
        parts of 20,000 (xz-compressed JSON lines), each small enough to travel;
    python bench/gpu_embed.py --texts TEXTS --store DIR --out DIR      (on the GPU machine)
        there: pressqa's Embedder with device=cuda embeds each part (float16 .npy), and is
        checked against the same Embedder on that machine's CPU;
    python bench/scale.py ingest ARCHIVE --texts TEXTS --vectors DIR --corpus ...
        here: ``Archive.ingest`` as it is, except that its embedder looks each text up among
        the vectors that came back (a text it cannot find is embedded here, and counted).

The vectors travel as float16 (half the bytes; the store keeps float32).  The archive is
then measured by ``bench/query.py --archive ARCHIVE``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pressqa import Archive, Release, Settings
from pressqa.embedding import Embedder
from pressqa.ingest.chunking import Chunker
from pressqa.ingest.readers import InputReader

PART_TEXTS = 20_000  # 20,000 float16 vectors of 384 make 15 MiB: one returned file each


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def part_names(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"part-*{suffix}"))


def embedded_texts(corpus: Sequence[Path], settings: Settings) -> Iterator[str]:
    """The texts ``Archive.ingest`` of ``corpus`` embeds, in its order: the same reader,
    chunker and header."""
    chunker = Chunker.for_settings(settings)
    for item in InputReader(settings).read(corpus):
        if isinstance(item, Release):
            chunks = chunker.chunk(item, "v")  # the version names chunk ids only, not their text
            yield from chunker.embedding_texts(item, [chunk.text for chunk in chunks])


def write_texts(out: Path, corpus: Sequence[Path]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    seen: set[bytes] = set()
    part: list[str] = []
    started, written = time.perf_counter(), 0

    def flush() -> None:
        nonlocal part, written
        name = out / f"part-{written // PART_TEXTS:03d}.jsonl.xz"
        with lzma.open(name, "wt", encoding="utf-8", preset=6) as lines:
            lines.writelines(json.dumps(text) + "\n" for text in part)
        written += len(part)
        part = []
        print(f"{name.name}: {written} texts, {time.perf_counter() - started:.0f} s", flush=True)

    for text in embedded_texts(corpus, Settings()):
        key = text_key(text)
        if key not in seen:
            seen.add(key)
            part.append(text)
            if len(part) == PART_TEXTS:
                flush()
    if part:
        flush()


class LookupEmbedder(Embedder):
    """pressqa's Embedder, answering from vectors made elsewhere by the same model; a text
    it has no vector for is embedded here."""

    def __init__(self, settings: Settings, texts: Path, vectors: Path) -> None:
        super().__init__(settings)
        parts = part_names(vectors, ".npy")
        self.vectors = np.concatenate([np.load(part) for part in parts]).astype(np.float32)
        self.rows: dict[bytes, int] = {}
        for part in parts:  # each part's texts, by name, in the order of the vectors
            with lzma.open(texts / part.name.replace(".npy", ".jsonl.xz"), "rt", encoding="utf-8") as lines:
                for line in lines:
                    self.rows[text_key(json.loads(line))] = len(self.rows)
        if len(self.rows) != len(self.vectors):
            raise SystemExit(f"{len(self.rows)} texts but {len(self.vectors)} vectors: parts missing or mixed")
        self.looked_up = self.embedded_here = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [self.rows.get(text_key(text)) for text in texts]
        missing = [n for n, row in enumerate(rows) if row is None]
        vectors = self.vectors[[row or 0 for row in rows]]
        if missing:
            vectors[missing] = super().embed([texts[n] for n in missing])
        self.looked_up += len(texts) - len(missing)
        self.embedded_here += len(missing)
        return vectors


def ingest(archive_path: Path, texts: Path, vectors: Path, corpus: Sequence[Path]) -> None:
    settings = Settings(archive=archive_path, chroma_url=None)
    embedder = LookupEmbedder(settings, texts, vectors)
    with Archive.open(settings=settings, embedder=embedder) as archive:
        report = archive.ingest(corpus)
        stats = archive.stats()
        print(
            json.dumps(
                {
                    "added": len(report.added),
                    "unchanged": report.unchanged,
                    "failed": len(report.failed),
                    "chunks_added": report.chunks_added,
                    "seconds": round(report.seconds),
                    "looked_up": embedder.looked_up,
                    "embedded_here": embedder.embedded_here,
                    "releases": stats.releases,
                    "chunks": stats.chunks,
                }
            )
        )
        for problem in report.failed[:20]:
            print(f"failed: {problem.path}: {problem.reason}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    steps = parser.add_subparsers(dest="step", required=True)
    texts = steps.add_parser("texts", help="write the texts an ingest of the corpus would embed")
    texts.add_argument("out", type=Path)
    texts.add_argument("--corpus", type=Path, action="append", required=True)
    build = steps.add_parser("ingest", help="ingest the corpus with the vectors made elsewhere")
    build.add_argument("archive", type=Path)
    build.add_argument("--texts", type=Path, required=True)
    build.add_argument("--vectors", type=Path, required=True)
    build.add_argument("--corpus", type=Path, action="append", required=True)
    args = parser.parse_args()
    if args.step == "texts":
        write_texts(args.out, args.corpus)
    else:
        ingest(args.archive, args.texts, args.vectors, args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
