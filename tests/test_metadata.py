import datetime as dt
from pathlib import Path

import pytest

from pressqa.ingest.metadata import file_doc_id, find_dateline, normalize_text, parse_date, text_hash

D = dt.date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-11-25", D(2021, 11, 25)),
        ("2021-11-25T03:59:00+08:00", D(2021, 11, 25)),
        ("11/25/2021", D(2021, 11, 25)),  # US header style is month first
        ("03/06/2012", D(2012, 3, 6)),
        ("Nov. 25, 2021", D(2021, 11, 25)),
        ("November 25, 2021", D(2021, 11, 25)),
        ("25 November 2021", D(2021, 11, 25)),
        ("Thursday, March 6, 2014", D(2014, 3, 6)),
        (D(2020, 1, 2), D(2020, 1, 2)),
        (dt.datetime(2020, 1, 2, 13, 0), D(2020, 1, 2)),
        ("", None),
        (None, None),
        ("not a date", None),
        ("13/45/2021", None),
        ("November 2021", None),  # no day: never guess one
        ("November 25", None),  # no year: never fill in the current one
        ("today", None),  # relative dates would be read as days near now
        ("yesterday", None),
        ("2 days ago", None),
        ("in 3 days", None),
        ("this month", None),
    ],
)
def test_parse_date(value: object, expected: dt.date | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WASHINGTON, March 6, 2012 -- The Department announced", D(2012, 3, 6)),
        ("KABUL, Afghanistan (Jan. 25, 2013) -- Afghan and coalition forces", D(2013, 1, 25)),
        ("BEIJING, Nov. 25 -- A spokesperson said on Thursday", None),
        ("No date in this text at all.", None),
    ],
)
def test_find_dateline(text: str, expected: dt.date | None) -> None:
    assert find_dateline(text) == expected


def test_dateline_is_only_searched_near_the_start() -> None:
    assert find_dateline("word " * 200 + "on March 6, 2012") is None


def test_normalize_text_keeps_paragraphs_and_drops_noise() -> None:
    assert normalize_text("Title \r\n\r\n\r\n\r\nBody  line\t\nnext\n\n\n") == "Title\n\nBody  line\nnext"


def test_text_hash_ignores_case_and_spacing_only() -> None:
    assert text_hash("The  Ministry\nsaid") == text_hash("the ministry said")
    assert text_hash("The ministry said") != text_hash("The ministry denied")


def test_file_ids_are_stable_and_location_based(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "Release One.txt"
    path.write_text("x")
    assert file_doc_id(path) == file_doc_id(tmp_path / "a" / ".." / "a" / "Release One.txt")
    assert file_doc_id(path).startswith("release-one-")
    assert file_doc_id(path) != file_doc_id(tmp_path / "Release One.txt")
    assert file_doc_id(path, "inner.txt") != file_doc_id(path)
