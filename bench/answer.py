"""Latency of a question once the archive is open: retrieval plus the offline answer.

    python bench/answer.py --archive DIR      # an archive holding ../shared/eval/dev-archive.jsonl
    python bench/answer.py                    # ingests the dev archive first (about 7 minutes)

Asks every dev question (../shared/eval/dev-questions.jsonl) several times over and
prints the median and 90th percentile of the whole ask, of its retrieval part and of
search alone, then appends the table to bench/RESULTS.md.  Target: median ask <= 150 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from common import SHARED_EVAL, machine, percentile, report  # bench/ is the script's folder, first on sys.path
from pressqa import Archive

TARGET_MS = 150


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, help="an ingested dev archive (default: ingest one into a temp dir)")
    parser.add_argument("--questions", type=Path, default=SHARED_EVAL / "dev-questions.jsonl")
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not args.questions.is_file():
        print(f"questions {args.questions} not found (they live in ../shared); pass --questions", file=sys.stderr)
        return 2
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="pressqa-bench-") as tmp:
        path = args.archive
        if path is None:
            path = Path(tmp) / "archive"
            with Archive.open(path) as archive:
                archive.ingest([SHARED_EVAL / "dev-archive.jsonl"])
        with Archive.open(path, create=False) as archive:
            stats = archive.stats()
            archive.ask(questions[0])  # loads the model and warms the stores
            ask_ms, retrieve_ms, search_ms = [], [], []
            for _ in range(args.rounds):
                for question in questions:
                    started = time.perf_counter()
                    answer = archive.ask(question)
                    ask_ms.append(1000 * (time.perf_counter() - started))
                    retrieve_ms.append(1000 * answer.timings["retrieve"])
                    started = time.perf_counter()
                    archive.search(question)
                    search_ms.append(1000 * (time.perf_counter() - started))
    median_ask = statistics.median(ask_ms)
    rows = [
        ("ask (retrieval + offline answer)", ask_ms),
        ("  of which retrieval (plan, search, release texts)", retrieve_ms),
        ("search alone", search_ms),
    ]
    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/answer.py on {args.questions.name}",
        "",
        f"Machine: {machine()}",
        "",
        f"Archive: {stats.releases} releases, {stats.chunks} chunks; "
        f"{len(questions)} questions x {args.rounds} rounds.",
        "",
        "| step | median ms | p90 ms |",
        "| --- | ---: | ---: |",
        *[f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.9):.1f} |" for name, values in rows],
        "",
        f"- median ask: **{median_ask:.0f} ms** (target <= {TARGET_MS} ms); "
        f"ask / search alone: **{median_ask / statistics.median(search_ms):.2f}**",
        "",
    ]
    report(table, keep=not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
