"""Load on the chat in the browser: concurrent clients through its API while an upload ingests.

    python bench/load.py [--clients 20] [--seconds 60]

Serves a copy of the bundled sample archive on 127.0.0.1 (loopback only), starts
``--clients`` API clients (each its own session, as a browser tab is) that ask questions in
turn for ``--seconds``, and meanwhile uploads a file of new releases through the same API.
Counts errors and conversations that show another session's question, and prints latency
percentiles; appends the table to bench/RESULTS.md.  Bounded in time and count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from gradio_client import Client, handle_file

from common import machine, percentile, report  # bench/ is the script's folder, first on sys.path
from pressqa import Archive
from pressqa.ui.app import serve

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "ingest" / "sample-archive"
QUESTIONS = [
    "Which exercises did Russia join in China in 2021?",
    "How long was Elizabeth Holmes sentenced to?",
    "How much did the Justice Department recover under the False Claims Act in fiscal year 2021?",
    "When was Joint Sea 2021 held?",
]


def _text(content: object) -> str:
    """A chat message's text as the API returns it (a string, or a list of text parts)."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pressqa-load-") as tmp:
        folder = Path(tmp)
        with Archive.open(folder / "archive") as archive:
            archive.ingest([SAMPLE])
        upload = folder / "new-releases.jsonl"
        upload.write_text(
            "".join(
                json.dumps({"id": f"load-{n}", "title": f"Harbour notice {n}", "date": "2024-01-02",
                            "source": "Port Authority", "text": f"Notice {n}: the harbour opens at {n % 12 + 6} am."})
                + "\n"
                for n in range(200)
            )
        )  # fmt: skip
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        app, url = serve(folder / "archive", port=port)
        latencies: list[float] = []
        errors: list[str] = []
        mixed = 0
        asked = 0
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def client(number: int) -> None:
            nonlocal mixed, asked
            session = Client(url, verbose=False)
            mine: list[str] = []
            turn = 0
            while time.monotonic() < deadline:
                question = f"{QUESTIONS[(number + turn) % len(QUESTIONS)]} (client {number}, turn {turn})"
                started = time.perf_counter()
                try:
                    session.predict(question, api_name="/lambda")  # the textbox's submit: the question is taken
                    chat = session.predict(None, None, [], "offline", api_name="/respond")[0]
                except Exception as err:  # every failure is counted and shown, none stops the run
                    with lock:
                        errors.append(f"client {number}: {type(err).__name__}: {err}")
                    continue
                seconds = time.perf_counter() - started
                mine.append(question)
                shown = [_text(message["content"]) for message in chat if message["role"] == "user"]
                with lock:
                    latencies.append(seconds)
                    asked += 1
                    if [text.replace("\\", "") for text in shown] != mine:
                        mixed += 1
                turn += 1

        def uploader() -> None:
            try:
                Client(url, verbose=False).predict([handle_file(str(upload))], api_name="/ingest")
            except Exception as err:
                with lock:
                    errors.append(f"upload: {type(err).__name__}: {err}")

        threads = [threading.Thread(target=client, args=(number,)) for number in range(args.clients)]
        threads.append(threading.Thread(target=uploader))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        releases = app.archive.stats().releases
        app.blocks.close()
        app.archive.close()
    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/load.py",
        "",
        f"Machine: {machine()}",
        "",
        f"{args.clients} API clients for {args.seconds:.0f} s on the sample archive while an upload of 200 releases "
        f"ingests (archive after: {releases} releases).",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| questions answered | {asked} |",
        f"| errors | {len(errors)} |",
        f"| conversations showing another session's question | {mixed} |",
        f"| latency p50, s (queue wait included) | {percentile(latencies, 0.5):.2f} |",
        f"| latency p95, s | {percentile(latencies, 0.95):.2f} |",
        f"| mean, s | {statistics.mean(latencies) if latencies else 0:.2f} |",
        "",
    ]
    report(table, keep=not args.no_record)
    for error in errors[:10]:
        print(error, file=sys.stderr)
    return 0 if not errors and not mixed else 1


if __name__ == "__main__":
    sys.exit(main())
