"""Ingest throughput next to the raw encoder on the same chunk texts, and next to a plain
llama-index pipeline on the same releases, measured in one run.

    python bench/ingest.py                  # the 2,500-release dev archive from ../shared
    python bench/ingest.py --quick          # its first 150 releases, for a smoke check
    python bench/ingest.py --corpus ../shared/corpora/doj-press-releases/doj-press-releases.jsonl --limit 600

The plain pipeline: SentenceSplitter at pressqa's chunk size and overlap (counted in the
model's own tokens; title, issuer and date embedded with each chunk), HuggingFaceEmbedding
of the same model (run twice: llama-index's embedding batch, then pressqa's), and
ChromaVectorStore, through ``VectorStoreIndex.from_documents``.

Prints a table and appends it, with the machine description, to bench/RESULTS.md.
A benchmark, not a test: absolute times on a shared machine are noisy, ratios less so.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import SHARED_EVAL, machine, peak_rss_mb, report  # bench/ is the script's folder, first on sys.path
from pressqa import Archive, Settings
from pressqa.embedding import Embedder
from pressqa.store import Store

DEFAULT_CORPUS = SHARED_EVAL / "dev-archive.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="JSONL releases (id,title,date,source,url,text)"
    )
    parser.add_argument("--limit", type=int, default=None, help="ingest only the first N releases")
    parser.add_argument("--quick", action="store_true", help="first 150 releases; finishes in about two minutes")
    parser.add_argument("--device", default=None, help="torch device for both runs (default: settings)")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(f"corpus {args.corpus} not found (it lives in ../shared); pass --corpus", file=sys.stderr)
        return 2
    limit = 150 if args.quick else args.limit

    with tempfile.TemporaryDirectory(prefix="pressqa-bench-") as tmp:
        source = Path(tmp) / "releases.jsonl"
        with args.corpus.open(encoding="utf-8") as corpus, source.open("w", encoding="utf-8") as out:
            out.writelines(itertools.islice(corpus, limit))
        settings = Settings(archive=Path(tmp) / "archive", **({"device": args.device} if args.device else {}))

        with Archive.open(settings=settings) as archive:
            archive.warm_up()  # the model loads once per process, not per ingest
            first = archive.ingest([source])
            again = archive.ingest([source])
            store = Store(archive.path, settings, create=False)
            texts = [archive.chunker.embedding_text(chunk.release, chunk.text) for chunk in store.all_chunks()]
            store.close()

        # The same chunk texts, straight into SentenceTransformer.encode (model already loaded).
        model = Embedder(settings).model
        started = time.perf_counter()
        model.encode(texts, batch_size=settings.embedding_batch, normalize_embeddings=True, show_progress_bar=False)
        raw_seconds = time.perf_counter() - started
        # llama-index's own embedding batch (10), then pressqa's.
        sizes = (None, settings.embedding_batch)
        plain = [plain_llama_index(source, settings, Path(tmp) / f"plain-{size}", size) for size in sizes]

    releases = len(first.added)
    pipeline_chunks_per_s = first.chunks_added / first.seconds
    raw_chunks_per_s = len(texts) / raw_seconds
    rss_mb = peak_rss_mb()
    rows = [
        (
            "pressqa ingest (first run)",
            f"{releases / first.seconds:.1f}",
            f"{pipeline_chunks_per_s:.1f}",
            f"{first.seconds:.1f}",
        ),
        ("SentenceTransformer.encode, same chunks", "", f"{raw_chunks_per_s:.1f}", f"{raw_seconds:.1f}"),
        *[
            (
                f"plain llama-index pipeline, same releases, embedding batch {size or 'default (10)'}",
                f"{releases / seconds:.1f}",
                f"{chunks / seconds:.1f}",
                f"{seconds:.1f}",
            )
            for size, (seconds, chunks) in zip(sizes, plain, strict=True)
        ],
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
        f"- ingest / plain llama-index pipeline, releases per second: **{plain[0][0] / first.seconds:.2f}** "
        f"(target >= 1.5); with pressqa's embedding batch: **{plain[1][0] / first.seconds:.2f}**; "
        f"it made {plain[0][1]} chunks of the same releases",
        f"- unchanged re-run / first run time: **{again.seconds / first.seconds:.3f}** (target < 0.10), "
        f"{again.chunks_added} chunks written",
        "",
    ]
    report(table, keep=not args.no_record)
    return 0


def plain_llama_index(source: Path, settings: Settings, folder: Path, batch: int | None) -> tuple[float, int]:
    """Seconds and chunks of the textbook llama-index ingest of the same releases, embedding
    ``batch`` chunks at a time (None: llama-index's default)."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from tokenizers import Tokenizer

    model = settings.model_path()
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_padding()  # the model's file pads every text to 128 tokens
    tokenizer.no_truncation()
    embed_model = HuggingFaceEmbedding(
        model_name=str(model), device=settings.device, **({"embed_batch_size": batch} if batch else {})
    )
    embed_model.get_text_embedding("warm-up")  # as pressqa's model, loaded before the clock starts
    started = time.perf_counter()
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    documents = [
        Document(
            id_=record["id"],
            text=record["text"],
            metadata={key: record.get(key) or "" for key in ("title", "source", "date", "url")},
            # Like pressqa's header: title, issuer and date embedded with each chunk, not the
            # link, whose tokens would leave too little of the chunk size for the text.
            excluded_embed_metadata_keys=["url"],
            excluded_llm_metadata_keys=["url"],
        )
        for record in records
    ]
    collection = chromadb.PersistentClient(path=str(folder)).get_or_create_collection("plain", embedding_function=None)
    splitter = SentenceSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        tokenizer=lambda text: tokenizer.encode(text, add_special_tokens=False).ids,
    )
    VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection)),
        embed_model=embed_model,
        transformations=[splitter],
    )
    return time.perf_counter() - started, collection.count()


if __name__ == "__main__":
    sys.exit(main())
