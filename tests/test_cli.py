"""The pressqa command as a user runs it."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE_ARCHIVE
from pressqa.cli import EXIT_ERROR, EXIT_SOME_INPUTS_FAILED, build_parser, main

COMMANDS = ["ingest", "stats", "check", "delete", "search", "ask", "chat", "serve", "sources", "sync", "eval"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_help_has_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    example = help_text.split("example:", 1)[1]
    assert example.strip().startswith(f"pressqa {command} ")


def test_parser_lists_every_command() -> None:
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]


def test_console_script_is_installed() -> None:
    executable = Path(sys.executable).parent / "pressqa"
    result = subprocess.run([str(executable), "--help"], capture_output=True, text=True, check=True)
    assert "ingest" in result.stdout and "example:" in result.stdout


def test_ingest_stats_search_delete(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in"
    shutil.copytree(SAMPLE_ARCHIVE / "doj", source)
    (source / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    archive = str(tmp_path / "archive")

    assert main(["ingest", str(source), "--archive", archive, "--json"]) == EXIT_SOME_INPUTS_FAILED
    report = json.loads(capsys.readouterr().out)
    assert len(report["added"]) == 7
    (failed,) = report["failed"]
    assert failed == {"path": str(source / "broken.pdf"), "reason": failed["reason"], "count": 1}
    assert report["failed_count"] == 1
    assert "corrupt" in report["failed"][0]["reason"]

    (source / "broken.pdf").unlink()
    assert main(["ingest", str(source), "--archive", archive, "-q"]) == 0
    assert "0 added, 0 updated, 7 unchanged, 0 duplicates, 0 failed" in capsys.readouterr().out

    assert main(["stats", "--archive", archive, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["releases"] == 7
    assert stats["issuers"] == {"U.S. Department of Justice, Office of Public Affairs": 7}
    assert stats["first_date"] == "2019-01-28" and stats["last_date"] == "2022-11-18"

    assert (
        main(["search", "How long was Elizabeth Holmes sentenced to?", "--archive", archive, "--json", "-k", "2"]) == 0
    )
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert "Holmes" in hits[0]["title"] and hits[0]["date"] == "2022-11-18"
    doc_id = hits[0]["doc_id"]

    question = "How much did the Justice Department recover in fiscal year 2021?"
    assert main(["search", question, "--archive", archive, "-k", "1", "--since", "2020-01-01"]) == 0
    shown = capsys.readouterr().out
    assert (
        'Time in the question: "fiscal year 2021" = 2020-10-01 to 2021-09-30 (set aside for the explicit filters)'
        in shown
    )
    assert "Issuer named in the question: U.S. Department of Justice, Office of Public Affairs (favoured" in shown
    assert "Filters: published 2020-01-01 to ..." in shown
    assert "[1] " in shown and "[2] " not in shown

    assert main(["delete", doc_id, "--archive", archive]) == 0
    assert f"deleted {doc_id}" in capsys.readouterr().out
    assert main(["delete", doc_id, "--archive", archive]) == EXIT_ERROR
    assert "no release with id" in capsys.readouterr().err


def test_stats_of_a_missing_archive_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--archive", str(tmp_path / "none")]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert error.startswith("pressqa: error: no pressqa archive") and "Traceback" not in error


def test_bad_setting_in_the_environment_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRESSQA_CHUNK_SIZE", "abc")
    assert main(["stats", "--archive", str(tmp_path)]) == EXIT_ERROR
    error = capsys.readouterr().err
    assert "invalid settings" in error and "chunk_size" in error and "Traceback" not in error


def test_ingest_shows_progress_with_both_rates(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "pressqa"
    result = subprocess.run(
        [str(executable), "ingest", str(SAMPLE_ARCHIVE / "nato"), "--archive", str(tmp_path / "a")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "3/3" in result.stderr and "release/s" in result.stderr and "chunks/s" in result.stderr
    assert result.stdout.startswith(f"Archive {tmp_path / 'a'}: 3 added")


def test_ask_and_chat(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    archive = str(tmp_path / "archive")
    assert main(["ingest", str(SAMPLE_ARCHIVE / "doj"), "--archive", archive, "-q"]) == 0
    capsys.readouterr()
    question = "How much did the Justice Department recover in False Claims Act cases in fiscal year 2021?"

    assert main(["ask", question, "--archive", archive]) == 0
    shown = capsys.readouterr().out
    answer, sources = shown.split("Sources:")
    assert "$5.6 billion" in answer and "[1]" in answer
    assert 'Time in the question: "fiscal year 2021"' in answer
    assert "[1] " in sources and "U.S. Department of Justice, Office of Public Affairs | 2022-02-01" in sources

    assert main(["ask", question, "--archive", archive, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["abstained"] is False
    citation = printed["citations"][0]
    assert citation["number"] == 1 and citation["date"] == "2022-02-01" and "$5.6 billion" in citation["quote"]
    assert printed["plan"]["time"]["phrase"] == "fiscal year 2021" and printed["hits"]

    assert main(["ask", "Who won the 2019 Tour de France?", "--archive", archive]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("The archive has no release that answers this.") and "Closest releases:" in shown

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{question}\nAnd in fiscal year 2019?\n"))
    assert main(["chat", "--archive", archive]) == 0
    shown = capsys.readouterr().out
    first, second = shown.split("you> ")[1:3]
    assert "$5.6 billion" in first
    assert "$3 billion" in second and f"(read as: {question.replace('2021', '2019')})" in second


def test_date_options_take_a_day_a_month_or_a_year(capsys: pytest.CaptureFixture[str]) -> None:
    parsed = build_parser().parse_args(["ask", "q", "--since", "2021", "--until", "2024-02", "--as-of", "2024-03-01"])
    assert parsed.since == dt.date(2021, 1, 1) and parsed.until == dt.date(2024, 2, 29)
    assert parsed.as_of == dt.date(2024, 3, 1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["ask", "q", "--since", "2021-02-30"])
    assert "'2021-02-30' is no day of the calendar" in capsys.readouterr().err
