"""Hostile and broken input, generated (hypothesis, seeded and bounded): every reader and
every question parser either gives a result or reports a problem with the file and the
reason; nothing else escapes, and nothing hangs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pressqa import Release, Settings
from pressqa.answer.verify import claims
from pressqa.ingest.metadata import parse_date
from pressqa.ingest.readers import InputReader
from pressqa.query.followup import standalone_question
from pressqa.query.issuers import IssuerMatcher
from pressqa.query.question import question_type
from pressqa.query.timeparse import parse_time
from pressqa.text import split_sentences
from pressqa.types import IngestProblem

BOUNDED = settings(
    max_examples=60, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
EXTENSIONS = [".txt", ".md", ".html", ".htm", ".pdf", ".json", ".jsonl", ".zip"]
ISSUERS = ["Ministry of National Defense of the People's Republic of China", "U.S. Department of Justice"]
# Bytes that look like the formats, so generated input gets past the first checks.
PREFIXES = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"---\ntitle: x\n---\n", b"<html><body>", b'{"id": "a", "text": ']


def _read(path: Path) -> list[Release | IngestProblem]:
    return list(InputReader(Settings(max_file_mb=1.0)).read([path]))


@BOUNDED
@given(body=st.binary(max_size=4000), prefix=st.sampled_from(PREFIXES), extension=st.sampled_from(EXTENSIONS))
def test_any_bytes_in_any_format_give_releases_or_problems(
    tmp_path_factory: object, body: bytes, prefix: bytes, extension: str
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")  # type: ignore[attr-defined]
    path = folder / f"input{extension}"
    path.write_bytes(prefix + body)
    for item in _read(path):
        assert isinstance(item, (Release, IngestProblem))
        if isinstance(item, IngestProblem):
            assert item.path.startswith(str(path)) and item.reason


@BOUNDED
@given(names=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=5), data=st.binary(max_size=500))
def test_zip_members_named_anything_stay_inside(tmp_path_factory: object, names: list[str], data: bytes) -> None:
    folder = tmp_path_factory.mktemp("zip")  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(f"../{name}.txt" if len(name) % 2 else f"{name}.txt", data)
    path = folder / "upload.zip"
    path.write_bytes(buffer.getvalue())
    before = set(folder.parent.rglob("*"))
    for item in _read(path):
        assert isinstance(item, (Release, IngestProblem))
    assert set(folder.parent.rglob("*")) == before  # nothing was written anywhere


def test_deeply_nested_html_and_a_long_single_line_are_handled(tmp_path: Path) -> None:
    nested = tmp_path / "nested.html"
    nested.write_text("<html><body>" + "<div>" * 5000 + "Deep text." + "</div>" * 5000 + "</body></html>")
    line = tmp_path / "line.txt"
    line.write_text("Title\n\n" + "word " * 400_000)  # 2 MB on one line, over the 1 MB limit set below
    for path in (nested, line):
        for item in _read(path):
            assert isinstance(item, (Release, IngestProblem))
    assert any(isinstance(item, IngestProblem) and "MB" in item.reason for item in _read(line))


@BOUNDED
@given(text=st.text(max_size=300))
def test_question_parsers_take_any_text(text: str) -> None:
    parse_time(text)
    IssuerMatcher(ISSUERS).match(text)
    question_type(text)
    parse_date(text)
    for start, end in split_sentences(text):
        assert 0 <= start < end <= len(text)
    claims(text)
    standalone_question([{"role": "user", "content": "Which exercises did Russia join in 2021?"},
                         {"role": "user", "content": text or "?"}])  # fmt: skip


def test_a_json_file_that_is_not_text_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b'{"title": "caf\x80"}')  # found by the generated cases above
    [problem] = _read(path)
    assert isinstance(problem, IngestProblem) and "not UTF-8" in problem.reason
