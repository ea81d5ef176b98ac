"""The same archive and question give the same passages and answer in every process (issue 16).

    python bench/determinism.py [--archive DIR] [--processes 10] [--questions 200]

Without ``--archive`` it ingests ../shared/eval/dev-archive.jsonl (2,500 releases) into
bench/out/dev-archive first.  Then, for each scenario, N fresh processes open the archive
and each asks the same questions (the dev and timeline questions, then release titles drawn
by seed): ``Archive.search(q, k=20)`` and ``Archive.ask(q)``.  A question is *stable* when
every process returned the same 20 chunk ids in the same order and the same answer text
and citations.  Scenarios:

1. embedded, right after the ingest;
2. server: a copy of the archive with its chunks on a ``chroma run`` server, which is
   restarted after half the processes (a restart is when a server rebuilds its graph);
3. embedded, after a kill -9: an ingest of 60 more DOJ releases is killed once its first
   batch is committed; the first process opened finishes the interrupted write.

Prints a table and appends it to bench/RESULTS.md.  Target: every question stable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# bench/ is the script's folder, first on sys.path
from common import HERE, SHARED_EVAL, machine, report
from pressqa import Archive, Settings
from pressqa.chroma_server import chroma_server
from query import copy_to_server

DOJ = SHARED_EVAL.parent / "corpora" / "doj-press-releases" / "doj-press-releases.jsonl"


def questions_for(archive: Archive, count: int) -> list[str]:
    """The dev and timeline questions, then titles of the archive's releases drawn by seed."""
    asked = []
    for name in ("dev-questions.jsonl", "dev-timeline.jsonl"):
        questions = SHARED_EVAL / name
        if questions.is_file():
            asked += [json.loads(line)["question"] for line in questions.read_text().splitlines() if line.strip()]
    titles = [release.title for release in sorted(archive.releases(), key=lambda release: release.doc_id)]
    asked += random.Random(16).sample(titles, min(len(titles), max(0, count - len(asked))))
    return asked[:count]


def answers(path: Path, chroma_url: str | None, questions: list[str]) -> list[str]:
    """Run in a fresh process: a digest of the top-20 chunk ids and of the answer, per question."""
    digests = []
    with Archive.open(settings=Settings(archive=path, chroma_url=chroma_url), create=False) as archive:
        for question in questions:
            hits = [hit.chunk_id for hit in archive.search(question, k=20)]
            answer = archive.ask(question)
            cited = [(citation.doc_id, citation.start, citation.end) for citation in answer.citations]
            digests.append(hashlib.sha1(json.dumps([hits, answer.text, cited]).encode()).hexdigest()[:16])
    return digests


def in_fresh_process(path: Path, chroma_url: str | None, questions: Path) -> list[str]:
    command = [sys.executable, __file__, "--child", str(path), "--questions-file", str(questions)]
    if chroma_url:
        command += ["--chroma-url", chroma_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"asking {path} failed:\n{done.stderr[-3000:]}")
    digests: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return digests


def unstable(runs: list[list[str]]) -> tuple[int, int]:
    """Questions whose digest differed between processes, and the distinct results of the worst."""
    per_question = [set(digests) for digests in zip(*runs, strict=True)]
    return sum(len(seen) > 1 for seen in per_question), max(len(seen) for seen in per_question)


def kill_during_ingest(path: Path, source: Path) -> None:
    """Ingest ``source`` into ``path`` and kill -9 the ingest once its first batch is committed."""
    with Archive.open(settings=Settings(archive=path, chroma_url=None), create=False) as watcher:
        before = watcher.stats().releases
        command = [sys.executable, "-m", "pressqa.cli", "ingest", str(source), "--archive", str(path), "-q"]
        ingest = subprocess.Popen(command, env={**os.environ, "PRESSQA_INGEST_BATCH_CHUNKS": "64"})
        deadline = time.monotonic() + 600
        while ingest.poll() is None and time.monotonic() < deadline and watcher.stats().releases == before:
            time.sleep(0.05)
        if ingest.poll() is not None:
            raise RuntimeError("the ingest finished before it could be killed")
        os.kill(ingest.pid, signal.SIGKILL)
        ingest.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, help="an ingested embedded archive (default: build the dev archive)")
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--questions-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chroma-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(answers(args.child, args.chroma_url, json.loads(args.questions_file.read_text()))))
        return 0

    path = args.archive
    if path is None:
        path = HERE / "out" / "dev-archive"
        with Archive.open(settings=Settings(archive=path, chroma_url=None)) as archive:
            ingested = archive.ingest([SHARED_EVAL / "dev-archive.jsonl"])
            print(f"dev archive: {len(ingested.added)} added, {ingested.unchanged} unchanged", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="pressqa-determinism-") as tmp:
        with Archive.open(settings=Settings(archive=path, chroma_url=None), create=False) as archive:
            questions = questions_for(archive, args.questions)
        asked = Path(tmp) / "questions.json"
        asked.write_text(json.dumps(questions))

        runs = [in_fresh_process(path, None, asked) for _ in range(args.processes)]
        rows.append(("embedded, right after the ingest", *unstable(runs)))
        print(rows[-1], flush=True)

        copy, chroma = Path(tmp) / "server-copy", Path(tmp) / "chroma"
        with chroma_server(chroma) as url:
            copy_to_server(path, url, copy)
            runs = [in_fresh_process(copy, url, asked) for _ in range(args.processes // 2)]
        with chroma_server(chroma) as url:  # the same data, a fresh server (on another port)
            runs += [in_fresh_process(copy, url, asked) for _ in range(args.processes - args.processes // 2)]
        rows.append(("server, restarted half-way", *unstable(runs)))
        print(rows[-1], flush=True)

        crashed = Path(tmp) / "crashed"
        shutil.copytree(path, crashed)
        more = Path(tmp) / "more.jsonl"
        with DOJ.open(encoding="utf-8") as lines:
            more.write_text("".join(itertools.islice(lines, 5000, 5060)), encoding="utf-8")
        kill_during_ingest(crashed, more)
        runs = [in_fresh_process(crashed, None, asked) for _ in range(args.processes)]
        rows.append(("embedded, after an ingest killed with kill -9", *unstable(runs)))
        print(rows[-1], flush=True)

    with Archive.open(settings=Settings(archive=path, chroma_url=None), create=False) as archive:
        stats = archive.stats()
    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/determinism.py, {stats.releases} releases "
        f"({stats.chunks} chunks), {len(questions)} questions, {args.processes} fresh processes per scenario",
        "",
        f"Machine: {machine()}",
        "",
        "| scenario | questions whose top-20 hits or answer differed between processes | most distinct results "
        "of one question |",
        "| --- | ---: | ---: |",
        *(f"| {scenario} | {count} of {len(questions)} | {worst} |" for scenario, count, worst in rows),
        "",
    ]
    report(table, keep=not args.no_record)
    return 0 if all(count == 0 for _, count, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
