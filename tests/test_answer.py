"""Answers: sentences and question types, citation checking, abstention, follow-ups,
streaming and the llama-index query engine, on the bundled sample archive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from conftest import SAMPLE_ARCHIVE
from pressqa import Archive, Release, Settings
from pressqa.answer.engine import ABSTENTION, AnswerStream
from pressqa.answer.sources import Source
from pressqa.answer.verify import CitationBook, Verifier, claims
from pressqa.ingest.readers import InputReader
from pressqa.query.followup import standalone_question
from pressqa.query.question import question_type
from pressqa.text import split_sentences
from pressqa.types import Hit, QueryPlan

ZAPAD = "Which exercises did Russia join in China in 2021?"


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "The U.S. Department of Justice said Mr. Chad A. Readler spoke. It was the fourth year.",
            ["The U.S. Department of Justice said Mr. Chad A. Readler spoke.", "It was the fourth year."],
        ),
        (
            "He was arrested on Oct. 19 in Kunduz. Two more followed.",
            ["He was arrested on Oct. 19 in Kunduz.", "Two more followed."],
        ),
        (
            '"This is a record," he said. The total was $4.9 billion.',
            ['"This is a record," he said.', "The total was $4.9 billion."],
        ),
        (
            "KABUL, Afghanistan (March 17, 2011)\nIn Garm Ser district a patrol found a cache.",
            ["KABUL, Afghanistan (March 17, 2011)", "In Garm Ser district a patrol found a cache."],
        ),
        (
            "First paragraph without a stop\n\nSecond paragraph.",
            ["First paragraph without a stop", "Second paragraph."],
        ),
        ("Prices rose 2.5 percent. No. 5 was sold.", ["Prices rose 2.5 percent.", "No. 5 was sold."]),
    ],
)
def test_sentences_end_where_press_releases_end_them(text: str, sentences: list[str]) -> None:
    spans = split_sentences(text, offset=100)
    assert [text[start - 100 : end - 100] for start, end in spans] == sentences


@pytest.mark.parametrize(
    ("question", "kind", "wants_list"),
    [
        ("How many felony charges did Princess Cruise Lines plead guilty to?", "number", False),
        ("What combined penalty did Odebrecht agree to pay when they pleaded guilty?", "number", False),
        ("Who was the Taliban's shadow governor in Faryab?", "person", False),
        ("When did the department file its lawsuit against Apple?", "date", False),
        ("On what date was Mullah Abdul Rahman arrested?", "date", False),
        ("From which country was Viktor Bout extradited?", "place", False),
        ("Which Civil Division official announced the recoveries?", "person", False),
        ("What is the name of the senior Taliban leader detained in Qalat?", "person", False),
        ("What was the investigation called?", "name", False),
        ("Which three publishers settled with the Justice Department?", "name", True),
        ("Which exercises did Russia join in China in 2021?", "name", True),
        ("According to the ministry, what anniversary made 2021 significant?", "other", False),
    ],
)
def test_question_types(question: str, kind: str, wants_list: bool) -> None:
    found = question_type(question)
    assert (found.kind, found.wants_list) == (kind, wants_list)


def test_counted_noun_is_the_focus_of_a_how_many_question() -> None:
    assert question_type("How many servicemen took part in Peace Mission 2021?").focus == {"servicemen"}
    assert question_type("How much dry opium did the patrol find?").focus == {"dri", "opium"}


# Citation checking, on hand-made sources (no retrieval, every word weighs the same).
EXERCISE = (
    "The joint exercise was held in Ningxia in August. Russian troops took part for the first time. "
    "More than 10,000 servicemen were involved."
)
TREATY = "The treaty of friendship was extended for five years in June."


def _source(number: int, doc_id: str, text: str, offset: int = 0) -> Source:
    hit = Hit(doc_id=doc_id, chunk_id=f"{doc_id}#0", title=f"Release {doc_id}", text=text, start=offset,
              end=offset + len(text), score=1.0, source="Ministry", date=dt.date(2021, 8, 13))  # fmt: skip
    return Source.of(number, hit, text, offset)


def _weights(terms: Iterable[str]) -> dict[str, float]:
    return dict.fromkeys(terms, 1.0)


def _check(draft: str, sources: list[Source]) -> tuple[list[str], CitationBook]:
    verifier, book = Verifier(sources, _weights), CitationBook()
    return [checked for claim in claims(draft) if (checked := verifier.check(claim, book))], book


def test_a_supported_citation_carries_the_quoted_span_with_offsets_into_the_release() -> None:
    sources = [_source(1, "exercise", EXERCISE, offset=40)]
    kept, book = _check("Russian troops took part in the exercise for the first time [1].", sources)
    assert kept == ["Russian troops took part in the exercise for the first time [1]."]
    [citation] = book.citations
    assert citation.quote == "Russian troops took part for the first time."
    assert EXERCISE[citation.start - 40 : citation.end - 40] == citation.quote


def test_a_planted_wrong_citation_is_removed_and_the_right_one_kept() -> None:
    sources = [_source(1, "treaty", TREATY), _source(2, "exercise", EXERCISE)]
    kept, book = _check("More than 10,000 servicemen were involved in the exercise [1][2].", sources)
    assert kept == ["More than 10,000 servicemen were involved in the exercise [1]."]  # renumbered
    assert [citation.doc_id for citation in book.citations] == ["exercise"]
    assert any("[1] (treaty) does not support" in reason for reason in book.removed)


def test_a_marker_pointing_nowhere_is_removed() -> None:
    kept, book = _check(
        "The treaty was extended for five years [7]. The treaty was extended [1].", [_source(1, "treaty", TREATY)]
    )
    assert kept == ["The treaty was extended [1]."]
    assert any("[7] points to no source" in reason for reason in book.removed)


def test_a_claim_with_a_number_the_source_does_not_state_is_dropped() -> None:
    kept, book = _check("More than 50,000 servicemen were involved [1].", [_source(1, "exercise", EXERCISE)])
    assert kept == []
    assert book.citations == []


@pytest.mark.parametrize(
    "claim",
    [
        "The joint exercise was not held in Ningxia [1].",  # negated
        "More than 10,000 servicemen refused to take part in the exercise [1].",
        "More than 10,000 million servicemen were involved [1].",  # another magnitude
        "13 servicemen were involved in the exercise held in Ningxia [1].",  # 13: only the release's day
        "The exercise was held in Ningxia on September 2 [1].",  # a date the source does not give
        "The Ministry issued a release [1].",  # only title and issuer words: no passage says it
    ],
)
def test_claims_the_source_does_not_make_are_dropped(claim: str) -> None:
    kept, book = _check(claim, [_source(1, "exercise", EXERCISE)])
    assert kept == [] and book.citations == []


def test_a_date_may_be_the_releases_own_or_be_spelled_otherwise() -> None:
    sources = [_source(1, "exercise", EXERCISE)]
    kept, _ = _check("On August 13, 2021, the ministry said the joint exercise was held in Ningxia [1].", sources)
    assert kept  # the release's date (2021-08-13)
    text = "He was arrested in Kunduz on Oct. 19 after a raid."
    kept, _ = _check("He was arrested in Kunduz on October 19 [1].", [_source(1, "arrest", text)])
    assert kept == ["He was arrested in Kunduz on October 19 [1]."]


def test_a_quote_is_the_passage_that_says_it_not_any_sentence_of_the_release() -> None:
    sources = [_source(1, "exercise", EXERCISE)]
    _, book = _check("Russian troops took part in the Release exercise for the first time [1].", sources)
    assert book.citations[0].quote == "Russian troops took part for the first time."


@pytest.mark.parametrize(
    "draft",
    [
        "Russian troops took part for the first time.[1] It was a complete failure.[1]",
        "Russian troops took part for the first time [1, 2]. It was a complete failure [1][2].",
    ],
)
def test_each_sentence_is_checked_on_its_own_however_markers_are_written(draft: str) -> None:
    kept, _ = _check(draft, [_source(1, "exercise", EXERCISE), _source(2, "treaty", TREATY)])
    assert kept == ["Russian troops took part for the first time [1]."]


def test_sentences_without_citations_are_dropped_and_markers_after_the_stop_count() -> None:
    kept, _ = _check(
        "Russian troops took part for the first time. [1] It was a great success.", [_source(1, "exercise", EXERCISE)]
    )
    assert kept == ["Russian troops took part for the first time [1]."]


class _Scripted:
    """A generator that writes a fixed draft in pieces of ``size`` characters, as a model
    streams tokens (a marker may arrive as "[1" and then "].")."""

    name = "scripted"
    reads_whole_releases = False

    def __init__(self, text: str, size: int) -> None:
        self.text, self.size = text, size

    def draft(self, question: str, plan: QueryPlan, sources: object) -> Iterable[str]:
        return (self.text[at : at + self.size] for at in range(0, len(self.text), self.size))


def _stream(draft: str, sources: list[Source], size: int = 3) -> AnswerStream:
    hits = [source.hit for source in sources]
    return AnswerStream("q", QueryPlan(question="q"), hits, sources, _Scripted(draft, size), _weights, None, {})


def test_an_answer_with_nothing_supported_abstains() -> None:
    stream = _stream(
        "Russia and China signed a trade deal worth 400 billion dollars [1].", [_source(1, "treaty", TREATY)]
    )
    assert list(stream) == [ABSTENTION]
    assert stream.answer.abstained and stream.answer.citations == ()
    assert stream.answer.removed


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_streamed_pieces_are_the_checked_sentences(size: int) -> None:
    sources = [_source(1, "exercise", EXERCISE), _source(2, "treaty", TREATY)]
    draft = "Russian troops took part for the first time. [1] The treaty was extended for five years [2]."
    stream = _stream(draft, sources, size)
    pieces = list(stream)
    assert pieces == [
        "Russian troops took part for the first time [1].",
        " The treaty was extended for five years [2].",
    ]
    assert "".join(pieces) == stream.answer.text
    assert [citation.number for citation in stream.answer.citations] == [1, 2]


@pytest.mark.parametrize(
    ("follow_up", "standalone"),
    [
        ("And in 2022?", "Which exercises did Russia join in China in 2022?"),
        ("what about 2019?", "Which exercises did Russia join in China in 2019?"),
        ("Who announced it?", f"Who announced it, regarding: {ZAPAD}"),
        ("and in 2022 in Belarus?", "Which exercises did Russia join in China in 2022 in Belarus?"),
        ("And in fiscal year 2019?", "Which exercises did Russia join in China in fiscal year 2019?"),
        ("How many personnel took part in Vostok-2022?", "How many personnel took part in Vostok-2022?"),
    ],
)
def test_follow_ups_are_rewritten_to_stand_alone(follow_up: str, standalone: str) -> None:
    messages = [
        {"role": "user", "content": ZAPAD},
        {"role": "assistant", "content": "ZAPAD/INTERACTION-2021 [1]."},
        {"role": "user", "content": follow_up},
    ]
    assert standalone_question(messages) == standalone


# On the sample archive, with the real model and stores.


def test_the_founding_question_is_answered_with_zapad_and_cited(sample_archive: Archive) -> None:
    answer = sample_archive.ask(ZAPAD)
    assert not answer.abstained
    assert "ZAPAD/INTERACTION" in answer.text
    assert answer.citations
    texts = sample_archive.release_texts([citation.doc_id for citation in answer.citations])
    for citation in answer.citations:
        assert f"[{citation.number}]" in answer.text
        assert texts[citation.doc_id][citation.start : citation.end] == citation.quote
        release = sample_archive.release(citation.doc_id)
        assert (citation.title, citation.source, citation.date) == (release.title, release.source, release.date)
    zapad = [citation for citation in answer.citations if "ZAPAD/INTERACTION" in citation.quote]
    assert zapad and all(citation.date and citation.date.year == 2021 for citation in zapad)
    # Asked about a time: the answer says who issued its sources and when.
    assert "Ministry of National Defense" in answer.text and "2021" in answer.text
    assert answer.plan is not None and answer.plan.time is not None and answer.plan.time.phrase == "in 2021"


def test_a_question_the_archive_cannot_answer_abstains_and_lists_the_closest_releases(sample_archive: Archive) -> None:
    answer = sample_archive.ask("On what date did the Special Counsel indict Paul Manafort?")
    assert answer.abstained
    assert answer.text == ABSTENTION
    assert answer.citations == ()
    assert answer.hits


def test_explicit_filters_bound_what_the_answer_cites(sample_archive: Archive) -> None:
    question = "Which joint exercises did China and Russia hold?"
    answer = sample_archive.ask(question, until=dt.date(2020, 12, 31))
    assert answer.citations and answer.hits
    assert all(citation.date and citation.date <= dt.date(2020, 12, 31) for citation in answer.citations)
    assert all(hit.date and hit.date <= dt.date(2020, 12, 31) for hit in answer.hits)
    issuer = "Ministry of Defence of the Russian Federation"
    for answer in (
        sample_archive.ask(ZAPAD, sources=[issuer]),
        sample_archive.chat([{"role": "user", "content": ZAPAD}], sources=[issuer]),
        sample_archive.as_query_engine(sources=[issuer]).query(ZAPAD).metadata["answer"],
    ):
        assert answer.citations and answer.hits
        assert all(hit.source == issuer for hit in answer.hits)
        assert all(citation.source == issuer for citation in answer.citations)


def test_release_text_put_together_from_chunks_is_the_text_as_ingested(sample_archive: Archive) -> None:
    releases = [r for r in InputReader(Settings()).read([SAMPLE_ARCHIVE]) if isinstance(r, Release)]
    texts = sample_archive.release_texts([release.doc_id for release in releases])
    assert texts == {release.doc_id: release.text for release in releases}


def test_a_follow_up_is_answered_as_its_standalone_question(sample_archive: Archive) -> None:
    first = "How much did the Justice Department recover under the False Claims Act in fiscal year 2021?"
    messages = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": sample_archive.ask(first).text},
        {"role": "user", "content": "And in 2019?"},
    ]
    answer = sample_archive.chat(messages)
    assert answer.asked == "And in 2019?"
    assert answer.question == first.replace("2021", "2019")
    assert not answer.abstained and "$3 billion" in answer.text
    assert answer.citations[0].date == dt.date(2020, 1, 9)


def test_the_query_engine_answers_with_the_cited_passages_as_source_nodes(sample_archive: Archive) -> None:
    response = sample_archive.as_query_engine().query(ZAPAD)
    answer = response.metadata["answer"]
    assert response.response == answer.text
    assert [node.node.get_content() for node in response.source_nodes] == [c.quote for c in answer.citations]
    assert response.source_nodes[0].node.metadata["doc_id"] == answer.citations[0].doc_id
