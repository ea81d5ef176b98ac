"""Retrieval: filters honoured by both retrievers, fusion, and times read from questions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from pressqa import Archive, ConfigError, Settings
from pressqa.embedding import Embedder
from pressqa.query.issuers import IssuerMatcher
from pressqa.query.plan import publication_window
from pressqa.retrieve.hybrid import reciprocal_rank_fusion
from pressqa.store import Store
from pressqa.types import SearchFilters, TimeSpan

D = dt.date

# Releases on one topic from two issuers over four years, so filters decide what is found.
RELEASES = [
    ("harbour-2019", "2019-05-02", "Port Authority", "The harbour dredging contract was signed with a Dutch firm."),
    ("harbour-2020", "2020-06-11", "Port Authority", "The harbour dredging works reached the inner basin this week."),
    ("harbour-2021", "2021-03-15", "City Council", "The council approved more money for harbour dredging works."),
    ("harbour-2022", "2022-09-30", "City Council", "Harbour dredging finished and the basin reopened to ferries."),
    ("harbour-undated", None, "City Council", "A note on harbour dredging noise for residents near the quay."),
]


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    folder = tmp_path_factory.mktemp("harbour")
    source = folder / "releases.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": i, "title": f"Harbour update {i}", "date": d, "source": s, "url": None, "text": t}) + "\n"
            for i, d, s, t in RELEASES
        )
    )
    archive = Archive.open(folder / "archive")
    archive.ingest([source])
    return archive


def found_by(archive: Archive, backend: str, query: str, filters: SearchFilters | None = None) -> set[str]:
    """The releases one retriever of the archive's store finds for ``query`` (10 chunks at most)."""
    filters = filters or SearchFilters()
    store = Store(archive.path, archive.settings, create=False)  # opened afresh: what is committed
    try:
        if backend == "dense":
            return {chunk.doc_id for chunk in store.dense(Embedder(Settings()).embed([query])[0], 10, filters)}
        return {chunk.doc_id for chunk in store.chunks(store.lexical(query, 10, filters))}
    finally:
        store.close()


# The filter table both retrievers must agree with, and with SearchFilters.admits: one
# contract for every backend, as haystack's document stores share FilterDocumentsTest.
FILTER_CASES = [
    (SearchFilters(), {"harbour-2019", "harbour-2020", "harbour-2021", "harbour-2022", "harbour-undated"}),
    (SearchFilters(since=D(2020, 6, 11)), {"harbour-2020", "harbour-2021", "harbour-2022"}),
    (SearchFilters(until=D(2020, 6, 10)), {"harbour-2019"}),
    (SearchFilters(since=D(2020, 1, 1), until=D(2021, 12, 31)), {"harbour-2020", "harbour-2021"}),
    (SearchFilters(sources=("Port Authority",)), {"harbour-2019", "harbour-2020"}),
    (SearchFilters(since=D(2021, 1, 1), sources=("Port Authority",)), set()),
    (SearchFilters(sources=("City Council", "Port Authority"), until=D(2021, 12, 31)),
     {"harbour-2019", "harbour-2020", "harbour-2021"}),
]  # fmt: skip


@pytest.mark.parametrize("backend", ["dense", "keyword"])
@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_every_retriever_honours_the_filter_contract(
    harbour: Archive, backend: str, filters: SearchFilters, expected: set[str]
) -> None:
    admitted = {
        doc_id for doc_id, date, source, _ in RELEASES if filters.admits(date and D.fromisoformat(date), source)
    }
    assert admitted == expected
    assert found_by(harbour, backend, "harbour dredging", filters) == expected


@pytest.mark.parametrize(("filters", "expected"), FILTER_CASES)
def test_search_honours_the_filters(harbour: Archive, filters: SearchFilters, expected: set[str]) -> None:
    hits = harbour.search("harbour dredging", since=filters.since, until=filters.until, sources=filters.sources, k=10)
    assert {hit.doc_id for hit in hits} == expected


def test_explicit_dates_win_over_the_question(harbour: Archive) -> None:
    plan = harbour.plan("What happened to the harbour in 2019?", since=D(2022, 1, 1))
    assert plan.time is not None and plan.time.phrase == "in 2019" and plan.time_use == "overridden"
    hits = harbour.search("What happened to the harbour in 2019?", since=D(2022, 1, 1))
    assert [hit.doc_id for hit in hits] == ["harbour-2022"]


def test_a_time_in_the_question_favours_releases_of_that_time(harbour: Archive) -> None:
    for year in ("2019", "2020", "2021", "2022"):
        plan = harbour.plan(f"What was done about harbour dredging in {year}?")
        assert plan.time_use == "boost" and plan.filters == SearchFilters()
        hits = harbour.search(f"What was done about harbour dredging in {year}?", k=3)
        assert hits[0].doc_id == f"harbour-{year}"
        assert len(hits) == 3  # favoured, not enforced: other years still come after


def test_unknown_issuer_is_a_clear_error(harbour: Archive) -> None:
    with pytest.raises(ConfigError, match=r"'Port Autority'.*Port Authority"):
        harbour.search("dredging", sources=["Port Autority"])


def test_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion(["a", "b", "c"], ["c", "a", "d"])
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_fiscal_year_totals_are_looked_for_after_the_year_ends() -> None:
    fy2012 = TimeSpan(D(2011, 10, 1), D(2012, 9, 30), "fiscal year 2012", "fiscal-year")
    start, end = publication_window(fy2012)
    assert start == D(2012, 10, 1) and end is not None and D(2012, 12, 4) <= end <= D(2013, 3, 1)
    march = TimeSpan(D(2011, 3, 1), D(2011, 3, 31), "March 2011", "month")
    assert publication_window(march) == (D(2011, 3, 1), D(2011, 5, 1))


def test_sample_archive_question_about_a_fiscal_year(sample_archive: Archive) -> None:
    for year, published in (("2019", D(2020, 1, 9)), ("2020", D(2021, 1, 14)), ("2021", D(2022, 2, 1))):
        hits = sample_archive.search(
            f"How much did the Justice Department recover under the False Claims Act in fiscal year {year}?", k=1
        )
        assert hits[0].date == published


ISSUERS = [
    "U.S. Department of Justice, Office of Public Affairs",
    "NATO International Security Assistance Force (ISAF), Afghanistan",
    "Ministry of National Defense of the People's Republic of China",
    "Ministry of Defence of the Russian Federation",
    "Ministry of Foreign Affairs of the People's Republic of China",
    "U.S. Department of State",
    "City of Boston, Office of the Mayor",
    "Office of U.S. Senator Clinton",
]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("According to China's Ministry of National Defense, what made 2021 special?", (ISSUERS[2],)),
        ("What did China\u2019s defense ministry say about the exercise?", (ISSUERS[2],)),
        ("What did Russia's defence ministry announce?", (ISSUERS[3],)),
        ("What did the Chinese foreign ministry say about the treaty?", (ISSUERS[4],)),
        ("How much did the Justice Department recover?", (ISSUERS[0],)),
        ("How much did DOJ recover in fiscal year 2014?", (ISSUERS[0],)),
        ("How many insurgents did ISAF report killed in Kunar?", (ISSUERS[1],)),
        ("What did the State Department say about New START?", (ISSUERS[5],)),
        ("What did the mayor of Boston declare?", (ISSUERS[6],)),
        ("What did Senator Clinton propose for veterans?", (ISSUERS[7],)),
        ("Which exercises did Russia join in China in 2021?", ()),  # countries, not issuers
        ("What did the Ministry of Defence of Japan say about Taiwan in 2020?", ()),  # another country's
        ("What did Japan's defense ministry say about Taiwan?", ()),
        ("What did the French foreign ministry say about the treaty?", ()),
        ("What did the Justice Department say about Boeing?", (ISSUERS[0],)),
        ("What did the Justice Department say about the Japanese company?", (ISSUERS[0],)),
        ("What did the Biden Justice Department say about Boeing?", (ISSUERS[0],)),
        ("What did the Civil Division of the Justice Department announce?", (ISSUERS[0],)),
        ("What did the Chinese Ministry of National Defense (MND) say?", (ISSUERS[2],)),
        ("What did the Department of Justice and the Department of State announce?", (ISSUERS[0], ISSUERS[5])),
        ("What did the Ministry of Foreign Affairs of the People's Republic of China say?", (ISSUERS[4],)),
        ("Which city declared a snow emergency?", ()),  # no name to tell cities apart
        ("Who was sentenced in the Boeing case?", ()),
    ],
)
def test_issuers_named_in_questions(question: str, expected: tuple[str, ...]) -> None:
    assert IssuerMatcher(ISSUERS).match(question) == expected


def test_named_issuer_is_reported_and_explicit_sources_win(harbour: Archive) -> None:
    plan = harbour.plan("What did the Port Authority say about dredging?")
    assert plan.issuers == ("Port Authority",) and plan.issuers_use == "boost"
    plan = harbour.plan("What did the Port Authority say about dredging?", sources=["City Council"])
    assert plan.issuers_use == "overridden" and plan.filters.sources == ("City Council",)
    assert {hit.source for hit in harbour.search(plan, k=5)} == {"City Council"}


def test_a_named_issuer_is_favoured(harbour: Archive) -> None:
    # "dredging works" fits a 2020 Port Authority and a 2021 City Council release alike:
    # the issuer named decides which comes first (the plan is edited as a user would).
    plan = harbour.plan("harbour dredging works")
    assert plan.issuers == ()
    for issuer in ("Port Authority", "City Council"):
        favoured = dataclasses.replace(plan, issuers=(issuer,), issuers_use="boost")
        assert harbour.search(favoured, k=1)[0].source == issuer


def test_relative_years_are_searched_against_the_newest_release(harbour: Archive) -> None:
    plan = harbour.plan("What happened with harbour dredging last year?")
    assert plan.time is not None and (plan.time.start, plan.time.end) == (D(2021, 1, 1), D(2021, 12, 31))
    assert harbour.search(plan, k=1)[0].doc_id == "harbour-2021"


def test_impossible_filters_are_clear_errors(harbour: Archive) -> None:
    with pytest.raises(ConfigError, match="after until"):
        harbour.search("dredging", since=D(2022, 1, 1), until=D(2021, 1, 1))
    assert {hit.source for hit in harbour.search("dredging", sources="Port Authority", k=5)} == {"Port Authority"}  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no releases from '\\(unknown\\)'"):
        harbour.search("dredging", sources=["(unknown)"])


def test_the_country_next_to_the_ministry_decides() -> None:
    question = "What did China's defense ministry say about exercises with Russia in 2021?"
    assert IssuerMatcher(ISSUERS).match(question) == (ISSUERS[2],)


def test_copies_collapse_into_the_original_unless_filters_exclude_it(tmp_path: Path) -> None:
    text = "The ferry company announced a new night crossing between the two islands from next spring."
    source = tmp_path / "r.jsonl"
    releases = [
        # The copy's headline matches the question better, so it ranks first.
        {"id": "reissue-2022", "title": "New night ferry crossing", "date": "2022-05-01"},
        {"id": "original-2020", "title": "Board announcement", "date": "2020-05-01"},
    ]
    source.write_text("".join(json.dumps({**r, "source": "Ferry Board", "text": text}) + "\n" for r in releases))
    with Archive.open(tmp_path / "archive") as archive:
        archive.ingest([source])
        assert archive.copies("original-2020") == ["reissue-2022"]
        [hit] = archive.search("new night ferry crossing", k=5)
        assert (hit.doc_id, hit.copies, hit.date) == ("original-2020", ("reissue-2022",), D(2020, 5, 1))
        [hit] = archive.search("new night ferry crossing", since=D(2021, 1, 1), k=5)
        assert (hit.doc_id, hit.copies) == ("reissue-2022", ("original-2020",))


class _PrefersFerries:
    """A reranker that knows one thing: passages about ferries are the relevant ones."""

    def score(self, question: str, passages: Sequence[str]) -> list[float]:
        return [float("ferries" in passage) for passage in passages]


def test_a_reranker_reorders_the_candidates(harbour: Archive) -> None:
    assert harbour.search("harbour dredging works", k=1)[0].doc_id != "harbour-2022"
    with Archive.open(harbour.path, reranker=_PrefersFerries()) as reranked:
        assert reranked.search("harbour dredging works", k=1)[0].doc_id == "harbour-2022"


def test_a_reranker_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no cross-encoder model at"):
        Archive.open(tmp_path / "archive", settings=Settings(reranker_path=tmp_path))


def test_the_keyword_index_grows_and_shrinks_in_place(tmp_path: Path) -> None:
    source = tmp_path / "releases.jsonl"
    source.write_text(
        "".join(
            json.dumps({"id": i, "title": f"Harbour update {i}", "date": d, "source": s, "text": t}) + "\n"
            for i, d, s, t in RELEASES
        )
    )
    with Archive.open(tmp_path / "archive") as archive:
        archive.ingest([source])
        index = tmp_path / "archive" / "keyword" / "tantivy"
        written = {path.name for path in index.iterdir()}
        added = tmp_path / "more.jsonl"
        added.write_text(
            json.dumps({"id": "ferry", "title": "Ferry timetable", "text": "A new Zorblatt ferry."}) + "\n"
        )
        archive.ingest([added])
        # What the first ingest wrote is still there: the new release was added to it, not rebuilt with it.
        assert written <= {path.name for path in index.iterdir()}
        assert found_by(archive, "keyword", "Zorblatt") == {"ferry"}
        assert archive.check().ok  # the index holds the registered chunks, at the registry's generation

        archive.delete("ferry")
        assert archive.check().ok
    # What was committed is what another process reads.
    assert found_by(archive, "keyword", "Zorblatt") == set()
    assert found_by(archive, "keyword", "dredging") == {i for i, _, _, _ in RELEASES}
