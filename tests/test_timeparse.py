"""Time expressions as analysts write them, and the spans they stand for."""

from __future__ import annotations

import datetime as dt

import pytest

from pressqa.query.timeparse import parse_time

D = dt.date


@pytest.mark.parametrize(
    ("question", "start", "end", "phrase"),
    [
        ("Which exercises did Russia join in China in 2021?", D(2021, 1, 1), D(2021, 12, 31), "in 2021"),
        ("Which releases from 2012 mention opium?", D(2012, 1, 1), D(2012, 12, 31), "from 2012"),
        ("Who was charged during 2015 in Ohio?", D(2015, 1, 1), D(2015, 12, 31), "during 2015"),
        ("Cases after 2019?", D(2020, 1, 1), None, "after 2019"),
        ("Cases after March 2019?", D(2019, 4, 1), None, "after March 2019"),
        ("Cases until 2012?", None, D(2012, 12, 31), "until 2012"),
        ("Settlements 2010 to 2012?", D(2010, 1, 1), D(2012, 12, 31), "2010 to 2012"),
        ("Seizures in 2010 and 2012?", D(2010, 1, 1), D(2012, 12, 31), "in 2010 and 2012"),
        ("Budget for 2012-13?", D(2012, 1, 1), D(2013, 12, 31), "2012-13"),
        ("Recoveries in fiscal years 2011 and 2012?", D(2010, 10, 1), D(2012, 9, 30), "fiscal years 2011 and 2012"),
        ("Recoveries in FY13?", D(2012, 10, 1), D(2013, 9, 30), "FY13"),
        ("How much dry opium was found in Garm Ser in March 2011?", D(2011, 3, 1), D(2011, 3, 31), "March 2011"),
        ("Who was arrested in late January 2013?", D(2013, 1, 21), D(2013, 1, 31), "late January 2013"),
        ("What was seized in early November 2012?", D(2012, 11, 1), D(2012, 11, 10), "early November 2012"),
        ("What happened in mid-2012?", D(2012, 5, 1), D(2012, 8, 31), "mid-2012"),
        ("What did the ministry say in May 2013?", D(2013, 5, 1), D(2013, 5, 31), "May 2013"),
        ("What was recovered in fiscal year 2012?", D(2011, 10, 1), D(2012, 9, 30), "fiscal year 2012"),
        ("Recoveries in FY2014?", D(2013, 10, 1), D(2014, 9, 30), "FY2014"),
        ("Recoveries in FY 2014?", D(2013, 10, 1), D(2014, 9, 30), "FY 2014"),
        ("Which exercises have been held since 2019?", D(2019, 1, 1), None, "since 2019"),
        ("Arrests since March 2012?", D(2012, 3, 1), None, "since March 2012"),
        ("Cases before 2015?", None, D(2014, 12, 31), "before 2015"),
        ("Settlements between 2010 and 2012?", D(2010, 1, 1), D(2012, 12, 31), "between 2010 and 2012"),
        ("Settlements from 2010 to 2012?", D(2010, 1, 1), D(2012, 12, 31), "from 2010 to 2012"),
        ("What did the jury decide on March 6, 2012?", D(2012, 3, 6), D(2012, 3, 6), "March 6, 2012"),
        ("What did ISAF report on 4 October 2012?", D(2012, 10, 4), D(2012, 10, 4), "4 October 2012"),
        ("Which takedown was announced in Feb. 2009?", D(2009, 2, 1), D(2009, 2, 28), "Feb. 2009"),
        ("Which takedown was announced in Sept 2009?", D(2009, 9, 1), D(2009, 9, 30), "Sept 2009"),
        ("Who was sentenced in February 2012 in Texas?", D(2012, 2, 1), D(2012, 2, 29), "February 2012"),
    ],
)
def test_time_expressions(question: str, start: dt.date | None, end: dt.date | None, phrase: str) -> None:
    span = parse_time(question)
    assert span is not None
    assert (span.start, span.end, span.phrase) == (start, end, phrase)


def test_relative_years_read_against_the_archive_not_the_clock() -> None:
    newest = D(2018, 4, 13)
    last = parse_time("Which companies settled last year?", latest=newest)
    assert last is not None and (last.start, last.end) == (D(2017, 1, 1), D(2017, 12, 31))
    this = parse_time("Who was indicted this year?", latest=newest)
    assert this is not None and (this.start, this.end) == (D(2018, 1, 1), D(2018, 12, 31))
    assert parse_time("Which companies settled last year?") is None  # no archive, no guess


@pytest.mark.parametrize(
    "question",
    [
        "Who created the AlphaBay marketplace?",
        "On what date was Mullah Abdul Rahman arrested?",  # no year: nothing to anchor
        "How many of the 2000 troops were deployed?",  # a number, not a year
        "What did Resolution 1973 authorise?",
        "What may 2013 bring for the treaty?",  # "may" the verb
        "What happened on February 30, 2012?",  # no such day
        "Settlements between 2014 and 2010?",  # backwards
    ],
)
def test_no_time_is_invented(question: str) -> None:
    assert parse_time(question) is None
