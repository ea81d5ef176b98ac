"""What the browser shows, as text: answers in markdown, source cards and overviews in
HTML.  Everything that comes from a release (titles, text, issuers, URLs) is escaped
here, and only http(s) links are made clickable, so a release holding ``<script>`` or
``<img onerror=...>`` shows as text."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence

from pressqa import present
from pressqa.answer.verify import MARKER
from pressqa.sync.book import every_label
from pressqa.types import UNKNOWN_ISSUER, Answer, ArchiveStats, Citation, Hit, SyncReport, SyncSource

# Characters that markdown would read as formatting or links in a quoted release.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-!|~>$])")
# What a markdown renderer would turn into a link by itself: "www.", "@", ":" (of "x://").
_AUTOLINK = re.compile(r"(?<=www)\.|@|:", re.IGNORECASE)
# Characters of context shown around a quote, each side, inside its paragraph.
CONTEXT_CHARS = 300
# Issuers the welcome names; the archive overview lists more.
WELCOME_ISSUERS = 6


def escape_markdown(text: str) -> str:
    """``text`` shown literally by a markdown renderer (and its HTML sanitizer): no
    formatting, no links made of bare addresses ("www.", "a@b", "x://")."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return _AUTOLINK.sub(lambda match: f"&#{ord(match.group()[-1])};", escaped)


def answer_markdown(answer_text: str, *, turn: int = 0, linked: bool = True) -> str:
    """The answer of the conversation's ``turn`` for the chat: escaped, each marker ``[n]``
    a link to that answer's source card n (plain text when ``linked`` is false: an answer
    still being written); the items of a timeline (lines opening with "- ") stay a list."""
    return "\n".join(
        "- " + _with_markers(line[2:], turn, linked) if line.startswith("- ") else _with_markers(line, turn, linked)
        for line in answer_text.split("\n")
    )


def card_id(turn: int, number: int) -> str:
    """The anchor of source ``number`` of the answer of ``turn``."""
    return f"source-{turn}-{number}"


def _with_markers(answer_text: str, turn: int, linked: bool) -> str:
    pieces, at = [], 0
    for match in MARKER.finditer(answer_text):
        pieces.append(escape_markdown(answer_text[at : match.start()]))
        numbers = re.findall(r"\d+", match.group())
        for number in numbers:
            pieces.append(f"[\\[{number}\\]](#{card_id(turn, int(number))})" if linked else f"\\[{number}\\]")
        at = match.end()
    pieces.append(escape_markdown(answer_text[at:]))
    return "".join(pieces)


def safe_link(url: str | None, label: str) -> str:
    """An ``<a>`` for http(s) URLs; anything else (javascript:, data:, file:) as plain text."""
    text = html.escape(label)
    if url and re.match(r"https?://", url, re.IGNORECASE):
        return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{text}</a>'
    return text


def _meta(source: str | None, date: dt.date | None, url: str | None, doc_id: str) -> str:
    parts = [html.escape(present.issuer_label(source)), html.escape(present.date_label(date))]
    link = safe_link(url, url) if url else html.escape(doc_id)
    return f'<div class="pq-meta">{" · ".join(parts)} · {link}</div>'


def paragraph_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the paragraph holding ``text[start:end]`` begins and ends, trimmed to
    ``CONTEXT_CHARS`` each side of it."""
    first = text.rfind("\n\n", 0, start)
    last = text.find("\n\n", end)
    return max(first + 2 if first >= 0 else 0, start - CONTEXT_CHARS), min(
        last if last >= 0 else len(text), end + CONTEXT_CHARS
    )


def _highlighted(text: str, quotes: Sequence[Citation]) -> str:
    """The paragraphs of ``text`` that hold the quotes, each quote marked, all escaped;
    quotes in one paragraph share it."""
    paragraphs: list[tuple[int, int, list[Citation]]] = []
    for citation in sorted(quotes, key=lambda citation: citation.start):
        first, last = paragraph_bounds(text, citation.start, citation.end)
        if paragraphs and first <= paragraphs[-1][1]:
            paragraphs[-1] = (paragraphs[-1][0], max(last, paragraphs[-1][1]), [*paragraphs[-1][2], citation])
        else:
            paragraphs.append((first, last, [citation]))
    shown = []
    for first, last, inside in paragraphs:
        pieces, at = ["\u2026" if first and text[first - 1 : first] not in ("\n", "") else ""], first
        for citation in inside:
            start = max(citation.start, at)
            pieces += [html.escape(text[at:start]), f"<mark>{html.escape(text[start : citation.end])}</mark>"]
            at = max(at, citation.end)
        pieces += [html.escape(text[at:last]), "\u2026" if last < len(text) and text[last : last + 2] != "\n\n" else ""]
        shown.append(f'<p class="pq-passage">{"".join(pieces)}</p>')
    return "".join(shown)


def source_cards(
    citations: Sequence[Citation], texts: dict[str, str], describe_copy: Callable[[str], str], turn: int = 0
) -> str:
    """One card per release cited by the answer of ``turn``: title, issuer, date, link, each
    quote highlighted in its paragraph, and the wire copies of the release.  ``texts`` are
    the releases' texts; ``describe_copy`` names a copy ("issuer, date: title")."""
    releases: dict[str, list[Citation]] = {}
    for citation in citations:
        releases.setdefault(citation.doc_id, []).append(citation)
    cards = []
    for cited in releases.values():
        first = cited[0]
        text = texts.get(first.doc_id, "")
        passages = _highlighted(text, cited) if text else "".join(
            f'<p class="pq-passage"><mark>{html.escape(citation.quote)}</mark></p>' for citation in cited
        )  # fmt: skip
        copies = ""
        if first.copies:
            items = "".join(f"<li>{html.escape(describe_copy(copy))}</li>" for copy in first.copies)
            copies = f'<div class="pq-copies">Copies of this release:<ul>{items}</ul></div>'
        anchors = "".join(f'<span id="{card_id(turn, citation.number)}"></span>' for citation in cited[1:])
        viewer = (
            f'<details class="pq-release"><summary>Read the whole release</summary>'
            f'<div class="pq-release-text">{_whole_release(text, cited)}</div></details>'
            if text
            else ""
        )
        numbers = "".join(f"[{citation.number}]" for citation in cited)
        cards.append(
            f'<div class="pq-card" id="{card_id(turn, first.number)}">{anchors}'
            f'<div class="pq-title"><span class="pq-number">{numbers}</span> '
            f"{html.escape(first.title)}</div>"
            f"{_meta(first.source, first.date, first.url, first.doc_id)}"
            f"{passages}{copies}{viewer}</div>"
        )
    return "".join(cards)


def _whole_release(text: str, quotes: Sequence[Citation]) -> str:
    """The release's whole text, escaped, paragraph by paragraph, every quote marked."""
    pieces, at = [], 0
    for citation in sorted(quotes, key=lambda citation: citation.start):
        start = max(citation.start, at)
        # A quote over a paragraph break is marked in each paragraph it spans.
        quoted = html.escape(text[start : citation.end]).replace("\n\n", "</mark>\n\n<mark>")
        pieces += [html.escape(text[at:start]), f"<mark>{quoted}</mark>" if quoted else ""]
        at = max(at, citation.end)
    pieces.append(html.escape(text[at:]))
    paragraphs = "".join(pieces).split("\n\n")
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs if paragraph.strip())


def closest_releases(hits: Sequence[Hit]) -> str:
    """For an abstention: the releases that came closest, to open and read."""
    if not hits:
        return "<p>The archive has no releases that match.</p>"
    cards = "".join(
        f'<div class="pq-card pq-closest"><div class="pq-title">{html.escape(hit.title)}</div>'
        f"{_meta(hit.source, hit.date, hit.url, hit.doc_id)}"
        f'<p class="pq-passage">{html.escape(hit.text[: 2 * CONTEXT_CHARS])}</p></div>'
        for hit in hits
    )
    return f"<p>No release answers this. The closest ones:</p>{cards}"


def conversation_sources(turns: Sequence[tuple[int, str, str]]) -> str:
    """The sources of every answer of a conversation, newest first: (turn, question, the
    answer's cards) each; an older answer's markers lead to its own cards."""
    sections = [
        f'<section class="pq-turn" id="turn-{turn}"><div class="pq-asked">Sources of answer {turn + 1}: '
        f"{html.escape(question)}</div>{cards}</section>"
        for turn, question, cards in reversed(turns)
    ]
    return f'<div class="pq-sources">{"".join(sections)}</div>' if sections else ""


def answer_with_citations(answer: Answer) -> str:
    """The answer and its sources as markdown, for copying into notes or an article."""
    if answer.abstained:
        return answer.text
    return "\n".join([answer.text, "", *(present.citation_line(citation) for citation in answer.citations)])


def overview(stats: ArchiveStats) -> str:
    """Releases, issuers and date range of the archive."""
    return (
        f'<div class="pq-overview"><b>{stats.releases}</b> releases ({stats.duplicates} of them copies of '
        f"others, {stats.undated} undated), {stats.chunks} passages, {html.escape(_span(stats))}."
        f"{_issuer_list(stats.issuers, 12)}</div>"
    )


def _span(stats: ArchiveStats) -> str:
    return f"{stats.first_date} to {stats.last_date}" if stats.first_date else "no dated releases"


def _issuer_list(issuers: dict[str, int], shown: int) -> str:
    """The ``shown`` biggest issuers with their releases, and how many more there are."""
    items = "".join(f"<li>{html.escape(issuer)}: {count}</li>" for issuer, count in list(issuers.items())[:shown])
    more = f"<li>and {len(issuers) - shown} more</li>" if len(issuers) > shown else ""
    return f"<ul>{items}{more}</ul>"


def welcome(stats: ArchiveStats, has_examples: bool) -> str:
    """The page before its first answer: what the archive holds, and where to start."""
    if not stats.releases:
        return (
            '<div class="pq-welcome"><p>This archive is empty: add releases under "Archive" below '
            "(.txt, .md, .html, .pdf, .jsonl or a .zip of them), then ask.</p></div>"
        )
    named = {issuer: count for issuer, count in stats.issuers.items() if issuer != UNKNOWN_ISSUER}
    issuers = f"{len(named)} named issuer{'' if len(named) == 1 else 's'}"
    start = "<p>Start with one of these, or ask your own:</p>" if has_examples else ""
    return (
        f'<div class="pq-welcome"><p><b>{stats.releases}</b> releases from {issuers}, '
        f"{html.escape(_span(stats))}.</p>{_issuer_list(named, WELCOME_ISSUERS)}{start}</div>"
    )


FAILED_SHOWN = 5  # failures listed per source on the page; `pressqa sources` and sync reports have all


def sources_table(sources: Sequence[SyncSource]) -> str:
    """The archive's sources with their last sync: what it added and what failed."""
    if not sources:
        return "No sources yet. Add a feed, sitemap, press-room page or folder with `pressqa sources add URL`."
    lines = [
        "| source | address | every | last sync (UTC) | added | updated | not modified | failed |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    failures = []
    for source in sources:
        report = source.last_report
        when = f"{source.last_sync:%Y-%m-%d %H:%M}" if source.last_sync else "never synced"
        counts = (
            f"{len(report.added)} | {len(report.updated)} | {report.not_modified} | {len(report.failed)}"
            if report
            else " | | | "
        )
        lines.append(
            f"| {escape_markdown(source.name)} | {escape_markdown(source.found or source.location)} | "
            f"{every_label(source.every)} | {when} | {counts} |"
        )
        for problem in report.failed[:FAILED_SHOWN] if report else ():
            failures.append(f"- {escape_markdown(source.name)}: {escape_markdown(problem.shown())}")
        if report and len(report.failed) > FAILED_SHOWN:
            failures.append(f"- {escape_markdown(source.name)}: {len(report.failed) - FAILED_SHOWN} more failed")
    return "\n".join(lines + (["", "**Failed at the last sync**", *failures] if failures else []))


def sync_report(reports: Sequence[SyncReport]) -> str:
    """What a "sync now" did, per source."""
    if not reports:
        return "No sources to sync."
    lines = []
    for report in reports:
        lines.append(f"**{escape_markdown(report.source)}**: {escape_markdown(present.sync_counts(report))}")
        lines += [f"- undated: {escape_markdown(url)}" for url in report.undated[:FAILED_SHOWN]]
        lines += [f"- failed: {escape_markdown(problem.shown())}" for problem in report.failed[:FAILED_SHOWN]]
    return "\n".join(lines)
