"""Questions answered by releases over time: a timeline of what an issuer said in a period,
the latest and the first release on a subject, a count of releases, and questions asked as
of a past day.  The releases are written for these tests; the facts are invented."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from conftest import archive_of
from pressqa import Archive
from pressqa.cli import main
from pressqa.eval import load_questions, run
from pressqa.query.shape import read_shape, subject_words
from pressqa.query.timeparse import parse_time

D = dt.date
FLEET = "Northern Fleet Command"
JUSTICE = "Ministry of Justice"
WIRE = "Harbour Wire Service"


def release(doc_id: str, date: str | None, source: str, title: str, text: str) -> dict[str, str | None]:
    return {"id": doc_id, "title": title, "date": date, "source": source, "url": f"https://example.org/{doc_id}",
            "text": text}  # fmt: skip


SHIELD_MARCH_15 = (
    "Twelve ships sailed from Port Arden on Monday for the second phase of Harbour Shield, the fleet said. "
    "The phase trains escort of merchant convoys through the northern straits."
)
RELEASES = [
    release(
        "fleet-0302",
        "2021-03-02",
        FLEET,
        "Harbour Shield 2021 announced",
        "The Northern Fleet Command announced today that the Harbour Shield exercise will be held in three "
        "phases this spring. About forty ships and three thousand sailors are to take part.",
    ),
    release("fleet-0315", "2021-03-15", FLEET, "Second phase of Harbour Shield begins", SHIELD_MARCH_15),
    release("wire-0315", "2021-03-15", WIRE, "Fleet begins exercise phase", SHIELD_MARCH_15),
    release(
        "fleet-0320",
        "2021-03-20",
        FLEET,
        "New breakwater opens at Port Arden",
        "The harbour master opened a new breakwater at Port Arden, built to shield the inner basin from "
        "winter storms. Work on the breakwater took two years.",
    ),
    release(
        "fleet-0328",
        "2021-03-28",
        FLEET,
        "Harbour Shield phase two ends",
        "The second phase of Harbour Shield ended yesterday after the convoy reached Cape Morrow without "
        "losses. Crews practised boarding and mine clearing during the phase.",
    ),
    release(
        "fleet-0410",
        "2021-04-10",
        FLEET,
        "Final phase of Harbour Shield",
        "Submarines joined surface ships for the final phase of Harbour Shield in the Grey Sea. The fleet "
        "said the phase would test anti-submarine screens.",
    ),
    release(
        "fleet-0520",
        "2021-05-20",
        FLEET,
        "Harbour Shield lessons published",
        "The Northern Fleet Command published its lessons from Harbour Shield on Thursday. The report "
        "calls for two more supply ships and longer crew training.",
    ),
    release(
        "fleet-0311",
        "2021-03-11",
        FLEET,
        "Ferry to Gull Island resumes",
        "The ferry to Gull Island resumed service after repairs to its pier, the fleet said. Sailors "
        "helped the island council rebuild the landing stage.",
    ),
    release(
        "justice-0312",
        "2021-03-12",
        JUSTICE,
        "Supplier charged over Harbour Shield fuel contract",
        "A fuel supplier was charged with overbilling the navy for fuel delivered during Harbour Shield "
        "exercises, the Ministry of Justice said. The supplier faces fines of up to two million.",
    ),
    release(
        "fleet-petrel",
        "2022-01-10",
        FLEET,
        "Storm Petrel drill",
        "The Storm Petrel search and rescue drill brought together four frigates, two helicopters, a hospital "
        "ship, three tugs and the coast guard cutters of the northern district, which practised towing a "
        "disabled tanker, lifting injured sailors and fighting fires on deck daily from January 7, 2022 until "
        "the evening of January 9. The fleet thanked the crews.",  # the 45th word is in a date
    ),
    release(
        "fleet-undated",
        None,
        FLEET,
        "About Harbour Shield",
        "Harbour Shield is the yearly exercise of the Northern Fleet Command in the northern straits. It "
        "trains the escort of convoys and the defence of harbours.",
    ),
]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Archive]:
    with archive_of(tmp_path_factory.mktemp("timeline"), RELEASES) as (archive, report):
        assert [link.doc_id for link in report.duplicates] == ["wire-0315"]
        yield archive


def cited_ids(answer) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.doc_id for item in answer.timeline.items]


def test_a_timeline_lists_each_release_on_the_subject_once_oldest_first(fleet: Archive) -> None:
    answer = fleet.ask("What did the Northern Fleet Command report about Harbour Shield in March 2021?")
    assert answer.plan is not None and answer.plan.shape == "timeline"
    assert not answer.abstained and answer.timeline is not None
    # Not the ferry (another subject), not "shield" and "harbour" apart, not another issuer's.
    assert cited_ids(answer) == ["fleet-0302", "fleet-0315", "fleet-0328"]
    assert answer.timeline.matched == 3 and answer.timeline.complete
    assert answer.text.startswith("3 releases from Northern Fleet Command, published 2021-03-01 to 2021-03-31")
    lines = answer.text.splitlines()[1:]
    assert [line[:16] for line in lines] == ["- March 2, 2021:", "- March 15, 2021", "- March 28, 2021"]
    # The wire copy is folded into the original and shown as its copy.
    assert answer.timeline.items[1].copies == ("wire-0315",)
    for item, citation in zip(answer.timeline.items, answer.citations, strict=True):
        assert item.quote == citation.quote and item.quote in fleet.release_texts([item.doc_id])[item.doc_id]
    assert answer.timeline.per_month == {"2021-03": 3}


def test_a_timeline_shows_at_most_the_limit_and_says_how_many_matched(fleet: Archive) -> None:
    question = "Give me a timeline of the Northern Fleet Command's statements on Harbour Shield in 2021"
    shown = fleet.ask(question, limit=2)
    assert shown.timeline is not None and shown.timeline.matched == 5 and len(shown.timeline.items) == 2
    assert not shown.timeline.complete and "5 releases from Northern Fleet Command" in shown.text
    assert "; 2 of them shown, oldest first:" in shown.text
    dates = [item.date for item in shown.timeline.items]
    assert dates == sorted(dates)
    everything = fleet.ask(question, limit=0)
    assert everything.timeline is not None
    assert cited_ids(everything) == ["fleet-0302", "fleet-0315", "fleet-0328", "fleet-0410", "fleet-0520"]


def test_the_latest_and_the_first_release_on_a_subject_say_their_date(fleet: Archive) -> None:
    latest = fleet.ask("What is the latest the Northern Fleet Command said about Harbour Shield?")
    assert latest.plan is not None and latest.plan.shape == "latest"
    assert cited_ids(latest) == ["fleet-0520"]
    assert latest.text.startswith("As of May 20, 2021, the newest of 6 releases")  # one undated
    first = fleet.ask("When did the Northern Fleet Command first mention Harbour Shield?")
    assert first.plan is not None and first.plan.shape == "earliest"
    assert cited_ids(first) == ["fleet-0302"] and "is of March 2, 2021" in first.text


def test_asked_as_of_a_past_day_later_releases_are_left_out(fleet: Archive) -> None:
    latest = fleet.ask("What is the latest the Northern Fleet Command said about Harbour Shield?", as_of=D(2021, 4, 1))
    assert cited_ids(latest) == ["fleet-0328"] and latest.text.startswith("As of March 28, 2021")
    # "last month" is read against the day asked as of, not the newest release.
    previous = fleet.ask(
        "What did the Northern Fleet Command report on Harbour Shield last month?", as_of=D(2021, 4, 5)
    )
    assert cited_ids(previous) == ["fleet-0302", "fleet-0315", "fleet-0328"]
    chat = fleet.chat(
        [{"role": "user", "content": "What is the latest the Northern Fleet Command said about Harbour Shield?"}],
        as_of=D(2021, 4, 1),
    )
    assert cited_ids(chat) == ["fleet-0328"]
    hits = fleet.search("Harbour Shield final phase submarines", as_of=D(2021, 4, 1), k=10)
    assert hits and all(hit.date is not None and hit.date <= D(2021, 4, 1) for hit in hits)
    answer = fleet.ask("Which ships joined the final phase of Harbour Shield?", as_of=D(2021, 4, 1))
    assert all(citation.doc_id != "fleet-0410" for citation in answer.citations)


def test_a_count_comes_from_the_releases_not_from_a_number_in_a_passage(fleet: Archive) -> None:
    answer = fleet.ask("How many releases did the Northern Fleet Command issue about Harbour Shield in 2021?")
    assert answer.plan is not None and answer.plan.shape == "count"
    assert answer.timeline is not None and answer.timeline.matched == 5
    assert answer.text.startswith("5 releases from Northern Fleet Command")
    assert answer.timeline.per_month == {"2021-03": 3, "2021-04": 1, "2021-05": 1}


def test_an_item_cut_short_keeps_its_dates_whole_and_the_stream_is_the_text(fleet: Archive) -> None:
    stream = fleet.ask_stream("What did the Northern Fleet Command report about Storm Petrel in January 2022?")
    pieces = list(stream)
    answer = stream.answer
    assert "".join(pieces) == answer.text
    assert answer.timeline is not None and [item.doc_id for item in answer.timeline.items] == ["fleet-petrel"]
    item = answer.text.splitlines()[1]
    assert "January 7, 2022" in item and item.endswith("\u2026 [1]")  # cut after the date, not inside it


def test_search_keeps_to_the_period_and_issuer_a_timeline_enforces(fleet: Archive) -> None:
    hits = fleet.search("What did the Northern Fleet Command report about Harbour Shield in March 2021?", k=10)
    assert hits and all(hit.source == FLEET and hit.date and hit.date.month == 3 for hit in hits)


def test_an_empty_period_abstains_and_names_the_period(fleet: Archive) -> None:
    answer = fleet.ask("What did the Northern Fleet Command report about Harbour Shield in July 2019?")
    assert answer.abstained and answer.timeline is None and not answer.citations
    assert answer.text == (
        'No release from Northern Fleet Command, published 2019-07-01 to 2019-07-31, on "harbour shield" '
        "was found in the archive."
    )


@pytest.mark.parametrize(
    ("question", "issuer_named", "shape"),
    [
        ("What did ISAF report from Helmand province in March 2011?", True, "timeline"),
        ("Give me a timeline of China's defense ministry statements on the joint air cruises", True, "timeline"),
        ("Which operations in Kandahar province did ISAF announce in May 2010?", True, "timeline"),
        ("List ISAF's releases about Paktika province in July 2011.", True, "timeline"),
        ("Show me the ministry's statements on the joint patrols", True, "timeline"),
        ("List the Justice Department's releases about civil rights in Ferguson.", True, "timeline"),
        ("List the press releases about the joint patrols", False, "timeline"),
        ("What is the latest the Justice Department said about Liberty Reserve?", True, "latest"),
        ("What was the most recent statement on Joint Sea?", False, "latest"),
        ("When did the ministry first report the joint patrol?", False, "earliest"),
        ("How many releases did the ministry issue about Joint Sea in 2021?", False, "count"),
        ("How many statements did the ministry issue about Joint Sea in 2021?", True, "count"),
        # One passage answers these.
        ("What did NATO agree at the Vilnius summit?", False, None),
        ("Which exercises did Russia join in China in 2021?", False, None),
        ("How many ships took part in Joint Sea 2021?", False, None),
        ("What was the first exercise of the two navies?", False, None),
        ("Who announced the charges last week?", True, None),
        ("How many cases did the task force bring in 2019?", True, None),
        ("Which cases did the Justice Department bring against Boeing?", True, None),
        ("What did the Justice Department recover in False Claims Act cases in fiscal year 2012?", True, None),
        ("What did the Justice Department report as its total recovery for fiscal year 2014?", True, None),
        ("What did the court order about the release of the prisoners in 2010?", False, None),
        ("What did the talks in June 2012 do about the issue of detainees?", False, None),
        ("How many reports of civilian casualties did ISAF receive in 2010?", True, None),
        ("What updates did the Pentagon make to its travel policy in 2020?", False, None),
        ("What prisoner releases were agreed in 2014?", False, None),
        ("How many statements did the witness give?", False, None),
    ],
)
def test_the_shape_of_a_question_is_read_from_its_words(question: str, issuer_named: bool, shape: str | None) -> None:
    time = parse_time(question, latest=D(2021, 12, 31), near=True)
    assert read_shape(question, time, issuer_named=issuer_named) == shape


def test_the_subject_leaves_out_the_shape_time_and_issuer_and_keeps_names_whole() -> None:
    isaf = "NATO International Security Assistance Force (ISAF), Afghanistan"
    question = "Give me a timeline of ISAF's reports on Helmand province in July 2012."
    assert subject_words(question, parse_time(question), [isaf]) == ("helmand", "province")
    question = "What is the latest the Justice Department said about Liberty Reserve's founder?"
    doj = "U.S. Department of Justice, Office of Public Affairs"
    assert subject_words(question, None, [doj]) == ("liberty reserve", "founder")
    question = "What did the Justice Department say about Bank of America and the F-35 in 2014?"
    assert subject_words(question, parse_time(question), [doj]) == ("bank", "america", "f-35")
    # An issuer named in full, in its own spelling, leaves nothing of its name behind.
    assert subject_words(f"What is the latest from {doj}?", None, [doj]) == ()
    russia = "Ministry of Defence of the Russian Federation"
    assert subject_words(f"What did the {russia} announce about Vostok?", None, [russia]) == ("vostok",)


def test_eval_scores_timeline_questions_by_recall_precision_and_order(fleet: Archive, tmp_path: Path) -> None:
    questions = tmp_path / "timeline.jsonl"
    records = [
        {"id": "t-1", "question": "What did the Northern Fleet Command report about Harbour Shield last month?",
         "question_date": "2021-04-02", "answers": [], "answerable": True, "kind": "timeline",
         "evidence": ["fleet-0302", "fleet-0315", "fleet-0328"]},
        {"id": "t-2", "question": "What did the Northern Fleet Command report about Harbour Shield in 2021?",
         "answers": [], "answerable": True, "kind": "timeline", "evidence": ["fleet-0302", "fleet-0410"]},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(record) + "\n" for record in records))
    report = run(fleet, load_questions(questions))
    first, second = report.results
    assert (first.timeline_recall, first.timeline_precision, first.in_date_order) == (1.0, 1.0, True)
    assert first.correct
    assert second.timeline_recall == 1.0 and second.timeline_precision == pytest.approx(2 / 5)
    assert report.overall["timeline_recall"] == 1.0 and report.overall["in_date_order"] == 1.0


def test_the_cli_asks_as_of_a_day_and_prints_the_timeline_items_as_json(
    fleet: Archive, capsys: pytest.CaptureFixture[str]
) -> None:
    question = "What did the Northern Fleet Command say about Harbour Shield this month?"
    options = ["--archive", str(fleet.path), "--limit", "1", "--as-of", "2021-03-31"]
    assert main(["ask", question, *options, "--json"]) == 0
    timeline = json.loads(capsys.readouterr().out)["timeline"]
    assert timeline["matched"] == 3 and len(timeline["items"]) == 1
    assert timeline["items"][0]["date"] == "2021-03-02" and timeline["items"][0]["doc_id"] == "fleet-0302"
    assert main(["ask", question, *options]) == 0
    assert "(showing 1 of 3 releases; --limit 0 shows all)" in capsys.readouterr().out
