"""What the page shows, as text: escaping, links, markers, cards (no browser needed)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from pressqa.types import Answer, Citation
from pressqa.ui import render

TEXT = "Intro paragraph.\n\nBefore the quote. The exercise <b>ended</b> on Friday. After it.\n\nNext paragraph."
QUOTE = "The exercise <b>ended</b> on Friday."


def _citation(url: str | None = "https://example.org/release") -> Citation:
    start = TEXT.index(QUOTE)
    return Citation(number=1, doc_id="d1", title="Title <i>x</i>", quote=QUOTE, start=start, end=start + len(QUOTE),
                    source="Ministry", date=dt.date(2021, 8, 13), url=url, copies=("d2",))  # fmt: skip


def test_markers_become_links_to_source_cards_and_the_rest_is_literal() -> None:
    shown = render.answer_markdown("It ended [1]. See ![x](http://evil/p.png) and <script>x</script> [2][3].", turn=4)
    assert "[\\[1\\]](#source-4-1)" in shown and "[\\[2\\]](#source-4-2)[\\[3\\]](#source-4-3)" in shown
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "![x](http" not in shown and "\\!\\[x\\]\\(http" in shown


def test_bare_addresses_and_formulas_stay_text() -> None:
    shown = render.answer_markdown("Write to press@mod.example or see www.mod.example, https://x.example and $5 [1].")
    assert "@" not in shown and "www." not in shown and "https:" not in shown and "\\$5" in shown
    assert render.answer_markdown("It ended [1].", linked=False) == "It ended \\[1\\]."


def test_only_http_links_are_clickable() -> None:
    assert render.safe_link("https://a.org/x?y=1&z=2", "a").startswith('<a href="https://a.org/x?y=1&amp;z=2"')
    for url in ("javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd", None):
        assert "<a" not in render.safe_link(url, "label")


def test_a_card_highlights_the_quote_inside_its_paragraph_with_everything_escaped() -> None:
    html = render.source_cards([_citation()], {"d1": TEXT}, lambda doc_id: f"copy {doc_id} <script>", turn=2)
    assert 'id="source-2-1"' in html
    assert "Before the quote. <mark>The exercise &lt;b&gt;ended&lt;/b&gt; on Friday.</mark> After it." in html
    passages = html.split('<details class="pq-release">')[0]  # the whole release comes after, folded
    assert "Intro paragraph" not in passages and "Next paragraph" not in passages
    assert "Title &lt;i&gt;x&lt;/i&gt;" in html and "copy d2 &lt;script&gt;" in html
    assert 'Ministry · 2021-08-13 · <a href="https://example.org/release"' in html


def test_a_release_cited_twice_is_one_card_with_both_quotes_marked() -> None:
    later = "After it."
    second = dataclasses.replace(_citation(), number=2, quote=later, start=TEXT.index(later), end=TEXT.index(later) + 9)
    html = render.source_cards([_citation(), second], {"d1": TEXT}, str)
    assert html.count('class="pq-card"') == 1 and "[1][2]" in html
    assert 'id="source-0-1"' in html and 'id="source-0-2"' in html  # both markers lead to the card
    assert "<mark>The exercise &lt;b&gt;ended&lt;/b&gt; on Friday.</mark> <mark>After it.</mark>" in html


def test_the_whole_release_marks_a_quote_in_every_paragraph_it_spans() -> None:
    span = "After it.\n\nNext paragraph."
    spanning = dataclasses.replace(_citation(), quote=span, start=TEXT.index(span), end=TEXT.index(span) + len(span))
    html = render.source_cards([spanning], {"d1": TEXT}, str)
    viewer = html[html.index('class="pq-release-text"') :]
    assert "<p>Before the quote. The exercise &lt;b&gt;ended&lt;/b&gt; on Friday. <mark>After it.</mark></p>" in viewer
    assert "<p><mark>Next paragraph.</mark></p>" in viewer


def test_the_copyable_answer_lists_its_sources() -> None:
    answer = Answer(question="q", text="It ended on Friday [1].", abstained=False, citations=(_citation(),))
    assert render.answer_with_citations(answer) == (
        'It ended on Friday [1].\n\n[1] Ministry, 2021-08-13: "Title <i>x</i>" <https://example.org/release>. '
        f'Quote: "{QUOTE}"'
    )
