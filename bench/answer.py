"""Latency of a question once the archive is open: retrieval plus the offline answer.

    python bench/answer.py --archive DIR      # an archive holding ../shared/eval/dev-archive.jsonl
    python bench/answer.py                    # ingests the dev archive first (about 7 minutes)
    python bench/answer.py --archive DOJ --questions bench/doj-timeline.jsonl   # any archive, any questions

Asks every question of each set (default: the dev questions and the dev timeline questions
of ../shared/eval) several times over and prints the median and 90th percentile of the
whole ask, of its retrieval part and of search alone, then appends the table to
bench/RESULTS.md.  Targets: median ask <= 150 ms; for questions over releases (timelines,
latest, counts) <= 300 ms.
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
TIMELINE_TARGET_MS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, help="an ingested dev archive (default: ingest one into a temp dir)")
    parser.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="a question file, JSONL with a 'question' key (repeatable; default: the dev and dev timeline sets)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="times each question is asked")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    files = args.questions or [SHARED_EVAL / "dev-questions.jsonl", SHARED_EVAL / "dev-timeline.jsonl"]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        print(f"questions {', '.join(missing)} not found (the dev sets live in ../shared); pass --questions",
              file=sys.stderr)  # fmt: skip
        return 2
    sets = {path.name: [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
            for path in files}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="pressqa-bench-") as tmp:
        path = args.archive
        if path is None:
            path = Path(tmp) / "archive"
            with Archive.open(path) as archive:
                archive.ingest([SHARED_EVAL / "dev-archive.jsonl"])
        with Archive.open(path, create=False) as archive:
            stats = archive.stats()
            archive.warm_up()  # loads the model and warms the stores
            lines = [
                f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/answer.py on {', '.join(sets)}",
                "",
                f"Machine: {machine()}",
                "",
                f"Archive: {stats.releases} releases, {stats.chunks} chunks; {args.rounds} rounds.",
                "",
            ]
            for name, questions in sets.items():
                lines += measure(archive, name, questions, args.rounds)
    report(lines, keep=not args.no_record)
    return 0


def measure(archive: Archive, name: str, questions: list[str], rounds: int) -> list[str]:
    """The table of one question set's latencies."""
    ask_ms, retrieve_ms, search_ms = [], [], []
    over_releases = 0
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            answer = archive.ask(question)
            ask_ms.append(1000 * (time.perf_counter() - started))
            retrieve_ms.append(1000 * answer.timings["retrieve"])
            over_releases += answer.timeline is not None
            started = time.perf_counter()
            archive.search(question)
            search_ms.append(1000 * (time.perf_counter() - started))
    median_ask = statistics.median(ask_ms)
    # A set answered mostly by timelines, latest and counts is held to their target.
    target = TIMELINE_TARGET_MS if over_releases > len(ask_ms) / 2 else TARGET_MS
    rows = [
        ("ask (retrieval + answer)", ask_ms),
        ("  of which retrieval (plan, search or matching, release texts)", retrieve_ms),
        ("search alone", search_ms),
    ]
    return [
        f"{name}: {len(questions)} questions, {over_releases // rounds} of them answered over releases.",
        "",
        "| step | median ms | p90 ms |",
        "| --- | ---: | ---: |",
        *[f"| {label} | {statistics.median(values):.1f} | {percentile(values, 0.9):.1f} |" for label, values in rows],
        "",
        f"- median ask: **{median_ask:.0f} ms** (target <= {target} ms); "
        f"ask / search alone: **{median_ask / statistics.median(search_ms):.2f}**",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
