"""Search and ask latency, and memory, per archive size, with the chunks in the archive's own
Chroma and on a Chroma server, next to a plain llama-index retriever over the same collection.

    python bench/query.py --archive DIR [--archive DIR ...]   # archives already ingested
    python bench/query.py --quick                             # ingests 200 dev releases first

For each archive: 200 questions (the dev questions, then release titles drawn by seed),
each asked once through ``Archive.search`` and ``Archive.ask`` (offline answerer) and once
through ``VectorStoreIndex.from_vector_store(ChromaVectorStore(collection)).as_retriever()``
with llama-index's HuggingFaceEmbedding of the same model.  Server mode runs on a copy of
the archive whose chunks (vectors included) were copied to a ``chroma run`` server on this
machine, and whose keyword index is then rebuilt from the server's collection (timed).
Each archive and mode runs in its own process, so its peak RSS is its own; RSS is read
after pressqa's questions, before the llama-index retriever loads its copy of the model.
Search and the plain retriever take each question in turns.

Prints a table and appends it, with the machine description, to bench/RESULTS.md.
Targets (issue 6): search p50 <= 1.0 x the plain retriever; ask p50 <= 150 ms at 85k
releases; RSS serving 85k releases <= 2.5 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# bench/ is the script's folder, first on sys.path
from common import SHARED_EVAL, machine, peak_rss_mb, percentile, raw_chroma, report
from pressqa import Archive, Settings
from pressqa.chroma_server import chroma_server

QUESTIONS = 200


def questions_for(archive: Archive, count: int) -> list[str]:
    """The dev questions, then titles of the archive's releases drawn by seed."""
    asked: list[str] = []
    dev = SHARED_EVAL / "dev-questions.jsonl"
    if dev.is_file():
        asked = [json.loads(line)["question"] for line in dev.read_text().splitlines() if line.strip()]
    titles = [release.title for release in sorted(archive.releases(), key=lambda release: release.doc_id)]
    asked += random.Random(6).sample(titles, min(len(titles), max(0, count - len(asked))))
    return asked[:count]


def measure(path: Path, chroma_url: str | None, count: int) -> dict[str, object]:
    """Run in a child process: open the archive, time the questions, read peak RSS."""
    started = time.perf_counter()
    archive = Archive.open(settings=Settings(archive=path, chroma_url=chroma_url), create=False)
    archive.warm_up()  # loads the model and the keyword index
    opened = time.perf_counter() - started
    questions = questions_for(archive, count)
    ask_ms = []
    for question in questions:
        started = time.perf_counter()
        archive.ask(question)
        ask_ms.append(1000 * (time.perf_counter() - started))
    rss_mb = peak_rss_mb()

    from llama_index.core import VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    settings = archive.settings
    embed_model = HuggingFaceEmbedding(model_name=str(settings.model_path()), device=settings.device)
    client, name = raw_chroma(path, chroma_url)
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=client.get_collection(name)), embed_model=embed_model
    )
    retriever = index.as_retriever(similarity_top_k=5)
    retriever.retrieve(questions[0])
    search_ms, plain_ms = [], []
    for question in questions:  # taken in turns, so that the machine's drift hits both alike
        started = time.perf_counter()
        archive.search(question)
        search_ms.append(1000 * (time.perf_counter() - started))
        started = time.perf_counter()
        retriever.retrieve(question)
        plain_ms.append(1000 * (time.perf_counter() - started))
    stats = archive.stats()
    archive.close()
    return {
        "releases": stats.releases,
        "chunks": stats.chunks,
        "open_s": opened,
        "search": [percentile(search_ms, 0.5), percentile(search_ms, 0.95)],
        "ask": [percentile(ask_ms, 0.5), percentile(ask_ms, 0.95)],
        "plain": [percentile(plain_ms, 0.5), percentile(plain_ms, 0.95)],
        "rss_mb": rss_mb,
    }


def copy_to_server(path: Path, url: str, copy: Path) -> float:
    """Make ``copy``, an archive like the embedded one at ``path`` but with its chunks on the
    server at ``url``; returns the seconds its keyword index takes to be rebuilt from the
    server's collection (what a process pays when the index lags the collection)."""
    Archive.open(settings=Settings(archive=copy, chroma_url=url)).close()  # its manifest and collection
    shutil.copy2(path / "releases.sqlite3", copy / "releases.sqlite3")  # the registry as it is
    origin_client, origin_name = raw_chroma(path, None)
    target_client, target_name = raw_chroma(copy, url)
    origin, target = origin_client.get_collection(origin_name), target_client.get_collection(target_name)
    for offset in itertools.count(0, 2000):
        page = origin.get(include=["embeddings", "documents", "metadatas"], limit=2000, offset=offset)
        if not page["ids"]:
            break
        target.upsert(
            ids=page["ids"], embeddings=page["embeddings"], documents=page["documents"], metadatas=page["metadatas"]
        )
    started = time.perf_counter()  # opening finds its keyword index behind the registry, and rebuilds it
    Archive.open(settings=Settings(archive=copy, chroma_url=url), create=False).close()
    return time.perf_counter() - started


def run_child(path: Path, chroma_url: str | None, count: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", str(path), "--count", str(count)]
    if chroma_url:
        command += ["--chroma-url", chroma_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"measuring {path} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, action="append", default=[], help="an ingested archive (repeatable)")
    parser.add_argument("--quick", action="store_true", help="ingest 200 dev releases and ask 50 questions")
    parser.add_argument("--count", type=int, default=QUESTIONS, help="questions per archive")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.chroma_url, args.count)))
        return 0

    with tempfile.TemporaryDirectory(prefix="pressqa-bench-") as tmp:
        archives, count = list(args.archive), args.count
        if args.quick:
            corpus = SHARED_EVAL / "dev-archive.jsonl"
            if not corpus.is_file():
                print(f"{corpus} not found (it lives in ../shared); pass --archive", file=sys.stderr)
                return 2
            source = Path(tmp) / "quick.jsonl"
            with corpus.open(encoding="utf-8") as lines:
                source.write_text("".join(itertools.islice(lines, 200)), encoding="utf-8")
            with Archive.open(settings=Settings(archive=Path(tmp) / "quick", chroma_url=None)) as quick:
                quick.ingest([source])
            archives, count = [Path(tmp) / "quick"], 50
        if not archives:
            parser.error("give --archive DIR (an ingested archive) or --quick")
        rows = []
        with chroma_server(Path(tmp) / "chroma") as url:
            for number, path in enumerate(archives):
                copy = Path(tmp) / f"server-{number}"
                rebuild_s = copy_to_server(path, url, copy)
                for mode, (where, chroma_url) in enumerate([(path, None), (copy, url)]):
                    result = run_child(where, chroma_url, count)
                    rows.append((("embedded", "server")[mode], {**result, "rebuild_s": rebuild_s}))
                    print(rows[-1], flush=True)

    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/query.py"
        + (" --quick" if args.quick else "")
        + f", {count} questions per archive",
        "",
        f"Machine: {machine()}",
        "",
        "| releases | chunks | Chroma | open s | search p50/p95 ms | ask p50/p95 ms | plain llama-index p50/p95 ms "
        "| search / plain p50 | peak RSS MB | keyword index from the server's collection, s |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mode, result in rows:
        search, ask, plain = result["search"], result["ask"], result["plain"]
        table.append(
            f"| {result['releases']} | {result['chunks']} | {mode} | {result['open_s']:.1f} "
            f"| {search[0]:.1f} / {search[1]:.1f} | {ask[0]:.1f} / {ask[1]:.1f} | {plain[0]:.1f} / {plain[1]:.1f} "
            f"| **{search[0] / plain[0]:.2f}** | {result['rss_mb']:.0f} | {result['rebuild_s']:.1f} |"
        )
    table.append("")
    report(table, keep=not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
