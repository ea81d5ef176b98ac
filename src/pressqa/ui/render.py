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
from pressqa.types import Answer, ArchiveStats, Citation, Hit

# Characters that markdown would read as formatting or links in a quoted release.
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-!|~>$])")
# What a markdown renderer would turn into a link by itself: "www.", "@", ":" (of "x://").
_AUTOLINK = re.compile(r"(?<=www)\.|@|:", re.IGNORECASE)
# Characters of context shown around a quote, each side, inside its paragraph.
CONTEXT_CHARS = 300


def escape_markdown(text: str) -> str:
    """``text`` shown literally by a markdown renderer (and its HTML sanitizer): no
    formatting, no links made of bare addresses ("www.", "a@b", "x://")."""
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
    return _AUTOLINK.sub(lambda match: f"&#{ord(match.group()[-1])};", escaped)


def answer_markdown(answer_text: str, *, linked: bool = True) -> str:
    """The answer for the chat: escaped, each marker ``[n]`` a link to source card n
    (plain text when ``linked`` is false: the cards shown are another answer's); the
    items of a timeline (lines opening with "- ") stay a list."""
    return "\n".join(
        "- " + _with_markers(line[2:], linked) if line.startswith("- ") else _with_markers(line, linked)
        for line in answer_text.split("\n")
    )


def _with_markers(answer_text: str, linked: bool) -> str:
    pieces, at = [], 0
    for match in MARKER.finditer(answer_text):
        pieces.append(escape_markdown(answer_text[at : match.start()]))
        numbers = re.findall(r"\d+", match.group())
        marker = "[\\[{0}\\]](#source-{0})" if linked else "\\[{0}\\]"
        pieces.append("".join(marker.format(number) for number in numbers))
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


def paragraph_around(text: str, start: int, end: int) -> tuple[str, str]:
    """The text before and after ``text[start:end]`` within its paragraph, trimmed."""
    first = text.rfind("\n\n", 0, start)
    last = text.find("\n\n", end)
    before = text[first + 2 if first >= 0 else 0 : start]
    after = text[end : last if last >= 0 else len(text)]
    if len(before) > CONTEXT_CHARS:
        before = "…" + before[-CONTEXT_CHARS:]
    if len(after) > CONTEXT_CHARS:
        after = after[:CONTEXT_CHARS] + "…"
    return before, after


def source_cards(citations: Sequence[Citation], texts: dict[str, str], describe_copy: Callable[[str], str]) -> str:
    """One card per citation: title, issuer, date, link, the quote highlighted in its
    paragraph, and the wire copies of the release.  ``texts`` are the releases' texts;
    ``describe_copy`` names a copy ("issuer, date: title")."""
    if not citations:
        return ""
    cards = []
    for citation in citations:
        text = texts.get(citation.doc_id, "")
        before, after = paragraph_around(text, citation.start, citation.end) if text else ("", "")
        copies = ""
        if citation.copies:
            items = "".join(f"<li>{html.escape(describe_copy(copy))}</li>" for copy in citation.copies)
            copies = f'<div class="pq-copies">Copies of this release:<ul>{items}</ul></div>'
        cards.append(
            f'<div class="pq-card" id="source-{citation.number}">'
            f'<div class="pq-title"><span class="pq-number">[{citation.number}]</span> '
            f"{html.escape(citation.title)}</div>"
            f"{_meta(citation.source, citation.date, citation.url, citation.doc_id)}"
            f'<p class="pq-passage">{html.escape(before)}<mark>{html.escape(citation.quote)}</mark>'
            f"{html.escape(after)}</p>{copies}</div>"
        )
    return f'<div class="pq-sources">{"".join(cards)}</div>'


def closest_releases(hits: Sequence[Hit]) -> str:
    """For an abstention: the releases that came closest, to open and read."""
    if not hits:
        return '<div class="pq-sources"><p>The archive has no releases that match.</p></div>'
    cards = "".join(
        f'<div class="pq-card pq-closest"><div class="pq-title">{html.escape(hit.title)}</div>'
        f"{_meta(hit.source, hit.date, hit.url, hit.doc_id)}"
        f'<p class="pq-passage">{html.escape(hit.text[: 2 * CONTEXT_CHARS])}</p></div>'
        for hit in hits
    )
    return f'<div class="pq-sources"><p>No release answers this. The closest ones:</p>{cards}</div>'


def answer_with_citations(answer: Answer) -> str:
    """The answer and its sources as markdown, for copying into notes or an article."""
    if answer.abstained:
        return answer.text
    return "\n".join([answer.text, "", *(present.citation_line(citation) for citation in answer.citations)])


def overview(stats: ArchiveStats) -> str:
    """Releases, issuers and date range of the archive."""
    span = f"{stats.first_date} to {stats.last_date}" if stats.first_date else "no dated releases"
    issuers = "".join(f"<li>{html.escape(issuer)}: {count}</li>" for issuer, count in list(stats.issuers.items())[:12])
    more = f"<li>… and {len(stats.issuers) - 12} more</li>" if len(stats.issuers) > 12 else ""
    return (
        f'<div class="pq-overview"><b>{stats.releases}</b> releases ({stats.duplicates} of them copies of '
        f"others, {stats.undated} undated), {stats.chunks} passages, {html.escape(span)}."
        f"<ul>{issuers}{more}</ul></div>"
    )
