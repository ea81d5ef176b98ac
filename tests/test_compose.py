"""Answers that compose: a day a release names only as "yesterday" or "on Friday" is stated
as a date, read against the release's own date, and checked by the same rule; a question
about the prison term someone was given is not answered with the term he faced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pytest

from conftest import archive_of
from llm_server import serving, source_with
from pressqa import Archive
from pressqa.answer.compose import read_composition
from pressqa.answer.extractive import asked_quantities
from pressqa.answer.figures import figure_value
from pressqa.answer.relative_dates import derive
from pressqa.answer.sources import Source
from pressqa.answer.verify import CitationBook, Verifier, claims
from pressqa.query.question import key_terms, question_type
from pressqa.text import split_sentences
from pressqa.types import Hit

D = dt.date

# Releases written for these tests (the facts are invented); dates are publication dates.
RELEASES = [
    {
        "id": "naval-drill",
        "title": "Navies of the two countries end joint drill in the East Sea",
        "date": "2021-08-13",  # a Friday
        "source": "Ministry of National Defense",
        "text": "Naval units of the two countries completed the Harbour Shield joint drill late yesterday in "
        "the East Sea, the ministry said. Eight ships and two submarines took part in the drill. "
        "The crews practised escort, replenishment at sea and search and rescue.",
    },
    {
        "id": "treasurer-verdict",
        "title": "Former fund treasurer convicted of embezzlement",
        "date": "2016-05-16",  # a Monday
        "source": "U.S. Attorney's Office",
        "text": "A federal jury in Boston convicted the former treasurer of the Lantern Harbor Fund on Friday "
        "of embezzling $2.4 million from the charity. Sentencing is set for August. The treasurer "
        "had managed the fund's accounts for nine years.",
    },
    {
        "id": "ferry-notice",
        "title": "Island ferry service resumes",
        "date": None,
        "source": "Port Authority",
        "text": "The ferry service to Gull Island resumed yesterday after the storm, the port authority said. "
        "Ferries run every two hours until further notice.",
    },
    {
        "id": "preparers-complaint",
        "title": "United States sues to stop two Dover tax preparers",
        "date": "2014-04-15",
        "source": "Justice Department",
        "text": "The United States asked the federal court in Dover to bar tax preparers Alma Reyes and Tom Bright "
        "from preparing returns for others, the Justice Department announced today. According to the "
        "complaint, which was filed yesterday in federal court, the two prepared false returns for six years.",
    },
    {
        "id": "rowing-plea",
        "title": "Former rowing club bookkeeper pleads guilty to wire fraud",
        "date": "2016-03-02",
        "source": "U.S. Attorney's Office",
        "text": "The former bookkeeper of the Quayside Rowing Club pleaded guilty to wire fraud for diverting "
        "$180,000 of club dues. At sentencing, he faces a maximum penalty of 20 years in prison and a fine of "
        "$250,000. Sentencing is set for June.",
    },
    {
        "id": "choir-sentence",
        "title": "Former choir society bookkeeper sentenced for theft",
        "date": "2016-09-20",
        "source": "U.S. Attorney's Office",
        "text": "The former bookkeeper of the Millpond Choir Society was sentenced to 46 months in prison for "
        "stealing $310,000 from the society. The judge also ordered full restitution.",
    },
    {
        "id": "smuggling-verdict",
        "title": "Jury convicts smuggling ring members",
        "date": "2019-11-08",
        "source": "U.S. Attorney's Office",
        "text": "A jury today convicted four members of the Saltmarsh smuggling ring of moving stolen boat engines "
        'through the port of Dover.\n\n"This verdict closes a long investigation," said Chief Inspector Eli '
        "Marsh.\n\nAfter a two-week trial, the jury convicted Ada Quill, Bram Tolley and Cora Venn of "
        "conspiracy. Dane Ashby was convicted of receiving stolen goods.\n\nSentencing is set for March.",
    },
    {
        "id": "blue-current",
        "title": "Blue Current naval exercise opens",
        "date": "2022-06-01",
        "source": "Ministry of Defence",
        "text": "The Blue Current naval exercise opened in the North Channel, the ministry said. The ministry named "
        "the following vessels taking part in the Blue Current exercise:\n- The frigate Harbin Star\n- The "
        "tanker Grey Heron\n- The minesweeper Kestrel Bay\nThe exercise runs for ten days.",
    },
    {
        "id": "fish-seizures",
        "title": "Coastal inspectors report record seizures",
        "date": "2022-01-20",
        "source": "Ministry of Coastal Affairs",
        "text": "The Ministry of Coastal Affairs, which oversees fourteen harbours along the northern coast, said in "
        "a statement issued after its annual review, that its inspectors had seized 2,300 kilograms of undeclared "
        "fish in 2021, a record for the service. Most of the catch was returned to the sea.",
    },
    {
        "id": "coastal-summit",
        "title": "Leaders of the coastal states meet",
        "date": "2021-09-10",
        "source": "Foreign Ministry",
        "text": "The leaders of the five coastal states opened their annual regional summit on Friday with talks on "
        "fishing rights and port security. The meeting took place in Valmora, the capital of the host state. "
        "Ministers will meet again in spring.",
    },
    {
        "id": "pilot-fine",
        "title": "Harbour pilot fined over near miss",
        "date": "2021-04-14",
        "source": "Port Court",
        "text": "Harbour pilot Jonas Brandt, who trained most of the port's younger pilots, was fined 4,000 euros "
        "on Tuesday, after a hearing that heard from the crews of the ships and from the harbour master who had "
        "reported the near miss in the channel and asked the court for a review of the pilot service.",
    },
    {
        "id": "ferry-licences",
        "title": "Port authority review of ferry licences",
        "date": "2020-11-30",
        "source": "Port Authority",
        "text": "The port authority did not, after a review that ran through the summer and autumn of 2020 and "
        "heard from passengers and crews, renew the licences of 12 ferry operators, the harbour master said.",
    },
]


@pytest.fixture(scope="module")
def compose_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Archive]:
    with archive_of(tmp_path_factory.mktemp("compose"), RELEASES) as (archive, _):
        yield archive


@pytest.mark.parametrize(
    ("sentence", "published", "stated"),
    [
        ("The drill ended late yesterday.", D(2021, 8, 13), ["August 12, 2021"]),
        ("He was arrested this morning and charged today.", D(2016, 5, 13), ["May 13, 2016", "May 13, 2016"]),
        ("The jury convicted him on Friday.", D(2016, 5, 16), ["May 13, 2016"]),
        ("The jury convicted him on Monday.", D(2016, 5, 16), ["May 16, 2016"]),  # the release's own day
        ("Officials said last Monday that talks failed.", D(2016, 5, 16), ["May 9, 2016"]),
        ("The ministers will meet on Monday in Brussels.", D(2021, 8, 13), ["August 16, 2021"]),
        ("Troops arrived last week.", D(2021, 8, 13), ["the week of August 2, 2021"]),
        ("Drills began earlier this month.", D(2021, 8, 13), ["August 2021"]),
        ("The verdict came Friday, August 13, 2021.", D(2021, 8, 16), []),  # a date, not a relative day
        ("The verdict came Friday, Aug. 13, 2021, in Boston.", D(2021, 8, 16), []),
        ("He was arrested on Monday and will be sentenced in June.", D(2016, 5, 13), ["May 9, 2016"]),
        ("Shoppers crowded the stores on Black Friday.", D(2016, 11, 28), []),  # a name
        ("He told USA Today he was innocent.", D(2016, 5, 13), []),
        ("He was charged the following Monday.", D(2016, 5, 13), []),  # another week's Monday
        ("The hearing ends tomorrow.", D.max, []),  # no day after 9999-12-31
        ("The service resumed yesterday.", None, []),  # an undated release derives nothing
    ],
)
def test_relative_days_are_read_against_the_release_date(
    sentence: str, published: dt.date | None, stated: list[str]
) -> None:
    assert [derived.label for derived in derive(sentence, published)] == stated


def test_a_when_question_is_answered_with_the_day_yesterday_means(compose_archive: Archive) -> None:
    answer = compose_archive.ask("When did the naval units complete the Harbour Shield joint drill?")
    assert not answer.abstained
    assert answer.text.startswith(
        'August 12, 2021 ("late yesterday" in the release of August 13, 2021): Naval units of the two countries '
        "completed the Harbour Shield joint drill late yesterday"
    )
    [citation] = answer.citations
    assert citation.doc_id == "naval-drill" and "late yesterday" in citation.quote


def test_a_weekday_is_the_last_one_before_the_release(compose_archive: Archive) -> None:
    answer = compose_archive.ask("When was the former treasurer of the Lantern Harbor Fund convicted?")
    assert answer.text.startswith('May 13, 2016 ("on Friday" in the release of May 16, 2016)')
    assert [citation.doc_id for citation in answer.citations] == ["treasurer-verdict"]


def test_an_undated_release_never_yields_a_day(compose_archive: Archive) -> None:
    answer = compose_archive.ask("When did the ferry service to Gull Island resume?")
    assert "in the release of" not in answer.text
    assert not any(str(year) in answer.text for year in range(1990, 2030))


def test_the_day_beside_what_was_asked_is_the_one_stated(compose_archive: Archive) -> None:
    # "announced today" and "filed yesterday": asked when the complaint was filed, the latter.
    answer = compose_archive.ask("When was the complaint against tax preparers Alma Reyes and Tom Bright filed?")
    assert answer.text.startswith('April 14, 2014 ("yesterday" in the release of April 15, 2014)')


def test_a_prison_term_given_is_answered_and_one_only_faced_is_not(compose_archive: Archive) -> None:
    given = compose_archive.ask("What prison sentence did the former bookkeeper of the Millpond Choir Society receive?")
    assert "46 months" in given.text and [c.doc_id for c in given.citations] == ["choir-sentence"]
    faced = compose_archive.ask("What prison sentence did the former bookkeeper of the Quayside Rowing Club receive?")
    assert faced.abstained, faced.text
    assert "rowing-plea" in [hit.doc_id for hit in faced.hits]  # listed among the closest releases
    # Asked what he faces, the same sentence answers.
    most = compose_archive.ask("What is the maximum prison sentence the Quayside Rowing Club bookkeeper faces?")
    assert "20 years" in most.text


@pytest.mark.parametrize(
    ("question", "imposed"),
    [
        ("What prison sentence did Ignatius Hills receive?", True),
        ("How long was Elizabeth Holmes sentenced to prison?", True),
        ("What is the maximum sentence he faces?", False),
        ("What penalty did Odebrecht agree to pay?", False),
        ("When was he sentenced?", False),  # a date, not a term
        ("How many inmates escaped from the county jail?", False),
    ],
)
def test_questions_about_a_term_given_are_told_apart(question: str, imposed: bool) -> None:
    assert question_type(question).imposed_term is imposed


def test_a_list_announced_by_a_count_brings_its_items(compose_archive: Archive) -> None:
    answer = compose_archive.ask("Which four members of the Saltmarsh smuggling ring were convicted?")
    for member in ("Ada Quill", "Bram Tolley", "Cora Venn", "Dane Ashby"):
        assert member in answer.text
    assert "Eli Marsh" not in answer.text  # a quotation is not an item
    assert "A jury today convicted four members of the Saltmarsh smuggling ring" in answer.text.split("[1]")[0]
    assert {citation.doc_id for citation in answer.citations} == {"smuggling-verdict"}
    assert len(answer.citations) == 3  # the announcement and the two sentences that hold the four


def test_a_list_announced_by_a_colon_brings_its_items(compose_archive: Archive) -> None:
    answer = compose_archive.ask("Which vessels did the ministry say took part in the Blue Current exercise?")
    for vessel in ("Harbin Star", "Grey Heron", "Kestrel Bay"):
        assert vessel in answer.text
    assert "ten days" not in answer.text  # the list ends where its items do


DRILL = RELEASES[0]["text"]


def _drill_source() -> Source:
    text = str(DRILL)
    hit = Hit(doc_id="naval-drill", chunk_id="naval-drill#0", title="Joint drill", text=text, start=0,
              end=len(text), score=1.0, source="Ministry", date=D(2021, 8, 13))  # fmt: skip
    return Source.of(1, hit, text, 0)


def _kept(claim: str) -> list[str]:
    verifier, book = Verifier([_drill_source()], lambda terms: dict.fromkeys(terms, 1.0)), CitationBook()
    return [checked for sentence in claims(claim) if (checked := verifier.check(sentence, book))]


def test_the_checker_accepts_a_derived_day_only_by_the_same_rule() -> None:
    derived = 'August 12, 2021 ("late yesterday" in the release of August 13, 2021)'
    assert _kept(f"{derived}: the naval units completed the joint drill late yesterday [1].")
    # A wrong day in the same form, and the right day stated bare (a guess), are not supported.
    assert not _kept(
        'August 11, 2021 ("late yesterday" in the release of August 13, 2021): the naval units completed '
        "the joint drill late yesterday [1]."
    )
    assert not _kept("The naval units completed the joint drill on August 12, 2021 [1].")


def test_each_sentence_of_a_cited_pair_is_read_on_its_own() -> None:
    # "will" in the next sentence does not make the Friday of the first one a future Friday.
    text = "A federal jury convicted John Smith on Friday of wire fraud. He will be sentenced in August."
    hit = Hit(doc_id="verdict", chunk_id="verdict#0", title="Verdict", text=text, start=0, end=len(text),
              score=1.0, source="U.S. Attorney", date=D(2016, 5, 16))  # fmt: skip
    verifier, book = Verifier([Source.of(1, hit, text, 0)], lambda terms: dict.fromkeys(terms, 1.0)), CitationBook()
    claim = '{} ("on Friday" in the release of May 16, 2016): a jury convicted John Smith on Friday of wire fraud [1].'
    assert verifier.check(claim.format("May 13, 2016"), book)
    assert not verifier.check(claim.format("May 20, 2016"), book)


# Releases for questions over two releases (invented facts).
TWO_RELEASE_RECORDS = [
    {
        "id": "harlow-operation",
        "title": "Combined force clears insurgent positions in Harlow district",
        "date": "2011-04-14",
        "source": "Regional Command East",
        "text": "A combined force of Afghan and coalition troops cleared insurgent positions in Harlow district, "
        "Kestrel province, during a three-day operation. The force killed 12 insurgents and seized two weapons "
        "caches. No civilians were hurt in the operation.",
    },
    {
        "id": "brent-operation",
        "title": "Afghan commandos end operation in Brent district",
        "date": "2011-10-20",
        "source": "Regional Command East",
        "text": "Afghan commandos supported by coalition aircraft ended an operation in Brent district, Kestrel "
        "province, yesterday. Eight insurgents were killed in the fighting, and the commandos detained three "
        "suspects.",
    },
    {
        "id": "duties-2018",
        "title": "Customs Service reports import duty collections for fiscal year 2018",
        "date": "2018-11-09",
        "source": "Customs Service",
        "text": "The Customs Service collected $3.1 billion in import duties in fiscal year 2018, the service "
        "announced today. Inspectors examined 41,000 shipping containers during the year.",
    },
    {
        "id": "duties-2019",
        "title": "Customs Service import duty collections rise in fiscal year 2019",
        "date": "2019-11-12",
        "source": "Customs Service",
        "text": "The Customs Service collected $4.25 billion in import duties in fiscal year 2019, its highest "
        "total yet. Most of the increase came from steel and aluminium shipments.",
    },
    {
        "id": "harbor-february",
        "title": "Mayor announces arrests in dockside theft ring",
        "date": "2009-02-25",
        "source": "City of Portwell",
        "text": "Mayor Tom Hale announced the arrest of 14 members of a dockside theft ring today. Harbor Police "
        "Chief Nora Vance and Customs Inspector Paul Greer joined the mayor at the announcement.",
    },
    {
        "id": "harbor-october",
        "title": "Mayor announces second wave of dockside theft arrests",
        "date": "2009-10-22",
        "source": "City of Portwell",
        "text": "Mayor Tom Hale announced 22 more arrests in the dockside theft investigation today. Standing "
        "with the mayor was Harbor Police Chief Nora Vance, whose officers made most of the arrests.",
    },
]


@pytest.fixture(scope="module")
def two_release_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Archive]:
    with archive_of(tmp_path_factory.mktemp("two-releases"), TWO_RELEASE_RECORDS) as (archive, _):
        yield archive


@pytest.mark.parametrize(
    ("question", "operation", "parts"),
    [
        (
            "Taken together, how many insurgents were killed in April 2011 (Harlow district) and October 2011 "
            "(Brent district)?",
            "sum",
            (
                "How many insurgents were killed in April 2011 (Harlow district)?",
                "How many insurgents were killed in October 2011 (Brent district)?",
            ),
        ),
        (
            "By how much did import duties in fiscal year 2019 exceed those of fiscal year 2018?",
            "difference",
            ("How much did import duties in fiscal year 2019?", "How much did import duties in fiscal year 2018?"),
        ),
        (
            "How many were charged in total in the May and October 2010 takedowns?",
            "sum",
            (
                "How many were charged in the May 2010 takedowns?",
                "How many were charged in the October 2010 takedowns?",
            ),
        ),
        (
            "Which police official stood with the mayor at both announcements, in February and in October 2009?",
            "common",
            (
                "Which police official stood with the mayor at announcements, in February 2009?",
                "Which police official stood with the mayor at announcements, in October 2009?",
            ),
        ),
        (
            "How many more defendants were charged in the July 2017 fraud takedown than in the June 2016 one?",
            "difference",
            (
                "How many defendants were charged in the July 2017 fraud takedown?",
                "How many defendants were charged in the June 2016 fraud takedown?",
            ),
        ),
        (
            "Taken together, how many insurgents were killed in the Badghis operation of October 2010 and the "
            "Wardak operation of December 2010?",
            "sum",
            (
                "How many insurgents were killed in the Badghis operation of October 2010?",
                "How many insurgents were killed in the Wardak operation of December 2010?",
            ),
        ),
        (
            "Which official announced both Operation Alpha and Operation Beta?",
            "common",
            ("Which official announced Operation Alpha?", "Which official announced Operation Beta?"),
        ),
    ],
)
def test_a_question_over_two_events_is_read_as_two(question: str, operation: str, parts: tuple[str, str]) -> None:
    composition = read_composition(question)
    assert composition is not None and (composition.operation, composition.parts) == (operation, parts)


@pytest.mark.parametrize(
    "question",
    [
        "How many insurgents were killed in April 2011 in Harlow district?",  # one event
        "How many defendants were charged in total?",  # a total, of one thing
        "When were the two ships launched, in May and in June?",  # no sum, difference or common person
        "How many troops took part in 2019 and 2020?",  # two years, but no total or difference asked
    ],
)
def test_a_question_about_one_thing_is_not_split(question: str) -> None:
    assert read_composition(question) is None


def test_a_total_over_two_releases_is_computed_and_each_figure_cited(two_release_archive: Archive) -> None:
    answer = two_release_archive.ask(
        "Taken together, how many insurgents were killed in the two Kestrel province operations reported in "
        "April 2011 (Harlow district) and October 2011 (Brent district)?"
    )
    assert answer.text.startswith("In total: 20 = 12 [1] + Eight [2].")
    by_number = {citation.number: citation for citation in answer.citations}
    assert by_number[1].doc_id == "harlow-operation" and "killed 12 insurgents" in by_number[1].quote
    assert by_number[2].doc_id == "brent-operation" and "Eight insurgents were killed" in by_number[2].quote
    assert len(answer.citations) == 2  # the quoted sentences are the ones the sum cites


def test_a_difference_between_two_releases_is_computed(two_release_archive: Archive) -> None:
    answer = two_release_archive.ask(
        "By how much did the Customs Service's import duty collections in fiscal year 2019 exceed those of "
        "fiscal year 2018?"
    )
    assert answer.text.startswith("The difference: $1.15 billion = $4.25 billion [1] \u2212 $3.1 billion [2].")
    assert [citation.doc_id for citation in answer.citations] == ["duties-2019", "duties-2018"]


def test_the_person_both_releases_name_leads_the_answer(two_release_archive: Archive) -> None:
    answer = two_release_archive.ask(
        "Which police official stood with the mayor at both of the 2009 announcements of dockside theft arrests, "
        "in February and in October?"
    )
    assert answer.text.startswith("Nora Vance [1][2].")
    assert {citation.doc_id for citation in answer.citations} == {"harbor-february", "harbor-october"}
    assert "Paul Greer" not in answer.text.split(".")[0]  # named in one release only


def test_a_composed_question_with_a_part_the_archive_lacks_abstains(two_release_archive: Archive) -> None:
    answer = two_release_archive.ask(
        "Taken together, how many insurgents were killed in Kestrel province in April 2011 (Harlow district) "
        "and in March 2013 (Tamber district)?"
    )
    assert answer.abstained, answer.text


def _operation_sources() -> list[Source]:
    sources = []
    for number, record in enumerate(TWO_RELEASE_RECORDS[:2], 1):
        text = str(record["text"])
        day = D.fromisoformat(str(record["date"]))
        hit = Hit(doc_id=str(record["id"]), chunk_id=f"{record['id']}#0", title=str(record["title"]), text=text,
                  start=0, end=len(text), score=1.0, source="Command", date=day)  # fmt: skip
        sources.append(Source.of(number, hit, text, 0))
    return sources


@pytest.mark.parametrize(
    ("claim", "stands"),
    [
        ("In total: 20 = 12 [1] + Eight [2].", True),
        ("In total: 21 = 12 [1] + Eight [2].", False),  # the sum is wrong
        ("In total: 24 = 12 [1] + 12 [2].", False),  # release 2 does not say 12
        ("In total: 20 = 12 [2] + Eight [1].", False),  # each figure cites the wrong release
        ("The difference: 4 = 12 [1] \u2212 Eight [2].", True),
        ("In total: 20 = 12 [1] + Eight [3].", False),  # no source 3
    ],
)
def test_the_checker_recomputes_a_computed_claim_from_the_cited_passages(claim: str, stands: bool) -> None:
    verifier, book = Verifier(_operation_sources(), lambda terms: dict.fromkeys(terms, 1.0)), CitationBook()
    checked = verifier.check(claim, book)
    assert (checked is not None) is stands, book.removed
    if stands:
        assert [citation.quote for citation in book.citations] == [
            "The force killed 12 insurgents and seized two weapons caches.",
            "Eight insurgents were killed in the fighting, and the commandos detained three suspects.",
        ]


@pytest.mark.parametrize(
    ("figure", "value"),
    [("35", 35), ("1,540", 1540), ("$5.69 billion", 5.69e9), ("twenty-five", 25), ("Eight", 8), ("dozens", None)],
)
def test_figures_are_read_as_releases_write_them(figure: str, value: float | None) -> None:
    assert figure_value(figure) == value


@pytest.mark.parametrize(("total", "stands"), [("20", True), ("22", False)])
def test_a_language_model_reads_both_parts_and_its_arithmetic_is_checked(
    two_release_archive: Archive, total: str, stands: bool
) -> None:
    def reply(messages: list[dict[str, Any]]) -> str:
        first, second = source_with(messages, "killed 12"), source_with(messages, "Eight insurgents")
        return f"In total: {total} = 12 [{first}] + Eight [{second}]."

    with serving(reply) as (url, model):
        answer = two_release_archive.ask(
            "Taken together, how many insurgents were killed in April 2011 (Harlow district) and in October 2011 "
            "(Brent district)?",
            llm=f"openai-like:scripted@{url}/v1",
        )
    # Both parts were searched: the model got both releases (source_with found them).
    assert len(model.requests) == 1
    assert answer.abstained is not stands
    if stands:
        assert answer.text == "In total: 20 = 12 [1] + Eight [2]."
        assert [citation.doc_id for citation in answer.citations] == ["harlow-operation", "brent-operation"]


@pytest.mark.parametrize(
    ("question", "sentence", "figures"),
    [
        # An age and a compound adjective are no amounts; asked how old, the age is.
        ("How much did he pay in bribes?", "Bobby Elkin, 50, of Danville, pleaded guilty to a one-count charge "
         "of paying $3 million.", ["$3 million"]),
        ("How old is Bobby Elkin?", "Bobby Elkin, 50, of Danville, pleaded guilty.", ["50"]),
        ("How many rifles were seized?", "The 12-agency task force seized 300 rifles.", ["300"]),
        ("How long was his sentence?", "He received a 10-year sentence.", ["10"]),  # a term, in a compound
        ("How much money did the suspect carry?", "Commandos detained four insurgents and found $2,500 in "
         "counterfeit bills.", ["$2,500"]),  # "four insurgents" counts another thing
    ],
)  # fmt: skip
def test_the_figures_a_sentence_offers_for_a_question(question: str, sentence: str, figures: list[str]) -> None:
    wanted = question_type(question)
    words = {word.lower() for word in question.replace("?", "").split()}
    scored = sorted(asked_quantities(wanted, sentence, words), key=lambda found: (-found[0], found[1]))
    assert [text for _, _, text in scored] == figures


def test_a_spaced_out_decimal_point_ends_no_sentence() -> None:
    text = "The department secured $3. 8 billion in settlements. It was a record."
    assert [text[start:end] for start, end in split_sentences(text)] == [
        "The department secured $3. 8 billion in settlements.",
        "It was a record.",
    ]
    assert figure_value("$3. 8 billion") == 3.8e9


def test_a_month_named_as_the_time_asked_is_not_a_word_to_match() -> None:
    assert "februari" not in key_terms("Who stood with the mayor at the announcement in February 2009?")
    assert "februari" not in key_terms("Who stood with him in February and in October?")


def test_a_count_of_another_thing_does_not_answer(compose_archive: Archive) -> None:
    counted = compose_archive.ask("How many submarines took part in the Harbour Shield drill?")
    assert "two submarines" in counted.text and not counted.abstained
    # "Eight ships and two submarines": neither is a count of aircraft.
    other = compose_archive.ask("How many aircraft took part in the Harbour Shield drill?")
    assert other.abstained, other.text
    assert "naval-drill" in [hit.doc_id for hit in other.hits]


def test_a_name_of_another_kind_does_not_answer(compose_archive: Archive) -> None:
    vessels = compose_archive.ask("Which vessels took part in the Blue Current exercise?")
    assert "Harbin Star" in vessels.text
    # The release names vessels and a channel, no submarine.
    submarines = compose_archive.ask("Which submarines took part in the Blue Current exercise?")
    assert submarines.abstained, submarines.text


def test_the_answer_leads_with_the_figure_it_quotes(compose_archive: Archive) -> None:
    answer = compose_archive.ask("How many ships took part in the Harbour Shield drill?")
    assert answer.text.startswith("Eight ships [1]. ")
    assert "Eight ships and two submarines took part in the drill" in answer.text
    assert [citation.doc_id for citation in answer.citations] == ["naval-drill"]


def test_a_long_sentence_is_quoted_by_the_clause_that_answers(compose_archive: Archive) -> None:
    answer = compose_archive.ask("How many kilograms of undeclared fish did the coastal inspectors seize in 2021?")
    assert answer.text.startswith("2,300 kilograms [1]. ")
    assert "\u2026 that its inspectors had seized 2,300 kilograms of undeclared fish in 2021 \u2026 [1]" in answer.text
    assert "fourteen harbours" not in answer.text
    # The citation still quotes the whole sentence, which a reader can check.
    [citation] = answer.citations
    assert citation.quote.startswith("The Ministry of Coastal Affairs, which oversees fourteen harbours")


def test_a_clause_is_never_quoted_without_the_negation_of_its_sentence(compose_archive: Archive) -> None:
    answer = compose_archive.ask("How many ferry operators did the port authority review the licences of?")
    assert "12 ferry operators" in answer.text
    assert "did not" in answer.text


def test_an_answer_is_quoted_with_the_sentence_before_that_says_what_it_is_about(compose_archive: Archive) -> None:
    answer = compose_archive.ask("Where did the leaders of the five coastal states hold their annual regional summit?")
    # The answer first, then the sentence before it, which says what it is about.
    assert answer.text.index("took place in Valmora") < answer.text.index("opened their annual regional summit")
    assert {citation.doc_id for citation in answer.citations} == {"coastal-summit"}
    assert len(answer.citations) == 2  # each sentence quoted and cited


def test_a_clause_keeps_whom_the_question_names(compose_archive: Archive) -> None:
    answer = compose_archive.ask("How much was harbour pilot Jonas Brandt fined?")
    assert answer.text.startswith("4,000 [1]. ")
    assert "Jonas Brandt" in answer.text and "4,000 euros" in answer.text
    assert "near miss" not in answer.text  # the clauses after the fine are left out
