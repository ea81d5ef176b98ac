"""What the page shows, as text: escaping, links, markers, cards, the welcome, and how its
fields read dates and periods (no browser needed)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from pressqa.types import UNKNOWN_ISSUER, Answer, ArchiveStats, Citation, IngestProblem, Release, SyncReport, SyncSource
from pressqa.ui import render
from pressqa.ui.app import ANY_TIME, LAST_YEAR, _period_bounds, _periods, _typed_date, example_questions

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


def test_the_welcome_describes_the_archive_without_its_unknown_issuer() -> None:
    stats = ArchiveStats(releases=9, chunks=9, issuers={"NATO": 6, UNKNOWN_ISSUER: 3}, first_date=dt.date(2010, 1, 4),
                         last_date=dt.date(2012, 5, 1))  # fmt: skip
    shown = render.welcome(stats, has_examples=True)
    assert "<b>9</b> releases from 1 named issuer, 2010-01-04 to 2012-05-01" in shown and UNKNOWN_ISSUER not in shown
    assert "Start with one of these" in shown
    undated = render.welcome(ArchiveStats(releases=2, chunks=2, issuers={"NATO": 2}), has_examples=False)
    assert "no dated releases" in undated and "Start with" not in undated
    assert "This archive is empty" in render.welcome(ArchiveStats(0, 0), has_examples=False)


def _release(source: str, day: dt.date | None) -> Release:
    return Release(doc_id=source, title="t", text="", source=source, date=day)


def test_example_questions_are_made_from_the_newest_release_of_each_named_issuer() -> None:
    recent = [_release("NATO", dt.date(2011, 3, 2)), _release(UNKNOWN_ISSUER, dt.date(2011, 3, 1)),
              _release("ISAF", dt.date(2011, 2, 9)), _release("DOJ", dt.date(2010, 7, 1)),
              _release("MND", None), _release("MFA", dt.date(2009, 1, 1))]  # fmt: skip
    assert example_questions(recent) == [
        "What is the latest from NATO?",
        "What did ISAF announce in February 2011?",
        "How many releases did DOJ publish in 2010?",
        "What is the latest from MND?",  # undated: no month or year to ask about
    ]
    assert example_questions([]) == []


def test_periods_lie_within_the_archive_and_fill_the_date_fields() -> None:
    stats = ArchiveStats(releases=3, chunks=3, first_date=dt.date(2019, 12, 30), last_date=dt.date(2021, 2, 28),
                         per_month={"2019-12": 1, "2021-02": 2})  # fmt: skip
    assert _periods(stats) == [ANY_TIME, LAST_YEAR, "2021", "2019"]  # no release in 2020: no preset for it
    assert _period_bounds(LAST_YEAR, stats) == ("2020-03-01", "2021-02-28")
    assert _period_bounds("2019", stats) == ("2019", "2019")
    assert _period_bounds(ANY_TIME, stats) == ("", "")
    assert _periods(ArchiveStats(0, 0)) == [ANY_TIME]


def test_a_typed_date_is_a_day_or_the_first_or_last_day_of_a_month_or_year() -> None:
    assert _typed_date("2024-02", end=True) == dt.date(2024, 2, 29)
    assert _typed_date(" 2021 ", end=False) == dt.date(2021, 1, 1)
    assert _typed_date("2021-8-3", end=True) == dt.date(2021, 8, 3)
    assert _typed_date("", end=True) is None
    for typed, reason in [("garbage", "is not a date"), ("2021-02-30", "no day of the calendar"),
                          ("2021-13", "no day of the calendar"), ("21-08-13", "is not a date")]:  # fmt: skip
        with pytest.raises(ValueError, match=reason):
            _typed_date(typed, end=False)


def test_the_sources_table_gives_each_sources_last_sync_and_its_failures() -> None:
    report = SyncReport(
        "mod",
        added=("a", "b"),
        not_modified=4,
        failed=tuple(IngestProblem(f"https://mod.example/{n}.html", "HTTP 404 Not Found") for n in range(7)),
    )
    synced = SyncSource("mod", "https://mod.example/rss", "web", 3600, last_sync=dt.datetime(2026, 12, 2, 9, 5),
                        last_report=report)  # fmt: skip
    never = SyncSource("inbox|x", "/data/inbox", "folder", 5400)
    table = render.sources_table([synced, never])
    assert "| mod | https&#58;//mod.example/rss | 1h | 2026-12-02 09:05 | 2 | 0 | 4 | 7 |" in table  # no autolink
    assert "| inbox\\|x | /data/inbox | 1h30m | never synced |" in table  # a | in a name cannot break the table
    assert table.count("HTTP 404 Not Found") == render.FAILED_SHOWN and "2 more failed" in table
    assert "No sources yet" in render.sources_table([])
