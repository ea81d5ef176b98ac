"""Every input format, and every kind of bad input, read without embedding anything."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import signal
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF

from pressqa import IngestProblem, RecordFields, Release, Settings
from pressqa.errors import ConfigError
from pressqa.fsutil import WriteLock
from pressqa.ingest.readers import InputReader

WIRE_TXT = """Ministry of National Defense of the People's Republic of China

11/25/2021 | Press release | Distributed by Public on 11/25/2021 03:59

Defense spokesperson reviews a year of military cooperation

BEIJING, Nov. 25 -- The spokesperson said the two militaries held joint drills this year.

The second paragraph names the exercise ZAPAD/INTERACTION-2021.
"""

MARKDOWN = """---
title: Mayor announces new bike lanes
source: City of Springfield, Office of the Mayor
date: 2020-05-04
url: https://springfield.example/news/bike-lanes
---

# Mayor announces new bike lanes

The city will paint twelve miles of protected bike lanes this summer.

Work starts on Main Street in June.
"""

HTML = """<!doctype html><html><head>
<title>Ministry hosts talks | Foreign Ministry</title>
<meta property="og:site_name" content="Ministry of Foreign Affairs of Freedonia">
<meta name="date" content="2019-06-05">
<link rel="canonical" href="https://mfa.example/news/talks">
</head><body>
<header><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/contact">Contact</a></nav></header>
<article><h1>Ministry hosts talks on river trade</h1>
<p>The foreign ministry hosted two days of talks on river trade with its neighbours this week in the capital.</p>
<p>Delegations agreed to cut inspection times at the three busiest river ports by half before the end of the year.</p>
<p>The next round of talks will take place in the autumn, the ministry said in a statement on Wednesday.</p>
</article>
<footer>Copyright Ministry of Foreign Affairs. All rights reserved. Contact the press office.</footer>
</body></html>"""


def make_pdf(path: Path, lines: list[str], *, title: str | None = None, author: str | None = None) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    pdf.output(str(path))
    return path


def read(paths: list[Path], **settings: object) -> tuple[list[Release], list[IngestProblem]]:
    items = list(InputReader(Settings(**settings)).read(paths))  # type: ignore[arg-type]
    return [i for i in items if isinstance(i, Release)], [i for i in items if isinstance(i, IngestProblem)]


def read_one(path: Path) -> Release:
    releases, problems = read([path])
    assert not problems, problems
    assert len(releases) == 1
    return releases[0]


def test_wire_style_text_release(tmp_path: Path) -> None:
    path = tmp_path / "mnd.txt"
    path.write_text(WIRE_TXT)
    release = read_one(path)
    assert release.source == "Ministry of National Defense of the People's Republic of China"
    assert release.date == dt.date(2021, 11, 25)
    assert release.title == "Defense spokesperson reviews a year of military cooperation"
    assert release.text.startswith("BEIJING, Nov. 25 --")
    assert "Distributed by" not in release.text
    assert release.distributed_at == dt.datetime(2021, 11, 25, 3, 59)
    assert release.origin == str(path)


def test_text_with_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "doj.txt"
    path.write_text(
        "Title: Two men sentenced for fraud\nSource: U.S. Department of Justice\n"
        "Date: March 6, 2012\nURL: https://justice.example/pr/1\n\nBoth men were sentenced today."
    )
    release = read_one(path)
    assert (release.title, release.source, release.date, release.url) == (
        "Two men sentenced for fraud",
        "U.S. Department of Justice",
        dt.date(2012, 3, 6),
        "https://justice.example/pr/1",
    )
    assert release.text == "Both men were sentenced today."


def test_plain_text_uses_headline_and_dateline(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "Coalition forces detain suspects\n\nKABUL, Afghanistan (Jan. 25, 2013) -- Two suspects were detained."
    )
    release = read_one(path)
    assert release.title == "Coalition forces detain suspects"
    assert release.date == dt.date(2013, 1, 25)
    assert release.source is None


def test_undated_text_gets_no_date(tmp_path: Path) -> None:
    path = tmp_path / "undated.txt"
    path.write_text("A headline\n\nBEIJING, Nov. 25 -- No year anywhere in this release.")
    assert read_one(path).date is None


def test_markdown_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "bikes.md"
    path.write_text(MARKDOWN)
    release = read_one(path)
    assert release.title == "Mayor announces new bike lanes"
    assert release.source == "City of Springfield, Office of the Mayor"
    assert release.date == dt.date(2020, 5, 4)
    assert release.url == "https://springfield.example/news/bike-lanes"
    assert release.text.startswith("The city will paint")


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "talks.html"
    path.write_text(HTML)
    release = read_one(path)
    assert release.source == "Ministry of Foreign Affairs of Freedonia"
    assert release.date == dt.date(2019, 6, 5)
    assert release.url == "https://mfa.example/news/talks"
    assert "river trade" in release.title
    assert "cut inspection times" in release.text
    assert "Copyright" not in release.text and "Home" not in release.text
    assert "\n\n" in release.text  # paragraphs kept apart for chunking


def test_pdf_text_layer_and_metadata(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "r.pdf",
        [
            "Ministry of Defence of Freedonia",
            "",
            "09/25/2021 | Press release | Distributed by Public on 09/25/2021 10:00",
            "",
            "Joint exercise ends at the northern range",
            "",
            "The exercise ended on Saturday with more than 3,000 troops taking part.",
        ],
        title="Joint exercise ends at the northern range",
        author="Ministry of Defence of Freedonia",
    )
    release = read_one(path)
    assert release.source == "Ministry of Defence of Freedonia"
    assert release.date == dt.date(2021, 9, 25)
    assert release.title == "Joint exercise ends at the northern range"
    assert "3,000 troops" in release.text


def test_jsonl_records_keep_their_ids(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    records = [
        {
            "id": "doj-1",
            "title": "First",
            "date": "2012-03-06",
            "source": "DOJ",
            "url": "https://j.example/1",
            "text": "First release text.",
        },
        {"id": "doj-2", "title": "Second", "date": None, "source": "DOJ", "url": None, "text": "Second text."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    releases, problems = read([path])
    assert not problems
    assert [(r.doc_id, r.title, r.date, r.url) for r in releases] == [
        ("doj-1", "First", dt.date(2012, 3, 6), "https://j.example/1"),
        ("doj-2", "Second", None, None),
    ]
    assert releases[0].origin == f"{path}:1"


def test_gzipped_jsonl_is_read_like_plain_jsonl(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": f"s-{n}", "title": f"Release {n}", "date": "2004-01-25", "text": f"Text {n}."})
        for n in range(300)
    ]
    plain, packed = tmp_path / "plain" / "senate.jsonl", tmp_path / "packed" / "senate.jsonl.gz"
    plain.parent.mkdir()
    packed.parent.mkdir()
    plain.write_text("\n".join(lines) + "\n")
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    from_plain, from_packed = read([plain]), read([packed])
    assert not from_packed[1]
    assert [(r.doc_id, r.title, r.date, r.text) for r in from_packed[0]] == [
        (r.doc_id, r.title, r.date, r.text) for r in from_plain[0]
    ]
    assert from_packed[0][299].origin == f"{packed}:300"
    assert InputReader(Settings()).count([packed]) == 300


def test_truncated_gzip_export_keeps_the_records_before_the_damage(tmp_path: Path) -> None:
    body = "".join(json.dumps({"id": f"r{n}", "title": "T", "text": f"Record {n} " * 40}) + "\n" for n in range(2000))
    data = gzip.compress(body.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    readable = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2]).count(b"\n")
    releases, problems = read([path])
    assert 256 < readable < 2000  # the damage falls after the first block of lines
    assert [r.doc_id for r in releases] == [f"r{n}" for n in range(readable)]  # every whole record before it
    assert len(problems) == 1 and problems[0].path == str(path)
    assert problems[0].reason.startswith("cannot read (EOFError")


def test_gzip_bomb_is_stopped_after_the_records_before_it(tmp_path: Path) -> None:
    records = "".join(json.dumps({"id": f"r{n}", "title": "T", "text": f"Record {n}."}) + "\n" for n in range(3))
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(records.encode() + b"\n" * 200_000_000))  # 200 MB of blank lines in 200 KB
    releases, problems = read([path], max_file_mb=1)
    assert [r.doc_id for r in releases] == ["r0", "r1", "r2"]
    assert len(problems) == 1 and problems[0].path == str(path) and "gzip bomb" in problems[0].reason
    assert InputReader(Settings(max_file_mb=1)).count([path]) == 1  # counted as one unreadable file


def test_a_file_that_is_not_gzip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "fake.jsonl.gz"
    path.write_text('{"id": "1", "text": "plain text under a .gz name"}\n')
    releases, problems = read([path])
    assert not releases
    assert len(problems) == 1 and problems[0].path == str(path) and "BadGzipFile" in problems[0].reason


def test_json_keys_can_be_mapped(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps([{"guid": "a1", "headline": "Mapped", "published": "2020-01-02", "body": "Body."}]))
    fields = RecordFields.parse(["id=guid", "title=headline", "date=published", "text=body"])
    items = list(InputReader(Settings(), fields).read([path]))
    assert [(r.doc_id, r.title, r.date, r.text) for r in items] == [  # type: ignore[union-attr]
        ("a1", "Mapped", dt.date(2020, 1, 2), "Body.")
    ]


def test_bad_field_mapping_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="FIELD=KEY"):
        RecordFields.parse(["headline"])


def test_folders_recurse_and_zips_are_read(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "sub" / "a.txt").write_text(WIRE_TXT)
    (tmp_path / "in" / "b.md").write_text(MARKDOWN)
    (tmp_path / "in" / ".hidden.txt").write_text("ignored")
    with zipfile.ZipFile(tmp_path / "in" / "pack.zip", "w", zipfile.ZIP_DEFLATED) as pack:
        pack.writestr("inner/c.html", HTML)
        pack.writestr("records.jsonl", json.dumps({"id": "z-1", "title": "Z", "text": "Zipped record."}) + "\n")
    releases, problems = read([tmp_path / "in"])
    assert not problems
    assert sorted(r.title for r in releases) == sorted(
        [
            "Defense spokesperson reviews a year of military cooperation",
            "Mayor announces new bike lanes",
            "Ministry hosts talks on river trade",
            "Z",
        ]
    )
    zipped = next(r for r in releases if "river trade" in r.title)
    assert zipped.origin == f"{tmp_path / 'in' / 'pack.zip'}!inner/c.html"


def test_bad_inputs_are_reported_and_good_ones_still_read(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(WIRE_TXT)
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nthis is not a pdf body")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "latin1.txt").write_bytes("Communiqu\xe9 de presse\n\nLe minist\xe8re a annonc\xe9.".encode("latin-1"))
    (tmp_path / "big.txt").write_text("word " * 300_000)
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "records.jsonl").write_text(
        json.dumps({"id": "ok-1", "title": "Fine", "text": "Fine text."})
        + "\n"
        + '{"id": "broken", "title": \n'
        + json.dumps({"id": "no-text", "title": "No text"})
        + "\n"
        + json.dumps({"id": "bad-type", "title": ["a", "list"], "text": "x"})
        + "\n"
        + json.dumps(["not", "an", "object"])
        + "\n"
        + json.dumps({"id": "ok-2", "title": "Also fine", "text": "More text."})
        + "\n"
    )
    make_pdf(tmp_path / "scanned.pdf", [])
    releases, problems = read([tmp_path, tmp_path / "missing.txt"], max_file_mb=1)
    assert sorted(r.doc_id for r in releases if r.doc_id.startswith("ok")) == ["ok-1", "ok-2"]
    assert any(r.origin.endswith("good.txt") for r in releases)
    reasons = {
        Path(p.path.split(":")[0]).name + (":" + p.path.split(":")[1] if ":" in p.path else ""): p.reason
        for p in problems
    }
    assert "corrupt or unreadable PDF" in reasons["corrupt.pdf"]
    assert "binary data" in reasons["binary.txt"]
    assert reasons["empty.txt"] == "empty file"
    assert "not UTF-8" in reasons["latin1.txt"] and "offset 9" in reasons["latin1.txt"]
    assert "over the 1.0 MB limit" in reasons["big.txt"]
    assert "unsupported file type '.png'" in reasons["image.png"]
    assert "no text layer" in reasons["scanned.pdf"]
    assert "no such file" in reasons["missing.txt"]
    assert reasons["records.jsonl:2"].startswith("line 2 is not valid JSON")
    assert reasons["records.jsonl:3"] == "line 3: record has no text (key 'text')"
    assert reasons["records.jsonl:4"] == "line 4: key 'title' must be a string, got list"
    assert reasons["records.jsonl:5"] == "line 5: expected a JSON object, got list"
    assert len(problems) == 12


def test_oversized_jsonl_line_is_skipped_without_losing_the_next(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(
        json.dumps({"id": "huge", "title": "Huge", "text": "x " * 600_000})
        + "\n"
        + json.dumps({"id": "after", "title": "After", "text": "Still read."})
        + "\n"
    )
    releases, problems = read([path], max_file_mb=1)
    assert [r.doc_id for r in releases] == ["after"]
    assert [p.reason for p in problems] == ["line 1 is longer than the 1048576 byte limit"]


def test_zip_traversal_and_bombs_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as pack:
        pack.writestr("../../etc/evil.txt", WIRE_TXT)
        pack.writestr("/abs.txt", WIRE_TXT)
        pack.writestr("bomb.txt", "a" * 5_000_000)
        pack.writestr("fine.txt", WIRE_TXT)
    releases, problems = read([path])
    assert [r.origin for r in releases] == [f"{path}!fine.txt"]
    reasons = sorted(p.reason for p in problems)
    assert sum("unsafe path" in r for r in reasons) == 2
    assert any("zip bomb" in r for r in reasons)


def test_corrupt_zip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    releases, problems = read([path])
    assert not releases and "not a readable zip" in problems[0].reason


def test_count_estimates_releases_for_progress(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "1", "text": "x"}\n{"id": "2", "text": "y"}')  # no final newline
    (tmp_path / "b.txt").write_text(WIRE_TXT)
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as pack:
        pack.writestr("one.txt", WIRE_TXT)
        pack.writestr("two.md", MARKDOWN)
    assert InputReader(Settings()).count([tmp_path]) == 5


def test_damaged_zip_member_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as pack:
        pack.writestr(
            "a-records.jsonl",
            "".join(json.dumps({"id": f"r{n}", "title": "T", "text": f"Record {n} " * 40}) + "\n" for n in range(50)),
        )
        pack.writestr("b-fine.txt", WIRE_TXT)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as pack:
        info = pack.getinfo("a-records.jsonl")
    start = info.header_offset + 30 + len(info.filename)
    for at in range(start + 40, start + 60):  # scramble the deflate stream of the first member
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    releases, problems = read([path])
    assert any(r.origin.endswith("!b-fine.txt") for r in releases)
    assert len(problems) == 1 and problems[0].path == f"{path}!a-records.jsonl"
    assert problems[0].reason.startswith("cannot read (")


def test_records_without_ids_get_distinct_stable_ids(tmp_path: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "export.jsonl").write_text(json.dumps({"title": "Same", "text": "Same text."}) + "\n")
    releases, _ = read([tmp_path / "x", tmp_path / "y"])
    assert len({r.doc_id for r in releases}) == 2
    # Adding a record in front does not change the id of the one already there.
    (tmp_path / "x" / "export.jsonl").write_text(
        json.dumps({"title": "New", "text": "New text."})
        + "\n"
        + json.dumps({"title": "Same", "text": "Same text."})
        + "\n"
    )
    again, _ = read([tmp_path / "x"])
    assert releases[0].doc_id in {r.doc_id for r in again}


def test_header_block_with_repeated_keys(tmp_path: Path) -> None:
    path = tmp_path / "h.txt"
    path.write_text(
        "Title: Main title\nHeadline: Also a title\nDate: not a date\n\nBEIJING, March 6, 2012 -- Body text."
    )
    release = read_one(path)
    assert release.title == "Main title"
    assert release.text.startswith("BEIJING")
    assert release.date == dt.date(2012, 3, 6)  # an unreadable Date: line falls back to the dateline


def test_nested_zip_is_reported_as_such(tmp_path: Path) -> None:
    path = tmp_path / "outer.zip"
    with zipfile.ZipFile(path, "w") as pack:
        pack.writestr("inner.zip", b"PK")
    _, problems = read([path])
    assert "inside a zip" in problems[0].reason


def test_a_file_that_parses_too_slowly_is_reported_and_the_rest_are_read(tmp_path: Path) -> None:
    slow = tmp_path / "a-slow.html"  # takes its parser seconds: far over the half-second limit below
    paragraphs = "".join(f"<p>Paragraph {i} about the harbour works and their contractors.</p>" for i in range(40_000))
    slow.write_text(f"<html><head><title>Big</title></head><body>{paragraphs}</body></html>")
    (tmp_path / "b-quick.html").write_text(HTML)
    (tmp_path / "c-quick.md").write_text(MARKDOWN)
    releases, problems = read([tmp_path], parse_timeout_s=0.5)
    assert [problem.path for problem in problems] == [str(slow)]
    assert "longer than 0.5 s" in problems[0].reason and "parse_timeout_s" in problems[0].reason
    assert [release.title for release in releases] == [
        "Ministry hosts talks on river trade",
        "Mayor announces new bike lanes",
    ]


def test_a_json_record_that_parses_too_slowly_is_reported_by_its_line(tmp_path: Path) -> None:
    quick = [{"id": f"r{i}", "title": f"Release {i}", "text": f"Body of release {i}."} for i in range(5)]
    huge = {"id": "huge", "text": "Sentence about harbour works, signed on 4 May 2022 by the port. " * 600_000}
    path = tmp_path / "export.jsonl"  # the huge record (40 MB) takes its parser a second or more
    path.write_text("".join(json.dumps(record) + "\n" for record in [*quick[:2], huge, *quick[2:]]))
    releases, problems = read([path], parse_timeout_s=0.2, max_file_mb=60)
    assert [(problem.path, "longer than 0.2 s" in problem.reason) for problem in problems] == [(f"{path}:3", True)]
    assert [release.doc_id for release in releases] == [f"r{i}" for i in range(5)]


def test_a_json_line_nested_past_the_parsers_limit_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    good = {"id": "ok", "title": "Depot opened", "text": "The depot opened on Monday."}
    path.write_text(json.dumps(good) + "\n" + "[" * 100_000 + "\n" + json.dumps({**good, "id": "ok-2"}) + "\n")
    releases, problems = read([path])
    assert [release.doc_id for release in releases] == ["ok", "ok-2"]
    assert [problem.path for problem in problems] == [f"{path}:2"] and "not valid JSON" in problems[0].reason


# Takes the archive's write lock, then dies (SIGKILL) while a worker is parsing a slow file.
KILLED_WHILE_PARSING = """
import os, signal, sys, threading
from pathlib import Path
from pressqa import Settings
from pressqa.fsutil import WriteLock
from pressqa.ingest.readers import InputReader
with WriteLock(Path(sys.argv[1])):
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
    list(InputReader(Settings()).read([Path(sys.argv[2])]))
"""


@pytest.mark.slow
def test_parser_workers_die_with_a_killed_ingest_and_leave_no_lock(tmp_path: Path) -> None:
    slow = tmp_path / "slow.html"  # several seconds of parsing, far past the kill
    paragraphs = "".join(f"<p>Paragraph {i} about the harbour works and their contractors.</p>" for i in range(60_000))
    slow.write_text(f"<html><body>{paragraphs}</body></html>")
    killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_PARSING, str(tmp_path), str(slow)], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    with WriteLock(tmp_path):  # free at once: no orphaned worker holds it
        pass
