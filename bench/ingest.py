"""Ingest throughput next to the raw encoder on the same chunk texts, measured in one run.

    python bench/ingest.py                  # the 2,500-release dev archive from ../shared
    python bench/ingest.py --quick          # its first 300 releases, for a smoke check
    python bench/ingest.py --corpus X.jsonl --limit 5000

Prints a table and appends it, with the machine description, to bench/RESULTS.md.
A benchmark, not a test: absolute times on a shared machine are noisy, ratios less so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import SHARED_EVAL, machine, record  # bench/ is the script's folder, first on sys.path
from pressqa import Archive, Settings
from pressqa.embedding import Embedder
from pressqa.store import release_of

DEFAULT_CORPUS = SHARED_EVAL / "dev-archive.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="JSONL releases (id,title,date,source,url,text)"
    )
    parser.add_argument("--limit", type=int, default=None, help="ingest only the first N releases")
    parser.add_argument("--quick", action="store_true", help="first 300 releases; finishes in about two minutes")
    parser.add_argument("--device", default=None, help="torch device for both runs (default: settings)")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(f"corpus {args.corpus} not found (it lives in ../shared); pass --corpus", file=sys.stderr)
        return 2
    limit = 300 if args.quick else args.limit

    with tempfile.TemporaryDirectory(prefix="pressqa-bench-") as tmp:
        source = Path(tmp) / "releases.jsonl"
        with args.corpus.open(encoding="utf-8") as corpus, source.open("w", encoding="utf-8") as out:
            out.writelines(itertools.islice(corpus, limit))
        settings = Settings(archive=Path(tmp) / "archive", **({"device": args.device} if args.device else {}))

        with Archive.open(settings=settings) as archive:
            first = archive.ingest([source])
            again = archive.ingest([source])
            texts = [
                archive.chunker.embedding_text(release_of(metadata), document)
                for _, document, metadata in archive.store.iter_chunks()
            ]

        # The same chunk texts, straight into SentenceTransformer.encode (model already loaded).
        model = Embedder(settings).model
        started = time.perf_counter()
        model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True, show_progress_bar=False)
        raw_seconds = time.perf_counter() - started

    releases = len(first.added)
    pipeline_chunks_per_s = first.chunks_added / first.seconds
    raw_chunks_per_s = len(texts) / raw_seconds
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        (
            "pressqa ingest (first run)",
            f"{releases / first.seconds:.1f}",
            f"{pipeline_chunks_per_s:.1f}",
            f"{first.seconds:.1f}",
        ),
        ("SentenceTransformer.encode, same chunks", "", f"{raw_chunks_per_s:.1f}", f"{raw_seconds:.1f}"),
        (
            "pressqa ingest (second, unchanged run)",
            f"{again.unchanged / again.seconds:.1f}",
            "",
            f"{again.seconds:.2f}",
        ),
    ]
    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/ingest.py on {args.corpus.name}"
        + (f" (first {limit})" if limit else ""),
        "",
        f"Machine: {machine()}",
        "",
        f"{releases} releases, {first.chunks_added} chunks, {len(first.failed)} failed, peak RSS {rss_mb:.0f} MB.",
        "",
        "| run | releases/s | chunks/s | seconds |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        f"- ingest / raw encoder throughput: **{pipeline_chunks_per_s / raw_chunks_per_s:.2f}** (target >= 0.90)",
        f"- unchanged re-run / first run time: **{again.seconds / first.seconds:.3f}** (target < 0.10), "
        f"{again.chunks_added} chunks written",
        "",
    ]
    print("\n".join(table))
    if not args.no_record:
        record(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
