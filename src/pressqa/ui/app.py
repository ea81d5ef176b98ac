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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from pressqa import present
from pressqa.archive import Archive
from pressqa.errors import ConfigError, PressQAError
from pressqa.settings import Settings
from pressqa.types import UNKNOWN_ISSUER, Answer, IngestProgress, IngestReport, QueryPlan
from pressqa.ui import render
from pressqa.ui.guard import LOOPBACK_NAMES, guarded, served_names

log = logging.getLogger(__name__)

OFFLINE = ("offline (quotes the releases, no language model)", "offline")
FEEDBACK_FILE = "feedback.jsonl"
# How the question's time and issuers were used when they can be dropped by a chip.
INFERRED = ("boost", "enforced")
# What an answer updates: chat, history, answers, sources, chips, copy box, timeline
# chart, "show all" button, "ask as a new question" button, the two exports, message box.
ANSWER_OUTPUTS = 12
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
"""
# Opening a release in a card brings its first quoted passage into view.
JS = """
() => {
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
    return pd.DataFrame({"month": months, "releases": [per_month.get(month, 0) for month in months]})


def _chart_top(per_month: dict[str, int]) -> int:
    """The top of a releases-per-month axis: at least 4, so that its ticks are whole releases."""
    return max([4, *per_month.values()])


def _months_between(first: str, last: str) -> int:
    """Months from ``first`` to ``last`` ("2021-08"), both included."""
    (year_a, month_a), (year_b, month_b) = (map(int, month.split("-")[:2]) for month in (first, last))
    return (year_b - year_a) * 12 + month_b - month_a + 1


def _options(since: Any, until: Any, issuers: list[str] | None, generator: str, as_of: Any) -> dict[str, Any]:
    """The page's filter fields and answerer as ``Archive.ask`` options."""
    return {"since": _date(since), "until": _date(until), "sources": issuers or None, "llm": generator,
            "as_of": _date(as_of)}  # fmt: skip


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):  # a timestamp, as DateTime gives one
        return dt.datetime.fromtimestamp(value).date()
    return dt.date.fromisoformat(str(value)[:10])


class ArchiveApp:
    """The page for one archive; ``blocks`` is the Gradio app."""

    def __init__(self, archive: Archive, *, llm: str | None = None) -> None:
        self.archive = archive
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

    def _overview(self) -> tuple[str, pd.DataFrame, Any]:
        stats = self.archive.stats()
        issuers = gr.update(choices=sorted(issuer for issuer in stats.issuers if issuer != UNKNOWN_ISSUER))
        return render.overview(stats), _months(stats.per_month), issuers

    def _examples(self) -> list[str]:
        """Questions to start from: about the newest release of each of the biggest issuers."""
        releases = self.archive.recent(per_issuer=1)[:4]
        return [f'What does the archive say about "{release.title}"?' for release in releases]

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
        question: str,
        history: list[dict[str, str]],
        answers: list[Answer],
        since: Any,
        until: Any,
        issuers: list[str] | None,
        generator: str,
        as_of: Any = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to ``question`` into the chat, then show its sources."""
        question = (question or "").strip()
        if not question:
            yield (gr.skip(),) * ANSWER_OUTPUTS
            return
        asking = [*history, {"role": "user", "content": question}]
        try:
            stream = self.archive.chat_stream(asking, **_options(since, until, issuers, generator, as_of))
            text = ""
            for piece in stream:
                text += piece
                yield (self._display(asking, answers, text), *(gr.skip(),) * (ANSWER_OUTPUTS - 1))
            answer = stream.answer
        except (PressQAError, ValueError) as err:
            gr.Warning(str(err))
            # The chat as it was; the question back in the box to fix and send again.
            yield (self._display(history, answers), *(gr.skip(),) * (ANSWER_OUTPUTS - 2), question)
            return
        yield self._show(answer, [*asking, {"role": "assistant", "content": answer.text}], [*answers, answer])

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
        return [], [], [], "", chips, "", hidden, hidden, hidden, hidden, hidden, ""

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
            asked = gr.State("")  # the question sent, once the textbox is cleared
            gr.Markdown("## pressqa — ask the archive; every sentence cites the release it comes from")
            with gr.Row():
                with gr.Column(scale=3):
                    # No copy button (the box below copies plain text) and no LaTeX: release text stays as written.
                    chat = gr.Chatbot(elem_id="chat", height=520, buttons=[], latex_delimiters=[], label="Answers")
                    with gr.Row():
                        message = gr.Textbox(
                            elem_id="message", placeholder="Ask a question…", show_label=False, scale=5, lines=1
                        )
                        send = gr.Button("Ask", elem_id="send", variant="primary", scale=1)
                    with gr.Row():
                        as_new = gr.Button("Ask as a new question", elem_id="as-new", visible=False, size="sm")
                        new_chat = gr.Button("New conversation", elem_id="new-conversation", size="sm")
                    chips = gr.CheckboxGroup(
                        [], label="Read from your question (untick to drop)", elem_id="chips", visible=False
                    )
                    gr.Examples(self._examples(), inputs=[message], label="Examples")
                    with gr.Row():
                        export_md = gr.DownloadButton(
                            "Export the conversation (Markdown)", elem_id="export-md", visible=False, size="sm"
                        )
                        export_json = gr.DownloadButton(
                            "Export the conversation (JSON)", elem_id="export-json", visible=False, size="sm"
                        )
                    with gr.Accordion("Copy the answer with its citations (markdown)", open=False):
                        copy = gr.Textbox(elem_id="copy", show_label=False, lines=6, buttons=["copy"])
                with gr.Column(scale=2):
                    timeline = gr.BarPlot(
                        x="month", y="releases", title="Matching releases per month", y_lim=[0, None],
                        x_label_angle=-45, elem_id="timeline-chart", visible=False,
                    )  # fmt: skip
                    show_all = gr.Button("Show all", elem_id="show-all", visible=False, size="sm")
                    sources = gr.HTML(elem_id="sources", label="Sources")
            with gr.Accordion("Filters and settings", open=True), gr.Row():
                since = gr.DateTime(label="Published since", include_time=False, type="string", elem_id="since")
                until = gr.DateTime(label="Published until", include_time=False, type="string", elem_id="until")
                issuers = gr.Dropdown([], multiselect=True, label="Issuers", elem_id="issuers")
                as_of = gr.DateTime(label="Ask as of (later releases left out)", include_time=False, type="string",
                                    elem_id="as-of")  # fmt: skip
                generator = gr.Dropdown(
                    self.llm_choices, value=OFFLINE[1], label="Answers written by", elem_id="generator"
                )
            with gr.Accordion("Archive", open=False), gr.Row():
                with gr.Column():
                    summary = gr.HTML(elem_id="overview")
                    files = gr.File(
                        file_count="multiple", file_types=UPLOAD_TYPES, label="Add releases", elem_id="upload"
                    )
                    report = gr.Markdown(elem_id="report")
                per_month = gr.BarPlot(x="month", y="releases", title="Releases per month", y_lim=[0, None])

            answer_outputs = [
                chat, history, answers, sources, chips, copy, timeline, show_all, as_new, export_md, export_json,
                message,
            ]  # fmt: skip
            assert len(answer_outputs) == ANSWER_OUTPUTS
            for trigger in (message.submit, send.click):
                trigger(lambda text: ("", text), [message], [message, asked], trigger_mode="multiple").then(
                    self.respond,
                    [asked, history, answers, since, until, issuers, generator, as_of],
                    answer_outputs,
                    concurrency_id="archive",
                    trigger_mode="multiple",  # a question sent while another is answered waits its turn
                )
            chips.input(
                self.drop_inferred, [chips, history, answers, generator], answer_outputs, concurrency_id="archive"
            )
            show_all.click(self.show_all, [history, answers], answer_outputs, concurrency_id="archive")
            as_new.click(
                self.ask_anew,
                [history, answers, since, until, issuers, generator, as_of],
                answer_outputs,
                concurrency_id="archive",
            )
            # The chat's own trash icon and the button both start over: nothing read from the
            # cleared turns is kept.
            new_chat.click(self.reset, None, answer_outputs, concurrency_id="archive")  # after an answer under way
            chat.clear(self.reset, None, answer_outputs, concurrency_id="archive")
            files.upload(self.ingest, [files], [report, summary, per_month, issuers], concurrency_id="archive")
            chat.like(self.feedback, [answers], None, concurrency_id="archive")
            blocks.load(self._overview, None, [summary, per_month, issuers], concurrency_id="archive")
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
) -> tuple[ArchiveApp, str]:
    """Serve the archive's page in a background thread; returns the app and its URL.

    On a ``host`` other than a loopback address anyone who reaches the machine could read
    the archive and add releases to it, so that needs ``auth`` (or ``insecure``).  Requests
    are answered only for the loopback names, ``host`` and ``allowed_hosts`` (the names a
    proxy or DNS gives the machine), from the page's own origin: see ``ui/guard.py``.
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
    return app, url
