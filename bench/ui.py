"""How fast the chat in the browser is ready and answers, on an ingested archive.

    python bench/ui.py --archive DIR        # e.g. the 2,500-release dev archive

Starts `pressqa serve` as a user would (a new process), times it until the page answers
HTTP, then opens the page in headless Chromium, asks questions and times each from Enter
until the answer shows in the chat, a timeline question until its list and chart show, and
the release viewer of the first source card from the click until its first quote is in
view.  Targets: start <= 10 s, first answer <= 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

from common import machine, report  # bench/ is the script's folder, first on sys.path

QUESTIONS = [
    "Which exercises did Russia join in China in 2021?",
    "How much did the Justice Department recover in False Claims Act cases in fiscal year 2012?",
    "Who was the Taliban's shadow governor in Faryab?",
    "What combined penalty did Odebrecht and Braskem agree to pay?",
]
TIMELINE = "What did ISAF report from Helmand province in March 2011?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, required=True)
    parser.add_argument("--no-record", action="store_true", help="do not append to bench/RESULTS.md")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium not found: apt-get install chromium (make bench-ui does it)", file=sys.stderr)
        return 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "pressqa.cli", "serve", "--archive", str(args.archive), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urlopen(url, timeout=1):
                    break
            except (URLError, ConnectionError):
                if server.poll() is not None:
                    raise SystemExit("pressqa serve exited") from None
                time.sleep(0.05)
        start_seconds = time.perf_counter() - started
        answer_seconds, timeline_seconds, viewer_seconds = _ask_in_browser(chromium, url)
    finally:
        server.terminate()
        server.wait(timeout=10)
    table = [
        f"### {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} - bench/ui.py on {args.archive.name}",
        "",
        f"Machine: {machine()}",
        "",
        "| step | seconds |",
        "| --- | ---: |",
        f"| `pressqa serve` until the page answers HTTP | {start_seconds:.2f} |",
        f"| first answer in the page, from Enter (question 1) | {answer_seconds[0]:.2f} |",
        f"| median of questions 2-{len(answer_seconds)} | {statistics.median(answer_seconds[1:]):.2f} |",
        f"| a timeline answer with its chart, from Enter | {timeline_seconds:.2f} |",
        f"| the release viewer, from the click until its first quote is in view | {viewer_seconds:.2f} |",
        "",
        f"- start: **{start_seconds:.1f} s** (target <= 10 s); first answer: **{answer_seconds[0]:.2f} s** "
        "(target <= 2 s)",
        "",
    ]
    report(table, keep=not args.no_record)
    return 0


def _ask_in_browser(chromium: str, url: str) -> tuple[list[float], float, float]:
    from playwright.sync_api import expect, sync_playwright

    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#message textarea")
        for count, question in enumerate(QUESTIONS, 1):
            page.fill("#message textarea", question)
            started = time.perf_counter()
            page.press("#message textarea", "Enter")
            # The answer's first words, not its bubble (shown as soon as the question is taken up).
            expect(page.locator('[data-testid="bot"]').nth(count - 1)).to_have_text(re.compile(r"\S"), timeout=30_000)
            seconds.append(time.perf_counter() - started)
            page.wait_for_timeout(300)  # let the sources panel settle before the next question
        card = page.locator("#sources .pq-card").first
        started = time.perf_counter()
        card.locator(".pq-release summary").click()
        expect(card.locator(".pq-release-text mark").first).to_be_in_viewport(timeout=30_000)
        viewer = time.perf_counter() - started
        page.fill("#message textarea", TIMELINE)
        started = time.perf_counter()
        page.press("#message textarea", "Enter")
        expect(page.locator("#timeline-chart")).to_be_visible(timeout=30_000)
        expect(page.locator('[data-testid="bot"]').last.locator("li").first).to_be_visible()
        timeline = time.perf_counter() - started
        browser.close()
    return seconds, timeline, viewer


if __name__ == "__main__":
    sys.exit(main())
