"""The chat in the browser: Gradio Blocks over an Archive, with no retrieval logic of its own.

Each browser session keeps its own conversation (``gr.State``); questions and uploads
share one queue slot, so answers never read an archive half-way through a write.
"""

from __future__ import annotations

import os

# Before gradio is imported: no analytics, no version check, no hub telemetry.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import dataclasses
import datetime as dt
import json
import logging
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from pressqa import present
from pressqa.answer.engine import AnswerStream
from pressqa.archive import Archive
from pressqa.errors import ConfigError, PressQAError
from pressqa.query.timeparse import DATE_FORMS, typed_span
from pressqa.settings import Settings
from pressqa.sync.schedule import run_due
from pressqa.types import (
    UNKNOWN_ISSUER,
    Answer,
    ArchiveStats,
    IngestProgress,
    IngestReport,
    QueryPlan,
    Release,
    SyncReport,
)
from pressqa.ui import render
from pressqa.ui.guard import LOOPBACK_NAMES, guarded, served_names

log = logging.getLogger(__name__)

OFFLINE = ("offline (quotes the releases, no language model)", "offline")
FEEDBACK_FILE = "feedback.jsonl"
# How the question's time and issuers were used when they can be dropped by a chip.
INFERRED = ("boost", "enforced")
# What an answer updates: chat, history, answers, sources, chips, copy box, timeline
# chart, "show all" button, "ask as a new question" button, the two exports, message box,
# and the welcome (the empty state, shown until the first answer).
ANSWER_OUTPUTS = 13
# Questions to start from, offered on the empty page.
EXAMPLES = 4
ANY_TIME = "any time"
LAST_YEAR = "last 12 months of the archive"
# The chart fills quiet months in only over this span: an archive that spans centuries
# (say, one release misdated 0001-01-01) shows just its months with releases.
MAX_CHART_MONTHS = 1200
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".json", ".jsonl", ".jsonl.gz", ".zip"]
CSS = """
.pq-sources { max-height: 70vh; overflow-y: auto; }
.pq-card { border: 1px solid #d0d4dc; border-radius: 8px; padding: 8px 12px; margin-bottom: 10px; }
.pq-card:target, .pq-card:has(:target) { border-color: #2563eb; box-shadow: 0 0 0 2px #93c5fd; }
.pq-asked { font-size: 0.85em; font-weight: 600; color: #444; margin: 10px 0 6px; }
.pq-title { font-weight: 600; }
.pq-meta { font-size: 0.85em; color: #555; margin: 2px 0 6px; }
.pq-passage mark { background: #fde68a; }
.pq-copies { font-size: 0.85em; }
.pq-release summary { cursor: pointer; font-size: 0.85em; color: #2563eb; }
.pq-release-text { max-height: 50vh; overflow-y: auto; white-space: pre-line; border-top: 1px solid #e5e7eb; }
.pq-focus { border-color: #2563eb; box-shadow: 0 0 0 2px #93c5fd; }
#examples button { white-space: normal; text-align: left; justify-content: flex-start; }
/* A phone: the chat shorter, so that an answer's sources follow it within a screen. */
@media (max-width: 700px) {
  #chat { height: 55vh !important; min-height: 300px; }
  .pq-sources { max-height: none; }
}
"""
# Opening a release in a card brings its first quoted passage into view.
JS = """
() => {
  // A marker brings its card into view inside the sources panel beside the chat, and the
  // page itself moves only when the card is still out of sight (a phone: the card is below).
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#source-"]');
    const target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    history.replaceState(null, "", link.getAttribute("href"));
    const card = target.closest(".pq-card") || target;
    const panel = card.closest(".pq-sources");
    if (panel) panel.scrollTop += card.getBoundingClientRect().top - panel.getBoundingClientRect().top;
    card.scrollIntoView({block: "nearest"});
    document.querySelectorAll(".pq-focus").forEach((node) => node.classList.remove("pq-focus"));
    card.classList.add("pq-focus");
  }, true);
  document.addEventListener("toggle", (event) => {
    const viewer = event.target;
    if (viewer.classList && viewer.classList.contains("pq-release") && viewer.open) {
      const mark = viewer.querySelector("mark");
      if (mark) mark.scrollIntoView({block: "center"});
    }
  }, true);
}
"""


def _plan_chips(plan: QueryPlan | None) -> list[str]:
    """The times and issuers read from the question, as removable chips."""
    if plan is None:
        return []
    chips = []
    if plan.time is not None and plan.time_use in INFERRED:
        chips.append(f"time: {plan.time.phrase} ({plan.time.label()})")
    chips.extend(f"issuer: {issuer}" for issuer in plan.issuers if plan.issuers_use in INFERRED)
    return chips


def _without(plan: QueryPlan, kept: list[str]) -> QueryPlan:
    """``plan`` without the inferred time or issuers whose chips were removed."""
    chips = _plan_chips(plan)
    if plan.time is not None and plan.time_use in INFERRED and chips[0] not in kept:
        plan = dataclasses.replace(plan, time=None, time_use=None)
    issuers = tuple(
        issuer for issuer in plan.issuers if f"issuer: {issuer}" in kept or plan.issuers_use not in INFERRED
    )
    return dataclasses.replace(plan, issuers=issuers, issuers_use=plan.issuers_use if issuers else None)


def _months(per_month: dict[str, int]) -> pd.DataFrame:
    """Releases per month for a bar chart, quiet months in between filled with 0."""
    months = list(per_month)
    if months and _months_between(months[0], months[-1]) <= MAX_CHART_MONTHS:
        # Every month from the first to the last, so that quiet months show as gaps.
        months = [str(month) for month in pd.period_range(months[0], months[-1], freq="M")]
    # Months as dates: the chart's axis is one of time, labelled sparsely ("Jan 2021"); a
    # month pandas cannot hold as a date (pandas 2: outside 1677-2262) is left out.
    frame = pd.DataFrame(
        {"month": pd.to_datetime(months, format="%Y-%m", errors="coerce"),
         "releases": [per_month.get(month, 0) for month in months]}
    )  # fmt: skip
    return frame.dropna()


def _chart_top(per_month: dict[str, int]) -> int:
    """The top of a releases-per-month axis: at least 4, so that its ticks are whole releases."""
    return max([4, *per_month.values()])


def _months_between(first: str, last: str) -> int:
    """Months from ``first`` to ``last`` ("2021-08"), both included."""
    (year_a, month_a), (year_b, month_b) = (map(int, month.split("-")[:2]) for month in (first, last))
    return (year_b - year_a) * 12 + month_b - month_a + 1


def _options(since: str, until: str, issuers: list[str] | None, generator: str, as_of: str) -> dict[str, Any]:
    """The page's filter fields and answerer as ``Archive.ask`` options."""
    return {"since": _typed_date(since, end=False), "until": _typed_date(until, end=True),
            "sources": issuers or None, "llm": generator, "as_of": _typed_date(as_of, end=True)}  # fmt: skip


def _typed_date(value: str | None, *, end: bool) -> dt.date | None:
    """The day a filter field names (the last of a month or year when ``end``), None when
    empty; raises ValueError saying what cannot be read."""
    if value is None or not value.strip():
        return None
    first, last = typed_span(value)
    return last if end else first


def _date_checks(since: str, until: str, as_of: str) -> list[dict[str, Any]]:
    """Each date field's verdict, shown at the field: what cannot be read as a date, or an
    "until" before "since"."""
    checks, days = [], []
    for value, end in ((since, False), (until, True), (as_of, True)):
        try:
            days.append(_typed_date(value, end=end))
            checks.append(gr.validate(True, ""))
        except ValueError as err:
            days.append(None)
            checks.append(gr.validate(False, str(err)))
    first, last, as_of_day = days
    if first and last and last < first:
        checks[1] = gr.validate(False, f"{until.strip()!r} is before the day since ({since.strip()})")
    if first and as_of_day and as_of_day < first:
        checks[2] = gr.validate(False, f"{as_of.strip()!r} is before the day since ({since.strip()})")
    return checks


@dataclasses.dataclass
class Sent:
    """The questions of a session on their way: ``waiting`` to be answered, oldest first,
    and the one ``answering`` now (what "stop" gives back); an answer started before the
    latest stop writes nothing more."""

    waiting: list[str] = dataclasses.field(default_factory=list)
    answering: str | None = None
    stops: int = 0  # times "stop" was pressed


def _send(question: str, sent: Sent, *dates: str) -> str:
    """A question sent: queued for ``respond`` (see ``_build``)."""
    sent.waiting.append(question)
    return question


def _periods(stats: ArchiveStats) -> list[str]:
    """Preset periods within the archive's range: the last 12 months it holds and each of its years."""
    if stats.last_date is None or stats.first_date is None:
        return [ANY_TIME]
    years = dict.fromkeys(month[:4] for month in sorted(stats.per_month, reverse=True))
    return [ANY_TIME, LAST_YEAR, *years]


def _period_bounds(period: str, stats: ArchiveStats) -> tuple[str, str]:
    """The since and until fields of a preset period."""
    if period == LAST_YEAR and stats.last_date is not None:
        return (stats.last_date - dt.timedelta(days=364)).isoformat(), stats.last_date.isoformat()
    if period.isdigit():
        return period, period  # a year: since its first day, until its last
    return "", ""


def example_questions(recent: Sequence[Release]) -> list[str]:
    """Questions made from the archive's own releases, one per big issuer, each of a kind
    the archive answers well: its latest release, what it announced in the month of its
    newest, how many releases it published in that year."""
    questions = []
    for number, release in enumerate(r for r in recent if r.source and r.source != UNKNOWN_ISSUER):
        if release.date is None or number % 3 == 0:
            questions.append(f"What is the latest from {release.source}?")
        elif number % 3 == 1:
            questions.append(f"What did {release.source} announce in {release.date:%B %Y}?")
        else:
            questions.append(f"How many releases did {release.source} publish in {release.date.year}?")
    return questions[:EXAMPLES]


class ArchiveApp:
    """The page for one archive; ``blocks`` is the Gradio app."""

    def __init__(self, archive: Archive, *, llm: str | None = None) -> None:
        self.archive = archive
        self._syncer: Archive | None = None  # writes what syncs fetch, beside the archive answering
        self._stop_schedule = threading.Event()
        configured = [spec for spec in dict.fromkeys([llm, archive.settings.llm]) if spec]
        self.llm_choices = [OFFLINE, *((spec, spec) for spec in configured)]  # (label, value)
        # Exported conversations, until the server stops (Gradio serves copies from its cache).
        self._exports = tempfile.TemporaryDirectory(prefix="pressqa-exports-")
        self.blocks = self._build()

    # Rendering helpers that read the archive.

    def _sources_html(self, answers: Sequence[Answer]) -> str:
        """The sources of every answer of the conversation, newest first."""
        texts = self.archive.release_texts(list({c.doc_id for answer in answers for c in answer.citations}))
        turns = [
            (
                turn,
                answer.asked or answer.question,
                render.closest_releases(answer.hits)
                if answer.abstained
                else render.source_cards(answer.citations, texts, self._describe_copy, turn),
            )
            for turn, answer in enumerate(answers)
        ]
        return render.conversation_sources(turns)

    def _describe_copy(self, doc_id: str) -> str:
        release = self.archive.release(doc_id)
        return present.release_line(release.source, release.date, release.title)

    def _overview(self) -> tuple[Any, ...]:
        """The archive's overview, chart, issuer and period choices, and the welcome with
        its example questions (the archive changes with uploads)."""
        stats = self.archive.stats()
        issuers = gr.update(choices=sorted(issuer for issuer in stats.issuers if issuer != UNKNOWN_ISSUER))
        periods = gr.update(choices=_periods(stats))
        examples = example_questions(self.archive.recent(per_issuer=1))
        buttons = [gr.update(value=question, visible=True) for question in examples]
        buttons += [gr.update(visible=False)] * (EXAMPLES - len(examples))
        chart = gr.update(value=_months(stats.per_month), y_lim=[0, _chart_top(stats.per_month)])
        return render.overview(stats), chart, issuers, periods, render.welcome(stats, bool(examples)), *buttons

    def period(self, chosen: str) -> tuple[str, str]:
        """A preset period chosen: its first and last day in the date fields."""
        return _period_bounds(chosen, self.archive.stats())

    # Event handlers.  Per session: ``history`` is the conversation as the archive reads it,
    # ``answers`` the Answer of each of its turns (for the chat's display and the thumbs).

    def _display(self, history: list[dict[str, str]], answers: list[Answer], live: str | None = None) -> list[Any]:
        """The chat: each answer's markers link to its own cards beside it; the answer
        still streaming in has none yet."""
        shown: list[dict[str, str]] = []
        for turn, answer in enumerate(answers):
            shown.append({"role": "user", "content": render.escape_markdown(history[2 * turn]["content"])})
            content = render.answer_markdown(answer.text, turn=turn)
            if answer.asked:
                content += f"\n\n*Read as: {render.escape_markdown(answer.question)}*"
            shown.append({"role": "assistant", "content": content})
        if live is not None:
            shown.append({"role": "user", "content": render.escape_markdown(history[-1]["content"])})
            shown.append(
                {"role": "assistant", "content": render.answer_markdown(live, turn=len(answers), linked=False)}
            )
        return shown

    def respond(
        self,
        sent: Sent,
        history: list[dict[str, Any]],
        answers: list[Answer],
        since: str,
        until: str,
        issuers: list[str] | None,
        generator: str,
        as_of: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Answer the oldest question sent and not yet answered (``sent``: see ``_build``)."""
        sent.answering = sent.waiting.pop(0) if sent.waiting else None
        question = (sent.answering or "").strip()
        if not question:
            yield (gr.skip(),) * ANSWER_OUTPUTS
            return
        stops = sent.stops
        yield from self._answer(
            {"role": "user", "content": question},
            history,
            answers,
            lambda asking: self.archive.chat_stream(asking, **_options(since, until, issuers, generator, as_of)),
            halted=lambda: sent.stops != stops,
        )
        if sent.stops == stops:
            sent.answering = None

    def _answer(
        self,
        typed: dict[str, Any],
        history: list[dict[str, Any]],
        answers: list[Answer],
        answering: Callable[[list[dict[str, Any]]], AnswerStream],
        halted: Callable[[], bool],
        kept: tuple[list[dict[str, Any]], list[Answer]] | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to the message ``typed`` (``answering`` the conversation up to
        it) into the chat, then show its sources; the conversation's state changes only
        then, and not at all once ``halted`` (stopped).  On an error the conversation is
        shown as it was (``kept``, else without the message, which goes back in the box)."""
        asking = [*history, typed]
        # What the chat shows when stopped or failed; its last word, so that nothing half
        # written comes back after "stop" has cleared it.
        before = (self._display(*(kept or (history, answers))), *(gr.skip(),) * (ANSWER_OUTPUTS - 1))
        yield (self._display(asking, answers, ""), *(gr.skip(),) * (ANSWER_OUTPUTS - 1))
        try:
            stream = answering(asking)
            text = ""
            for piece in stream:
                if halted():
                    yield before
                    return
                text += piece
                yield (self._display(asking, answers, text), *(gr.skip(),) * (ANSWER_OUTPUTS - 1))
            answer = stream.answer
        except (PressQAError, ValueError) as err:
            if not halted():
                gr.Warning(str(err))
                back = gr.skip() if kept else typed["content"]  # to fix and send again
                yield (*before[: ANSWER_OUTPUTS - 2], back, gr.skip())
            else:
                yield before
            return
        if halted():
            yield before
        else:
            yield self._show(answer, [*asking, {"role": "assistant", "content": answer.text}], [*answers, answer])

    def stopped(self, sent: Sent, history: list[dict[str, Any]], answers: list[Answer]) -> tuple[Any, ...]:
        """The answer being written was stopped, and the questions waiting behind it: the
        conversation as it was before it, and the stopped question back in the box."""
        question = sent.answering or next(iter(sent.waiting), None)
        sent.answering, sent.waiting = None, []  # their events are cancelled: nothing will answer them
        sent.stops += 1  # and an answer that outruns its cancelling writes nothing more
        return self._display(history, answers), gr.skip() if question is None else question

    def regenerate(
        self, sent: Sent, history: list[dict[str, Any]], answers: list[Answer], generator: str
    ) -> Iterator[tuple[Any, ...]]:
        """The last turn written again (a language model writes another answer), by the plan
        it was answered with: its filters, its chips, its reading as a follow-up or not."""
        plan = answers[-1].plan if answers else None
        if plan is None:
            yield (gr.skip(),) * ANSWER_OUTPUTS
            return
        stops, asked = sent.stops, answers[-1].asked
        yield from self._answer(
            history[-2],
            history[:-2],
            answers[:-1],
            lambda _: self.archive.ask_stream(plan, llm=generator, asked=asked),
            halted=lambda: sent.stops != stops,
            kept=(history, answers),
        )

    def _show(self, answer: Answer, history: list[dict[str, str]], answers: list[Answer]) -> tuple[Any, ...]:
        chips = _plan_chips(answer.plan)
        timeline = answer.timeline
        return (
            self._display(history, answers),
            history,
            answers,
            self._sources_html(answers),
            gr.update(choices=chips, value=chips, visible=bool(chips)),
            render.answer_with_citations(answer),
            gr.update(value=_months(timeline.per_month), visible=True, y_lim=[0, _chart_top(timeline.per_month)])
            if timeline
            else gr.update(visible=False),
            gr.update(value=f"Show all {timeline.matched} releases", visible=True)
            if timeline and not timeline.complete
            else gr.update(visible=False),
            gr.update(visible=answer.asked is not None),
            *self._exported(answers),
            gr.skip(),
            gr.update(visible=False),
        )

    def _answered_again(
        self,
        answer: Answer,
        history: list[dict[str, Any]],
        answers: list[Answer],
        typed: dict[str, Any] | None = None,
    ) -> tuple[Any, ...]:
        """The last turn answered again: its answer replaced (and the message as read, ``typed``)."""
        history = [*history[:-2], typed or history[-2], {"role": "assistant", "content": answer.text}]
        return self._show(answer, history, [*answers[:-1], answer])

    def _exported(self, answers: Sequence[Answer]) -> tuple[Any, Any]:
        """The conversation as a Markdown and a JSON file, for the two download buttons."""
        folder = Path(tempfile.mkdtemp(dir=self._exports.name))
        markdown, data = folder / "pressqa-conversation.md", folder / "pressqa-conversation.json"
        markdown.write_text(present.conversation_markdown(answers), encoding="utf-8")
        data.write_text(present.conversation_json(answers), encoding="utf-8")
        return gr.update(value=str(markdown), visible=True), gr.update(value=str(data), visible=True)

    def reset(self) -> tuple[Any, ...]:
        """A new conversation: no history, no sources, no chips; the filters set stay."""
        hidden = gr.update(visible=False)
        chips = gr.update(choices=[], value=[], visible=False)
        return [], [], [], "", chips, "", hidden, hidden, hidden, hidden, hidden, "", gr.update(visible=True)

    def ask_anew(
        self,
        history: list[dict[str, Any]],
        answers: list[Answer],
        since: Any,
        until: Any,
        issuers: list[str] | None,
        generator: str,
        as_of: Any = None,
    ) -> tuple[Any, ...]:
        """The last message was read as a follow-up: answer it as the question it is (and
        let later follow-ups lean on it)."""
        if not answers or answers[-1].asked is None:
            return (gr.skip(),) * ANSWER_OUTPUTS
        try:
            answer = self.archive.ask(answers[-1].asked, **_options(since, until, issuers, generator, as_of))
        except (PressQAError, ValueError) as err:
            gr.Warning(str(err))
            return (gr.skip(),) * ANSWER_OUTPUTS
        return self._answered_again(answer, history, answers, {**history[-2], "standalone": True})

    def drop_inferred(
        self, kept: list[str], history: list[dict[str, str]], answers: list[Answer], generator: str
    ) -> tuple[Any, ...]:
        """A chip was removed: answer the last question again without that inference."""
        if not answers or answers[-1].plan is None:
            return (gr.skip(),) * ANSWER_OUTPUTS
        last = answers[-1]
        assert last.plan is not None
        answer = dataclasses.replace(self.archive.ask(_without(last.plan, kept), llm=generator), asked=last.asked)
        return self._answered_again(answer, history, answers)

    def show_all(self, history: list[dict[str, str]], answers: list[Answer]) -> tuple[Any, ...]:
        """The last answer was a timeline showing part of what matched: show every release."""
        if not answers or answers[-1].plan is None:
            return (gr.skip(),) * ANSWER_OUTPUTS
        last = answers[-1]
        assert last.plan is not None
        answer = dataclasses.replace(self.archive.ask(last.plan, limit=0), asked=last.asked)
        return self._answered_again(answer, history, answers)

    # Gradio fills ``progress`` when the default is a gr.Progress(): its documented idiom.
    def ingest(self, paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Ingest uploaded files (Gradio keeps them in its own temporary folder)."""
        if not paths:
            return ("", *self._overview())

        def step(event: IngestProgress) -> None:
            total = max(event.releases_total or 0, event.releases_seen, 1)
            progress(
                event.releases_seen / total, desc=f"{event.releases_seen} releases, {event.chunks_written} passages"
            )

        progress(0, desc="reading files")
        try:
            report = self.archive.ingest([Path(path) for path in paths], progress=step)
        except PressQAError as err:
            return (render.escape_markdown(f"Upload failed: {err}"), *self._overview())
        return (_report_markdown(report), *self._overview())

    @property
    def syncer(self) -> Archive:
        if self._syncer is None:
            self._syncer = self.archive.reopened()
        return self._syncer

    def sources_view(self) -> str:
        return render.sources_table(self.archive.sources.list())

    def sync_now(self) -> tuple[Any, ...]:
        """Sync every source now (answers go on meanwhile), then show what it did."""
        try:
            done = render.sync_report(self.syncer.sync(stop=self._stop_schedule))
        except PressQAError as err:
            done = render.escape_markdown(f"Sync failed: {err}")
        return (done, self.sources_view(), *self._overview())

    def schedule_syncs(self) -> None:
        """Sync each source when due, in a background thread, until ``close``."""

        def reported(report: SyncReport) -> None:
            log.info("synced %s: %s", report.source, present.sync_counts(report))

        threading.Thread(
            target=run_due, args=(self.syncer, self._stop_schedule, reported), name="pressqa-sync", daemon=True
        ).start()

    def close(self) -> None:
        self._stop_schedule.set()
        self.blocks.close()
        if self._syncer is not None:
            with self._syncer.syncing():  # a sync under way finishes its batch first
                self._syncer.close()
        self.archive.close()

    def feedback(self, like: gr.LikeData, answers: list[Answer]) -> None:
        """A thumb on an answer, appended to the archive's feedback file."""
        index = like.index[0] if isinstance(like.index, (list, tuple)) else like.index
        turn = int(index) // 2  # the chat alternates question, answer
        if not 0 <= turn < len(answers):
            return
        answer = answers[turn]
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "liked": like.liked,
            "question": answer.asked or answer.question,
            "answer": answer.text,
            "citations": [citation.doc_id for citation in answer.citations],
            "generator": answer.generator,
        }
        with (self.archive.path / FEEDBACK_FILE).open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _build(self) -> gr.Blocks:
        # Uploaded files are ingested at once; Gradio's copies are deleted after a day.
        with gr.Blocks(title="pressqa", analytics_enabled=False, delete_cache=(3600, 86400)) as blocks:
            history = gr.State([])  # per browser session, as the handlers above describe
            answers = gr.State([])
            # Questions sent and not yet answered.  Sending appends to it and answering takes
            # from it, in place: Gradio hands a handler the session's own State object, so a
            # question sent while another waits is neither lost nor swapped.
            sent = gr.State(Sent())
            last_sent = gr.Textbox(visible=False)  # the newest question sent, for the page's script
            gr.Markdown("## pressqa — ask the archive; every sentence cites the release it comes from")
            # Two columns side by side; on a phone they stack, the sources right after the chat.
            with gr.Row(elem_id="conversation"):
                with gr.Column(scale=3, min_width=340):
                    # No copy button (the box below copies plain text) and no LaTeX: release text stays as written.
                    chat = gr.Chatbot(elem_id="chat", height=520, buttons=[], latex_delimiters=[], label="Answers")
                    with gr.Row():
                        message = gr.Textbox(
                            elem_id="message", placeholder="Ask a question…", show_label=False, scale=5, lines=1
                        )
                        send = gr.Button("Ask", elem_id="send", variant="primary", scale=1, min_width=60)
                        stop = gr.Button("Stop", elem_id="stop", variant="stop", scale=1, min_width=60, visible=False)
                    with gr.Row():
                        as_new = gr.Button("Ask as a new question", elem_id="as-new", visible=False, size="sm")
                        regenerate = gr.Button("Regenerate", elem_id="regenerate", visible=False, size="sm")
                        new_chat = gr.Button("New conversation", elem_id="new-conversation", size="sm")
                    chips = gr.CheckboxGroup(
                        [], label="Read from your question (untick to drop)", elem_id="chips", visible=False
                    )
                with gr.Column(scale=2, min_width=340):
                    with gr.Column(elem_id="welcome") as welcome:
                        welcome_text = gr.HTML(elem_id="welcome-text")
                        with gr.Column(elem_id="examples"):
                            examples = [gr.Button(visible=False, size="sm") for _ in range(EXAMPLES)]
                    timeline = gr.BarPlot(
                        x="month", y="releases", title="Matching releases per month", y_lim=[0, None],
                        x_axis_format="%b %Y", y_axis_format="d", elem_id="timeline-chart", visible=False,
                    )  # fmt: skip
                    show_all = gr.Button("Show all", elem_id="show-all", visible=False, size="sm")
                    sources = gr.HTML(elem_id="sources", label="Sources")
            with gr.Row():
                export_md = gr.DownloadButton(
                    "Export the conversation (Markdown)", elem_id="export-md", visible=False, size="sm"
                )
                export_json = gr.DownloadButton(
                    "Export the conversation (JSON)", elem_id="export-json", visible=False, size="sm"
                )
            with gr.Accordion("Copy the answer with its citations (markdown)", open=False):
                copy = gr.Textbox(elem_id="copy", show_label=False, lines=6, buttons=["copy"])
            with gr.Accordion("Filters and settings", open=True), gr.Row():
                period = gr.Dropdown([ANY_TIME], value=ANY_TIME, label="Period", elem_id="period")
                since = gr.Textbox(label="Published since", placeholder=DATE_FORMS, max_lines=1, elem_id="since")
                until = gr.Textbox(label="Published until", placeholder=DATE_FORMS, max_lines=1, elem_id="until")
                issuers = gr.Dropdown([], multiselect=True, label="Issuers", elem_id="issuers")
                as_of = gr.Textbox(label="Ask as of (later releases left out)", placeholder=DATE_FORMS,
                                   max_lines=1, elem_id="as-of")  # fmt: skip
                generator = gr.Dropdown(
                    self.llm_choices, value=OFFLINE[1], label="Answers written by", elem_id="generator"
                )
            with gr.Accordion("Archive", open=False, elem_id="archive"):
                with gr.Row():
                    with gr.Column():
                        summary = gr.HTML(elem_id="overview")
                        with gr.Row():
                            files = gr.File(
                                file_count="multiple", file_types=UPLOAD_TYPES, label="Add releases", elem_id="upload"
                            )
                            report = gr.Markdown(elem_id="report", min_height=80)
                    per_month = gr.BarPlot(
                        x="month", y="releases", title="Releases per month", y_lim=[0, None],
                        x_axis_format="%b %Y", y_axis_format="d", elem_id="archive-chart",
                    )  # fmt: skip
                with gr.Accordion("Sources: feeds, sitemaps, press-room pages, folders", open=False):
                    sources_table = gr.Markdown(elem_id="sync-sources")
                    with gr.Row():
                        sync_now = gr.Button("Sync now", elem_id="sync-now", size="sm", scale=0, min_width=100)
                        sync_report = gr.Markdown(elem_id="sync-report")

            answer_outputs = [
                chat, history, answers, sources, chips, copy, timeline, show_all, as_new, export_md, export_json,
                message, welcome,
            ]  # fmt: skip
            assert len(answer_outputs) == ANSWER_OUTPUTS
            filters = [since, until, issuers, generator, as_of]
            answering: list[Any] = []  # the events "stop" cancels
            for trigger, typed in [(message.submit, message), (send.click, message)] + [
                (button.click, button) for button in examples
            ]:
                # The question is queued as it is sent; the box then empties, unless it holds
                # a question typed since, and only when the filter dates can be read (else
                # they show why, and the question waits in the box).
                answering.append(
                    trigger(
                        _send, [typed, sent, since, until, as_of], [last_sent], concurrency_limit=None,
                        validator=lambda _, __, *dates: [gr.validate(True, ""), gr.validate(True, ""),
                                                         *_date_checks(*dates)],
                        trigger_mode="multiple",
                    ).success(
                        None, [message, last_sent], [message], js="(box, sent) => box === sent ? '' : box",
                        trigger_mode="multiple",
                    ).success(
                        self.respond,
                        [sent, history, answers, *filters],
                        answer_outputs,
                        concurrency_id="archive",
                        trigger_mode="multiple",  # a question sent while another is answered waits its turn
                    )
                )  # fmt: skip
            for field in (since, until, as_of):  # a date that cannot be read is shown at once, at its field
                field.blur(lambda *_: None, [since, until, as_of], None, validator=_date_checks,
                           concurrency_limit=None)  # fmt: skip
            period.input(self.period, [period], [since, until], concurrency_limit=None)
            for field in (since, until):  # a date typed by hand is no preset
                field.input(lambda: gr.update(value=None), None, [period], queue=False)
            regenerating = regenerate.click(
                self.regenerate, [sent, history, answers, generator], answer_outputs, concurrency_id="archive"
            )
            answering.append(regenerating)
            stop.click(
                self.stopped, [sent, history, answers], [chat, message], cancels=answering, concurrency_limit=None
            )
            generator.change(
                lambda chosen: (gr.update(visible=chosen != OFFLINE[1]),) * 2, [generator], [stop, regenerate]
            )
            chips.input(
                self.drop_inferred, [chips, history, answers, generator], answer_outputs, concurrency_id="archive"
            )
            show_all.click(self.show_all, [history, answers], answer_outputs, concurrency_id="archive")
            as_new.click(
                self.ask_anew,
                [history, answers, *filters],
                answer_outputs,
                concurrency_id="archive",
            )
            # The chat's own trash icon and the button both start over: nothing read from the
            # cleared turns is kept.
            new_chat.click(self.reset, None, answer_outputs, concurrency_id="archive")  # after an answer under way
            chat.clear(self.reset, None, answer_outputs, concurrency_id="archive")
            overview = [summary, per_month, issuers, period, welcome_text, *examples]
            files.upload(self.ingest, [files], [report, *overview], concurrency_id="archive", show_progress_on=[files])
            chat.like(self.feedback, [answers], None, concurrency_id="archive")
            blocks.load(self._overview, None, overview, concurrency_id="archive")
            # A sync fetches and embeds beside the answers: it waits only for another sync.
            sync_now.click(self.sync_now, None, [sync_report, sources_table, *overview], concurrency_id="sync")
            blocks.load(self.sources_view, None, [sources_table], concurrency_limit=None)
            gr.Timer(60).tick(self.sources_view, None, [sources_table], concurrency_limit=None)  # scheduled syncs
        blocks_app: gr.Blocks = blocks
        return blocks_app


def _report_markdown(report: IngestReport) -> str:
    lines = [f"**{present.report_counts(report)}** ({report.chunks_added} passages)"]
    # Uploads sit in Gradio's temporary folder: the file's own name is what the user knows.
    for label, problems in (("note", report.notes), ("failed", report.failed)):
        for problem in problems:
            shown = dataclasses.replace(problem, path=Path(problem.path).name).shown()
            lines.append(f"- {label}: {render.escape_markdown(shown)}")
    if report.unlisted:
        lines.append(f"- {render.escape_markdown(present.unlisted_heading(report))}")
        lines += [f"  - {count}: {render.escape_markdown(kind)}" for kind, count in report.failure_reasons.items()]
    lines += [f"- duplicate of {render.escape_markdown(link.canonical_id)}" for link in report.duplicates]
    return "\n".join(lines)


def serve(
    archive_path: Path | None,
    *,
    settings: Settings | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    llm: str | None = None,
    insecure: bool = False,
    allowed_hosts: Sequence[str] = (),
    sync: bool = False,
) -> tuple[ArchiveApp, str]:
    """Serve the archive's page in a background thread; returns the app and its URL.

    On a ``host`` other than a loopback address anyone who reaches the machine could read
    the archive and add releases to it, so that needs ``auth`` (or ``insecure``).  Requests
    are answered only for the loopback names, ``host`` and ``allowed_hosts`` (the names a
    proxy or DNS gives the machine), from the page's own origin: see ``ui/guard.py``.
    With ``sync``, each of the archive's sources is synced when due, in the background.
    """
    if host not in LOOPBACK_NAMES and auth is None:
        if not insecure:
            raise ConfigError(
                f"refusing to serve on {host} without --auth USER:PASSWORD: anyone who can reach this "
                "machine could read the archive and add releases to it (--insecure serves anyway)"
            )
        log.warning(
            "serving on %s without --auth: anyone who can reach this machine can read the archive and add "
            "releases to it",
            host,
        )
    archive = Archive.open(archive_path, settings=settings)  # a new folder makes an empty archive to upload into
    archive.warm_up()  # the first question is answered as fast as the next
    app = ArchiveApp(archive, llm=llm)
    app.blocks.queue(default_concurrency_limit=1)
    _, url, _ = app.blocks.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        share=False,
        quiet=True,
        prevent_thread_lock=True,
        max_file_size=f"{archive.settings.max_file_mb:g}mb",
        footer_links=[],
        css=CSS,
        js=JS,
        app_kwargs={"lifespan": guarded(served_names(host, allowed_hosts))},
    )
    if sync:
        app.schedule_syncs()
    return app, url
