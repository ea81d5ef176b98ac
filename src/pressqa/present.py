"""Plain text for what the CLI and the page both show: a release's issuer and date, a
citation, a search plan, an ingest report, a conversation to export.  One wording, so a user who reads both sees the
same words for the same thing (the page escapes what it puts into markdown or HTML)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from pressqa.types import Answer, Citation, IngestReport, QueryPlan, SearchFilters, SyncReport, SyncSource

PLAN_USE = {
    "boost": "favoured, not enforced",
    "enforced": "enforced: only its releases are counted",
    "overridden": "set aside for the explicit filters",
}
SHAPES = {
    "timeline": "a timeline: every release on the subject in the period, oldest first",
    "latest": "the newest release on the subject",
    "earliest": "the first release on the subject",
    "count": "a count of the releases on the subject",
}


def issuer_label(source: str | None) -> str:
    return source or "unknown issuer"


def date_label(date: dt.date | None) -> str:
    return date.isoformat() if date else "undated"


def release_line(source: str | None, date: dt.date | None, title: str) -> str:
    """``issuer, date: title``."""
    return f"{issuer_label(source)}, {date_label(date)}: {title}"


def citation_line(citation: Citation) -> str:
    """A numbered citation on one line, quote included, for notes and articles."""
    where = f" <{citation.url}>" if citation.url else f" ({citation.doc_id})"
    return (
        f"[{citation.number}] {issuer_label(citation.source)}, {date_label(citation.date)}: "
        f'"{citation.title}"{where}. Quote: "{citation.quote}"'
    )


def citation_metadata(citation: Citation) -> dict[str, Any]:
    """A citation's release and offsets as plain JSON values (its quote aside)."""
    return {
        "number": citation.number,
        "doc_id": citation.doc_id,
        "title": citation.title,
        "source": citation.source,
        "date": citation.date.isoformat() if citation.date else None,
        "url": citation.url,
        "start": citation.start,
        "end": citation.end,
    }


def plan_lines(plan: QueryPlan) -> list[str]:
    """What was read from the question and which filters hold, one line each."""
    lines = []
    if plan.shape is not None:
        subject = f' (subject: "{" ".join(plan.subject)}")' if plan.subject else ""
        lines.append(f"Answered as {SHAPES[plan.shape]}{subject}")
    if plan.as_of is not None:
        lines.append(f"Asked as of {plan.as_of.isoformat()}: later releases left out")
    if plan.time is not None and plan.time_use:
        lines.append(f'Time in the question: "{plan.time.phrase}" = {plan.time.label()} ({PLAN_USE[plan.time_use]})')
    if plan.issuers and plan.issuers_use:
        lines.append(f"Issuer named in the question: {'; '.join(plan.issuers)} ({PLAN_USE[plan.issuers_use]})")
    if plan.filters != SearchFilters():
        lines.append(f"Filters: {filters_text(plan.filters)}")
    return lines


def filters_text(filters: SearchFilters) -> str:
    parts = []
    if filters.since or filters.until:
        parts.append(f"published {filters.since or '...'} to {filters.until or '...'}")
    if filters.sources:
        parts.append("issuers " + "; ".join(filters.sources))
    return ", ".join(parts)


def report_counts(report: IngestReport) -> str:
    """``3 added, 1 updated, 40 unchanged, 2 moved, 1 duplicates, 0 failed``."""
    moved = f"{len(report.moved)} moved, " if report.moved else ""
    return (
        f"{len(report.added)} added, {len(report.updated)} updated, {report.unchanged} unchanged, {moved}"
        f"{len(report.duplicates)} duplicates, {report.failed_count} failed"
    )


def sync_counts(report: SyncReport) -> str:
    """``3 added, 1 updated, 2 unchanged, 40 not modified, 1 failed (45 requests, 2.1 s)``."""
    requests = f"{report.requests} requests, " if report.requests else ""
    return (
        f"{len(report.added)} added, {len(report.updated)} updated, {report.unchanged} unchanged, "
        f"{report.not_modified} not modified, {len(report.failed)} failed ({requests}{report.seconds:.1f} s)"
    )


def last_sync(source: SyncSource) -> str:
    """``last sync 2026-12-02 15:04 UTC: 3 added, ...`` or ``never synced``."""
    if source.last_sync is None or source.last_report is None:
        return "never synced"
    return f"last sync {source.last_sync:%Y-%m-%d %H:%M} UTC: {sync_counts(source.last_report)}"


def unlisted_heading(report: IngestReport) -> str:
    """Said before the count of every kind of failure, when there were too many to list."""
    return f"{report.unlisted} more failed input(s) not listed; all failures by kind:"


def conversation_markdown(answers: Sequence[Answer]) -> str:
    """A conversation as Markdown to keep or share: each question, its answer, and the
    answer's sources with their quotes and links."""
    parts = ["# pressqa conversation"]
    for turn, answer in enumerate(answers, 1):
        asked = " ".join((answer.asked or answer.question).split())  # a heading is one line
        parts += ["", f"## {turn}. {asked}", ""]
        if answer.asked and answer.asked != answer.question:
            parts += [f"*Read as: {answer.question}*", ""]
        parts.append(answer.text)
        for citation in answer.citations:
            parts += ["", citation_line(citation)]  # a paragraph each
    return "\n".join(parts) + "\n"


def conversation_json(answers: Sequence[Answer]) -> str:
    """A conversation as JSON: per turn the question typed, the question answered, the
    answer, and its citations (quote, offsets, release metadata, link)."""
    turns = [
        {
            "asked": answer.asked or answer.question,
            "question": answer.question,
            "answer": answer.text,
            "abstained": answer.abstained,
            "citations": [
                {**citation_metadata(citation), "quote": citation.quote, "copies": list(citation.copies)}
                for citation in answer.citations
            ],
        }
        for answer in answers
    ]
    return json.dumps({"conversation": turns}, indent=2, ensure_ascii=False) + "\n"
