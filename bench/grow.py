"""Adding releases to an archive that already holds many: time end to end, and peak memory (issue 16).

    python bench/grow.py --archive DIR [--label TEXT]

Works on a copy of DIR.  Opens it and loads the model (as a server that ingests would have
it loaded), then ingests 1 release, then 100 more, taken from the DOJ corpus in ../shared
past the releases the dev archive holds; each ingest is timed end to end (reading,
embedding, Chroma, the registry and the keyword index).  Then asks 50 questions for the
search and ask p50.  Prints a row and appends it to bench/RESULTS.md.  Targets: 1 release
<= 5 s, 100 releases <= 30 s, peak RSS of the ingest <= 2 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# bench/ is the script's folder, first on sys.path
from common import machine, peak_rss_mb, percentile, report
from determinism import DOJ, questions_for
from pressqa import Archive, Settings

FIRST_LINE = 8000  # DOJ releases from here on are not in the dev archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, required=True, help="an ingested embedded archive")
    parser.add_argument("--label", default="", help="what is measured, for the results table")
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    if not DOJ.is_file():
        print(f"{DOJ} not found (it lives in ../shared)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pressqa-grow-") as tmp:
        copy = Path(tmp) / "archive"
        shutil.copytree(args.archive, copy)
        with DOJ.open(encoding="utf-8") as lines:
            new = list(itertools.islice(lines, FIRST_LINE, FIRST_LINE + 101))
        one, hundred = Path(tmp) / "one.jsonl", Path(tmp) / "hundred.jsonl"
        one.write_text(new[0], encoding="utf-8")
        hundred.write_text("".join(new[1:]), encoding="utf-8")
        with Archive.open(settings=Settings(archive=copy, chroma_url=None), create=False) as archive:
            archive.warm_up()  # the model and the indexes, loaded as a serving process has them
            timings = []
            for source in (one, hundred):
                started = time.perf_counter()
                ingested = archive.ingest([source])
                timings.append((len(ingested.added), ingested.chunks_added, time.perf_counter() - started))
            rss_mb = peak_rss_mb()
            search_ms, ask_ms = [], []
            for question in questions_for(archive, 50):
                started = time.perf_counter()
                archive.search(question)
                search_ms.append(1000 * (time.perf_counter() - started))
                started = time.perf_counter()
                archive.ask(question)
                ask_ms.append(1000 * (time.perf_counter() - started))
            stats = archive.stats()
    row = (
        f"| {args.label} | {stats.releases} | "
        + " | ".join(f"{added} ({chunks} chunks): {seconds:.1f} s" for added, chunks, seconds in timings)
        + f" | {rss_mb:.0f} | {percentile(search_ms, 0.5):.1f} | {percentile(ask_ms, 0.5):.1f} |"
    )
    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/grow.py",
        "",
        f"Machine: {machine()}",
        "",
        "| code | releases after | add 1 release, end to end | add 100 releases, end to end | peak RSS MB "
        "| search p50 ms | ask p50 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        row,
        "",
    ]
    report(table, keep=not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
