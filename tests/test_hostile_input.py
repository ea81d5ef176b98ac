"""What a hostile user tried and must not get through: symbolic links out of an ingested
folder, zips that unpack without end, reports that grow without end, forged report lines,
outsized ids, invisible control characters, impossible dates, and a page reached through
another host name or origin."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pressqa import Archive, ConfigError, IngestProblem, Release, Settings
from pressqa.chroma_server import free_port
from pressqa.cli import EXIT_SOME_INPUTS_FAILED, main
from pressqa.ingest.readers import InputReader
from pressqa.query.plan import publication_window
from pressqa.query.timeparse import parse_time
from pressqa.types import REPORT_PER_FILE, REPORT_PER_RUN, TimeSpan
from pressqa.ui.app import _report_markdown, serve

RELEASE = (
    "Title: Coast guard opens a rescue station\nSource: Ministry of Transport of Freedonia\nDate: 2022-05-04\n\n"
    "The coast guard opened a rescue station in Port Amber on Wednesday, with two lifeboats and a crew of twelve."
)
SECRET = "Title: Private notes\n\nThe vault code is ZEBRA-4471 and must never leave this machine."


def read(paths: list[Path], **settings: object) -> tuple[list[Release], list[IngestProblem]]:
    items = list(InputReader(Settings(**settings)).read(paths))  # type: ignore[arg-type]
    return [i for i in items if isinstance(i, Release)], [i for i in items if isinstance(i, IngestProblem)]


# ---------------------------------------------------------------- symbolic links and zips


def test_symbolic_links_out_of_an_ingested_folder_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    root = tmp_path / "releases"
    (root / "inner").mkdir(parents=True)
    (root / "inner" / "station.txt").write_text(RELEASE)
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "passwd.txt").symlink_to("/etc/passwd")
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    (root / "same.txt").symlink_to(root / "inner" / "station.txt")  # inside: read once, at its own place
    (root / "loop.txt").symlink_to(root / "loop.txt")

    releases, problems = read([root])
    assert [release.title for release in releases] == ["Coast guard opens a rescue station"]
    reasons = {Path(problem.path).name: problem.reason for problem in problems}
    assert sorted(reasons) == ["elsewhere", "leak.txt", "loop.txt", "passwd.txt"]
    assert reasons.pop("loop.txt").startswith("symbolic link that cannot be followed")
    assert all(f"outside {root}; skipped" in reason for reason in reasons.values())
    assert not any("ZEBRA" in release.text for release in releases)


def test_a_symbolic_link_stored_in_a_zip_is_refused(tmp_path: Path) -> None:
    packed = tmp_path / "pack.zip"
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("station.txt", RELEASE)
        link = zipfile.ZipInfo("leak.txt")
        link.external_attr = 0o120777 << 16  # what `zip --symlinks` writes: the member holds the target path
        archive.writestr(link, "/etc/passwd")
    releases, problems = read([packed])
    assert len(releases) == 1
    assert [(problem.path, problem.reason) for problem in problems] == [
        (f"{packed}!leak.txt", "symbolic link in zip (its target is not read); skipped")
    ]


def overlapping_zip(path: Path, copies: int) -> None:
    """One compressed member listed ``copies`` times in the central directory, every entry
    pointing at the same bytes: each entry is within the ratio limit, together they are not."""
    body = (RELEASE + "\n") * 400
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("release.txt", body)
    data = path.read_bytes()
    directory = data.index(b"PK\x01\x02")
    end = data.index(b"PK\x05\x06")
    entry = data[directory:end]
    record = bytearray(data[end:])
    struct.pack_into("<HHI", record, 8, copies, copies, len(entry) * copies)  # entries here, in all, size
    path.write_bytes(data[:directory] + entry * copies + bytes(record))


def test_a_zip_whose_entries_overlap_is_refused_whole(tmp_path: Path) -> None:
    packed = tmp_path / "bomb.zip"
    overlapping_zip(packed, 50)
    assert len(zipfile.ZipFile(packed).infolist()) == 50  # Python's zipfile would read every copy
    releases, problems = read([packed])
    assert releases == []
    assert len(problems) == 1 and problems[0].path == str(packed)
    assert "overlap" in problems[0].reason and "zip bomb" in problems[0].reason


def test_zips_over_the_entry_or_total_size_limits_are_refused_whole(tmp_path: Path) -> None:
    packed = tmp_path / "many.zip"
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for number in range(4):
            archive.writestr(f"r{number}.txt", RELEASE.replace("twelve", f"{number} sailors"))
    assert len(read([packed])[0]) == 4
    releases, problems = read([packed], max_zip_entries=3)
    assert releases == [] and "zip holds 4 entries, over the 3 limit" in problems[0].reason
    releases, problems = read([packed], max_zip_total_mb=0.0001)
    assert releases == [] and "over the 0.0 MB limit (setting max_zip_total_mb)" in problems[0].reason


# ---------------------------------------------------------------- reports


def test_one_file_of_millions_of_bad_records_gives_a_bounded_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    array = tmp_path / "empty.json"
    array.write_text("[" + ",".join(["{}"] * 300_000) + "]")
    lines = tmp_path / "broken.jsonl"
    lines.write_text("not json\n" * 2_000 + json.dumps({"id": "ok-1", "text": RELEASE}) + "\n")
    folder = tmp_path / "archive"
    assert main(["ingest", str(array), str(lines), "--archive", str(folder), "--json"]) == EXIT_SOME_INPUTS_FAILED
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == ["ok-1"]
    assert report["failed_count"] == 302_000
    assert sum(problem["count"] for problem in report["failed"]) < report["failed_count"]
    assert len(report["failed"]) <= 2 * (REPORT_PER_FILE + 1)
    assert report["failure_reasons"] == {
        "record N: record has no text (key 'text')": 300_000,
        "line N is not valid JSON (JSONDecodeError: Expecting value: line N column N (char N))": 2_000,
    }
    assert {"path": str(array), "reason": "more of: record N: record has no text (key 'text')",
            "count": 300_000 - REPORT_PER_FILE} in report["failed"]  # fmt: skip

    # The same inputs again, as the CLI and the page show them: short.
    with Archive.open(folder) as archive:
        again = archive.ingest([array, lines])
    assert again.failed_count == 302_000 and again.unlisted > 0
    assert main(["ingest", str(array), str(lines), "--archive", str(folder)]) == EXIT_SOME_INPUTS_FAILED
    shown = capsys.readouterr().out
    assert len(shown.splitlines()) < 60 and "302000 failed" in shown
    assert "more failed input(s) not listed; all failures by kind" in shown
    assert len(_report_markdown(again)) < 10_000


def test_the_report_lists_at_most_its_cap_of_failures_per_run(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for number in range(REPORT_PER_RUN + 30):
        (folder / f"empty-{number:04d}.md").write_text(" ")
    with Archive.open(tmp_path / "archive") as archive:
        report = archive.ingest([folder])
    assert report.failed_count == REPORT_PER_RUN + 30
    assert len(report.failed) == REPORT_PER_RUN and report.unlisted == 30
    assert report.failure_reasons == {"empty file": REPORT_PER_RUN + 30}


def test_a_file_name_cannot_forge_a_line_of_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt\nFAILED nothing.txt: all fine.txt").write_bytes(b"\x00\x01binary")
    assert main(["ingest", str(folder), "--archive", str(tmp_path / "archive"), "-q"]) == EXIT_SOME_INPUTS_FAILED
    shown = capsys.readouterr().out.splitlines()
    assert [line for line in shown if line.startswith("FAILED")] == [
        f"FAILED {folder}/a.txt\\nFAILED nothing.txt: all fine.txt: binary data, not text (is the file extension "
        "wrong?)"
    ]


# ---------------------------------------------------------------- what is stored


def test_ids_are_limited_and_control_characters_never_stored(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    records = [
        {"id": "x" * (1 << 20), "title": "Huge id", "text": RELEASE},
        {"id": "nul-1", "title": "Rescue\x1b[31m station\x00", "source": "Ministry\x00of\x07Transport",
         "url": "https://example.org/\x00r", "text": "Port Amber\x00 opened a station.\x0b It has a crew."},
    ]  # fmt: skip
    export.write_text("".join(json.dumps(record) + "\n" for record in records))
    with Archive.open(tmp_path / "archive") as archive:
        report = archive.ingest([export])
        assert report.added == ("nul-1",)
        assert report.failed[0].reason == "line 1: id is 1048576 characters long; ids need 1 to 200"
        release = archive.release("nul-1")
        assert (release.title, release.source, release.url) == (
            "Rescue [31m station", "Ministry of Transport", "https://example.org/r",
        )  # fmt: skip
        assert archive.stats().issuers == {"Ministry of Transport": 1}
        (hit,) = archive.search("Port Amber station", k=1)
        assert hit.text == "Port Amber opened a station.  It has a crew."


def test_impossible_dates_are_stored_undated_with_the_reason(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    dated = [("far", "9999-12-31"), ("old", "1850-03-01"), ("next-year", (dt.date.today() + dt.timedelta(200)))]
    export.write_text(
        "".join(
            json.dumps({"id": doc_id, "title": f"Station {doc_id}", "date": str(day), "text": RELEASE}) + "\n"
            for doc_id, day in dated
        )
    )
    with Archive.open(tmp_path / "archive") as archive:
        report = archive.ingest([export])
        assert sorted(report.undated) == ["far", "old"]
        assert [(note.path, note.reason) for note in report.notes] == [
            (f"{export}:1", "publication date 9999-12-31 is before 1900 or over a year after today; stored as undated"),
            (f"{export}:2", "publication date 1850-03-01 is before 1900 or over a year after today; stored as undated"),
        ]
        stats = archive.stats()
        assert stats.last_date == dt.date.today() + dt.timedelta(200) and stats.undated == 2
        answer = archive.ask("What did the coast guard open this year?")
        assert answer.plan is not None and answer.plan.time is not None


def test_time_arithmetic_holds_at_the_edge_of_the_calendar() -> None:
    # An archive made before dates were checked can hold 9999-12-31 as its newest date.
    span = parse_time("What happened this year?", latest=dt.date.max)
    assert span is not None and publication_window(span) == (dt.date(9999, 1, 1), dt.date.max)
    assert parse_time("What happened last year?", latest=dt.date.min) is None
    for kind in ("day", "month", "year", "range", "fiscal-year", "open"):
        ending = TimeSpan(dt.date(9999, 12, 1), dt.date.max, "December 9999", kind)  # type: ignore[arg-type]
        assert publication_window(ending)[1] == dt.date.max


# ---------------------------------------------------------------- the page's host and origin


def request(port: int, host: str, origin: str | None = None, method: str = "GET") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host} | ({"Origin": origin} if origin else {})
    if method == "OPTIONS":
        headers["Access-Control-Request-Method"] = "POST"
    connection.request(method, "/gradio_api/upload" if method != "GET" else "/config", headers=headers)
    response = connection.getresponse()
    response.read()
    return response


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real ``pressqa serve`` on 127.0.0.1 that also answers to one allowed name."""
    port = free_port()
    folder = tmp_path_factory.mktemp("served") / "archive"
    command = [sys.executable, "-m", "pressqa.cli", "serve", "--archive", str(folder), "--port", str(port)]
    server = subprocess.Popen([*command, "--allow-host", "press.example.org"], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and "serving" in server.stdout.readline()
    yield port
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.slow
def test_the_page_answers_only_its_own_host_names_and_origin(served: int) -> None:
    port = served
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"press.example.org:{port}"):
        assert request(port, host).status == 200, host
    for host in (f"rebind.evil.example:{port}", "rebind.evil.example", f"127.0.0.1.evil.example:{port}", ""):
        response = request(port, host)
        assert response.status == 400, host
        assert response.getheader("access-control-allow-origin") is None
    # Another origin may neither read (no CORS header) nor act (refused before the app).
    for method in ("GET", "POST", "OPTIONS"):
        response = request(port, f"127.0.0.1:{port}", "http://evil.example", method)
        assert response.status == 403, method
        assert not [name for name, _ in response.getheaders() if name.lower().startswith("access-control-")]
    assert request(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}").status == 200
    same = request(port, f"press.example.org:{port}", f"http://press.example.org:{port}")
    assert same.status == 200 and same.getheader("access-control-allow-origin") is None


def test_serve_itself_refuses_another_host_without_a_login(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"refusing to serve on 0\.0\.0\.0 without --auth"):
        serve(tmp_path / "archive", host="0.0.0.0", port=free_port())
    assert not (tmp_path / "archive").exists()  # refused before anything was opened
