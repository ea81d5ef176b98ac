"""The chat in the browser, driven in real headless Chromium (Debian's package; `make test`
installs it when missing) against `pressqa serve`'s app on 127.0.0.1."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import gradio as gr
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import SAMPLE_ARCHIVE, archive_of
from llm_server import SOURCE, serving, source_with
from pressqa import Archive, Settings
from pressqa.chroma_server import free_port
from pressqa.ui import render
from pressqa.ui.app import OFFLINE, ArchiveApp, Sent, serve
from web_server import ministry_feed
from web_server import serving as site_serving

ZAPAD = "Which exercises did Russia join in China in 2021?"
BOT = '[data-testid="bot"]'
# A release that tries to run script in the reader's browser, by its title and its text.
PLANTED = {
    "id": "planted-xss",
    "title": 'Harbour works <img src=x onerror="window.__xss = 1"> update',
    "date": "2022-05-04",
    "source": "Port Authority <script>window.__xss = 2</script>",
    "url": "javascript:window.__xss = 3",
    "text": 'The harbour dredging contract was awarded to Van Oord <img src=x onerror="window.__xss = 5">, '
    "see www.vanoord.example or mail press@vanoord.example. <script>window.__xss = 4</script> Works begin in June.",
}


def _chromium() -> str:
    path = os.environ.get("PRESSQA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (make test does it)")
    return path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ArchiveApp, str]]:
    folder = tmp_path_factory.mktemp("ui")
    planted = folder / "planted.jsonl"
    planted.write_text(json.dumps(PLANTED) + "\n")
    with Archive.open(folder / "archive") as archive:
        report = archive.ingest([SAMPLE_ARCHIVE, planted])
        assert not report.failed
    served, url = serve(folder / "archive", port=free_port())
    yield served, url
    served.blocks.close()
    served.archive.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=_chromium(), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, app: tuple[ArchiveApp, str]) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    opened = context.new_page()
    opened.goto(app[1])
    opened.wait_for_selector("#message textarea")
    yield opened
    context.close()


def ask(page: Page, question: str) -> None:
    answers = page.locator(BOT).count()
    page.fill("#message textarea", question)
    page.press("#message textarea", "Enter")
    expect(page.locator(BOT)).to_have_count(answers + 1, timeout=20_000)
    # Answered once its sources are shown (the bubble appears as soon as the question is taken up).
    expect(page.locator(f"#sources #turn-{answers}")).to_be_attached(timeout=20_000)


def release_dates(page: Page) -> list[str]:
    """The release date of each source card of the newest answer (its link may hold a date too)."""
    metas = page.locator("#sources .pq-turn").first.locator(".pq-meta").all_inner_texts()
    return [found.group() for meta in metas if (found := re.search(r"\d{4}-\d{2}-\d{2}", meta))]


def card_dates(page: Page) -> list[str]:
    return re.findall(r"\d{4}-\d{2}-\d{2}", " ".join(page.locator("#sources .pq-meta").all_inner_texts()))


def test_an_answer_streams_in_with_numbered_markers_and_source_cards(
    page: Page, app: tuple[ArchiveApp, str], tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 1400, "height": 500})  # so that the last card starts out of view
    ask(page, ZAPAD)
    answer = page.locator(BOT).last
    expect(answer).to_contain_text("ZAPAD/INTERACTION", timeout=20_000)
    expect(page.locator("#sources .pq-card").first).to_contain_text("Ministry of National Defense")
    expect(page.locator("#sources .pq-card").first).to_contain_text("2021-08-13")
    expect(page.locator("#sources .pq-card mark").first).not_to_be_empty()
    # A marker takes the reader to its source card.
    last = page.locator("#sources .pq-card").last
    target = last.get_attribute("id")
    expect(last).not_to_be_in_viewport()
    answer.locator(f'a[href="#{target}"]').first.click()
    assert page.evaluate("location.hash") == f"#{target}"
    expect(last).to_be_in_viewport()
    expect(answer).to_be_in_viewport()  # the panel beside the chat scrolls, not the page under it
    expect(last).to_have_class(re.compile("pq-focus"))
    page.set_viewport_size({"width": 1400, "height": 1300})
    # The README's picture of the page (PRESSQA_SCREENSHOT=docs/ui.png pytest tests/test_ui.py -k streams).
    page.screenshot(path=os.environ.get("PRESSQA_SCREENSHOT") or str(tmp_path / "page.png"))
    # The inferred time is a chip; removing it answers again without it.
    chip = page.locator("#chips label", has_text="time: in 2021")
    expect(chip).to_be_visible()
    before = answer.inner_text()
    chip.click()
    expect(page.locator("#chips")).to_be_hidden(timeout=20_000)
    expect(page.locator(BOT)).to_have_count(1)  # the same turn, answered again
    expect(answer).not_to_have_text(before)
    expect(answer).to_contain_text("ZAPAD")
    # Copy-ready markdown of the answer and its sources.
    page.get_by_text("Copy the answer with its citations (markdown)").click()
    expect(page.locator("#copy textarea")).to_have_value(re.compile(r"\[1\] Ministry of National Defense"))


def test_the_date_filter_limits_the_sources(page: Page) -> None:
    page.fill("#until input", "2020-12-31")
    page.press("#until input", "Enter")
    ask(page, "Which joint exercises did China and Russia hold?")
    dates = card_dates(page)
    assert dates and all(day <= "2020-12-31" for day in dates), dates


def test_an_abstention_says_so_and_offers_the_closest_releases(page: Page) -> None:
    ask(page, "On what date did the Special Counsel indict Paul Manafort?")
    expect(page.locator(BOT).last).to_have_text("The archive has no release that answers this.")
    expect(page.locator("#sources")).to_contain_text("The closest ones")
    expect(page.locator("#sources .pq-closest").first).to_be_visible()


def test_a_timeline_answer_is_a_dated_list_with_a_chart_and_obeys_the_as_of_day(page: Page, tmp_path: Path) -> None:
    question = "Give me a timeline of China's defense ministry statements on joint exercises with Russia"
    ask(page, question)
    answer = page.locator(BOT).last
    expect(answer).to_contain_text("releases from Ministry of National Defense", timeout=20_000)
    items = answer.locator("li")
    expect(items.first).to_contain_text("July 23, 2019")
    dates = release_dates(page)
    assert len(dates) == items.count() >= 5 and dates == sorted(dates), dates
    expect(page.locator("#timeline-chart")).to_be_visible()
    expect(page.locator("#show-all")).to_be_hidden()  # every matching release is shown
    # The README's picture of a timeline (PRESSQA_TIMELINE_SCREENSHOT=docs/timeline.png), its start in view.
    expect(page.locator("#timeline-chart canvas, #timeline-chart svg").first).to_be_visible()
    expect(page.locator("#chips")).to_be_visible()
    answer.evaluate("(bubble) => { bubble.scrollIntoView({block: 'start'}); window.scrollTo(0, 0); }")
    page.wait_for_timeout(500)  # the chart's drawing settles
    page.screenshot(path=os.environ.get("PRESSQA_TIMELINE_SCREENSHOT") or str(tmp_path / "timeline.png"))
    page.fill("#as-of input", "2021-08-31")
    page.press("#as-of input", "Enter")
    ask(page, question)
    expect(page.locator(BOT).last).to_contain_text("published until 2021-08-31")
    newest = page.locator("#sources .pq-turn").first
    expect(newest.locator(".pq-card")).to_have_count(4, timeout=20_000)  # not the 8 of the whole archive
    later = release_dates(page)
    assert max(later) <= "2021-08-31", later
    # A question one passage answers hides the chart again.
    ask(page, ZAPAD)
    expect(page.locator("#timeline-chart")).to_be_hidden()


def test_a_long_timeline_shows_part_and_a_button_shows_all(browser: Browser, tmp_path: Path) -> None:
    months = [f"{2019 + n // 12}-{n % 12 + 1:02d}-15" for n in range(24)]
    logs = [
        {"id": f"lamp-{day}", "title": f"Lamp log {day}", "date": day, "source": "Coast Watch Office",
         "text": f"The keepers of Cape Lumen lighthouse logged {n + 3} ships passing in the fog this month, the "
         f"Coast Watch Office said. The lamp was serviced on day {n + 1}."}
        for n, day in enumerate(months)
    ]  # fmt: skip
    with archive_of(tmp_path, logs):
        pass
    served, url = serve(tmp_path / "archive", port=free_port())
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("#message textarea")
        ask(page, "What did the Coast Watch Office report about Cape Lumen lighthouse from 2019 to 2020?")
        answer = page.locator(BOT).last
        expect(answer).to_contain_text("24 releases from Coast Watch Office")
        expect(answer.locator("li")).to_have_count(20)
        page.locator("#show-all").click()
        expect(answer.locator("li")).to_have_count(24, timeout=20_000)
        expect(page.locator("#show-all")).to_be_hidden()
        expect(page.locator(BOT)).to_have_count(1)  # the same turn, shown whole
    finally:
        context.close()
        served.blocks.close()
        served.archive.close()


def test_a_new_topic_is_not_glued_to_the_last_and_a_merge_can_be_undone(page: Page) -> None:
    ask(page, ZAPAD)
    ask(page, "Boeing fine?")
    answer = page.locator(BOT).last
    expect(answer).not_to_contain_text("Read as")
    expect(page.locator("#sources")).to_contain_text("Boeing")
    expect(page.locator("#as-new")).to_be_hidden()
    ask(page, "Who announced it?")
    expect(page.locator(BOT).last).to_contain_text("Read as: Who announced it, regarding: Boeing fine?")
    page.locator("#as-new").click()
    expect(page.locator(BOT).last).not_to_contain_text("Read as", timeout=20_000)
    expect(page.locator(BOT)).to_have_count(3)  # the same turn, answered as it was typed
    expect(page.locator("#as-new")).to_be_hidden()
    ask(page, "And in 2021?")  # leans on the question asked anew, not on the one before it
    expect(page.locator(BOT).last).to_contain_text("Read as: Who announced it in 2021?")


def test_an_older_answer_keeps_its_own_sources(page: Page) -> None:
    ask(page, ZAPAD)
    ask(page, "How long was Elizabeth Holmes sentenced to prison?")
    older = page.locator(BOT).first
    older.locator('a[href="#source-0-1"]').first.click()
    card = page.locator("#source-0-1")
    expect(card).to_be_in_viewport()
    expect(card).to_contain_text("Ministry of National Defense")  # the first answer's card, not Holmes's
    expect(page.locator("#sources .pq-asked").first).to_contain_text("Sources of answer 2")


def test_a_card_opens_its_whole_release_with_the_quotes_marked(page: Page, tmp_path: Path) -> None:
    ask(page, ZAPAD)
    card = page.locator("#sources .pq-card").first
    card.locator(".pq-release summary").click()
    release = card.locator(".pq-release-text")
    expect(release).to_be_visible()
    expect(release).to_contain_text("Qingtongxia")  # the release itself, beyond the quoted passage
    expect(release.locator("mark").first).to_be_in_viewport()
    assert release.locator("mark").count() == card.locator(".pq-passage mark").count()
    # The README's picture of a release opened (PRESSQA_VIEWER_SCREENSHOT=docs/viewer.png).
    page.screenshot(path=os.environ.get("PRESSQA_VIEWER_SCREENSHOT") or str(tmp_path / "viewer.png"))


def test_the_conversation_exports_as_markdown_and_json(page: Page) -> None:
    ask(page, ZAPAD)
    ask(page, "And in 2022?")
    with page.expect_download() as markdown:
        page.locator("#export-md").click()
    text = Path(markdown.value.path()).read_text()
    assert text.startswith("# pressqa conversation") and f"## 1. {ZAPAD}" in text and "## 2. And in 2022?" in text
    assert "[1] Ministry of National Defense" in text and "Quote:" in text
    with page.expect_download() as exported:
        page.locator("#export-json").click()
    turns = json.loads(Path(exported.value.path()).read_text())["conversation"]
    assert [turn["asked"] for turn in turns] == [ZAPAD, "And in 2022?"]
    assert turns[1]["question"] != turns[1]["asked"]  # read against the first question
    first = turns[0]["citations"][0]
    assert first["quote"] and first["doc_id"] and first["date"] == "2021-08-13" and "url" in first


@pytest.mark.parametrize("pause_ms", [0, 80])
def test_a_question_sent_while_another_is_answered_is_answered_next(page: Page, pause_ms: int) -> None:
    holmes = "How long was Elizabeth Holmes sentenced to prison?"
    page.fill("#message textarea", ZAPAD)
    page.press("#message textarea", "Enter")
    page.wait_for_timeout(pause_ms)  # at once, and while the first is answered
    page.fill("#message textarea", holmes)
    page.press("#message textarea", "Enter")
    expect(page.locator(BOT)).to_have_count(2, timeout=30_000)
    expect(page.locator('[data-testid="user"]')).to_have_text([ZAPAD, holmes])
    expect(page.locator(BOT).last).to_contain_text("Holmes")


def test_a_date_that_cannot_be_read_is_an_error_at_its_field_and_the_question_waits(page: Page) -> None:
    page.fill("#since input", "garbage")
    page.locator("#until input").click()  # leaving the field shows what is wrong with it
    expect(page.locator("#since")).to_contain_text("'garbage' is not a date")
    page.fill("#message textarea", ZAPAD)
    page.press("#message textarea", "Enter")
    page.wait_for_timeout(1000)
    expect(page.locator(BOT)).to_have_count(0)  # nothing is answered with a date it cannot read
    expect(page.locator("#message textarea")).to_have_value(ZAPAD)  # the question waits in its box
    page.fill("#since input", "2021-09")
    page.fill("#until input", "2021-08-31")
    page.press("#message textarea", "Enter")
    expect(page.locator("#until")).to_contain_text("'2021-08-31' is before the day since (2021-09)")
    expect(page.locator(BOT)).to_have_count(0)
    page.fill("#until input", "2021")  # a year: until its last day
    ask(page, "Which joint exercises did China and Russia hold?")
    dates = card_dates(page)
    assert dates and all("2021-09-01" <= day <= "2021-12-31" for day in dates), dates
    expect(page.locator("#since")).not_to_contain_text("not a date")


def test_a_period_preset_fills_the_dates_within_the_archive(page: Page) -> None:
    page.locator("#period input").click()
    options = [option.split("\n")[-1] for option in page.get_by_role("option").all_inner_texts()]
    assert options[:3] == ["any time", "last 12 months of the archive", "2023"] and options[-1] == "2019", options
    page.get_by_role("option", name="last 12 months of the archive").click()
    expect(page.locator("#since input")).to_have_value("2022-07-13")  # the archive ends 2023-07-12
    expect(page.locator("#until input")).to_have_value("2023-07-12")
    page.locator("#period input").click()
    page.get_by_role("option", name="2021", exact=True).click()
    expect(page.locator("#since input")).to_have_value("2021")  # since its first day, until its last
    expect(page.locator("#until input")).to_have_value("2021")
    ask(page, "Which joint exercises did China and Russia hold?")
    dates = card_dates(page)
    assert dates and all(day.startswith("2021-") for day in dates), dates


def test_the_empty_page_describes_the_archive_and_its_examples_ask(page: Page, tmp_path: Path) -> None:
    welcome = page.locator("#welcome")
    expect(welcome).to_contain_text("33 releases from 8 named issuers, 2019-01-28 to 2023-07-12")
    expect(welcome).to_contain_text("Ministry of National Defense of the People's Republic of China: 9")
    examples = page.locator("#examples button")
    expect(examples).to_have_count(4)
    # The README's picture of the empty page (PRESSQA_EMPTY_SCREENSHOT=docs/empty.png).
    page.screenshot(path=os.environ.get("PRESSQA_EMPTY_SCREENSHOT") or str(tmp_path / "empty.png"))
    first = examples.first.inner_text()
    assert first == "What is the latest from Ministry of National Defense of the People's Republic of China?"
    examples.first.click()  # asks it, no typing
    expect(page.locator(BOT)).to_have_count(1, timeout=20_000)
    expect(page.locator('[data-testid="user"]')).to_have_text(first)
    expect(page.locator(BOT)).to_contain_text("November 25, 2021")
    expect(welcome).to_be_hidden()
    page.locator("#new-conversation").click()
    expect(welcome).to_be_visible()


def test_chips_name_only_issuers_the_question_names(page: Page) -> None:
    ask(page, "What did the Ministry of Defence of Japan say about Taiwan in 2020?")
    # The time, and no Russian or Chinese ministry.
    expect(page.locator("#chips label")).to_have_text(["time: in 2020 (2020-01-01 to 2020-12-31)"])
    ask(page, "What did China's defense ministry say about Taiwan in 2020?")
    expect(page.locator("#chips")).to_contain_text("issuer: Ministry of National Defense of the People's Republic")


def test_on_a_phone_the_sources_follow_the_answer(
    browser: Browser, app: tuple[ArchiveApp, str], tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(app[1])
        page.wait_for_selector("#message textarea")
        ask(page, ZAPAD)
        answer = page.locator(BOT).last
        answer_box, card_box = answer.bounding_box(), page.locator("#sources .pq-card").first.bounding_box()
        assert answer_box and card_box
        # The first card starts within a screen of the answer's end, not ~1,000 px below it.
        assert card_box["y"] - (answer_box["y"] + answer_box["height"]) < 844, (answer_box, card_box)
        # The README's picture of the phone layout (PRESSQA_PHONE_SCREENSHOT=docs/phone.png).
        answer.evaluate("(bubble) => bubble.scrollIntoView({block: 'start'})")
        page.screenshot(path=os.environ.get("PRESSQA_PHONE_SCREENSHOT") or str(tmp_path / "phone.png"))
        answer.locator('a[href="#source-0-1"]').first.click()
        expect(page.locator("#source-0-1")).to_be_in_viewport()
    finally:
        context.close()


@pytest.mark.parametrize("control", ["#new-conversation", '#chat button[aria-label="Clear"]'])
def test_starting_over_forgets_the_conversation(page: Page, control: str) -> None:
    ask(page, ZAPAD)
    expect(page.locator("#chips")).to_be_visible()
    page.locator(control).click()
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator("#sources")).to_be_empty()
    expect(page.locator("#chips")).to_be_hidden()
    ask(page, "And in 2022?")  # nothing before it to lean on
    expect(page.locator(BOT).last).not_to_contain_text("Read as")


def test_release_text_is_shown_as_text_never_run(page: Page) -> None:
    ask(page, "Who was awarded the harbour dredging contract?")
    answer = page.locator(BOT).last
    expect(answer).to_contain_text('Van Oord <img src=x onerror="window.__xss = 5">')
    expect(answer).to_contain_text("www.vanoord.example or mail press@vanoord.example")
    assert answer.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))") == ["#source-0-1"]
    sources = page.locator("#sources")
    expect(sources).to_contain_text("<script>window.__xss = 4</script>")
    expect(sources).to_contain_text('<img src=x onerror="window.__xss = 1">')
    assert page.locator("#sources a[href^='javascript']").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None


def test_a_thumb_is_recorded_against_its_own_answer(page: Page, app: tuple[ArchiveApp, str]) -> None:
    ask(page, ZAPAD)
    ask(page, "How long was Elizabeth Holmes sentenced to?")
    # Each answer's markers lead to its own cards.
    hrefs = page.locator(BOT).first.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert hrefs and all(href.startswith("#source-0-") for href in hrefs)
    feedback = app[0].archive.path / "feedback.jsonl"
    before = feedback.read_text().count("\n") if feedback.exists() else 0
    page.locator("#chat button[aria-label='Like']").first.click()
    deadline = time.time() + 10
    while time.time() < deadline and (feedback.read_text().count("\n") if feedback.exists() else 0) == before:
        time.sleep(0.1)
    record = json.loads(feedback.read_text().splitlines()[-1])
    assert record["question"] == ZAPAD and record["citations"]


def test_an_uploaded_release_can_be_asked_about(page: Page, tmp_path: Path) -> None:
    release = tmp_path / "2024-03-05-lighthouse.md"
    release.write_text(
        "---\ntitle: Lighthouse on Gozo restored\nsource: Malta Ministry of Culture\ndate: 2024-03-05\n---\n\n"
        "The Giordan lighthouse on Gozo was restored by a team of 14 stonemasons over nine months.\n"
    )
    page.get_by_text("Archive", exact=True).click()
    expect(page.locator("#overview")).to_contain_text("33 releases (1 of them copies of others, 0 undated)")
    expect(page.locator("#overview")).to_contain_text("2019-01-28 to 2023-07-12")
    page.locator("#upload input[type=file]").set_input_files(str(release))
    expect(page.locator("#report")).to_contain_text("1 added", timeout=60_000)
    expect(page.locator("#overview")).to_contain_text("34 releases")
    ask(page, "How many stonemasons restored the Giordan lighthouse?")
    expect(page.locator(BOT).last).to_contain_text("14 stonemasons")
    expect(page.locator("#sources")).to_contain_text("Malta Ministry of Culture")


def test_two_users_chat_at_once_without_sharing_histories(browser: Browser, app: tuple[ArchiveApp, str]) -> None:
    pages = []
    for _ in range(2):
        opened = browser.new_context().new_page()
        opened.goto(app[1])
        opened.wait_for_selector("#message textarea")
        pages.append(opened)
    questions = [ZAPAD, "How long was Elizabeth Holmes sentenced to?"]
    for opened, question in zip(pages, questions, strict=True):
        opened.fill("#message textarea", question)
    for opened in pages:
        opened.press("#message textarea", "Enter")
    for opened, question in zip(pages, questions, strict=True):
        expect(opened.locator(BOT)).to_have_count(1, timeout=20_000)
        expect(opened.locator('[data-testid="user"]')).to_have_count(1)
        expect(opened.locator('[data-testid="user"]')).to_have_text(question)
    expect(pages[0].locator(BOT)).to_contain_text("ZAPAD")
    expect(pages[1].locator(BOT)).to_contain_text("135 months")
    for opened in pages:
        opened.context.close()


def test_serve_refuses_to_expose_the_archive_without_a_login(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "pressqa.cli", "serve", "--archive", str(tmp_path / "a"), "--port", str(port)]
    refused = subprocess.run([*command, "--host", "0.0.0.0"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "refusing to serve on 0.0.0.0 without --auth" in refused.stderr
    server = subprocess.Popen(
        [*command, "--host", "0.0.0.0", "--insecure"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        assert "serving" in server.stdout.readline()
        with urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
        assert "without --auth" in server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_login_guards_the_page_and_every_api_route(browser: Browser, app: tuple[ArchiveApp, str]) -> None:
    guarded = ArchiveApp(app[0].archive)
    _, url, _ = guarded.blocks.queue().launch(
        server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, auth=("ana", "s3cret")
    )
    try:
        for route, body in [("config", None), ("gradio_api/info", None), ("gradio_api/queue/join", b"{}"),
                            ("gradio_api/upload", b"{}")]:  # fmt: skip
            with pytest.raises(HTTPError) as refused:
                urlopen(Request(url + route, data=body), timeout=10)
            assert refused.value.code == 401, route
        page = browser.new_page()
        page.goto(url)
        page.fill("input[type=text]", "ana")
        page.fill("input[type=password]", "wrong")
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_text("Incorrect Credentials")).to_be_visible()
        page.fill("input[type=text]", "ana")
        page.fill("input[type=password]", "s3cret")
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("#message textarea")
        ask(page, ZAPAD)
        expect(page.locator(BOT).last).to_contain_text("ZAPAD")
        page.close()
    finally:
        guarded.blocks.close()


def test_answers_can_be_written_by_a_configured_language_model(browser: Browser, app: tuple[ArchiveApp, str]) -> None:
    def reply(messages: list[dict[str, Any]]) -> str:
        return f"Russian troops joined the ZAPAD/INTERACTION exercise in Ningxia [{source_with(messages, 'Ningxia')}]."

    with serving(reply) as (url, model):
        spec = f"openai-like:scripted@{url}/v1"
        served = ArchiveApp(app[0].archive, llm=spec)
        _, page_url, _ = served.blocks.queue().launch(
            server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
        )
        try:
            page = browser.new_page()
            page.goto(page_url)
            page.wait_for_selector("#message textarea")
            page.locator("#generator input").click()
            page.get_by_role("option", name=spec).click()
            ask(page, ZAPAD)
            expect(page.locator(BOT).last).to_contain_text("Russian troops joined the ZAPAD/INTERACTION exercise")
            assert len(model.requests) == 1
            page.close()
        finally:
            served.blocks.close()


def test_stopping_gives_back_the_question_answered_and_drops_those_waiting(app: tuple[ArchiveApp, str]) -> None:
    sent = Sent(waiting=["Who opened the exercise?"], answering=ZAPAD)
    history = [{"role": "user", "content": "Boeing fine?"}, {"role": "assistant", "content": "..."}]
    answers = [app[0].archive.ask("Boeing fine?")]
    chat, box = app[0].stopped(sent, history, answers)
    assert box == ZAPAD and len(chat) == 2  # the conversation as it was
    assert sent.waiting == [] and sent.answering is None  # nothing left to answer in place of the next one sent
    _, box = app[0].stopped(Sent(waiting=["Who opened the exercise?"]), history, answers)
    assert box == "Who opened the exercise?"  # stopped before its turn came: given back all the same


def test_an_answer_that_outruns_its_stop_changes_nothing(app: tuple[ArchiveApp, str]) -> None:
    served, sent = app[0], Sent(waiting=[ZAPAD])
    answering = served.respond(sent, [], [], "", "", None, OFFLINE[1], "")
    first = next(answering)  # the question shown, its answer under way
    assert first[0][-2]["content"] == render.escape_markdown(ZAPAD)
    served.stopped(sent, [], [])
    rest = list(answering)  # no answer, no history, no sources written after the stop: the chat as it was
    assert len(rest) == 1 and rest[0][0] == [] and all(output == gr.skip() for output in rest[0][1:])
    regenerating = served.regenerate(sent, [], [], OFFLINE[1])
    assert all(output == gr.skip() for output in next(regenerating))  # nothing to write again


def test_a_language_model_answering_can_be_stopped_and_asked_again(
    browser: Browser, app: tuple[ArchiveApp, str]
) -> None:
    def reply(messages: list[dict[str, Any]]) -> str:
        number, text = SOURCE.findall(messages[-1]["content"])[0]
        first = re.split(r"(?<=\.) ", text)[0].rstrip(".")
        return " ".join(f"{first} [{number}]." for _ in range(20))

    with serving(reply, pause=0.05) as (url, model):
        spec = f"openai-like:slow@{url}/v1"
        served = ArchiveApp(app[0].archive, llm=spec)
        _, page_url, _ = served.blocks.queue(default_concurrency_limit=1).launch(
            server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True
        )
        try:
            page = browser.new_page()
            page.goto(page_url)
            page.wait_for_selector("#message textarea")
            expect(page.locator("#stop")).to_be_hidden()  # the offline answerer is done in a blink
            page.locator("#generator input").click()
            page.get_by_role("option", name=spec).click()
            page.fill("#message textarea", ZAPAD)
            page.press("#message textarea", "Enter")
            expect(page.locator(BOT).last).not_to_be_empty(timeout=20_000)
            page.locator("#stop").click()
            expect(page.locator(BOT)).to_have_count(0)  # nothing half-written is kept
            expect(page.locator("#message textarea")).to_have_value(ZAPAD)  # the question is back to send again
            model.pause = 0
            holmes = "How long was Elizabeth Holmes sentenced to prison?"
            ask(page, holmes)  # the conversation goes on as if the stopped question was never sent
            expect(page.locator('[data-testid="user"]')).to_have_text([holmes])
            expect(page.locator(BOT)).to_have_count(1)
            written = page.locator(BOT).last.inner_text()
            asked = len(model.requests)
            model.reply = lambda messages: reply(messages).split(" [")[0] + " [1]."  # one sentence this time
            page.locator("#regenerate").click()
            deadline = time.time() + 20
            while time.time() < deadline and len(model.requests) == asked:
                time.sleep(0.1)
            assert len(model.requests) == asked + 1
            # Written anew, in its place: one sentence now, where there were twenty.
            expect(page.locator(BOT).last).to_have_text(re.compile(r"^[^\[]+\[1\]\.\s*$"), timeout=20_000)
            assert len(page.locator(BOT).last.inner_text()) < len(written) / 5
            expect(page.locator(BOT)).to_have_count(1)
            expect(page.locator('[data-testid="user"]')).to_have_text([holmes])
            page.close()
        finally:
            served.blocks.close()


# Script-injection vectors, each written with a slot for its number, placed by a seeded
# draw in the titles, issuers, links and text of releases that questions then bring up.
XSS_VECTORS = [
    "<script>window.__xss={n}</script>",
    "<img src=x onerror=window.__xss={n}>",
    '"><img src=x onerror="window.__xss={n}">',
    "'><svg/onload=window.__xss={n}>",
    "<svg><script>window.__xss={n}</script></svg>",
    '<iframe src="javascript:parent.__xss={n}"></iframe>',
    '<a href="javascript:window.__xss={n}">more</a>',
    "<details open ontoggle=window.__xss={n}>",
    "<input autofocus onfocus=window.__xss={n}>",
    '<object data="javascript:window.__xss={n}"></object>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss={n}>",
    "</textarea><img src=x onerror=window.__xss={n}>",
    "</mark><img src=x onerror=window.__xss={n}><mark>",
    "&lt;img src=x onerror=window.__xss={n}&gt;",
    "[more](javascript:window.__xss={n})",
    '![x](x" onerror="window.__xss={n})',
    "`<img src=x onerror=window.__xss={n}>`",
    "$\\href{{javascript:window.__xss={n}}}{{more}}$",
    "<body onload=window.__xss={n}>",
    "<style>*{{background:url('javascript:window.__xss={n}')}}</style>",
]
XSS_TOPICS = ["lighthouse", "breakwater", "ferry terminal", "quay wall", "crane yard", "dry dock", "pilot boat"]
# Attributes through which markup runs script or loads a script address.
DANGEROUS_NODES = """() => [...document.querySelectorAll('*')].flatMap(node => [...node.attributes]
    .filter(a => a.name.startsWith('on') || /^\\s*(javascript|data|vbscript):/i.test(a.value)
                 && ['href', 'src', 'action', 'formaction', 'data', 'xlink:href'].includes(a.name))
    .map(a => `${node.tagName} ${a.name}=${a.value}`))"""


def xss_releases(seed: int = 3) -> list[dict[str, str]]:
    rng = random.Random(seed)
    vectors = iter(rng.sample(XSS_VECTORS, len(XSS_VECTORS)) * 2)
    number = iter(range(1, 100))
    releases = []
    for index, topic in enumerate(XSS_TOPICS):
        title, source, text = (next(vectors).format(n=next(number)) for _ in range(3))
        releases.append(
            {
                "id": f"xss-{index}",
                "title": f"{topic.title()} contract {title}",
                "date": f"2023-0{index + 1}-15",
                "source": f"Port of Valletta {source}",
                "url": rng.choice(["javascript:window.__xss=99", f"https://port.example/{topic}?q={title}"]),
                "text": f"The {topic} contract was awarded to Atlas Marine {text}, the port said. "
                f"Work on the {topic} starts in spring.",
            }
        )
    return releases


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("xss")
    planted = folder / "planted.jsonl"
    planted.write_text("".join(json.dumps(release) + "\n" for release in xss_releases()))
    with Archive.open(folder / "archive") as archive:
        assert not archive.ingest([planted]).failed
    served, url = serve(folder / "archive", port=free_port())
    yield url
    served.blocks.close()
    served.archive.close()


def test_script_vectors_in_every_release_field_render_as_text(browser: Browser, xss_app: str) -> None:
    page = browser.new_context(viewport={"width": 1400, "height": 1300}).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(xss_app)
    page.wait_for_selector("#message textarea")
    for topic, release in zip(XSS_TOPICS, xss_releases(), strict=True):
        ask(page, f"Who was awarded the {topic} contract?")
        awarded = release["text"].split(", the port")[0].removeprefix("The ")
        expect(page.locator(BOT).last).to_contain_text(awarded, timeout=20_000)
        card = page.locator("#sources .pq-card").first
        expect(card).to_contain_text(release["title"])
        expect(card).to_contain_text(release["source"])
        page.get_by_text("Copy the answer with its citations (markdown)").click()
        expect(page.locator("#copy textarea")).to_have_value(re.compile(re.escape(release["title"])))
        assert page.evaluate(DANGEROUS_NODES) == [], topic
    page.get_by_text("Archive", exact=True).click()
    expect(page.locator("#overview")).to_contain_text(f"{len(XSS_TOPICS)} releases")
    page.locator("#issuers input").click()  # the issuer choices list every source, payloads included
    expect(page.get_by_role("option").first).to_contain_text("Port of Valletta")
    page.wait_for_timeout(500)
    assert page.evaluate(DANGEROUS_NODES) == []
    assert page.evaluate("window.__xss") is None and not dialogs
    page.context.close()


def test_the_page_shows_the_sources_and_syncs_them_now(browser: Browser, tmp_path: Path) -> None:
    settings = Settings(archive=tmp_path / "archive", sync_delay_s=0)
    with site_serving() as site:
        with Archive.open(settings=settings) as archive:
            archive.sources.add(ministry_feed(site), name="defence-news", every="30m")
        served, url = serve(settings.archive, settings=settings, port=free_port())
        context = browser.new_context(viewport={"width": 1400, "height": 1300})
        try:
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector("#message textarea")
            page.get_by_text("Archive", exact=True).click()
            page.get_by_text("Sources: feeds, sitemaps, press-room pages, folders").click()
            table = page.locator("#sync-sources")
            expect(table).to_contain_text("defence-news")
            expect(table).to_contain_text(site.url("/feed.xml"))
            expect(table).to_contain_text("never synced")
            page.locator("#sync-now").click()
            expect(page.locator("#sync-report")).to_contain_text("defence-news: 3 added", timeout=60_000)
            expect(page.locator("#sync-report")).to_contain_text("undated: " + site.url("/news/2021/delegation.html"))
            expect(table).not_to_contain_text("never synced")
            expect(table.locator("td").nth(4)).to_have_text("3")  # added
            expect(page.locator("#overview")).to_contain_text("3 releases")
            # The README's picture of the sources (PRESSQA_SOURCES_SCREENSHOT=docs/sources.png).
            page.locator("#archive").screenshot(
                path=os.environ.get("PRESSQA_SOURCES_SCREENSHOT") or str(tmp_path / "sources.png")
            )
            ask(page, "Where did the ZAPAD/INTERACTION-2021 exercise end?")
            expect(page.locator(BOT).last).to_contain_text("Qingtongxia")
            expect(page.locator("#sources")).to_contain_text(site.url("/news/2021/exercise.html"))
        finally:
            context.close()
            served.close()


def test_serve_with_sync_keeps_the_archive_current(tmp_path: Path) -> None:
    settings = Settings(archive=tmp_path / "archive", sync_delay_s=0)
    with site_serving() as site:
        with Archive.open(settings=settings) as archive:
            archive.sources.add(ministry_feed(site), name="defence-news", every="1s")
        served, _ = serve(settings.archive, settings=settings, port=free_port(), sync=True)
        try:
            deadline = time.monotonic() + 120
            while len(served.archive.releases()) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert len(served.archive.releases()) == 3
            # Synced again every second: the feed answers Not Modified and nothing is added.
            while len(site.requested("/feed.xml")) < 3 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert all(request.conditional for request in site.requested("/feed.xml")[1:])
            [source] = served.archive.sources.list()
            assert source.last_report is not None and source.last_report.not_modified == 1
        finally:
            served.close()
        assert len(site.requested("/feed.xml")) < 10  # the schedule stopped with the server
